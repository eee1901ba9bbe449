/** Byte-stream plumbing shared by the readers: look-ahead, pumping into writables, adapters. */

import { noteFreshBytes } from './collect.js';

const EMPTY = new Uint8Array(0);

/**
 * Wraps a chunk iterator so its first bytes can be inspected without losing them. `chunks()`
 * replays what was looked at, then continues with the rest; it is an async generator, so
 * overlapping `next()` calls queue instead of racing.
 */
export class Peekable {
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private ended = false;
  private failure: { err: unknown } | undefined;

  constructor(private readonly src: AsyncIterator<Uint8Array>) {}

  /** Up to `n` first bytes (fewer only at end of data); copies only when they span chunks. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.heldBytes < n && !this.ended) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await this.src.next();
      } catch (err) {
        // With data already in hand (a small file whose CRC check failed at its end), the
        // data is still worth reading: the error comes after it, in `chunks()`.
        if (this.heldBytes === 0) throw err;
        this.failure = { err };
        this.ended = true;
        break;
      }
      if (r.done) {
        this.ended = true;
        break;
      }
      if (r.value.length === 0) continue;
      this.held.push(r.value);
      this.heldBytes += r.value.length;
    }
    const first = this.held[0];
    if (first === undefined) return EMPTY;
    if (first.length >= n) return first.subarray(0, n);
    return concat(this.held, Math.min(n, this.heldBytes));
  }

  /** Every byte in order: the held look-ahead first, then the rest of the source. */
  async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    while (this.held.length > 0) {
      const c = this.held.shift()!;
      this.heldBytes -= c.length;
      yield c;
    }
    if (this.failure !== undefined) throw this.failure.err;
    while (!this.ended) {
      const r = await this.src.next();
      if (r.done) {
        this.ended = true;
        return;
      }
      yield r.value;
    }
  }
}

/** An iterator over one chunk held in memory: cheaper than a generator for the many small entries of a package. */
export function once(data: Uint8Array): AsyncIterator<Uint8Array> {
  let given = false;
  return {
    next: () => {
      if (given) return Promise.resolve({ done: true, value: undefined });
      given = true;
      return Promise.resolve({ done: false, value: data });
    },
  };
}

/** Copies the first `n` bytes of a list of chunks into one array. */
function concat(chunks: readonly Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    if (off >= n) break;
    const take = Math.min(c.length, n - off);
    out.set(take === c.length ? c : c.subarray(0, take), off);
    off += take;
  }
  return out;
}

/**
 * Equal-sized buffers that a reader fills and a consumer hands back once it is done with one,
 * so a long read reuses a few buffers instead of leaving one dead buffer behind per read:
 * V8 frees those only at its next collection, and meanwhile they add up to tens of MB.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /**
   * Memory of the buffers handed out and not given back, so a view of one (a short read)
   * gives it back too. A WeakSet, not a map to the buffer: an entry must not keep anything
   * alive, as a consumer need not give anything back.
   */
  private readonly lent = new WeakSet<ArrayBufferLike>();
  /** Buffers allocated so far (for tests: reuse keeps this constant). */
  allocated = 0;

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /** A buffer of `size` bytes, reused when one was given back. */
  take(): Buffer {
    let buf = this.free.pop();
    if (buf === undefined) {
      buf = Buffer.allocUnsafeSlow(this.size);
      this.allocated++;
      noteFreshBytes(this.size);
    }
    this.lent.add(buf.buffer);
    return buf;
  }

  /**
   * Takes back the buffer that `chunk` (a buffer from `take()` or a view of one) lies in;
   * nothing may read it any more. Chunks of other memory are ignored.
   */
  give(chunk: Uint8Array): void {
    const memory = chunk.buffer;
    if (!this.lent.delete(memory)) return;
    if (this.free.length < this.keep) this.free.push(Buffer.from(memory, 0, this.size));
  }
}

/** What the pump needs of a writable stream; Node streams and streamx streams both fit. */
export interface WritableLike {
  /** Node streams call `cb` once the chunk is consumed; streamx streams ignore it. */
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(): unknown;
  destroy(err?: Error): unknown;
  readonly destroyed: boolean;
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** A running pump; `stop()` makes it quit at its next step without touching the source further. */
export interface Pump {
  stop(): void;
  /** Settles when the pump has quit; never rejects. */
  done: Promise<void>;
}

/**
 * Feeds a writable from a chunk iterator in the background, honouring backpressure. A source
 * error destroys the writable with that error, so the reading side sees it. The source's
 * `return()` is never called: the owner of the source decides whether to drain or close it.
 * `recycle`, for a Node writable only, receives each chunk the writable has fully consumed.
 */
export function startPump(src: AsyncIterator<Uint8Array>, w: WritableLike, onChunk?: (n: number) => void, recycle?: (chunk: Uint8Array) => void): Pump {
  let stopped = false;
  const done = (async () => {
    try {
      for (;;) {
        if (stopped || w.destroyed) return;
        const r = await src.next();
        if (stopped || w.destroyed) return;
        if (r.done) {
          w.end();
          return;
        }
        const chunk = r.value;
        onChunk?.(chunk.length);
        // Only a write that succeeded is done with its chunk; after an error the writable may
        // still be reading it.
        const ok = recycle
          ? w.write(chunk, (err) => {
              if (!err) recycle(chunk);
            })
          : w.write(chunk);
        if (!ok) await drained(w);
      }
    } catch (err) {
      if (!w.destroyed) w.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  return {
    stop() {
      stopped = true;
    },
    done,
  };
}

/** Resolves when the writable can take more, or will never take more (closed or failed). */
function drained(w: WritableLike): Promise<void> {
  if (w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.once('drain', done);
    w.once('close', done);
    w.once('error', done);
  });
}

/**
 * Chunks of a readable as an async generator that never destroys the readable when left
 * unfinished, mapping read errors through `mapError`. `fresh`: each chunk is a buffer of its
 * own (stdin's reads, not views of buffers counted elsewhere), noted for collection.
 */
export async function* readableChunks(
  readable: AsyncIterable<Uint8Array>,
  mapError: (err: unknown) => unknown,
  fresh = false,
): AsyncGenerator<Uint8Array, void, undefined> {
  const it = readable[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await it.next();
    } catch (err) {
      throw mapError(err);
    }
    if (r.done) return;
    if (fresh) noteFreshBytes(r.value.length);
    yield r.value;
  }
}
