import { createGunzip, gunzipSync } from 'node:zlib';
import type { SourceItem } from './types.js';
import { noteFreshBytes } from './collect.js';
import { type ArtifactCtx, ratioStop } from './context.js';
import { DETECT_BYTES, detectKind } from './detect.js';
import { errorCode, errorMessage, problem, Stop } from './errors.js';
import { once, Peekable, startPump } from './stream.js';
import { openWhole } from './open.js';
import { readTar } from './tar.js';

/**
 * zlib output buffer size. zlib inflates one buffer per thread-pool task and waits for this
 * thread to start the next, so while this thread matches one batch (1 MiB) it should have a
 * whole batch to come back to: typescript's tarball scanned in 0.30 s instead of 0.34 s, with
 * this thread idle a third of the time at 256 KiB.
 */
const INFLATE_CHUNK = 1024 * 1024;

/**
 * gzip data up to this size that inflates to at most WHOLE_OUTPUT_BYTES is inflated at once,
 * blocking: a package of 1428 small `.gz` files took 0.6 s more through a zlib stream each
 * (thread-pool round trips and a 256 KiB output buffer per file) than their contents alone.
 */
const WHOLE_INPUT_BYTES = 1024 * 1024;
const WHOLE_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * Reads gzip data (all concatenated members as one stream). Inflated tar content is read
 * as that tar, with no extra path level; anything else is one member named from the gzip
 * header (FNAME) or from the compressed file's name. `recycle` takes back each compressed
 * chunk once zlib has consumed it.
 */
export async function* readGzip(
  ctx: ArtifactCtx,
  chain: string[],
  depth: number,
  src: Peekable,
  head: Uint8Array,
  recycle?: (chunk: Uint8Array) => void,
): AsyncGenerator<SourceItem, void, undefined> {
  // Read before the pump starts: `head` may be a view of a chunk that is recycled.
  const memberName = gzipMemberName(head);
  const name = (): string => memberName ?? defaultMemberName(chain[chain.length - 1] ?? '-');
  const { maxCompressionRatio, ratioThresholdBytes, maxEntryBytes } = ctx.limits;

  // Small gzip data (nearly all of it in a package) is inflated at once when nothing is off;
  // anything else is streamed.
  const it = src.chunks();
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let ended = false;
  while (heldBytes <= WHOLE_INPUT_BYTES) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    held.push(r.value);
    heldBytes += r.value.length;
  }
  // Past maxEntryBytes the stream reads up to the limit and says where it stopped.
  const whole = ended ? inflateWhole(held, heldBytes, Math.min(WHOLE_OUTPUT_BYTES, maxEntryBytes), maxCompressionRatio, ratioThresholdBytes) : undefined;
  if (whole !== undefined) {
    for (const c of held) recycle?.(c);
    if (detectKind(whole.subarray(0, DETECT_BYTES)) === 'tar') yield* readTar(ctx, chain, depth, once(whole));
    else yield* openWhole(ctx, { chain: [...chain, name()] }, whole, depth + 1);
    return;
  }

  async function* replayed(): AsyncGenerator<Uint8Array, void, undefined> {
    yield* held.splice(0);
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
  const pump = startPump(replayed(), gunzip, undefined, recycle);
  ctx.shared.onInflating?.(1);

  async function* inflated(): AsyncGenerator<Uint8Array, void, undefined> {
    const it = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let out = 0;
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (err) {
        throw gzipStop(chain, err, gunzip.bytesWritten, out);
      }
      if (r.done) return;
      out += r.value.length;
      noteFreshBytes(r.value.length);
      // bytesWritten counts compressed bytes zlib has actually consumed, not merely buffered.
      if (out > ratioThresholdBytes && out > maxCompressionRatio * gunzip.bytesWritten) {
        throw ratioStop(chain, out, gunzip.bytesWritten, maxCompressionRatio, 'archive');
      }
      yield r.value;
    }
  }

  try {
    const content = new Peekable(inflated());
    const innerHead = await content.peek(DETECT_BYTES);
    if (detectKind(innerHead) === 'tar') {
      yield* readTar(ctx, chain, depth, content.chunks());
      return;
    }
    yield* ctx.open(ctx, { chain: [...chain, name()], raw: content.chunks(), sequential: false }, depth + 1);
  } finally {
    ctx.shared.onInflating?.(-1);
    pump.stop();
    gunzip.destroy();
  }
}

