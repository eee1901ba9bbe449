import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, type Stats, statSync, writeSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { describeFsError, makeDirectory } from '@pubguard/engine';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditError } from './errors.js';
import { type FileLockOptions, FileLockError, withFileLock, withFileLockSync, withReadLock } from './lock.js';
import { redactValue } from './redact.js';

/** The `prev` of the first record. */
export const GENESIS = '0'.repeat(64);

/**
 * Outcome of a gate; `started` for an action whose result a later record gives (an upload),
 * written first so that a process killed before the result still leaves a trace.
 */
export type AuditOutcome = 'passed' | 'refused' | 'error' | 'started';

/** A subject of a record: a file name (or tag) and its digest when it has bytes. */
export interface AuditSubject {
  name: string;
  sha256?: string;
}

/** What a gate reports; the log adds sequence, time and the chain. */
export interface AuditEntry {
  stage: string;
  outcome: AuditOutcome;
  actor: string;
  subjects: AuditSubject[];
  reason: string;
  /** Extra facts (JSON values); redacted like everything else. */
  details?: Record<string, unknown>;
}

/** One line of the log. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  time: string;
  /** sha256 of the previous line's exact bytes (without its newline); GENESIS for the first. */
  prev: string;
  /** sha256 of this record's canonical JSON without `hash`. */
  hash: string;
}

/** A problem found by `verify`. */
export interface AuditProblem {
  /** 1-based line number, or 0 for the log as a whole. */
  line: number;
  message: string;
  /**
   * Set on a last line an append left unfinished (a crash, a full disk): damage, not an edit.
   * `newline`: a whole record without its newline; `record`: the start of a record, cut.
   */
  cut?: 'newline' | 'record';
  /**
   * Set where line ends were converted to CRLF (git's core.autocrlf, a Windows editor), which
   * no append writes. `converted`: the one problem naming the lines that end in CR LF, whose
   * records are checked with the CR removed; `appended`: a record that chains to a converted
   * line with its CR, so it was appended after the conversion and the chain holds neither with
   * nor without the CRs.
   */
  crlf?: 'converted' | 'appended';
}

/** The outcome of `AuditLog.verify`. */
export interface AuditVerification {
  ok: boolean;
  records: number;
  /**
   * sha256 of the last line (without a CR that a conversion to CRLF added): keep it elsewhere and
   * pass it as `head` next time to detect truncation.
   */
  head: string;
  problems: AuditProblem[];
}

/** What may stop a reading of the log before its end. */
export interface AuditReadOptions {
  /**
   * Stops the reading (Ctrl-C), also while it waits for the lock: it then throws an AuditError
   * saying it was interrupted, and nothing is returned of the part read.
   */
  signal?: AbortSignal;
}

/** How an `AuditLog` waits for its lock and reads its file. */
export interface AuditLogOptions extends FileLockOptions {
  /** Bytes read at a time (default 1 MiB): the log is read in pieces, never whole. */
  readChunkBytes?: number;
  /** A line longer than this many bytes (default 64 MiB, far more than a gate writes) is not held in memory, nor taken for a record. */
  maxLineBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
// A reader without the lock that meets a last line without its newline looks again after these
// pauses (about a second in all) before taking it for damage: an append may be half written.
const SETTLE_PAUSES_MS = [50, 150, 300, 500];

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

function serialise(r: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  // Fixed key order, so the same record always hashes the same.
  const ordered: Record<string, unknown> = {
    seq: r.seq,
    time: r.time,
    stage: r.stage,
    outcome: r.outcome,
    actor: r.actor,
    subjects: r.subjects.map((s) => (s.sha256 === undefined ? { name: s.name } : { name: s.name, sha256: s.sha256 })),
    reason: r.reason,
    ...(r.details === undefined ? {} : { details: r.details }),
    prev: r.prev,
  };
  if (r.hash !== undefined) ordered.hash = r.hash;
  return JSON.stringify(ordered);
}

/** An append-only JSON Lines log whose records form a SHA-256 hash chain. */
export class AuditLog {
  private readonly chunkBytes: number;
  private readonly maxLineBytes: number;

