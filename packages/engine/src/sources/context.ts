import type { ScanLimits } from '../types.js';
import type { SourceItem, SourceStructure } from './types.js';
import type { DiskBuffers } from './disk.js';
import { formatBytes, joinChain, limitStop, Stop } from './errors.js';

/** State shared by every artifact of one enumeration. */
export interface Shared {
  limits: ScanLimits;
  tmpDir: string;
  signal: AbortSignal | undefined;
  /** Bytes of spill files alive right now. */
  spillBytes: number;
  /** Read buffers for files on disk, reused from one file to the next. */
  disk: DiskBuffers;
  /** `SourceOptions.onInflating`. */
  onInflating: ((delta: 1 | -1) => void) | undefined;
}

/**
 * One stream of bytes offered by a container (or the top level): the member's path, how to
 * read it, and how to let go of it. Readers take these and never care where they came from.
 */
export interface Entry {
  chain: string[];
  size?: number;
  /** Compressed size from the container, for the per-entry ratio check. */
  compressedSize?: number;
  /** The content; errors are already `Stop`s. Never `return()`ed: its container drains or closes it. */
  raw: AsyncIterator<Uint8Array>;
  /** True when unread content must still be read past (tar, gzip), false when it can just be closed. */
  sequential: boolean;
  /**
   * Takes back a chunk of `raw` that its reader has consumed and holds no view of, so the
   * buffer can be filled again. Readers may call it; chunks never given back are garbage.
   */
  recycle?: (chunk: Uint8Array) => void;
  /** True when the caller itself opens a zip that the content ends with (a file on disk, read again from its end). */
  endZipOpened?: boolean;
}

/** Opens the content of an entry at a depth; set by the dispatcher so readers can recurse. */
export type Opener = (ctx: ArtifactCtx, entry: Entry, depth: number) => AsyncGenerator<SourceItem, void, undefined>;

/** Per-artifact state: limits, running totals, the clock. */
export class ArtifactCtx {
  readonly limits: ScanLimits;
  private artifactBytes = 0;
  private readonly deadline: number;
  /** The time limit's stop once it is crossed: every later check throws it, and it is reported once. */
  private overtime: Stop | undefined;

  constructor(
    readonly shared: Shared,
    readonly artifact: string,
    readonly open: Opener,
  ) {
    this.limits = shared.limits;
    this.deadline = this.limits.maxArtifactMs > 0 ? Date.now() + this.limits.maxArtifactMs : Number.POSITIVE_INFINITY;
  }

  /** Throws the Stop for an abort or an exhausted time budget; `chain` is what is being read. */
  check(chain: readonly string[]): void {
    if (this.shared.signal?.aborted) {
      throw new Stop({ path: joinChain(chain), kind: 'internal', message: 'scan aborted' }, 'all');
    }
    if (this.overtime !== undefined || Date.now() > this.deadline) throw this.expire(chain);
  }

  /** Whether the artifact has a time limit: without one, a consumer has no clock to ask. */
  get timed(): boolean {
    return this.deadline !== Number.POSITIVE_INFINITY;
  }

  /**
   * The clock, asked by a consumer between the blocks it matches the file `chain` in, `at` being
   * the offset of the first byte it has not matched: once the time is up, the limit's Stop
   * (recorded, saying where the file was left), for the artifact to end with; else undefined.
   */
  overdue(chain: readonly string[], at: number): Stop | undefined {
    if (this.overtime === undefined && Date.now() <= this.deadline) return undefined;
    return this.expire(chain, at);
  }

  /** Throws the time limit's Stop once a consumer has found it crossed (`overdue`). */
  checkOverdue(): void {
    if (this.overtime !== undefined) throw this.overtime;
  }

  /** The time limit's Stop when it was crossed and has not been reported: what is left to say once the artifact's reading ends. */
  unreported(): Stop | undefined {
    return this.overtime?.reported === false ? this.overtime : undefined;
  }

  /** The time limit's Stop, made once, saying where reading stopped: at byte `at` of `chain`, or in it. */
  private expire(chain: readonly string[], at?: number): Stop {
    if (this.overtime === undefined) {
      const path = joinChain(chain);
      const where = at !== undefined && at > 0 ? `it stopped at byte ${at} of ${path}, and the rest was not read` : chain.length > 1 ? `it stopped in ${path}, and the rest was not read` : 'the rest of it was not read';
      const { maxArtifactMs } = this.limits;
      this.overtime = limitStop([this.artifact], 'maxArtifactMs', `reading this artifact took longer than ${maxArtifactMs / 1000} s; ${where}`, `${maxArtifactMs} ms`, 'artifact');
    }
    return this.overtime;
  }

  /** Adds uncompressed bytes read from this artifact; throws when over maxArtifactBytes. */
  addBytes(n: number): void {
    this.artifactBytes += n;
    if (this.artifactBytes > this.limits.maxArtifactBytes) {
      const v = this.limits.maxArtifactBytes;
      throw limitStop([this.artifact], 'maxArtifactBytes', `artifact holds more than ${formatBytes(v)} of uncompressed data; the rest was not read`, String(v), 'artifact');
    }
  }

