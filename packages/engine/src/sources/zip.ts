import { read as fsRead, readSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import type * as yauzl from 'yauzl';
import type { SourceItem, SourceProblem } from './types.js';
import type { ArtifactCtx } from './context.js';
import { ratioStop } from './context.js';
import { noteFreshBytes } from './collect.js';
import { checkDevice, checkLink, checkName, checkSetuid, decodeName, DuplicateTracker, unixType, type UnixType } from './checks.js';
import { describeFsError } from '../fs-errors.js';
import { countOf, errorMessage, formatBytes, joinChain, limitStop, problem, Stop } from './errors.js';
import { holdWhole, openWhole, WHOLE_ENTRY_BYTES } from './open.js';
import { HeldItems } from './held.js';
import type { Peekable } from './stream.js';
import { readableChunks } from './stream.js';
import { removeAtExit } from '../exit-cleanup.js';

/** yauzl options: lazy so entries are pulled one at a time; raw names so we decode and check them ourselves. */
const OPTIONS: yauzl.Options = { lazyEntries: true, validateEntrySizes: true, decodeStrings: false, autoClose: false };

/** Names of zip compression methods yauzl cannot inflate, for the `unsupported` message. */
const METHODS: Record<number, string> = {
  1: 'shrink',
  6: 'implode',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
  95: 'xz',
  96: 'jpeg',
  97: 'wavpack',
  98: 'ppmd',
  99: 'AES-encrypted',
};

/** Longest symlink target checked for where it leads: a longer one cannot be created as a link. */
const MAX_LINK_TARGET = 4096;

/** Size of reads from a zip file and of inflated chunks: large, so the consumer sees few chunks. */
const ZIP_CHUNK = 1024 * 1024;


/** Bytes [start, end) of the zip being read, read at once. */
type ReadRange = (start: number, end: number) => Buffer;

// yauzl (and the reader built on it) is loaded on the first zip, so scans without one never pay for it.
async function importYauzl() {
  // A CommonJS module: its exports arrive as the default export.
  const lib = (await import('yauzl')).default;
  /**
   * Random access to an open file with large reads; yauzl's own fd reader reads 16 KiB at a
   * time, which makes entry data arrive in small slices.
   */
  class FdReader extends lib.RandomAccessReader {
    private reads = 0;

    constructor(
      private readonly fd: number,
      private readonly windows: FdWindows,
    ) {
      super();
    }

    override _readStreamForRange(start: number, end: number): Readable {
      return new RangeStream(this.fd, this.windows.base + start, this.windows.base + end);
    }

    // Blocking, from the windows: yauzl reads each entry's directory record and local header
    // this way, and a thread-pool round trip per header cost more than the read. The callback
    // still comes later, as yauzl expects, but mostly on the next tick: a turn of the event loop
    // per read (three per entry) cost more than a small entry's other work. Every so often it
    // is a turn, so that signals and timers still get through.
    override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
      let failure: Error | null = null;
      try {
        this.windows.range(position, position + length).copy(buffer, offset);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (++this.reads % READS_PER_TURN === 0) setImmediate(() => callback(failure));
      else process.nextTick(callback, failure);
    }
  }
  return { lib, FdReader };
}

let loaded: ReturnType<typeof importYauzl> | undefined;

function loadYauzl(): ReturnType<typeof importYauzl> {
  loaded ??= importYauzl();
  return loaded;
}

/** Bytes [start, end) of a file in large reads; unlike fs.ReadStream, destroying it never closes the fd. */
class RangeStream extends Readable {
  constructor(
    private readonly fd: number,
    private pos: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: ZIP_CHUNK });
  }

  override _read(): void {
    const n = Math.min(ZIP_CHUNK, this.end - this.pos);
    if (n <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(n);
    fsRead(this.fd, buf, 0, n, this.pos, (err, got) => {
      if (this.destroyed) return;
      if (err) return void this.destroy(err);
      if (got === 0) return void this.destroy(new Error('unexpected EOF'));
      this.pos += got;
      this.push(got === n ? buf : buf.subarray(0, got));
    });
  }
}

