import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, type Stats, statSync, writeSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { describeFsError, makeDirectory } from '@pubguard/engine';
import { dirname } from 'node:path';
import { AuditError } from './errors.js';
import { type FileLockOptions, FileLockError, withFileLock, withFileLockSync } from './lock.js';
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
}

/** The outcome of `AuditLog.verify`. */
export interface AuditVerification {
  ok: boolean;
  records: number;
  /** sha256 of the last line: keep it elsewhere and pass it as `head` next time to detect truncation. */
  head: string;
  problems: AuditProblem[];
}

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
  /**
   * @param path the log file
   * @param secrets values that must never be written (token patterns are redacted regardless)
   * @param lock how long an append waits for another writer's lock (`<path>.lock`), and when a dead writer's lock is taken over
   */
  constructor(
    readonly path: string,
    private readonly secrets: readonly string[] = [],
    private readonly lock: FileLockOptions = {},
  ) {}

  private async lines(missingIsEmpty = true): Promise<{ lines: string[]; complete: boolean; size: number }> {
    const log = await readLog(this.path, missingIsEmpty);
    if (log === undefined) return { lines: [], complete: true, size: 0 };
    const lines = log.text.split('\n');
    const complete = lines.at(-1) === '';
    if (complete) lines.pop();
    return { lines, complete, size: log.size };
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
      return await withFileLock(this.path, () => this.appendLocked(clean, now), this.lock);
    } catch (error) {
      if (error instanceof FileLockError) throw new AuditError(`cannot append to audit log ${this.path}: ${error.message}`);
      throw error;
    }
  }

  private async appendLocked(clean: AuditEntry, now: Date): Promise<AuditRecord> {
    // Read under the lock: the last line is the one no other writer can append after meanwhile.
    const { lines, complete, size } = await this.lines();
    const record = this.next(clean, now, lines, complete);
    await appendLine(this.path, Buffer.from(`${serialise(record)}\n`, 'utf8'), size);
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
          const log = readLogSync(this.path);
          const lines = log.text.split('\n');
          const complete = lines.at(-1) === '';
          if (complete) lines.pop();
          const record = this.next(clean, now, lines, complete);
          appendLineSync(this.path, Buffer.from(`${serialise(record)}\n`, 'utf8'), log.size);
          return record;
        },
        { waitMs },
      );
    } catch (error) {
      if (error instanceof FileLockError) throw new AuditError(`cannot append to audit log ${this.path}: ${error.message}`);
      throw error;
    }
  }

  /** The record that follows `lines` (the log as read under the lock; `complete` when it ends with a newline). */
  private next(clean: AuditEntry, now: Date, lines: readonly string[], complete: boolean): AuditRecord {
    const last = lines.at(-1);
    let seq = 1;
    // Appending after a line without its newline would glue two records into one line and
    // break the chain for good.
    if (!complete) {
      throw new AuditError(
        `audit log ${this.path} does not end with a newline: its last record was cut off (a crash or a full disk during an append). Keep a copy of the log, remove the incomplete last line, and check the rest with \`pubguard audit verify ${this.path}\``,
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

  /** Parses every record; a missing file or a corrupt line throws AuditError (use `verify` to diagnose). */
  async read(): Promise<AuditRecord[]> {
    // A mistyped path must not read as a log in which no gate ever ran.
    return this.parse((await this.lines(false)).lines);
  }

  /**
   * Parses every record as `read` does, except a last line without its newline (an append cut
   * off by a crash), which is left out and its 1-based number returned as `cutLine`.
   */
  async readComplete(): Promise<{ records: AuditRecord[]; cutLine?: number }> {
    const { lines, complete } = await this.lines(false);
    if (complete) return { records: this.parse(lines) };
    return { records: this.parse(lines.slice(0, -1)), cutLine: lines.length };
  }

  private parse(lines: string[]): AuditRecord[] {
    return lines.map((line, i) => {
      try {
        return JSON.parse(line) as AuditRecord;
      } catch {
        throw new AuditError(`audit log ${this.path} line ${i + 1} is not JSON`);
      }
    });
  }

  /** Checks the chain; with `head` (a hash from an earlier verify) it also detects truncation. */
  async verify(options: { head?: string } = {}): Promise<AuditVerification> {
    const text = (await readLog(this.path, false))?.text ?? '';
    const problems: AuditProblem[] = [];
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    else if (lines.length > 0) {
      const last = lines.at(-1) ?? '';
      if (isJson(last)) {
        // Written whole but for its newline: the record is checked as any other.
        problems.push({ line: lines.length, message: 'last line has no newline: an append stopped just before it', cut: 'newline' });
      } else if (isCutAppend(last, lines.at(-2))) {
        // One problem, not two: the line is checked no further, and the records before it are.
        problems.push({ line: lines.length, message: 'last line is cut off mid-record (no newline, the start of the next record): an append did not finish', cut: 'record' });
        lines.pop();
      } else {
        problems.push({ line: lines.length, message: 'last line has no newline and is not the start of the next record' });
      }
    }
    let prevLine: string | undefined;
    let prevSeq = 0;
    lines.forEach((line, i) => {
      const n = i + 1;
      const expectedPrev = prevLine === undefined ? GENESIS : sha256(prevLine);
      prevLine = line;
      let r: AuditRecord;
      try {
        r = JSON.parse(line) as AuditRecord;
      } catch {
        problems.push({ line: n, message: 'not a JSON record' });
        return;
      }
      if (!r || typeof r !== 'object' || typeof r.hash !== 'string' || typeof r.prev !== 'string' || !Array.isArray(r.subjects)) {
        problems.push({ line: n, message: 'not an audit record' });
        return;
      }
      const { hash, ...rest } = r;
      if (sha256(serialise(rest)) !== hash || serialise(r) !== line) {
        problems.push({ line: n, message: `record ${r.seq} was edited (its hash does not match its content)` });
      }
      if (r.prev !== expectedPrev) {
        problems.push({
          line: n,
          message: n === 1 ? 'first record does not start the chain (records before it were deleted?)' : `chain broken before record ${r.seq}: a record was deleted, inserted, reordered or edited`,
        });
      }
      if (r.seq !== prevSeq + 1) problems.push({ line: n, message: `sequence jumps from ${prevSeq} to ${r.seq}` });
      prevSeq = typeof r.seq === 'number' ? r.seq : prevSeq;
    });
    const head = prevLine === undefined ? GENESIS : sha256(prevLine);
    if (options.head !== undefined) {
      const want = options.head.toLowerCase();
      const known = want === GENESIS || lines.some((l) => sha256(l) === want);
      if (!known) problems.push({ line: 0, message: `the known head ${want.slice(0, 16)}… is not in the log: it was truncated or rewritten` });
    }
    return { ok: problems.length === 0, records: lines.length, head, problems };
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

/** The log's text and its size in bytes, or undefined when it does not exist and `missingIsEmpty`. */
async function readLog(path: string, missingIsEmpty: boolean): Promise<{ text: string; size: number } | undefined> {
  let handle: FileHandle;
  try {
    checkKind(path, await stat(path));
    // O_NONBLOCK: a path turned into a FIFO since the stat must not block the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof AuditError) throw error;
    if (missingIsEmpty && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  }
  try {
    checkKind(path, await handle.stat());
    // The size from the bytes: text decoded from bytes that are not UTF-8 is longer than they are.
    const bytes = await handle.readFile();
    return { text: bytes.toString('utf8'), size: bytes.length };
  } catch (error) {
    if (error instanceof AuditError) throw error;
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  } finally {
    await handle.close();
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
      const state = undone ? 'the log was left as it was' : `the log may now end with part of a record: remove what follows its last complete line`;
      throw new AuditError(`cannot append to audit log ${path}: ${describeFsError(error, { writing: true })}; ${state}`);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** `readLog` for `appendSync`: the log's text and size, empty when it does not exist. */
function readLogSync(path: string): { text: string; size: number } {
  let fd: number;
  try {
    checkKind(path, statSync(path));
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof AuditError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', size: 0 };
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  }
  try {
    checkKind(path, fstatSync(fd));
    const bytes = readFileSync(fd);
    return { text: bytes.toString('utf8'), size: bytes.length };
  } catch (error) {
    if (error instanceof AuditError) throw error;
    throw new AuditError(`cannot read audit log ${path}: ${readFailure(error)}`);
  } finally {
    closeSync(fd);
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
      const state = undone ? 'the log was left as it was' : 'the log may now end with part of a record: remove what follows its last complete line';
      throw new AuditError(`cannot append to audit log ${path}: ${describeFsError(error, { writing: true })}; ${state}`);
    }
  } finally {
    try {
      closeSync(fd);
    } catch {
      // The record is written or reported; a failed close changes neither.
    }
  }
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
function isCutAppend(line: string, previous: string | undefined): boolean {
  let seq = 1;
  if (previous !== undefined) {
    try {
      seq = Number((JSON.parse(previous) as { seq?: unknown }).seq) + 1;
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