/**
 * Inflates whole gzip data held in memory, or undefined when the stream must do it: the data
 * does not inflate cleanly, or inflates past `maxOut` or the compression-ratio limit. The
 * stream then inflates what it can and reports the problem, as for large data.
 */
function inflateWhole(chunks: readonly Uint8Array[], bytes: number, maxOut: number, maxRatio: number, ratioThreshold: number): Buffer | undefined {
  try {
    const input = chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, bytes);
    // The trailer's ISIZE is the last member's size (mod 2^32): data that says it is larger than
    // maxOut would only fail to inflate at once (rxjs's 750 KB tarball, 4.6 MB inflated, lost
    // 13 ms so) and is streamed straight away. One that understates is still bounded by maxOut.
    const size = input.length >= 18 ? Buffer.from(input.buffer, input.byteOffset, input.length).readUInt32LE(input.length - 4) : maxOut;
    if (size > maxOut) return undefined;
    // An output buffer of that size (and one byte, to see the end; zlib's smallest is 64 bytes)
    // is filled once, instead of one 16 KiB buffer after another, copied into one at the end.
    const out = gunzipSync(input, { maxOutputLength: Math.max(1, maxOut), chunkSize: Math.max(64, size + 1) });
    if (out.length > ratioThreshold && out.length > maxRatio * bytes) return undefined;
    noteFreshBytes(out.length);
    return out;
  } catch {
    return undefined;
  }
}

/** Turns a zlib failure into an actionable corrupt event. */
function gzipStop(chain: readonly string[], err: unknown, consumed: number, produced: number): Stop {
  if (err instanceof Stop) return err;
  const code = errorCode(err);
  const msg = errorMessage(err);
  let text: string;
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg)) {
    text = `truncated gzip stream after ${consumed} bytes: the file is incomplete, download or build it again`;
  } else if (/header check|unknown compression method/i.test(msg)) {
    text = `bad gzip header (${msg}): the file is not valid gzip data; rebuild it`;
  } else {
    text = `corrupt gzip data after ${consumed} compressed bytes (${produced} bytes inflated): ${msg}; the file is damaged, download or build it again`;
  }
  return problem(chain, 'corrupt', text, 'archive');
}

/** The FNAME field of a gzip header, if the header carries one and it fits in `head`. */
export function gzipMemberName(head: Uint8Array): string | undefined {
  if (head.length < 10) return undefined;
  const flags = head[3]!;
  if ((flags & 0x08) === 0) return undefined;
  let p = 10;
  if (flags & 0x04) {
    if (head.length < 12) return undefined;
    p += 2 + (head[10]! | (head[11]! << 8));
  }
  const end = head.indexOf(0, p);
  if (end <= p) return undefined;
  // RFC 1952: FNAME is ISO 8859-1; only the base name is meaningful.
  const name = Buffer.from(head.subarray(p, end)).toString('latin1');
  const base = name.split(/[/\\]/).pop();
  return base !== undefined && base.length > 0 ? base : undefined;
}

/** Name of the member when the header has none: `x.gz` → `x`, `x.tgz` → `x.tar`. */
function defaultMemberName(container: string): string {
  const base = container.split('/').pop() ?? container;
  if (/\.tgz$/i.test(base)) return base.slice(0, -4) + '.tar';
  if (/\.gz$/i.test(base) && base.length > 3) return base.slice(0, -3);
  if (/\.gzip$/i.test(base) && base.length > 5) return base.slice(0, -5);
  return base;
}