  /**
   * @param path the log file
   * @param secrets values that must never be written (token patterns are redacted regardless)
   * @param options how long an append or a read waits for another writer's lock (`<path>.lock`), when a dead writer's lock is taken over, and how the file is read
   */
  constructor(
    readonly path: string,
    private readonly secrets: readonly string[] = [],
    private readonly options: AuditLogOptions = {},
  ) {
    this.chunkBytes = Math.max(1, Math.floor(options.readChunkBytes ?? DEFAULT_CHUNK_BYTES));
    this.maxLineBytes = Math.max(1, Math.floor(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES));
  }

  /**
   * Appends a record (redacted) after the current last line and returns it. Concurrent appends,
   * from this process or others, take turns through the lock file `<path>.lock`, so no two
   * records chain to the same line; an append that fails part-way leaves the log as it was.
   */
  async append(entry: AuditEntry, now: Date = new Date()): Promise<AuditRecord> {
    const clean = redactValue(entry, this.secrets);
    try {
      await makeDirectory(dirname(this.path));
    } catch (error) {
      throw new AuditError(`cannot append to audit log ${this.path}: ${describeFsError(error, { writing: true })}`);
    }
    // Before the lock file is made next to it: `/dev/full.lock` must not be created.
    checkKind(this.path, await stat(this.path).catch(() => undefined));
    try {
      return await withFileLock(this.path, () => this.appendLocked(clean, now), this.options);
    } catch (error) {
      if (error instanceof FileLockError) throw new AuditError(`cannot append to audit log ${this.path}: ${error.message}`);
      throw error;
    }
  }

  private async appendLocked(clean: AuditEntry, now: Date): Promise<AuditRecord> {
    // Read under the lock: the last line is the one no other writer can append after meanwhile.
    const tail = await readTail(this.path, this.chunkBytes, this.maxLineBytes);
    const record = this.next(clean, now, tail);
    await appendLine(this.path, this.line(record), tail.size);
    return record;
  }

  /**
   * Appends a record as `append` does, but synchronously, for an exit hook (`process.exit`
   * after a second Ctrl-C), where nothing asynchronous runs any more: the same lock, waited for
   * at most `waitMs` (default 1 s) and never taken over, so a lock held by a live writer, or
   * left by a killed one, means no record. Throws AuditError when the record was not written.
   */
  appendSync(entry: AuditEntry, now: Date = new Date(), waitMs = 1000): AuditRecord {
    const clean = redactValue(entry, this.secrets);
    let info: Stats | undefined;
    try {
      info = statSync(this.path, { throwIfNoEntry: false });
    } catch (error) {
      throw new AuditError(`cannot append to audit log ${this.path}: ${describeFsError(error, { writing: true })}`);
    }
    checkKind(this.path, info);
    try {
      return withFileLockSync(
        this.path,
        () => {
          const tail = readTailSync(this.path, this.chunkBytes, this.maxLineBytes);
          const record = this.next(clean, now, tail);
          appendLineSync(this.path, this.line(record), tail.size);
          return record;
        },
        { waitMs },
      );
    } catch (error) {
      if (error instanceof FileLockError) throw new AuditError(`cannot append to audit log ${this.path}: ${error.message}`);
      throw error;
    }
  }

  /**
   * The bytes of `record`'s line. One over `maxLineBytes` is refused before anything is written:
   * readers would not hold it, and every later append would refuse the log.
   */
  private line(record: AuditRecord): Buffer {
    const bytes = Buffer.from(`${serialise(record)}\n`, 'utf8');
    if (bytes.length - 1 > this.maxLineBytes) {
      throw new AuditError(`cannot append to audit log ${this.path}: the ${record.stage} record would take ${byteSize(bytes.length - 1)}, more than the ${byteSize(this.maxLineBytes)} a line may hold; nothing was written`);
    }
    return bytes;
  }

