import type { Extract, Header } from 'tar-stream';
import type { SourceItem } from './types.js';
import { HeldItems } from './held.js';
import type { ArtifactCtx } from './context.js';
import { checkDevice, checkLink, checkName, checkNonFileData, checkSetuid, decodeLatin1Name, DuplicateTracker } from './checks.js';
import { countOf, errorMessage, formatBytes, limitStop, problem, Stop } from './errors.js';
import { holdWhole, openWhole, WHOLE_ENTRY_BYTES } from './open.js';
import { readableChunks, startPump, type WritableLike } from './stream.js';

/** tar-stream's extract accepts a filename encoding that its type declarations omit. */
type ExtractFactory = (opts: { filenameEncoding: string; allowUnknownFormat: boolean }) => Extract;

/** One entry of an extract: a readable with its header. */
type TarEntry = Extract extends AsyncIterable<infer T> ? T : never;

/**
 * Entries read whole that may wait for the reader, in bytes and in number: tar-stream parses
 * ahead while they wait, and stops at either bound until the reader catches up. (Twice
 * WHOLE_ENTRY_BYTES, which open.js, importing this module, has not defined yet when it loads.)
 */
const AHEAD_BYTES = 2 * 1024 * 1024;
const AHEAD_ENTRIES = 256;

/**
 * Reads a tar stream entry by entry with tar-stream. Only regular files have content; each
 * one is opened (and kind-detected) in turn, so nested archives recurse. Small plain files,
 * and the problems and findings of their entries, go on in batches.
 */
export async function* readTar(
  ctx: ArtifactCtx,
  chain: string[],
  depth: number,
  input: AsyncIterator<Uint8Array>,
): AsyncGenerator<SourceItem, void, undefined> {
  // latin1 keeps every byte of a name, so names that are not UTF-8 can be decoded here.
  // Unknown formats are allowed because detection already accepted old v7 headers by checksum.
  // Loaded on the first tar, so scans without one never pay for it. Through `default` (the
  // CommonJS exports object), which Node and the CLI's bundle both provide.
  const { extract: tarExtract } = (await import('tar-stream')).default;
  const extract = (tarExtract as unknown as ExtractFactory)({ filenameEncoding: 'latin1', allowUnknownFormat: true });
  let fed = 0;
  const { maxEntries, maxEntryBytes } = ctx.limits;
  const entries = new TarEntries(extract, (h) => (isRegular(h) || skipsData(h)) && h.size <= maxEntryBytes, Math.min(WHOLE_ENTRY_BYTES, maxEntryBytes));
  const pump = startPump(input, extract as unknown as WritableLike, (n) => {
    fed += n;
  });
  // The entry stream and the extract both see one failure; report it once, as one Stop.
  let failure: Stop | undefined;
  const toStop = (err: unknown): Stop => (failure ??= tarStop(chain, err, fed));
  const dups = new DuplicateTracker();
  let count = 0;
  // What the entries at hand make, handed on as one batch once no more entries are at hand.
  const held = new HeldItems();
  try {
    for (;;) {
      let taken = entries.poll();
      if (taken === undefined || held.full) {
        const batch = held.take();
        if (batch) yield batch;
      }
      ctx.check(chain);
      if (taken === undefined) {
        try {
          taken = await entries.take();
        } catch (err) {
          throw toStop(err);
        }
        if (taken === undefined) return;
      }
      const h = taken.header;
      if (++count > maxEntries) {
        throw limitStop(chain, 'maxEntries', `archive has more than ${countOf(maxEntries, 'entry', 'entries')}; the rest were not read`, String(maxEntries), 'archive');
      }
      const pax = (h.pax ?? undefined) as Record<string, unknown> | undefined;
      // GNU tar's PAX sparse formats keep the real name in GNU.sparse.name and store a made-up
      // one (`./GNUSparseFile.123/x`) in the header, which tar-stream passes on.
      const sparseName = pax?.['GNU.sparse.name'];
      const name = typeof sparseName === 'string' ? sparseName : typeof pax?.path === 'string' ? h.name : decodeLatin1Name(h.name);
      const ec = [...chain, name];
      held.name(ec);
      held.keep(checkName(ec, name));
      held.keep(checkSetuid(ec, name, h.mode ?? 0, h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'other'));
      if (h.type === 'symlink' || h.type === 'link') {
        const target = h.pax && typeof (h.pax as Record<string, unknown>).linkpath === 'string' ? h.linkname : decodeLatin1Name(h.linkname ?? '');
        held.keep(checkLink(ec, name, target, h.type === 'link'));
      }
      if (h.type === 'character-device' || h.type === 'block-device' || h.type === 'fifo') {
        held.keep(checkDevice(ec, name, h.type));
      }
      // Bytes tar-stream takes for a link's or device's data are entries to Python and GNU tar:
      // they are read as an entry below it (a tar there is read as one), so they are scanned.
      const skipped = skipsData(h);
      if (skipped) held.keep(checkNonFileData(ec, name, h.type as string, h.size));
      else if (!isRegular(h)) continue;
      else {
        held.keep(dups.check(ec, name, `${h.size} bytes`));
        const sparse = sparseVersion(pax);
        if (sparse !== undefined) held.add({ kind: 'error', error: problem(ec, 'unsupported', sparseMessage(sparse), 'entry').event });
      }
      if (h.size > maxEntryBytes) {
        // Its data was drained as tar-stream went past it.
        const e = limitStop(ec, 'maxEntryBytes', `entry is ${formatBytes(h.size)}, larger than ${formatBytes(maxEntryBytes)}; it was not read`, String(maxEntryBytes), 'entry');
        held.add({ kind: 'error', error: e.event });
        continue;
      }
      // Most entries are small plain files: read whole as they arrived, and batched.
      const size = taken.cut === true && taken.data !== undefined ? taken.data.length : h.size;
      if (taken.data !== undefined && holdWhole(held, ctx, { chain: ec, size }, taken.data)) continue;
      const batch = held.take();
      if (batch) yield batch;
      if (taken.data !== undefined) {
        // A nested archive, held whole.
        yield* openWhole(ctx, { chain: ec, size }, taken.data, depth + 1);
        continue;
      }
      const raw = readableChunks(taken.stream as AsyncIterable<Uint8Array>, toStop);
      let finished = false;
      try {
        yield* ctx.open(ctx, { chain: ec, size: h.size, raw, sequential: true }, depth + 1);
        finished = true;
      } finally {
        if (finished) await drain(raw);
      }
    }
  } catch (err) {
    // What was read before a stop still goes on, ahead of the stop.
    const batch = held.take();
    if (batch) yield batch;
    throw err;
  } finally {
    pump.stop();
    extract.destroy();
  }
}