/**
 * Reads a zip held in an open file (random access), e.g. a top-level wheel or jar; `start` is
 * where the zip starts when other bytes come before it (a self-extracting archive).
 */
export async function* readZipFd(ctx: ArtifactCtx, chain: string[], depth: number, fd: number, size: number, start = 0): AsyncGenerator<SourceItem, void, undefined> {
  const { lib, FdReader } = await loadYauzl();
  const windows = new FdWindows(fd, size, start);
  const zf = await openZip(chain, (cb) => lib.fromRandomAccessReader(new FdReader(fd, windows), size - start, OPTIONS, cb));
  try {
    yield* readZip(ctx, chain, depth, zf, (from, to) => windows.range(from, to));
  } finally {
    zf.close();
  }
}

/** Reads a zip held whole in memory that starts at `start`, after other bytes (a self-extracting archive). */
export async function* readZipBuffer(ctx: ArtifactCtx, chain: string[], depth: number, data: Uint8Array, start: number): AsyncGenerator<SourceItem, void, undefined> {
  const buf = Buffer.from(data.buffer, data.byteOffset + start, data.length - start);
  const { lib } = await loadYauzl();
  const zf = await openZip(chain, (cb) => lib.fromBuffer(buf, OPTIONS, cb));
  try {
    yield* readZip(ctx, chain, depth, zf, (from, to) => buf.subarray(from, to));
  } finally {
    zf.close();
  }
}

/**
 * Reads a zip that arrives as a stream (nested in another archive, or stdin). Zip needs
 * random access, so the bytes are kept in memory up to maxInMemoryArchiveBytes, beyond
 * that in a private spill file that is always removed.
 */
export async function* readZipStream(ctx: ArtifactCtx, chain: string[], depth: number, src: Peekable): AsyncGenerator<SourceItem, void, undefined> {
  const shared = ctx.shared;
  const { maxInMemoryArchiveBytes, maxSpillBytes } = ctx.limits;
  const held: Uint8Array[] = [];
  let total = 0;
  let reserved = 0;
  let spillDir: string | undefined;
  let keptUntilExit: (() => void) | undefined;
  let spill: FileHandle | undefined;
  let zf: yauzl.ZipFile | undefined;

  const reserve = (n: number): void => {
    shared.spillBytes += n;
    reserved += n;
    if (shared.spillBytes > maxSpillBytes) {
      throw limitStop(chain, 'maxSpillBytes', `nested zip needs more than ${formatBytes(maxSpillBytes)} of temporary spill space; it was not read`, String(maxSpillBytes), 'entry');
    }
  };

  // A temp directory that is missing, not writable or full is no fault of the input: the
  // event names the directory and how to choose another, and the rest of the artifact is read.
  const spillStop = (err: unknown): Stop =>
    problem(
      chain,
      'unreadable',
      `cannot spill ${chain.length > 1 ? 'the nested zip' : 'the zip read from a stream'} (over ${formatBytes(maxInMemoryArchiveBytes)}) to the temporary directory ${shared.tmpDir}: ${describeFsError(err, { target: 'directory' })}; it was not read: set TMPDIR to a writable directory with room for it`,
      'entry',
    );
  try {
    const it = src.chunks();
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      const c = r.value;
      total += c.length;
      if (spill === undefined) {
        held.push(c);
        if (total > maxInMemoryArchiveBytes) {
          try {
            spillDir = await mkdtemp(join(shared.tmpDir, 'pubguard-'));
            // The finally below does not run when a second signal exits the process at once.
            keptUntilExit = removeAtExit(spillDir);
            spill = await open(join(spillDir, 'nested.zip'), 'wx+', 0o600);
          } catch (err) {
            throw spillStop(err);
          }
          reserve(total);
          try {
            for (const h of held) await spill.write(h);
          } catch (err) {
            throw spillStop(err);
          }
          held.length = 0;
        }
      } else {
        reserve(c.length);
        try {
          await spill.write(c);
        } catch (err) {
          throw spillStop(err);
        }
      }
    }
    let range: ReadRange;
    if (spill !== undefined) {
      const fd = spill.fd;
      const { lib, FdReader } = await loadYauzl();
      const windows = new FdWindows(fd, total);
      zf = await openZip(chain, (cb) => lib.fromRandomAccessReader(new FdReader(fd, windows), total, OPTIONS, cb));
      range = (start, end) => windows.range(start, end);
    } else {
      const buf = Buffer.concat(held, total);
      held.length = 0;
      const { lib } = await loadYauzl();
      zf = await openZip(chain, (cb) => lib.fromBuffer(buf, OPTIONS, cb));
      range = (start, end) => buf.subarray(start, end);
    }
    yield* readZip(ctx, chain, depth, zf, range);
  } finally {
    zf?.close();
    if (spill !== undefined) await spill.close().catch(() => undefined);
    if (spillDir !== undefined) await rm(spillDir, { recursive: true, force: true });
    keptUntilExit?.();
    shared.spillBytes -= reserved;
  }
}