  /** The record that follows the log whose end (read under the lock) is `tail`. */
  private next(clean: AuditEntry, now: Date, tail: LogTail): AuditRecord {
    const { last, complete, long } = tail;
    let seq = 1;
    // Appending after a line without its newline would glue two records into one line and
    // break the chain for good.
    if (!complete) {
      throw new AuditError(
        `audit log ${this.path} does not end with a newline: its last record was cut off (a crash or a full disk during an append). Keep a copy of the log, remove the incomplete last line, and check the rest with \`pubguard audit verify ${this.path}\``,
      );
    }
    if (long) {
      throw new AuditError(`audit log ${this.path} ends with a line longer than ${byteSize(this.maxLineBytes)}, more than any gate writes; run \`pubguard audit verify ${this.path}\``);
    }
    // The record would chain to the line with its CR: the chain would then break wherever the
    // line ends are converted back, and hold nowhere else either, as no record may end in CR.
    if (last?.endsWith('\r')) {
      throw new AuditError(
        `audit log ${this.path} has CRLF line ends: its last line ends in CRLF where a record ends in LF, so its line ends were converted (git core.autocrlf, a Windows editor?), and a record appended now would chain to the converted line; nothing was written. Remove the CRs (\`sed -i 's/\\r$//' ${this.path}\` or \`dos2unix ${this.path}\`), check the log with \`pubguard audit verify ${this.path}\`, and run again`,
      );
    }
    if (last !== undefined) {
      try {
        seq = (JSON.parse(last) as { seq?: number }).seq! + 1;
      } catch {
        throw new AuditError(`audit log ${this.path} ends with a corrupt line; run \`pubguard audit verify ${this.path}\``);
      }
      if (!Number.isInteger(seq)) throw new AuditError(`audit log ${this.path} ends with a record without "seq"`);
    }
    const base = { ...clean, seq, time: now.toISOString(), prev: last === undefined ? GENESIS : sha256(last) };
    return { ...base, hash: sha256(serialise(base)) };
  }

  /**
   * Parses every record; a missing file or a corrupt line throws AuditError (use `verify` to
   * diagnose). It holds every record at once: `forEachComplete` holds one at a time.
   */
  async read(): Promise<AuditRecord[]> {
    return this.snapshot(async (log) => {
      const records: AuditRecord[] = [];
      for await (const line of log.lines(true)) records.push(this.parse(line, records.length + 1));
      return records;
    });
  }

  /**
   * Parses every record as `read` does, except a last line without its newline (an append cut
   * off by a crash), which is left out and its 1-based number returned as `cutLine`.
   */
  async readComplete(): Promise<{ records: AuditRecord[]; cutLine?: number }> {
    return this.snapshot(async (log) => {
      const records: AuditRecord[] = [];
      for await (const line of log.lines(true)) {
        if (!line.complete) return { records, cutLine: records.length + 1 };
        records.push(this.parse(line, records.length + 1));
      }
      return { records };
    });
  }

  /**
   * Hands `visit` the records `readComplete` returns, in order, one at a time, so that a log of
   * any size is shown in bounded memory. The log is read twice: first to find a line that is not
   * JSON (thrown as `readComplete` throws it, before any record is visited) and a cut-off last
   * line, then to visit the records, up to where the first reading ended. A `visit` that returns
   * false ends the second reading there (its reader has gone: `audit show | head`); the result
   * is the first reading's all the same, with `crlfLines`, the number of records whose line
   * ends in CR LF (line ends converted to CRLF, which `verify` reports), when there are any.
   */
  async forEachComplete(
    visit: (record: AuditRecord) => boolean | void | Promise<boolean | void>,
    options: AuditReadOptions = {},
  ): Promise<{ records: number; cutLine?: number; crlfLines?: number }> {
    return this.snapshot(async (log) => {
      let lines = 0;
      let cutLine: number | undefined;
      let crlfLines = 0;
      for await (const line of log.lines(true)) {
        lines++;
        if (!line.complete) {
          cutLine = lines;
          break;
        }
        this.parse(line, lines);
        if (line.text?.endsWith('\r')) crlfLines++;
      }
      const records = cutLine === undefined ? lines : lines - 1;
      let seen = 0;
      for await (const line of log.lines(false)) {
        if (seen === records || !line.complete) break;
        if ((await visit(this.parse(line, ++seen))) === false) break;
      }
      return { records, ...(cutLine === undefined ? {} : { cutLine }), ...(crlfLines === 0 ? {} : { crlfLines }) };
    }, options.signal);
  }