/**
 * Regular files, the only entries with content. tar-stream gives a null type (which its
 * declarations omit) for a type flag it does not know; GNU tar and Python's tarfile extract
 * such an entry as a regular file, so it ships.
 */
function isRegular(h: Header): boolean {
  return h.type === 'file' || h.type === 'contiguous-file' || (h.type as string | null) === null;
}

/** The GNU sparse format (`0.0`, `0.1`, `1.0`) a member's PAX attributes declare, if any. */
function sparseVersion(pax: Record<string, unknown> | undefined): string | undefined {
  if (pax === undefined) return undefined;
  const { 'GNU.sparse.major': major, 'GNU.sparse.minor': minor } = pax;
  if (typeof major === 'string' && typeof minor === 'string') return `${major}.${minor}`;
  if (typeof pax['GNU.sparse.map'] === 'string') return '0.1';
  return typeof pax['GNU.sparse.size'] === 'string' || typeof pax['GNU.sparse.numblocks'] === 'string' ? '0.0' : undefined;
}

/**
 * What a sparse member's event says. tar-stream hands on the data as stored, without the holes
 * between its parts (and in format 1.0 with the map of those parts in front), which is all the
 * file holds besides zeros; but where a finding lies in the extracted file is not known.
 */
function sparseMessage(version: string): string {
  const map = version.startsWith('1.') ? ' (after the map of its parts that the data starts with)' : '';
  return `sparse file (GNU sparse format ${version}): its stored data was scanned without the holes (zeros) between its parts, so the line, column and byte offset of a finding in it count within the data as stored in the archive${map}, not within the extracted file; recreate the archive without --sparse for exact locations`;
}

/**
 * Link, device and FIFO entries with a size: tar-stream skips that many bytes after the header,
 * where Python's tarfile and GNU tar read the next header. (A directory's size is not skipped by
 * tar-stream either, so nothing is hidden there.)
 */
function skipsData(h: Header): boolean {
  if (!(h.size > 0)) return false;
  const t = h.type as string | null;
  return t === 'link' || t === 'symlink' || t === 'character-device' || t === 'block-device' || t === 'fifo';
}

/** An entry as `TarEntries` hands it out: its header, and its bytes read whole or its stream. */
interface Taken {
  header: Header;
  /** The whole content of an entry of at most `whole` bytes. */
  data?: Uint8Array;
  /** The content of a larger entry, to read (or drain) before asking for the next entry. */
  stream?: TarEntry;
  /** With `stream`: tar-stream's callback for the entry after it. */
  next?: () => void;
  /** With `data`: the archive ends inside the entry, and `data` is what came before the end. */
  cut?: boolean;
}

