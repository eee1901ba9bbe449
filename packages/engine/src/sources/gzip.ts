import { crc32, createInflateRaw, gunzipSync, type InflateRaw } from 'node:zlib';
import type { ScanError } from '../types.js';
import type { SourceItem } from './types.js';
import { noteFreshBytes } from './collect.js';
import { type ArtifactCtx, ratioStop } from './context.js';
import { DETECT_BYTES, detectKind } from './detect.js';
import { errorCode, errorMessage, formatBytes, joinChain, problem, Stop } from './errors.js';
import { once, Peekable } from './stream.js';
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
    else {
      // A name made from the compressed file's own (`a.txt.gz`: `a.txt`) was matched with it.
      if (memberName !== undefined) yield { kind: 'entry', chain: [...chain, memberName] };
      yield* openWhole(ctx, { chain: [...chain, name()] }, whole, depth + 1);
    }
    return;
  }

  async function* replayed(): AsyncGenerator<Uint8Array, void, undefined> {
    yield* held.splice(0);
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const input = new GzipInput(replayed(), recycle);
  const members = new GzipMembers(chain, input, maxCompressionRatio, ratioThresholdBytes);
  ctx.shared.onInflating?.(1);
  try {
    const content = new Peekable(members.inflated());
    const innerHead = await content.peek(DETECT_BYTES);
    if (detectKind(innerHead) === 'tar') yield* readTar(ctx, chain, depth, content.chunks());
    else {
      if (memberName !== undefined) yield { kind: 'entry', chain: [...chain, memberName] };
      yield* ctx.open(ctx, { chain: [...chain, name()], raw: content.chunks(), sequential: false }, depth + 1);
    }
  } finally {
    ctx.shared.onInflating?.(-1);
    members.stop();
  }
  // Told once everything before has been read, which the content's reader does to its end.
  if (members.trailingAt !== undefined) yield { kind: 'error', error: trailingEvent(chain, members.trailingAt) };
}

/** The event for bytes after the last gzip member that are neither another member nor zero padding. */
function trailingEvent(chain: readonly string[], at: number): ScanError {
  return {
    path: joinChain(chain),
    kind: 'corrupt',
    message: `trailing garbage after the gzip data: the bytes from offset ${at} on are not gzip data and were not scanned (the gzip data before them was); GNU gzip ignores them with a warning; rebuild the file without them`,
  };
}

/**
 * Compressed bytes taken chunk by chunk, with the unused rest of a chunk put back in front (the
 * bytes after a member's deflate data). `offset` counts the bytes taken for good. Chunks from
 * the source go to `recycle` once nothing reads them any more.
 */
class GzipInput {
  private front: Uint8Array[] = [];
  private ended = false;
  offset = 0;

  constructor(
    private readonly src: AsyncIterator<Uint8Array>,
    private readonly recycle: ((chunk: Uint8Array) => void) | undefined,
  ) {}

  /** The next chunk (or rest of one), undefined at the end; `done` or `putBack` must follow. */
  take(): Promise<Uint8Array | undefined> {
    const f = this.front.shift();
    return f !== undefined ? Promise.resolve(f) : this.takeFromSource();
  }

  /** Puts back what was taken and not used. */
  putBack(rest: Uint8Array): void {
    if (rest.length > 0) this.front.unshift(rest);
  }

  /** Marks a taken chunk as used up. */
  done(chunk: Uint8Array): void {
    this.offset += chunk.length;
    this.recycle?.(chunk);
  }

  /** Up to `n` next bytes without taking them; copies only when they span chunks. */
  async peek(n: number): Promise<Uint8Array> {
    let have = this.front.reduce((sum, c) => sum + c.length, 0);
    while (have < n) {
      const c = await this.takeFromSource();
      if (c === undefined) break;
      this.front.push(c);
      have += c.length;
    }
    const first = this.front[0];
    if (first === undefined) return EMPTY;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.front, Math.min(n, have));
  }

  /** Takes `n` bytes that `peek` returned. */
  skip(n: number): void {
    while (n > 0) {
      const c = this.front[0] as Uint8Array;
      if (c.length > n) {
        this.front[0] = c.subarray(n);
        this.offset += n;
        return;
      }
      this.front.shift();
      n -= c.length;
      this.done(c);
    }
  }

  /** Whether everything from here on is zero bytes (reads to the end when it is). */
  async restIsZeros(): Promise<boolean> {
    for (let c = await this.take(); c !== undefined; c = await this.take()) {
      if (!allZeros(c, 0)) {
        this.putBack(c);
        return false;
      }
      this.done(c);
    }
    return true;
  }

  private async takeFromSource(): Promise<Uint8Array | undefined> {
    while (!this.ended) {
      const r = await this.src.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      if (r.value.length > 0) return r.value;
    }
    return undefined;
  }
}