  private parse(line: LogLine, n: number): AuditRecord {
    if (line.text === undefined) {
      throw new AuditError(`audit log ${this.path} line ${n} is longer than ${byteSize(this.maxLineBytes)}, more than any gate writes; run \`pubguard audit verify ${this.path}\``);
    }
    try {
      return JSON.parse(line.text) as AuditRecord;
    } catch {
      throw new AuditError(`audit log ${this.path} line ${n} is not JSON`);
    }
  }

  /**
   * Checks the chain; with `head` (a hash from an earlier verify) it also detects truncation. A
   * line that ends in CR LF, as no append writes it, is reported once for all such lines, and
   * checked with its CR removed, so that a log whose line ends were converted is told apart from
   * one whose records were edited; it is never intact.
   */
  async verify(options: { head?: string } & AuditReadOptions = {}): Promise<AuditVerification> {
    const want = options.head?.toLowerCase();
    return this.snapshot(async (log) => {
      const problems: AuditProblem[] = [];
      // A last line without its newline is told first, whatever is found before it.
      let ending: AuditProblem | undefined;
      let n = 0;
      let previous: LogLine | undefined;
      let head = GENESIS;
      // The hash of the last line as it is, CR included, when that differs from `head`.
      let rawHead = GENESIS;
      let prevSeq = 0;
      let known = want === undefined || want === GENESIS;
      const converted = new LineRuns();
      for await (const raw of log.lines(true)) {
        const crlf = raw.text?.endsWith('\r') === true;
        const line: LogLine = crlf ? { ...raw, text: raw.text!.slice(0, -1) } : raw;
        if (!line.complete) {
          if (line.text !== undefined && isJson(line.text)) {
            // Written whole but for its newline: the record is checked as any other.
            ending = { line: n + 1, message: 'last line has no newline: an append stopped just before it', cut: 'newline' };
          } else if (line.text !== undefined && isCutAppend(line.text, previous)) {
            // One problem, not two: the line is checked no further, and the records before it are.
            ending = { line: n + 1, message: 'last line is cut off mid-record (no newline, the start of the next record): an append did not finish', cut: 'record' };
            break;
          } else {
            ending = { line: n + 1, message: 'last line has no newline and is not the start of the next record' };
          }
        }
        n++;
        if (crlf) converted.add(n);
        previous = line;
        const expectedPrev = head;
        const expectedRawPrev = rawHead;
        head = line.text === undefined ? line.longHash! : sha256(line.text);
        rawHead = crlf ? sha256(raw.text!) : head;
        // A head kept from a log read with its CRs (publish's, before it was converted back) names the same record.
        if (!known && (head === want || rawHead === want)) known = true;
        if (line.text === undefined) {
          problems.push({ line: n, message: `longer than ${byteSize(this.maxLineBytes)}, more than any gate writes: not read as a record` });
          // Its number, from its start, so that the record after it is not also reported.
          const seq = /^\{"seq":(\d+),/.exec(line.longStart ?? '')?.[1];
          if (seq !== undefined) prevSeq = Number(seq);
          continue;
        }
        let r: AuditRecord;
        try {
          r = JSON.parse(line.text) as AuditRecord;
        } catch {
          problems.push({ line: n, message: 'not a JSON record' });
          continue;
        }
        if (!r || typeof r !== 'object' || typeof r.hash !== 'string' || typeof r.prev !== 'string' || !Array.isArray(r.subjects)) {
          problems.push({ line: n, message: 'not an audit record' });
          continue;
        }
        const { hash, ...rest } = r;
        if (sha256(serialise(rest)) !== hash || serialise(r) !== line.text) {
          problems.push({ line: n, message: `record ${r.seq} was edited (its hash does not match its content)` });
        }
        if (r.prev !== expectedPrev) {
          if (r.prev === expectedRawPrev) {
            problems.push({
              line: n,
              message: `record ${r.seq} chains to line ${n - 1} with the CR of its CRLF line end: it was appended after the line ends were converted, so the chain holds neither with the CRs nor without them`,
              crlf: 'appended',
            });
          } else {
            problems.push({
              line: n,
              message: n === 1 ? 'first record does not start the chain (records before it were deleted?)' : `chain broken before record ${r.seq}: a record was deleted, inserted, reordered or edited`,
            });
          }
        }
        if (r.seq !== prevSeq + 1) problems.push({ line: n, message: `sequence jumps from ${prevSeq} to ${r.seq}` });
        prevSeq = typeof r.seq === 'number' ? r.seq : prevSeq;
      }
      if (converted.count > 0) {
        const which = converted.count === n ? (n === 1 ? 'its only line ends' : 'every line ends') : `${converted.describe()} (${converted.count} of ${n} lines) ${converted.count === 1 ? 'ends' : 'end'}`;
        problems.unshift({
          line: 0,
          message: `${which} in CRLF where a record ends in LF: the line ends were converted (git core.autocrlf, a Windows editor?); each record was checked with its CR removed`,
          crlf: 'converted',
        });
      }
      if (ending !== undefined) problems.unshift(ending);
      if (!known) problems.push({ line: 0, message: `the known head ${want!.slice(0, 16)}… is not in the log: it was truncated or rewritten` });
      return { ok: problems.length === 0, records: n, head, problems };
    }, options.signal);
  }

  /**
   * Runs `use` on the log as it stood between two appends. The lock is held only to open the
   * file and take its size, which ends after the last whole record, since every append writes
   * under it; the bytes up to that size never change (the log is only appended to), so they are
   * read after the lock is let go, and gates waiting for it are held up for no longer than that.
   * Where the lock cannot be made (a read-only directory or file system) the file is read
   * without it, and a cut-off last line is read again before it is taken for damage. An abort
   * of `signal` ends the wait for the lock and the reading, with an AuditError.
   */
  private async snapshot<T>(use: (log: LogReader) => Promise<T>, signal?: AbortSignal): Promise<T> {
    // Before any lock file is made next to it: a mistyped path is no log, and a device or a
    // FIFO is refused without leaving `/dev/zero.lock`.
    let info: Stats;
    try {
      info = await stat(this.path);
    } catch (error) {
      throw new AuditError(`cannot read audit log ${this.path}: ${readFailure(error)}`);
    }
    await checkKind(this.path, info);
    let opened: { handle: FileHandle; size: number; locked: boolean };
    try {
      opened = await withReadLock(this.path, async (locked) => ({ ...(await openLog(this.path)), locked }), { ...this.options, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) throw interrupted(this.path);
      if (error instanceof FileLockError) throw new AuditError(`cannot read audit log ${this.path}: ${error.message}`);
      // Resolving the log's real path for the lock's name can fail too (a link changed meanwhile).
      if (typeof (error as NodeJS.ErrnoException).code === 'string') throw new AuditError(`cannot read audit log ${this.path}: ${readFailure(error)}`);
      throw error;
    }
    try {
      return await use(new LogReader(this.path, opened.handle, opened.size, !opened.locked, this.chunkBytes, this.maxLineBytes, signal));
    } finally {
      await opened.handle.close().catch(() => undefined);
    }
  }
}

/** One line of the log as read. */
interface LogLine {
  /** The line without its newline; undefined for a line longer than `maxLineBytes`, which is not held. */
  text: string | undefined;
  /** The sha256 of a line too long to hold, as `sha256(text)` would be. */
  longHash?: string;
  /** The first bytes of a line too long to hold, enough for the number of a record. */
  longStart?: string;
  /** Whether a newline ends it: only the last line of the log can lack one. */
  complete: boolean;
}

/** Line numbers, given in increasing order, as the runs a message names: `3-5, 9`, the first few only. */
class LineRuns {
  count = 0;
  private readonly runs: [number, number][] = [];
  // Runs after the first few are counted, not kept, so that a log of any size is described in a line.
  private more = 0;
  private last = 0;

  add(line: number): void {
    const run = this.runs.at(-1);
    if (this.count > 0 && line === this.last + 1) {
      if (this.more === 0) run![1] = line;
    } else if (this.runs.length < 5) this.runs.push([line, line]);
    else this.more++;
    this.count++;
    this.last = line;
  }

  describe(): string {
    const runs = this.runs.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(', ');
    return `${this.count === 1 ? 'line' : 'lines'} ${runs}${this.more > 0 ? ', …' : ''}`;
  }
}

/** Reads a log's bytes line by line, in chunks, up to the size taken when it was opened. */
class LogReader {
  constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    private size: number,
    private readonly unlocked: boolean,
    private readonly chunkBytes: number,
    private readonly maxLineBytes: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * The lines of the log. With `settle`, when the log was opened without the lock, a last line
   * without its newline is read again after each of a few pauses, up to where the file ends by
   * then: an append caught half written has finished (or been undone) by then, and damage stays.
   * A later reading, without `settle`, ends where the one with it ended. Once `signal` is
   * aborted, the next line asked for throws an AuditError saying the reading was interrupted.
   */
  async *lines(settle: boolean): AsyncGenerator<LogLine> {
    const pauses = settle && this.unlocked ? [...SETTLE_PAUSES_MS] : [];
    let offset = 0;
    let lineStart = 0;
    let pieces: Buffer[] = [];
    let held = 0;
    // A line longer than the limit is hashed as it is read instead of held.
    let long: { hash: Hash; decoder: StringDecoder; start: string } | undefined;
    const add = (piece: Buffer): void => {
      if (long === undefined && held + piece.length > this.maxLineBytes) {
        const start = (pieces.length === 1 ? pieces[0]! : Buffer.concat([...pieces, piece])).subarray(0, 64).toString('utf8');
        long = { hash: createHash('sha256'), decoder: new StringDecoder('utf8'), start };
        for (const p of pieces) long.hash.update(long.decoder.write(p), 'utf8');
        pieces = [];
        held = 0;
      }
      if (long !== undefined) long.hash.update(long.decoder.write(piece), 'utf8');
      else {
        pieces.push(piece);
        held += piece.length;
      }
    };
    const take = (complete: boolean): LogLine => {
      let line: LogLine;
      if (long !== undefined) {
        long.hash.update(long.decoder.end(), 'utf8');
        line = { text: undefined, longHash: long.hash.digest('hex'), longStart: long.start, complete };
      } else {
        // Decoded whole, not piece by piece: a character may be split between two chunks.
        line = { text: (pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)).toString('utf8'), complete };
      }
      pieces = [];
      held = 0;
      long = undefined;
      return line;
    };
    for (;;) {
      while (offset < this.size) {
        this.stopIfAborted();
        const want = Math.min(this.chunkBytes, this.size - offset);
        const buffer = Buffer.allocUnsafe(want);
        const bytesRead = await this.readAt(buffer, offset);
        if (bytesRead === 0) {
          // Cut short since its size was taken: what is there is all there is.
          this.size = offset;
          break;
        }
        const chunk = buffer.subarray(0, bytesRead);
        const chunkStart = offset;
        offset += bytesRead;
        let from = 0;
        for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, from)) {
          add(chunk.subarray(from, newline));
          yield take(true);
          // A chunk holds thousands of short records: a consumer that prints each must not go on
          // through them after a Ctrl-C.
          this.stopIfAborted();
          from = newline + 1;
          lineStart = chunkStart + from;
        }
        if (from < chunk.length) add(chunk.subarray(from));
      }
      if (held === 0 && long === undefined) return;
      const pause = pauses.shift();
      if (pause === undefined) {
        yield take(false);
        return;
      }
      await sleep(pause, undefined, this.signal ? { signal: this.signal } : {}).catch(() => undefined);
      this.stopIfAborted();
      this.size = Math.max(lineStart, await this.sizeNow());
      offset = lineStart;
      pieces = [];
      held = 0;
      long = undefined;
    }
  }