/** Opens a zip with one of yauzl's constructors, mapping failure to a corrupt event. */
function openZip(chain: readonly string[], start: (cb: (err: Error | null, zf: yauzl.ZipFile) => void) => void): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    start((err, zf) => (err ? reject(zipStop(chain, err)) : resolve(zf)));
  });
}

/** yauzl's reads of a zip file served on the next tick between two turns of the event loop. */
const READS_PER_TURN = 64;

/** Size of the spans of a zip file read at once and kept for the small reads that follow. */
const WINDOW_BYTES = 256 * 1024;

/**
 * Byte ranges of an open zip file, read blocking through two windows of the file kept in memory:
 * the directory records and the local headers (each followed by its entry's data) are read a
 * few bytes at a time, in file order, and would otherwise each take a system call.
 */
class FdWindows {
  private windows: { start: number; buf: Buffer }[] = [];

  constructor(
    private readonly fd: number,
    private readonly size: number,
    /** Where the zip starts in the file: positions asked for count from there. */
    readonly base = 0,
  ) {}

  /**
   * Bytes [start, end): a view of a window, read first when they lie in none, or a buffer of
   * their own when larger than a window. A short read means the file is shorter than its
   * directory says.
   */
  range(from: number, to: number): Buffer {
    const start = from + this.base;
    const end = to + this.base;
    for (let i = 0; i < this.windows.length; i++) {
      const w = this.windows[i] as { start: number; buf: Buffer };
      if (start >= w.start && end <= w.start + w.buf.length) {
        if (i > 0) {
          // Most recent first: a read that misses replaces the window used least recently.
          this.windows[i] = this.windows[0] as { start: number; buf: Buffer };
          this.windows[0] = w;
        }
        return w.buf.subarray(start - w.start, end - w.start);
      }
    }
    if (end - start > WINDOW_BYTES) return readExactly(this.fd, start, end - start);
    const buf = readExactly(this.fd, start, Math.max(end - start, Math.min(WINDOW_BYTES, this.size - start)));
    this.windows = [{ start, buf }, ...this.windows.slice(0, 1)];
    return buf.subarray(0, end - start);
  }
}

/** `length` bytes of a file from `position`, blocking. */
function readExactly(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let n = 0;
  while (n < length) {
    const got = readSync(fd, buf, n, length - n, position + n);
    if (got === 0) throw new Error('unexpected EOF');
    n += got;
  }
  return buf;
}