/**
 * Inflates gzip members one after the other, each through its own raw inflater on Node's thread
 * pool, and checks each trailer. zlib's own gunzip cannot be used here: bytes after the last
 * member that are not another member make it fail and drop what it inflated since its last
 * output (up to a whole output buffer), so the end of the data would go unscanned. After the
 * last member, zero padding (as tape-style writers leave) is accepted as GNU gzip accepts it;
 * anything else ends the data and its offset is kept in `trailingAt`.
 */
class GzipMembers {
  /** Offset of the trailing garbage, once the content has been read to its end. */
  trailingAt: number | undefined;
  private inflater: InflateRaw | undefined;
  private stopped = false;

  constructor(
    private readonly chain: readonly string[],
    private readonly input: GzipInput,
    private readonly maxRatio: number,
    private readonly ratioThreshold: number,
  ) {}

  /** The inflated content of every member, in order; problems are thrown as Stops. */
  async *inflated(): AsyncGenerator<Uint8Array, void, undefined> {
    const input = this.input;
    let out = 0;
    for (let member = 0; ; member++) {
      const header = await this.header(member);
      if (header === undefined) return;
      input.skip(header);
      const start = input.offset;
      const inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK });
      this.inflater = inflater;
      const feeding = this.feed(inflater);
      const it = inflater[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let crc = 0;
      let size = 0;
      for (;;) {
        let r: IteratorResult<Buffer>;
        try {
          r = await it.next();
        } catch (err) {
          throw gzipStop(this.chain, err, start + inflater.bytesWritten, out);
        }
        if (r.done) break;
        const c = r.value;
        crc = crc32(c, crc);
        size += c.length;
        out += c.length;
        noteFreshBytes(c.length);
        // bytesWritten counts compressed bytes zlib has actually consumed, not merely buffered.
        const compressed = start + inflater.bytesWritten;
        if (out > this.ratioThreshold && out > this.maxRatio * compressed) {
          throw ratioStop(this.chain, out, compressed, this.maxRatio, 'archive');
        }
        yield c;
      }
      await feeding;
      const trailer = await input.peek(8);
      if (trailer.length < 8) throw gzipStop(this.chain, new Error('unexpected end of file'), input.offset + trailer.length, out);
      const t = Buffer.from(trailer.buffer, trailer.byteOffset, 8);
      if (t.readUInt32LE(0) !== crc >>> 0) throw gzipStop(this.chain, new Error('incorrect data check'), input.offset, out);
      if (t.readUInt32LE(4) !== size >>> 0) throw gzipStop(this.chain, new Error('incorrect length check'), input.offset, out);
      input.skip(8);
    }
  }

  /** Quits feeding and closes the inflater; the source is left to its owner. */
  stop(): void {
    this.stopped = true;
    this.inflater?.destroy();
  }

  /**
   * The length of the next member's header, or undefined after the last member (at the end of
   * the data, at zero padding, or at trailing garbage, which is noted). A bad or cut first
   * header is thrown: then the data is not gzip data at all.
   */
  private async header(member: number): Promise<number | undefined> {
    const input = this.input;
    for (let want = 512; ; want *= 2) {
      const head = await input.peek(want);
      if (member > 0 && head.length === 0) return undefined;
      if (member > 0 && head[0] === 0) {
        const at = input.offset;
        if (await input.restIsZeros()) return undefined;
        this.trailingAt = at;
        return undefined;
      }
      const capped = want >= MAX_HEADER_BYTES && head.length >= want;
      const h = gzipHeaderLength(head, head.length < want || capped);
      if (typeof h === 'number') return h;
      if (h === 'short') continue;
      // A header cut by the cap, not by the end of the data: the file may well be fine.
      if (capped && h === 'unexpected end of file') throw headerCapStop(this.chain, input.offset);
      if (member > 0) {
        this.trailingAt = input.offset;
        return undefined;
      }
      throw gzipStop(this.chain, new Error(h), head.length, 0);
    }
  }

  /**
   * Writes compressed chunks into the inflater, one at a time, until its deflate data ends:
   * the rest of the chunk where it ended goes back to the input, for the trailer. At the end of
   * the input the inflater is ended, so a cut stream fails there. Never rejects.
   */
  private async feed(inflater: InflateRaw): Promise<void> {
    const input = this.input;
    let consumed = 0;
    for (;;) {
      if (this.stopped || inflater.destroyed) return;
      let c: Uint8Array | undefined;
      try {
        c = await input.take();
      } catch (err) {
        inflater.destroy(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.stopped || inflater.destroyed) {
        if (c !== undefined) input.putBack(c);
        return;
      }
      if (c === undefined) {
        inflater.end();
        return;
      }
      const chunk = c;
      const ok = await new Promise<boolean>((resolve) => inflater.write(chunk, (err) => resolve(!err)));
      // After a failure the inflater may still be reading the chunk: it is not given back.
      if (!ok) return;
      const used = inflater.bytesWritten - consumed;
      consumed = inflater.bytesWritten;
      if (used < chunk.length) {
        // zlib stopped at the end of the deflate data: the rest is the trailer and what follows.
        input.offset += used;
        input.putBack(chunk.subarray(used));
        return;
      }
      input.done(chunk);
    }
  }
}