  private stopIfAborted(): void {
    if (this.signal?.aborted) throw interrupted(this.path);
  }

  private async readAt(buffer: Buffer, position: number): Promise<number> {
    try {
      return (await this.handle.read(buffer, 0, buffer.length, position)).bytesRead;
    } catch (error) {
      throw new AuditError(`cannot read audit log ${this.path}: ${readFailure(error)}`);
    }
  }

  private async sizeNow(): Promise<number> {
    try {
      return (await this.handle.stat()).size;
    } catch (error) {
      throw new AuditError(`cannot read audit log ${this.path}: ${readFailure(error)}`);
    }
  }
}

/** Refuses a log path that exists and is not a regular file: reading a FIFO would wait forever, a device never end. */
function checkKind(path: string, info: Stats | undefined): void {
  if (info === undefined || info.isFile()) return;
  const kind = info.isDirectory()
    ? 'a directory'
    : info.isFIFO()
      ? 'a FIFO (named pipe)'
      : info.isCharacterDevice() || info.isBlockDevice()
        ? 'a device'
        : info.isSocket()
          ? 'a socket'
          : 'a special file';
  throw new AuditError(`audit log ${path} is ${kind}, not a file: give the path of a regular file (or of one to create)`);
}

/** Opens the log for reading and takes its size. */
async function openLog(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    checkKind(path, await stat(path));
    // O_NONBLOCK: a path turned into a FIFO since the stat must not block the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  }
  try {
    const info = await handle.stat();
    await checkKind(path, info);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    if (error instanceof AuditError) throw error;
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  }
}

