import type { SourceFile, SourceItem } from './types.js';
import type { HeldItems } from './held.js';
import { type ArtifactCtx, type Entry, FileBytes, limited, type LimitControl } from './context.js';
import { DETECT_BYTES, detectKind, EOCD_SEARCH_BYTES, embeddedZipStart, mayEndWithZip, stubbedZipStart, UNSUPPORTED_NAMES, type Utf16Encoding, utf16Encoding } from './detect.js';
import { countOf, joinChain, limitStop, problem, Stop } from './errors.js';
import { readGzip } from './gzip.js';
import { once, Peekable } from './stream.js';
import { readTar } from './tar.js';
import { markPyc, markPycChunks, type PycFormat, pycFormat } from './pyc.js';
import { decodeUtf16, decodeUtf16Chunks } from './utf16.js';
import { readZipBuffer, readZipStream } from './zip.js';

/**
 * Opens one stream of content: detects its kind from the first bytes and yields it as a
 * file or reads it as an archive. Problems confined to this entry or archive are yielded
 * here; artifact-wide ones (and aborts) are thrown to the top.
 */
export async function* openEntry(ctx: ArtifactCtx, entry: Entry, depth: number): AsyncGenerator<SourceItem, void, undefined> {
  const control: LimitControl = { entryBytes: depth > 0 ? true : undefined };
  const src = new Peekable(limited(ctx, entry, control));
  try {
    const head = await src.peek(DETECT_BYTES);
    // The top-level artifact is not an entry: an archive there is bounded by its contents' limits.
    control.entryBytes = depth > 0 || detectKind(head) === 'plain';
    yield* openDetected(ctx, entry, depth, src, head);
  } catch (err) {
    yield* reportStop(err);
  }
}

/** Dispatches on the content kind once the first bytes are known. */
async function* openDetected(
  ctx: ArtifactCtx,
  entry: Entry,
  depth: number,
  src: Peekable,
  head: Uint8Array,
): AsyncGenerator<SourceItem, void, undefined> {
  const kind = detectKind(head);
  if (kind === 'plain') {
    const utf16 = utf16Encoding(head);
    yield* emitFile(ctx, entry, depth, src, !entry.endZipOpened && mayEndWithZip(head), utf16, utf16 ? undefined : pycFormat(head));
    return;
  }
  const unsupported = UNSUPPORTED_NAMES[kind];
  if (unsupported !== undefined) {
    yield {
      kind: 'error',
      error: { path: joinChain(entry.chain), kind: 'unsupported', message: `${unsupported} is not supported; decompress it first` },
    };
    return;
  }
  const { maxDepth } = ctx.limits;
  if (depth > maxDepth) {
    const s = limitStop(entry.chain, 'maxDepth', `archive nested ${countOf(depth, 'level', 'levels')} deep was not opened`, String(maxDepth), 'entry');
    yield { kind: 'error', error: s.event };
    return;
  }
  switch (kind) {
    case 'gzip':
      yield* readGzip(ctx, entry.chain, depth, src, head, entry.recycle);
      return;
    case 'tar':
      yield* readTar(ctx, entry.chain, depth, src.chunks());
      return;
    case 'zip':
      yield* readZipStream(ctx, entry.chain, depth, src);
      return;
  }
}

/**
 * Yields a plain file, then drains what the consumer left (when the container needs it) and
 * surfaces its problem. With `watchEnd` (content that may be a stub), the last bytes are kept
 * as they stream past: a zip behind the stub can only be read from content held whole or
 * from a file on disk, so one found at the end of a longer stream is reported as not opened
 * rather than passed over in silence; a stream short enough to have been kept whole is read.
 * With `utf16` (UTF-16 text) the file's bytes are its text in UTF-8, decoded as they stream;
 * with `pyc` (compiled Python) its string constants are set apart as they stream (see pyc.ts).
 */