const EMPTY = new Uint8Array(0);

/** Longest gzip member header read; a longer one (a file name or comment of over 1 MiB) is reported as unsupported. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** RFC 1952 header flags. */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;

/**
 * The length of the gzip member header at the start of `b` (RFC 1952), 'short' when `b` ends
 * inside it, or what is wrong with it (in zlib's words, so messages read alike).
 */
function gzipHeaderLength(b: Uint8Array, complete: boolean): number | 'short' | string {
  const short = complete ? 'unexpected end of file' : 'short';
  if (b.length < 2) return short;
  if (b[0] !== 0x1f || b[1] !== 0x8b) return 'incorrect header check';
  if (b.length < 10) return short;
  if (b[2] !== 8) return 'unknown compression method';
  const flags = b[3] as number;
  if (flags & 0xe0) return 'unknown header flags set';
  let p = 10;
  if (flags & FEXTRA) {
    if (b.length < p + 2) return short;
    p += 2 + ((b[p] as number) | ((b[p + 1] as number) << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    const end = p < b.length ? b.indexOf(0, p) : -1;
    if (end < 0) return short;
    p = end + 1;
  }
  if (flags & FHCRC) p += 2;
  return p <= b.length ? p : short;
}

/**
 * Inflates whole gzip data held in memory, or undefined when the stream must do it: the data
 * does not inflate cleanly (trailing garbage included), or inflates past `maxOut` or the
 * compression-ratio limit. The stream then inflates what it can and reports the problem, as
 * for large data.
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
    const { buffer: out, engine } = gunzipSync(input, { maxOutputLength: Math.max(1, maxOut), chunkSize: Math.max(64, size + 1), info: true }) as unknown as Inflated;
    // zlib stops quietly after a member at a zero byte and ignores the rest: only zeros may follow.
    if (engine.bytesWritten < input.length && !allZeros(input, engine.bytesWritten)) return undefined;
    if (out.length > ratioThreshold && out.length > maxRatio * bytes) return undefined;
    noteFreshBytes(out.length);
    return out;
  } catch {
    return undefined;
  }
}

/** What `gunzipSync` returns with `info: true`, which Node's type declarations omit. */
interface Inflated {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/** Whether the bytes of `b` from `from` on are all zero. */
function allZeros(b: Uint8Array, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** The event for a member header longer than MAX_HEADER_BYTES, starting at offset `at`. */
function headerCapStop(chain: readonly string[], at: number): Stop {
  const where = at === 0 ? 'the gzip header' : `the gzip member header at offset ${at}`;
  const rest = at === 0 ? 'the compressed data was not scanned' : 'the data from there on was not scanned (the members before it were)';
  return problem(
    chain,
    'unsupported',
    `${where} is longer than ${formatBytes(MAX_HEADER_BYTES)} (its file name, comment or extra field), more than pubguard reads: ${rest}; recompress it without them (gzip -n stores no name)`,
    'archive',
  );
}

/** Turns a zlib failure into an actionable corrupt event. */
function gzipStop(chain: readonly string[], err: unknown, consumed: number, produced: number): Stop {
  if (err instanceof Stop) return err;
  const code = errorCode(err);
  const msg = errorMessage(err);
  let text: string;
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg)) {
    text = `truncated gzip stream after ${consumed} bytes: the file is incomplete, download or build it again`;
  } else if (/header check|unknown compression method|header flags/i.test(msg)) {
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