/** The end of the log, as an append reads it: see `readTail`. */
interface LogTail {
  last?: string;
  complete: boolean;
  size: number;
  long?: boolean;
}

/**
 * What an append needs of the log, read from its end, however long the log: its size, whether a
 * newline ends it, and its last line (undefined when the log is empty or missing; `long` when
 * that line is longer than `maxLineBytes`).
 */
async function readTail(path: string, chunkBytes: number, maxLineBytes: number): Promise<LogTail> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { complete: true, size: 0 };
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  }
  try {
    const info = await handle.stat();
    await checkKind(path, info);
    const steps = tailReads(info.size, chunkBytes, maxLineBytes);
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      const { buffer, position } = step.value;
      step = steps.next((await handle.read(buffer, 0, buffer.length, position)).bytesRead);
    }
  } catch (error) {
    if (error instanceof AuditError) throw error;
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  } finally {
    await handle.close();
  }
}

/**
 * How `readTail` reads a log of `size` bytes from its end: yields each read to make (into
 * `buffer`, from `position`), takes the bytes it read, and returns the tail. One reading for the
 * asynchronous append and the synchronous one of an exit hook.
 */
function* tailReads(size: number, chunkBytes: number, maxLineBytes: number): Generator<{ buffer: Buffer; position: number }, LogTail, number> {
  if (size === 0) return { complete: true, size };
  const end = Buffer.alloc(1);
  yield { buffer: end, position: size - 1 };
  if (end[0] !== 10) return { complete: false, size };
  const pieces: Buffer[] = [];
  let held = 0;
  for (let position = size - 1; position > 0; ) {
    const want = Math.min(chunkBytes, position);
    position -= want;
    const buffer = Buffer.allocUnsafe(want);
    const chunk = buffer.subarray(0, yield { buffer, position });
    const newline = chunk.lastIndexOf(10);
    pieces.unshift(chunk.subarray(newline + 1));
    held += chunk.length - newline - 1;
    if (held > maxLineBytes) return { complete: true, size, long: true };
    if (newline !== -1) break;
  }
  return { last: Buffer.concat(pieces).toString('utf8'), complete: true, size };
}