  /**
   * Adds up to `n` bytes about to be scanned and says how many fit under maxArtifactBytes, with
   * the Stop to throw once they are scanned when fewer than `n` do: the bytes up to the limit
   * are scanned and none past it, as the event says.
   */
  fitBytes(n: number): { fit: number; stop?: unknown } {
    const fit = Math.max(0, Math.min(n, this.limits.maxArtifactBytes - this.artifactBytes));
    if (fit === n) {
      this.artifactBytes += n;
      return { fit };
    }
    try {
      this.addBytes(n);
    } catch (stop) {
      return { fit, stop };
    }
    return { fit: n };
  }
}

/** Switches for `limited`, set once the content kind is known. */
export interface LimitControl {
  /**
   * Whether maxEntryBytes applies; undefined until the kind is known. A top-level archive
   * is not an entry: its contents are limited instead.
   */
  entryBytes: boolean | undefined;
}

/**
 * The content of an entry with the per-entry limits applied: bytes, ratio against the
 * compressed size, time and abort. Limits throw Stops, as the raw source's errors do.
 */
export async function* limited(ctx: ArtifactCtx, entry: Entry, control: LimitControl): AsyncGenerator<Uint8Array, void, undefined> {
  const { maxEntryBytes, maxCompressionRatio, ratioThresholdBytes } = ctx.limits;
  const compressed = entry.compressedSize;
  let n = 0; // bytes read
  let passed = 0; // bytes passed on
  // Bytes read past the limit before the kind was known, held back until it is.
  let rest: Uint8Array | undefined;
  for (;;) {
    ctx.check(entry.chain);
    let chunk: Uint8Array;
    if (rest !== undefined) {
      chunk = rest;
      rest = undefined;
    } else {
      const r = await entry.raw.next();
      if (r.done) return;
      chunk = r.value;
      n += chunk.length;
      if (compressed !== undefined && n > ratioThresholdBytes && n > maxCompressionRatio * compressed) {
        throw ratioStop(entry.chain, n, compressed, maxCompressionRatio, 'entry');
      }
    }
    const room = maxEntryBytes - passed;
    if (chunk.length > room && control.entryBytes !== false) {
      if (control.entryBytes === true) {
        if (room <= 0) {
          throw limitStop(entry.chain, 'maxEntryBytes', `entry is larger than ${formatBytes(maxEntryBytes)}; the rest of it was not read`, String(maxEntryBytes), 'entry');
        }
        // The bytes up to the limit are scanned and none past it, as the event says.
        rest = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      } else if (room > 0) {
        // Kind detection may still take this chunk: what lies past the limit waits until the kind
        // says whether the limit applies. The part before it is a copy, as a reader may take back
        // the memory of a chunk it has read, and the rest may still be passed on.
        rest = chunk.subarray(room);
        chunk = chunk.slice(0, room);
      }
    }
    passed += chunk.length;
    yield chunk;
  }
}

/** The Stop for an entry or stream that inflates too much. */
export function ratioStop(chain: readonly string[], out: number, input: number, max: number, scope: 'entry' | 'archive'): Stop {
  const ratio = input > 0 ? Math.round(out / input) : Number.POSITIVE_INFINITY;
  return limitStop(
    chain,
    'maxCompressionRatio',
    `compression ratio over ${max}:1 (${input} compressed bytes already gave ${out} bytes, ${ratio}:1): looks like a decompression bomb; reading stopped`,
    String(max),
    scope,
  );
}

/**
 * A SourceFile's bytes: yields the source's chunks unchanged, records (instead of throwing)
 * the first problem so the consumer's loop ends cleanly, and can be drained afterwards.
 */
export class FileBytes implements AsyncIterable<Uint8Array> {
  finished = false;
  error: unknown = undefined;
  private taken = false;

  constructor(
    private readonly ctx: ArtifactCtx,
    private readonly src: AsyncIterator<Uint8Array>,
    private readonly chain: readonly string[],
  ) {}

  /** `SourceFile.overdue`: past the artifact's time limit, its Stop becomes this file's problem, surfaced once the file is handed back. */
  overdue(at: number): boolean {
    const stop = this.ctx.overdue(this.chain, at);
    if (stop === undefined) return false;
    this.error ??= stop;
    return true;
  }

  private async pull(): Promise<IteratorResult<Uint8Array>> {
    if (this.finished || this.error !== undefined) return { done: true, value: undefined };
    try {
      const r = await this.src.next();
      if (r.done) {
        this.finished = true;
        return r;
      }
      const { fit, stop } = this.ctx.fitBytes(r.value.length);
      if (stop === undefined) return r;
      this.error = stop;
      // The bytes up to the artifact's limit are scanned and none past it, as the event says.
      return fit > 0 ? { done: false, value: r.value.subarray(0, fit) } : { done: true, value: undefined };
    } catch (err) {
      this.error = err;
      return { done: true, value: undefined };
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.taken) throw new Error('SourceFile.bytes can be iterated only once');
    this.taken = true;
    let closed = false;
    return {
      next: () => (closed ? Promise.resolve({ done: true, value: undefined }) : this.pull()),
      // The consumer stopping early must not close the source: the reader drains or closes it.
      return: () => {
        closed = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /** Reads what the consumer left, so a sequential container can move on. */
  async drain(): Promise<void> {
    while (!this.finished && this.error === undefined) await this.pull();
  }
}

/** Builds a structure finding for a member of an archive. */
export function structure(chain: string[], ruleId: string, title: string, detail: string): SourceStructure {
  return { kind: 'structure', chain, ruleId, title, detail };
}