async function* emitFile(
  ctx: ArtifactCtx,
  entry: Entry,
  depth: number,
  src: Peekable,
  watchEnd: boolean,
  utf16: Utf16Encoding | undefined,
  pyc: PycFormat | undefined,
): AsyncGenerator<SourceItem, void, undefined> {
  const tail = watchEnd ? new Tail(EOCD_SEARCH_BYTES) : undefined;
  const raw = tail ? tail.watch(src.chunks()) : src.chunks();
  // Decoded slices are new memory: the raw ones go back to the reader as soon as they are decoded.
  const bytes = new FileBytes(ctx, utf16 ? decodeUtf16Chunks(raw, utf16, entry.recycle) : pyc ? markPycChunks(raw, pyc, entry.recycle) : raw, entry.chain);
  const file: SourceFile = { kind: 'file', chain: entry.chain, bytes };
  if (ctx.timed) file.overdue = (at) => bytes.overdue(at);
  if (entry.size !== undefined) file.size = entry.size;
  if (entry.recycle !== undefined && !utf16 && !pyc) file.recycle = entry.recycle;
  yield file;
  if (entry.sequential && !bytes.finished && bytes.error === undefined) await bytes.drain();
  if (bytes.error !== undefined) throw bytes.error;
  if (!tail || !bytes.finished) return;
  const data = tail.bytes();
  const zipAt = embeddedZipStart(data);
  if (zipAt === undefined) return;
  if (tail.whole) {
    yield* openEmbeddedZip(ctx, entry.chain, depth, () => readZipBuffer(ctx, entry.chain, depth, data, zipAt));
  } else {
    const where = entry.chain.length === 1 && entry.chain[0] === '-' ? 'arrived on standard input' : 'is a large archive entry, read as a stream';
    yield {
      kind: 'error',
      error: {
        path: joinChain(entry.chain),
        kind: 'unsupported',
        message: `ends with a zip behind a stub (a self-extracting archive or a zipapp), whose entries were not scanned: such a zip is opened in a file on disk, in content read whole (up to 1 MiB) and in a stream of up to 64 KiB, and this one ${where}; scan the file itself (extract it first)`,
      },
    };
  }
}

/** The last bytes of a stream, copied as its chunks pass (they may be reused once read). */
class Tail {
  private readonly buf: Uint8Array;
  private len = 0;
  /** Whether every byte of the stream is still kept. */
  whole = true;

  constructor(private readonly size: number) {
    this.buf = new Uint8Array(size);
  }

  /** Passes the chunks of `src` on unchanged, keeping the last `size` bytes. */
  watch(src: AsyncIterator<Uint8Array>): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        const r = await src.next();
        if (!r.done) this.push(r.value);
        return r;
      },
    };
  }

  private push(c: Uint8Array): void {
    const { buf, size } = this;
    if (c.length >= size) {
      buf.set(c.subarray(c.length - size));
      this.whole &&= c.length === size && this.len === 0;
      this.len = size;
      return;
    }
    const keep = Math.min(this.len, size - c.length);
    this.whole &&= keep === this.len;
    buf.copyWithin(0, this.len - keep, this.len);
    buf.set(c, keep);
    this.len = keep + c.length;
  }

  /** The bytes kept: the stream's last `size` bytes, or all of a shorter one. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Archive entries up to this size are read (and inflated) whole, then opened with `openWhole`: nearly every file of a package. */
export const WHOLE_ENTRY_BYTES = 1024 * 1024;

/**
 * Opens content held whole in memory (a small archive entry read at once): a plain file goes
 * straight to the consumer, sparing the look-ahead and limit layers a stream of unknown content
 * needs (its container has checked the entry's size); anything else is opened as usual.
 */
export async function* openWhole(ctx: ArtifactCtx, entry: Omit<Entry, 'raw' | 'sequential'>, data: Uint8Array, depth: number): AsyncGenerator<SourceItem, void, undefined> {
  const whole = wholeFile(ctx, entry, data);
  if (whole === undefined) {
    yield* ctx.open(ctx, { ...entry, raw: once(data), sequential: false }, depth);
    return;
  }
  yield whole.file;
  if (whole.stop !== undefined) throw whole.stop;
  ctx.checkOverdue();
  const zipAt = stubbedZipStart(data);
  if (zipAt !== undefined) yield* openEmbeddedZip(ctx, entry.chain, depth, () => readZipBuffer(ctx, entry.chain, depth, data, zipAt));
}

/**
 * Reads the zip that a plain file ends with, after the file itself was yielded: a stub in front
 * hides it from detection by the first bytes, yet unzip and Python's zipfile open it. Its
 * problems end here, as those of any archive.
 */
