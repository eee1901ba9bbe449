import type { BatchSegment } from './matcher/batch.js';
import { matchBatch } from './matcher/batch.js';
import type { Matcher, SegmentResult } from './matcher/matcher.js';
import { readPlainFileSync } from './sources/plain.js';

/**
 * A directory's files, shared out to every thread that matches: each claims the next one
 * with an atomic counter, reads it itself and matches it. Nothing is handed from thread
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

/** The outcome of a run of claims, reported together. */
export interface BulkPart {
  /** The files claimed, as indexes into the job's paths. */
  indices: number[];
  /** Each file's result, or null when it was left to the usual path (read nothing here). */
  results: (SegmentResult | null)[];
  /** Bytes read of each file (0 when left to the usual path). */
  bytes: number[];
}

/**
 * A part ends after this many files, or once it has read PART_BYTES: enough that messages and
 * yielding cost nothing, little enough that results and progress flow. Files are claimed one
 * at a time all the same, so at the end no thread holds files it has not started: a worker
 * still warming up would keep the others waiting on a whole batch of its claims.
 */
export const PART_FILES = 32;
/** See PART_FILES. */
export const PART_BYTES = 2 * 1024 * 1024;

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

  /** Claims, reads and matches the next files of `job`, a part's worth; undefined once none are left. */
  next(job: BulkJob): BulkPart | undefined {
    const claims = new Int32Array(job.claims);
    const total = job.paths.length;
    const room = job.cap + 1;
    // Room for a few files at the largest, so files of usual sizes share one matching pass.
    if (!this.buffer || this.buffer.length < 4 * room) this.buffer = Buffer.allocUnsafeSlow(Math.max(4 * room, 4 * 1024 * 1024));
    const buffer = this.buffer;
    const indices: number[] = [];
    const results: (SegmentResult | null)[] = [];
    const bytes: number[] = [];
    let read = 0;
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
    while (indices.length < PART_FILES && read < PART_BYTES && Atomics.load(claims, 1) === 0) {
      const i = Atomics.add(claims, 0, 1);
      if (i >= total) break;
      if (buffer.length - used < room) matchPending();
      const k = indices.length;
      indices.push(i);
      const n = readPlainFileSync(job.paths[i] ?? '', buffer, used, job.cap);
      results.push(n === 0 ? EMPTY : null);
      bytes.push(Math.max(0, n));
      if (n <= 0) continue;
      read += n;
      const gated = job.gated[i];
      // The one segment the usual path makes of a file this small: all of it owned, both ends real.
      segments.push({ offset: used, length: n, ownedStart: 0, ownedEnd: n, atFileStart: true, atFileEnd: true, ...(gated ? { gated } : {}) });
      owners.push(k);
      used += n;
    }
    if (segments.length > 0) matchPending();
    return indices.length > 0 ? { indices, results, bytes } : undefined;
  }
}

const EMPTY: SegmentResult = { matches: [], newlines: 0, lastNewline: -1, suppressed: 0 };