/** Walks the central directory entry by entry and opens each regular file. */
async function* readZip(ctx: ArtifactCtx, chain: string[], depth: number, zf: yauzl.ZipFile, range: ReadRange): AsyncGenerator<SourceItem, void, undefined> {
  let failure: Error | undefined;
  // A listener must always be there: an unhandled 'error' event would crash the process.
  zf.on('error', (err: Error) => {
    failure ??= err;
  });
  const { maxEntries, maxEntryBytes, maxCompressionRatio, ratioThresholdBytes } = ctx.limits;
  const dups = new DuplicateTracker();
  const layout = new ZipLayout(range, centralDirectoryOffset(zf));
  let count = 0;
  // What the entries read make, handed on in batches.
  const held = new HeldItems();
  try {
    for (;;) {
      if (held.full) {
        const batch = held.take();
        if (batch) yield batch;
      }
      ctx.check(chain);
      let entry: yauzl.Entry | null;
      try {
        entry = await nextEntry(zf, () => failure);
      } catch (err) {
        throw zipStop(chain, err);
      }
      if (entry === null) break;
      if (++count > maxEntries) {
        throw limitStop(chain, 'maxEntries', `archive has more than ${countOf(maxEntries, 'entry', 'entries')}; the rest were not read`, String(maxEntries), 'archive');
      }
      const name = decodeName(entry.fileNameRaw);
      const ec = [...chain, name];
      // Unix permissions live in the high half of the external attributes when made on Unix.
      const mode = entry.versionMadeBy >> 8 === 3 ? entry.externalFileAttributes >>> 16 : 0;
      const type: UnixType = name.endsWith('/') ? 'directory' : mode !== 0 ? unixType(mode) : 'file';
      // unzip and Python's zipfile write every entry that is neither a directory (by its name)
      // nor a symlink as a regular file, whatever the mode claims, so its content ships.
      const directory = name.endsWith('/') || (type === 'directory' && entry.uncompressedSize === 0);
      // Extractors make a directory of a `name/` entry and drop its data, but the data ships in
      // the file all the same: it is read as the entry's content, as a file's would be.
      const empty = directory && entry.uncompressedSize === 0;
      held.name(ec);
      held.keep(checkName(ec, name));
      held.keep(checkSetuid(ec, name, mode, directory ? 'directory' : type === 'symlink' ? 'symlink' : 'other'));
      held.keep(checkDevice(ec, name, type));
      if (!directory && type !== 'symlink') held.keep(dups.check(ec, name, `${entry.uncompressedSize} bytes, CRC-32 ${hex(entry.crc32)}`));
      // An entry whose bytes another entry already claimed is not read again: many directory
      // records pointing at one compressed stream multiply the work without any entry
      // reaching the ratio limit.
      if (!layout.add(entry, name)) continue;
      const local = localNameIfOther(range, entry);
      if (local !== undefined) {
        // Python's zipfile refuses such an archive; extractors that read the local headers as
        // they stream (Java's ZipInputStream, streaming unzip libraries) write the entry under
        // the local name, which is checked and matched as the directory's names are.
        const localName = decodeName(local);
        const lc = [...chain, localName];
        held.add({
          kind: 'error',
          error: problem(
            ec,
            'corrupt',
            `the zip directory names this entry "${name}" but its local header "${localName}": Python's zipfile refuses the archive, and extractors that read local headers write the entry under the local name; its data was scanned under the directory's name, rebuild the archive`,
            'entry',
          ).event,
        });
        held.name(lc);
        held.keep(checkName(lc, localName));
      }
      if (empty) continue;

      if (entry.isEncrypted() || (entry.generalPurposeBitFlag & 0x40) !== 0) {
        held.add(problemEvent(ec, 'encrypted', 'encrypted entry cannot be scanned; scan the files before they are encrypted'));
        continue;
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        const m = METHODS[entry.compressionMethod] ?? 'unknown';
        held.add(problemEvent(ec, 'unsupported', `zip compression method ${entry.compressionMethod} (${m}) is not supported; rebuild the archive with deflate or store`));
        continue;
      }
      if (entry.uncompressedSize > maxEntryBytes) {
        const s = limitStop(ec, 'maxEntryBytes', `entry is ${formatBytes(entry.uncompressedSize)}, larger than ${formatBytes(maxEntryBytes)}; it was not read`, String(maxEntryBytes), 'entry');
        held.add({ kind: 'error', error: s.event });
        continue;
      }
      if (entry.uncompressedSize > ratioThresholdBytes && entry.uncompressedSize > maxCompressionRatio * entry.compressedSize) {
        const s = ratioStop(ec, entry.uncompressedSize, entry.compressedSize, maxCompressionRatio, 'entry');
        held.add({ kind: 'error', error: s.event });
        continue;
      }
      // Small entries are read and inflated whole, blocking: a zip of 5000 small files took 3.2 s
      // through a stream per entry (thread-pool round trips for the header, the data and each
      // inflate, and a 1 MiB inflate buffer each) and 0.5 s so.
      const data = entry.compressedSize <= WHOLE_ENTRY_BYTES && entry.uncompressedSize <= WHOLE_ENTRY_BYTES ? await wholeEntry(zf, entry, range) : undefined;
      // A symlink entry is read as a file too: Python's zipfile, and so pip, writes it as a
      // regular file holding its target, so its bytes ship. A target short enough to be a path
      // (longer ones cannot be created) is also checked for where it leads; a damaged one is
      // read as a stream below, which reports the damage.
      if (type === 'symlink' && data !== undefined && data.length <= MAX_LINK_TARGET) held.keep(checkLink(ec, name, decodeName(data), false));
      if (data !== undefined && holdWhole(held, ctx, { chain: ec, size: data.length }, data)) continue;
      const batch = held.take();
      if (batch) yield batch;
      if (data !== undefined) {
        // A nested archive, held whole.
        yield* openWhole(ctx, { chain: ec, size: data.length, ...(entry.compressionMethod === 8 ? { compressedSize: entry.compressedSize } : {}) }, data, depth + 1);
        continue;
      }
      let stream: Readable;
      try {
        stream = inflated(await openStream(zf, entry, true), entry);
      } catch (err) {
        held.add({ kind: 'error', error: zipStop(ec, err, 'entry').event });
        continue;
      }
      const inflating = entry.compressionMethod === 8;
      if (inflating) ctx.shared.onInflating?.(1);
      try {
        const e = entry;
        yield* ctx.open(
          ctx,
          {
            chain: ec,
            size: e.uncompressedSize,
            ...(inflating ? { compressedSize: e.compressedSize } : {}),
            raw: checkedChunks(stream, e, ec),
            sequential: false,
          },
          depth + 1,
        );
      } finally {
        if (inflating) ctx.shared.onInflating?.(-1);
        stream.destroy();
      }
    }
  } catch (err) {
    // What was read before a stop still goes on, ahead of the stop.
    layout.report(held, chain, false);
    const batch = held.take();
    if (batch) yield batch;
    throw err;
  }
  layout.report(held, chain, true);
  const batch = held.take();
  if (batch) yield batch;
}