export async function* openEmbeddedZip(
  ctx: ArtifactCtx,
  chain: string[],
  depth: number,
  read: () => AsyncGenerator<SourceItem, void, undefined>,
): AsyncGenerator<SourceItem, void, undefined> {
  const { maxDepth } = ctx.limits;
  if (depth > maxDepth) {
    const s = limitStop(chain, 'maxDepth', `zip at the end of this file, nested ${countOf(depth, 'level', 'levels')} deep, was not opened`, String(maxDepth), 'entry');
    yield { kind: 'error', error: s.event };
    return;
  }
  try {
    yield* read();
  } catch (err) {
    // Damage to the zip as a whole is told as such: the file did not start like a zip.
    if (err instanceof Stop && !err.reported && err.scope === 'archive' && err.event.kind === 'corrupt' && err.event.path === joinChain(chain)) {
      const text = `the file ends with a zip's end-of-central-directory record (a self-extracting or prefixed zip), but that zip cannot be read: ${err.event.message}`;
      yield* reportStop(problem(chain, 'corrupt', text, 'archive'));
      return;
    }
    yield* reportStop(err);
  }
}

/**
 * The file that content held whole in memory is, when it is plain (undefined when it is an
 * archive to open), with its bytes counted against the artifact's limit. Past that limit the
 * file has the bytes up to it and `stop` must be thrown once it is handed on, as when `bytes` is iterated.
 */
function wholeFile(ctx: ArtifactCtx, entry: Omit<Entry, 'raw' | 'sequential'>, data: Uint8Array): { file: SourceFile; stop?: unknown } | undefined {
  // detectKind, utf16Encoding and pycFormat read no further than the first DETECT_BYTES.
  if (detectKind(data) !== 'plain') return undefined;
  const utf16 = utf16Encoding(data);
  const pyc = utf16 ? undefined : pycFormat(data);
  // Counted as a stream of it counts: the bytes scanned, which for UTF-16 text are its UTF-8.
  const decoded = utf16 ? decodeUtf16(data, utf16) : pyc ? markPyc(data, pyc) : data;
  // Past the artifact's limit the bytes up to it are scanned, and none after.
  const { fit, stop } = ctx.fitBytes(decoded.length);
  const content = fit < decoded.length ? decoded.subarray(0, fit) : decoded;
  const file: SourceFile = { kind: 'file', chain: entry.chain, bytes: new OnceBytes(content) };
  file.whole = content;
  // Past the time limit the reader holding the file stops at its next check, which throws the Stop.
  if (ctx.timed) file.overdue = (at) => ctx.overdue(entry.chain, at) !== undefined;
  if (entry.size !== undefined) file.size = entry.size;
  return stop === undefined ? { file } : { file, stop };
}

/** The bytes of a file held whole, as one slice: one object per file, where a package has thousands. */
class OnceBytes implements AsyncIterable<Uint8Array> {
  constructor(private readonly data: Uint8Array) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return once(this.data);
  }
}

/**
 * Holds content read whole in `held` when it is a plain file, and says so; false for an
 * archive (or a plain file ending with a zip), to open with `openWhole` once the held items have gone on. Past the artifact's
 * limit it throws that stop once the file is held, as `openWhole` does once it has yielded it.
 */
export function holdWhole(held: HeldItems, ctx: ArtifactCtx, entry: Omit<Entry, 'raw' | 'sequential'>, data: Uint8Array): boolean {
  // A plain file that ends with a zip is opened as one as well, by `openWhole`.
  if (stubbedZipStart(data) !== undefined && detectKind(data) === 'plain') return false;
  const whole = wholeFile(ctx, entry, data);
  if (whole === undefined) return false;
  held.add(whole.file);
  if (whole.stop !== undefined) throw whole.stop;
  return true;
}

/**
 * Yields the event of a Stop that ends at this level, once; rethrows artifact-wide stops
 * and anything that is not a Stop (a programming error).
 */
export async function* reportStop(err: unknown): AsyncGenerator<SourceItem, void, undefined> {
  if (!(err instanceof Stop) || err.scope === 'artifact' || err.scope === 'all') throw err;
  if (!err.reported) {
    err.reported = true;
    yield { kind: 'error', error: err.event };
  }
}