/**
 * tar-stream's entries, taken through its events rather than its async iterators: an entry of
 * up to `whole` bytes is collected as its bytes arrive and tar-stream goes straight on to the
 * next, so the thousands of small files of a package cost no promise round trips per entry
 * and per chunk. Entries whose content is not `wanted` are drained at once. A larger entry is
 * handed out as its stream, and tar-stream waits until the reader asks for the entry after it.
 */
class TarEntries {
  private queue: Taken[] = [];
  private head = 0;
  private aheadBytes = 0;
  /**
   * tar-stream's callback for the entry after the last one queued, when that one is read
   * whole or skipped: called at once while the queue has room, else when the reader makes room.
   */
  private proceed: (() => void) | undefined;
  /** The callback of the streamed entry the reader was handed last, called when it asks for the next. */
  private afterStream: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private failure: { err: unknown } | undefined;
  private closed = false;

  constructor(
    extract: Extract,
    private readonly wanted: (h: Header) => boolean,
    private readonly whole: number,
  ) {
    extract.on('entry', (header, stream, next) => this.entry(header, stream, next));
    extract.on('error', (err) => this.fail(err));
    extract.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** The next entry if one is at hand. Asking for it is done with the entry before, if that one streamed. */
  poll(): Taken | undefined {
    const go = this.afterStream;
    this.afterStream = undefined;
    go?.();
    if (this.head === this.queue.length) return undefined;
    const t = this.queue[this.head++] as Taken;
    if (this.head === this.queue.length || this.head >= AHEAD_ENTRIES) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (t.data !== undefined) this.aheadBytes -= t.data.length;
    if (t.stream !== undefined) this.afterStream = t.next;
    else this.release();
    return t;
  }

  /** The next entry, or undefined after the last; tar-stream's failure is thrown once the entries before it are taken. */
  async take(): Promise<Taken | undefined> {
    for (;;) {
      const t = this.poll();
      if (t !== undefined) return t;
      if (this.failure !== undefined) throw this.failure.err;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private entry(header: Header, stream: TarEntry, next: () => void): void {
    // Without a listener, an entry stream that tar-stream fails would throw out of the process.
    stream.on('error', (err: unknown) => this.fail(err));
    if (!this.wanted(header)) {
      stream.resume();
      // Called back from within tar-stream's 'entry' event, which must return first.
      this.queued({ header }, () => queueMicrotask(next));
    } else if (header.size > this.whole) {
      // tar-stream waits for the reader to be done with this one: nothing is queued after it.
      this.queue.push({ header, stream, next });
      this.notify();
    } else {
      const chunks: Uint8Array[] = [];
      let ended = false;
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Uint8Array));
      stream.on('end', () => {
        ended = true;
        const data = chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
        this.aheadBytes += data.length;
        this.queued({ header, data }, next);
      });
      // A tar cut inside this entry: the bytes before the cut are handed on as its content,
      // ahead of the failure, as a larger entry's stream hands them on before it fails.
      stream.on('close', () => {
        if (ended) return;
        const data = Buffer.concat(chunks);
        this.aheadBytes += data.length;
        this.queue.push({ header, data, cut: true });
        this.notify();
      });
    }
  }

  private queued(t: Taken, next: () => void): void {
    this.queue.push(t);
    this.proceed = next;
    this.release();
    this.notify();
  }

  /** Lets tar-stream go on to the next entry, unless the queue is full. */
  private release(): void {
    const next = this.proceed;
    if (next === undefined || this.queue.length - this.head >= AHEAD_ENTRIES || this.aheadBytes >= AHEAD_BYTES) return;
    this.proceed = undefined;
    next();
  }

  private fail(err: unknown): void {
    this.failure ??= { err };
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Reads an iterator to its end, ignoring errors: the container reports them on its next step. */
async function drain(it: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    for (;;) if ((await it.next()).done) return;
  } catch {
    // TarEntries throws the failure for the next entry
  }
}

/** Turns a tar-stream failure into an actionable corrupt event. */
function tarStop(chain: readonly string[], err: unknown, fed: number): Stop {
  if (err instanceof Stop) return err;
  const msg = errorMessage(err);
  let text: string;
  if (/unexpected end of data/i.test(msg)) {
    text = `truncated tar archive after ${fed} bytes: it ends in the middle of an entry; the file is incomplete, download or build it again`;
  } else if (/invalid tar header|unknown format/i.test(msg)) {
    text = `invalid tar header (bad checksum or unknown format) within the first ${fed} bytes: the archive is damaged; rebuild it`;
  } else {
    text = `corrupt tar archive after ${fed} bytes: ${msg}; rebuild it`;
  }
  return problem(chain, 'corrupt', text, 'archive');
}