/** Where the central directory starts, as yauzl found it (it starts reading entries there), if known. */
function centralDirectoryOffset(zf: yauzl.ZipFile): number | undefined {
  // Not typed as a number by @types/yauzl, but yauzl keeps the directory's offset there until the first entry is read.
  const cursor: unknown = (zf as unknown as { readEntryCursor: unknown }).readEntryCursor;
  return typeof cursor === 'number' ? cursor : undefined;
}

/** Bytes of one entry in the zip: from its local header to the end of its data. */
interface Span {
  start: number;
  end: number;
  name: string;
  /** Whether a data descriptor (12 to 24 bytes) follows the data. */
  descriptor: boolean;
}

/** Spans a block of the sorted list holds before it is split in two. */
const SPAN_BLOCK = 512;

const LOCAL_HEADER_BYTES = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const DESCRIPTOR_SIGNATURE = 0x08074b50;

/**
 * Which bytes of a zip its entries use. Entries must not share bytes (a zip bomb of many
 * directory records pointing at one compressed stream), and every byte before the central
 * directory must belong to an entry: a local entry the directory leaves out, or data between
 * entries, ships in the file but no zip reader lists it.
 *
 * The spans are kept sorted in blocks: entries mostly come in file order (an append), and an
 * insert elsewhere moves at most a block, so a hostile order costs no quadratic time.
 */
class ZipLayout {
  private blocks: Span[][] = [];
  private overlap: { span: Span; other: Span } | undefined;
  private overlaps = 0;

  constructor(
    private readonly range: ReadRange,
    private readonly directoryStart: number | undefined,
  ) {}

