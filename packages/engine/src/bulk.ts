import type { BatchSegment } from './matcher/batch.js';
import { matchBatch } from './matcher/batch.js';
import type { Matcher, SegmentResult } from './matcher/matcher.js';
import { readPlainFileSync } from './sources/plain.js';

/**
 * A directory's files, shared out to every thread that matches: each claims the next few
 * with an atomic counter, reads them itself and matches them. Nothing is handed from thread
 * to thread but paths and results, so reading, the part of a directory scan that a single
 * reading thread could not spread, runs on every core.
 */
export interface BulkJob {
  paths: string[];
  /** Path-gated rules that may run in each file (null: none). */
  gated: (readonly number[] | null)[];
  /** Largest file read here; larger ones, like archives, are left to the usual path. */
  cap: number;
  /** Int32 slots: [0] the next unclaimed index, [1] nonzero once the scan stops. */
  claims: SharedArrayBuffer;
}

/** The outcome of one claim: files `start` to `start + results.length - 1`. */
export interface BulkPart {
  start: number;
  /** Each file's result, or null when it was left to the usual path (read nothing here). */
  results: (SegmentResult | null)[];
  /** Bytes read of each file (0 when left to the usual path). */
  bytes: number[];
}

/** Files taken per claim: big enough that claiming and messaging cost nothing, small enough to share out evenly. */
export const BULK_CLAIM = 32;

/** A new job over `paths`, nothing claimed yet. */
export function bulkJob(paths: string[], gated: (readonly number[] | null)[], cap: number): BulkJob {
  return { paths, gated, cap, claims: new SharedArrayBuffer(8) };
}

/** Tells every thread working on `job` to stop claiming. */
export function stopBulk(job: BulkJob): void {
  Atomics.store(new Int32Array(job.claims), 1, 1);
}

/** One thread's reader and matcher for bulk jobs; its buffer is reused from claim to claim. */
export class BulkReader {
  private buffer: Buffer | undefined;

  constructor(private readonly matcher: Matcher) {}

  /** Claims, reads and matches the next files of `job`; undefined once none are left. */
  next(job: BulkJob): BulkPart | undefined {
    const claims = new Int32Array(job.claims);
    if (Atomics.load(claims, 1) !== 0) return undefined;
    const total = job.paths.length;
    const start = Atomics.add(claims, 0, BULK_CLAIM);
    if (start >= total) return undefined;
    const end = Math.min(total, start + BULK_CLAIM);
    const room = job.cap + 1;
    // Room for a few files at the largest, so files of usual sizes share one matching pass.
    if (!this.buffer || this.buffer.length < 4 * room) this.buffer = Buffer.allocUnsafeSlow(Math.max(4 * room, 4 * 1024 * 1024));
    const buffer = this.buffer;
    const results: (SegmentResult | null)[] = new Array<SegmentResult | null>(end - start).fill(null);
    const bytes: number[] = new Array<number>(end - start).fill(0);
    let segments: BatchSegment[] = [];
    let owners: number[] = [];
    let used = 0;
    const matchPending = () => {
      const found = matchBatch(this.matcher, { buffer: buffer.buffer as ArrayBuffer, segments });
      owners.forEach((index, k) => (results[index] = found[k] ?? null));
      segments = [];
      owners = [];
      used = 0;
    };
    for (let i = start; i < end; i++) {
      if (buffer.length - used < room) matchPending();
      const n = readPlainFileSync(job.paths[i] ?? '', buffer, used, job.cap);
      if (n < 0) continue;
      bytes[i - start] = n;
      if (n === 0) {
        results[i - start] = EMPTY;
        continue;
      }
      const gated = job.gated[i];
      // The one segment the usual path makes of a file this small: all of it owned, both ends real.
      segments.push({ offset: used, length: n, ownedStart: 0, ownedEnd: n, atFileStart: true, atFileEnd: true, ...(gated ? { gated } : {}) });
      owners.push(i - start);
      used += n;
    }
    if (segments.length > 0) matchPending();
    return { start, results, bytes };
  }
}

const EMPTY: SegmentResult = { matches: [], newlines: 0, lastNewline: -1, suppressed: 0 };
