import { createGunzip } from 'node:zlib';
import type { SourceItem } from './types.js';
import { noteFreshBytes } from './collect.js';
import { type ArtifactCtx, ratioStop } from './context.js';
import { DETECT_BYTES, detectKind } from './detect.js';
import { errorCode, errorMessage, problem, Stop } from './errors.js';
import { Peekable, startPump } from './stream.js';
import { readTar } from './tar.js';

/** zlib output buffer size: big enough that the consumer sees few, large chunks. */
const INFLATE_CHUNK = 256 * 1024;

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
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
  const pump = startPump(src.chunks(), gunzip, undefined, recycle);
  const { maxCompressionRatio, ratioThresholdBytes } = ctx.limits;

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
    const name = memberName ?? defaultMemberName(chain[chain.length - 1] ?? '-');
    yield* ctx.open(ctx, { chain: [...chain, name], raw: content.chunks(), sequential: false }, depth + 1);
  } finally {
    pump.stop();
    gunzip.destroy();
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