/** `readTail` for `appendSync`. */
function readTailSync(path: string, chunkBytes: number, maxLineBytes: number): LogTail {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { complete: true, size: 0 };
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  }
  try {
    const info = fstatSync(fd);
    checkKind(path, info);
    const steps = tailReads(info.size, chunkBytes, maxLineBytes);
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      const { buffer, position } = step.value;
      step = steps.next(readSync(fd, buffer, 0, buffer.length, position));
    }
  } catch (error) {
    if (error instanceof AuditError) throw error;
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends one line to the log, which held `size` bytes when it was read under the lock. A
 * write that fails part-way (a full disk, EIO, a file size limit) is undone by cutting the file
 * back to `size`, so no half record is left for every later append to refuse.
 */
async function appendLine(path: string, bytes: Buffer, size: number): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
  } catch (error) {
    throw new AuditError(`cannot append to audit log ${path}: ${describeFsError(error, { writing: true })}`);
  }
  try {
    checkKind(path, await handle.stat());
    let written = 0;
    try {
      // One write as a rule; the loop covers a short write, whose remainder then fails with the reason.
      while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
    } catch (error) {
      const undone = await handle.truncate(size).then(
        () => true,
        () => false,
      );
      throw appendFailure(path, error, undone);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** `appendLine` for `appendSync`: one write, undone on failure by cutting the file back to `size`. */
function appendLineSync(path: string, bytes: Buffer, size: number): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
  } catch (error) {
    throw new AuditError(`cannot append to audit log ${path}: ${describeFsError(error, { writing: true })}`);
  }
  try {
    checkKind(path, fstatSync(fd));
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      let undone = true;
      try {
        ftruncateSync(fd, size);
      } catch {
        undone = false;
      }
      throw appendFailure(path, error, undone);
    }
  } finally {
    try {
      closeSync(fd);
    } catch {
      // The record is written or reported; a failed close changes neither.
    }
  }
}