  /** Adds an entry's span; false, and the entry is to be skipped, when it overlaps one added before. */
  add(entry: yauzl.Entry, name: string): boolean {
    const span = this.spanOf(entry, name);
    const blocks = this.blocks;
    if (blocks.length === 0) {
      blocks.push([span]);
      return true;
    }
    // The last block whose first span starts at or before this one (the first block if none).
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (((blocks[mid] as Span[])[0] as Span).start <= span.start) lo = mid;
      else hi = mid - 1;
    }
    const b = lo;
    const block = blocks[b] as Span[];
    // Where it goes in the block: after every span that starts at or before it.
    let p = block.length;
    if ((block[p - 1] as Span).start > span.start) {
      let l = 0;
      let h = block.length - 1;
      while (l < h) {
        const mid = (l + h) >> 1;
        if ((block[mid] as Span).start > span.start) h = mid;
        else l = mid + 1;
      }
      p = l;
    }
    const before = p > 0 ? block[p - 1] : undefined;
    const after = p < block.length ? block[p] : blocks[b + 1]?.[0];
    const other = before !== undefined && before.end > span.start ? before : after !== undefined && after.start < span.end ? after : undefined;
    if (other !== undefined) {
      this.overlap ??= { span, other };
      this.overlaps++;
      return false;
    }
    block.splice(p, 0, span);
    if (block.length > 2 * SPAN_BLOCK) blocks.splice(b + 1, 0, block.splice(SPAN_BLOCK));
    return true;
  }

  /**
   * Adds the events for what was found: entries that overlap, and (once every entry was read,
   * `complete`) bytes no entry uses.
   */
  report(held: HeldItems, chain: readonly string[], complete: boolean): void {
    const o = this.overlap;
    if (o !== undefined) {
      this.overlap = undefined;
      const more = this.overlaps > 1 ? `; ${countOf(this.overlaps, 'entry', 'entries')} in all overlap another and were not read` : '';
      held.add({
        kind: 'error',
        error: problem(
          chain,
          'corrupt',
          `zip entries overlap: "${o.span.name}" (bytes ${o.span.start}-${o.span.end}) shares bytes with "${o.other.name}" (bytes ${o.other.start}-${o.other.end}), so it was not read${more}; entries that share their data are a zip bomb or a damaged archive, rebuild it`,
          'archive',
        ).event,
      });
    }
    if (!complete) return;
    const gaps = this.gaps();
    const first = gaps[0];
    if (first === undefined) return;
    const total = gaps.reduce((n, [from, to]) => n + (to - from), 0);
    const more = gaps.length > 1 ? ` and ${countOf(gaps.length - 1, 'other range', 'other ranges')}` : '';
    held.add({
      kind: 'error',
      error: problem(
        chain,
        'corrupt',
        `${countOf(total, 'byte', 'bytes')} of the zip belong to no entry its directory lists (bytes ${first[0]}-${first[1]}${more}): a local entry left out of the directory, or data between entries, ships in the file but zip readers skip it; it was not scanned, rebuild the archive`,
        'archive',
      ).event,
    });
  }

  /** Byte ranges [from, to) before the central directory that no entry uses. */
  private gaps(): [number, number][] {
    const out: [number, number][] = [];
    // Offsets past the directory (a damaged entry pointing beyond it) leave no gap of their own.
    const end = this.directoryStart ?? Number.POSITIVE_INFINITY;
    let at = 0;
    let prev: Span | undefined;
    for (const block of this.blocks) {
      for (const s of block) {
        const to = Math.min(s.start, end);
        if (to > at && !this.excused(prev, at, to)) out.push([at, to]);
        at = Math.max(at, s.end);
        prev = s;
      }
    }
    if (end !== Number.POSITIVE_INFINITY && end > at && !this.excused(prev, at, end)) out.push([at, end]);
    return out;
  }

  /**
   * Whether bytes [from, to) no entry uses are expected there: an entry's data descriptor, or,
   * before the first entry, a stub that was scanned as a plain file (a self-extracting archive,
   * whose offsets count from the file's start). A zip read from its first byte starts with a
   * local header, so bytes there that no entry claims are a hidden entry.
   */
  private excused(prev: Span | undefined, from: number, to: number): boolean {
    const n = to - from;
    if (prev === undefined) return !this.startsWith(from, LOCAL_HEADER_SIGNATURE);
    if (!prev.descriptor) return false;
    return this.startsWith(from, DESCRIPTOR_SIGNATURE) ? n === 16 || n === 24 : n === 12 || n === 20;
  }

  /** Whether the four bytes at `at` are the signature. */
  private startsWith(at: number, signature: number): boolean {
    try {
      const b = this.range(at, at + 4);
      return b.length === 4 && b.readUInt32LE(0) === signature;
    } catch {
      return false;
    }
  }

  /**
   * An entry's span, from its local header: a header that cannot be read counts as its fixed
   * part only (reading the entry then reports the damage).
   */
  private spanOf(entry: yauzl.Entry, name: string): Span {
    const start = entry.relativeOffsetOfLocalHeader;
    const descriptor = (entry.generalPurposeBitFlag & 0x08) !== 0;
    let end = start + LOCAL_HEADER_BYTES;
    try {
      const h = this.range(start, start + LOCAL_HEADER_BYTES);
      if (h.length === LOCAL_HEADER_BYTES && h.readUInt32LE(0) === LOCAL_HEADER_SIGNATURE) {
        end += h.readUInt16LE(26) + h.readUInt16LE(28) + entry.compressedSize;
      }
    } catch {
      // Past the end of the file: reading the entry reports it.
    }
    return { start, end, name, descriptor };
  }
}