/** The error of a write that failed part-way, `undone` when the log was cut back to its length before it. */
function appendFailure(path: string, error: unknown, undone: boolean): AuditError {
  const state = undone ? 'the log was left as it was' : 'the log may now end with part of a record: remove what follows its last complete line';
  return new AuditError(`cannot append to audit log ${path}: ${describeFsError(error, { writing: true })}; ${state}`);
}

/** The error of a reading stopped by its signal. */
function interrupted(path: string): AuditError {
  return new AuditError(`interrupted while reading audit log ${path}: it was not read to its end`);
}

/** Why a log could not be read, in words for the common cases. */
function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file (no gate has written to it yet, or the path is mistyped)';
  return describeFsError(error);
}

/**
 * Whether `line` is what an unfinished append leaves: a start of the record that follows
 * `previous` (`{"seq":N+1,"time":"…`), cut anywhere. Other text without a newline is no
 * append's, and is reported as an edit would be.
 */
function isCutAppend(line: string, previous: LogLine | undefined): boolean {
  let seq = 1;
  if (previous !== undefined) {
    if (previous.text === undefined) return false;
    try {
      seq = Number((JSON.parse(previous.text) as { seq?: unknown }).seq) + 1;
    } catch {
      return false;
    }
    if (!Number.isSafeInteger(seq)) return false;
  }
  const opening = `{"seq":${seq},"time":"`;
  return line.length <= opening.length ? opening.startsWith(line) : line.startsWith(opening);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A byte count as the limits are given: `64 MiB`, `16 KiB`, `100 bytes`. */
function byteSize(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