/**
 * The name an entry's local header gives it when that differs from the directory's, byte for
 * byte; undefined when they agree or the header cannot be read (reading the entry reports that).
 */
function localNameIfOther(range: ReadRange, entry: yauzl.Entry): Buffer | undefined {
  const start = entry.relativeOffsetOfLocalHeader;
  try {
    const h = range(start, start + LOCAL_HEADER_BYTES);
    if (h.length !== LOCAL_HEADER_BYTES || h.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) return undefined;
    const n = h.readUInt16LE(26);
    const local = range(start + LOCAL_HEADER_BYTES, start + LOCAL_HEADER_BYTES + n);
    if (local.length !== n || local.equals(entry.fileNameRaw)) return undefined;
    // A view of a window that a later read replaces.
    return Buffer.from(local);
  } catch {
    return undefined;
  }
}

/**
 * Inflates a raw entry stream with a large output buffer (yauzl's own inflater emits 16 KiB
 * slices). Destroying the result destroys the raw stream too.
 */
function inflated(raw: Readable, entry: yauzl.Entry): Readable {
  if (entry.compressionMethod !== 8) return raw;
  const inflate = createInflateRaw({ chunkSize: ZIP_CHUNK });
  raw.on('error', (err) => inflate.destroy(err));
  inflate.on('close', () => raw.destroy());
  raw.pipe(inflate);
  return inflate;
}

/**
 * A small entry's bytes, read and inflated at once (yauzl finds where they start), or
 * undefined when anything is off (a damaged header, data that does not inflate or does not
 * match the directory's size or CRC-32): the entry is then read as a stream, which scans what
 * can be read and reports the damage after it.
 */
async function wholeEntry(zf: yauzl.ZipFile, entry: yauzl.Entry, range: ReadRange): Promise<Buffer | undefined> {
  try {
    const { fileDataStart } = await zf.readLocalFileHeaderPromise(entry, { minimal: true });
    const raw = range(fileDataStart, fileDataStart + entry.compressedSize);
    // One byte past the directory's size is enough to tell that the data is longer. An output
    // buffer of that size (zlib's smallest is 64 bytes) is filled once, where zlib's default of
    // 16 KiB allocated and sliced a buffer at least that large for every small file.
    const out = Math.max(64, entry.uncompressedSize + 1);
    const data = entry.compressionMethod === 8 ? inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1, chunkSize: out }) : raw;
    if (data !== raw) noteFreshBytes(data.length);
    if (data.length !== entry.uncompressedSize || crc32(data) >>> 0 !== entry.crc32 >>> 0) return undefined;
    return data;
  } catch {
    return undefined;
  }
}

/**
 * An entry's bytes, failing with a corrupt event when their size or CRC-32 does not match
 * the zip directory.
 */
async function* checkedChunks(stream: Readable, entry: yauzl.Entry, chain: readonly string[]): AsyncGenerator<Uint8Array, void, undefined> {
  let crc = 0;
  let n = 0;
  for await (const c of readableChunks(stream as AsyncIterable<Uint8Array>, (err) => zipStop(chain, err, 'entry'))) {
    n += c.length;
    // Mostly new buffers: inflated output or reads from the file.
    noteFreshBytes(c.length);
    if (n > entry.uncompressedSize) break;
    crc = crc32(c, crc);
    yield c;
  }
  if (n !== entry.uncompressedSize) {
    throw problem(
      chain,
      'corrupt',
      `entry size does not match the zip directory (${n > entry.uncompressedSize ? 'more than' : 'only'} ${n} bytes, directory says ${entry.uncompressedSize}): the archive is damaged, rebuild it`,
      'entry',
    );
  }
  if (crc >>> 0 !== entry.crc32 >>> 0) {
    throw problem(
      chain,
      'corrupt',
      `CRC-32 mismatch: the entry's data has CRC ${hex(crc)} but the zip directory says ${hex(entry.crc32)}; the archive is damaged, rebuild it`,
      'entry',
    );
  }
}

/** Asks yauzl for the next directory entry; null at the end. */
function nextEntry(zf: yauzl.ZipFile, failed: () => Error | undefined): Promise<yauzl.Entry | null> {
  const earlier = failed();
  if (earlier) return Promise.reject(earlier);
  return new Promise((resolve, reject) => {
    const off = (): void => {
      zf.off('entry', onEntry);
      zf.off('end', onEnd);
      zf.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry): void => {
      off();
      resolve(e);
    };
    const onEnd = (): void => {
      off();
      resolve(null);
    };
    const onError = (err: Error): void => {
      off();
      reject(err);
    };
    zf.on('entry', onEntry);
    zf.on('end', onEnd);
    zf.on('error', onError);
    zf.readEntry();
  });
}

/** Opens an entry's content stream: inflated by yauzl, or `raw` (still compressed) for our own inflater. */
function openStream(zf: yauzl.ZipFile, entry: yauzl.Entry, raw = false): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zf.openReadStream(entry, raw ? { decodeFileData: false } : {}, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Turns a yauzl failure into an actionable event. */
function zipStop(chain: readonly string[], err: unknown, scope: 'entry' | 'archive' = 'archive'): Stop {
  if (err instanceof Stop) return err;
  const msg = errorMessage(err);
  if (/encryption/i.test(msg)) return problem(chain, 'encrypted', `encrypted zip cannot be scanned (${msg})`, scope);
  if (/compression method/i.test(msg)) return problem(chain, 'unsupported', `${msg}; rebuild the archive with deflate or store`, scope);
  let text: string;
  if (/end of central directory record signature not found/i.test(msg)) {
    text = 'not a readable zip: the end-of-central-directory record is missing, so the file is truncated or damaged; download or build it again';
  } else if (/central directory|unexpected EOF|overflows file bounds|local file header/i.test(msg)) {
    text = `damaged zip structure (${msg}): the archive's directory points at data that is not there; rebuild it`;
  } else if (/unexpected end of file|invalid|incorrect|too far back/i.test(msg)) {
    text = `corrupt compressed data (${msg}): the archive is damaged, download or build it again`;
  } else if (/size mismatch|too many bytes|expected \d+ bytes/i.test(msg)) {
    text = `entry size does not match the zip directory (${msg}): the archive is damaged, rebuild it`;
  } else {
    text = `corrupt zip (${msg}); download or build it again`;
  }
  return problem(chain, 'corrupt', text, scope);
}

/** An error item for a per-entry problem that is not a limit. */
function problemEvent(chain: readonly string[], kind: 'encrypted' | 'unsupported', message: string): SourceProblem {
  return { kind: 'error', error: { path: joinChain(chain), kind, message } };
}

/** Formats a CRC-32 for messages. */
function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
