import { parentPort, workerData } from 'node:worker_threads';
import type { CompiledRuleset } from '@pubguard/rules';
import { type BulkJob, BulkReader } from '../bulk.js';
import { type Batch, matchBatch } from '../matcher/batch.js';
import { Matcher } from '../matcher/matcher.js';

/**
 * Message a worker receives, tagged so replies can be paired: one batch to match, or a bulk
 * job to claim files from until none are left (one reply per claim, then one saying done).
 */
export type WorkerRequest = { id: number; batch: Batch; bulk?: undefined } | { id: number; bulk: BulkJob; batch?: undefined };

/** What a worker is started with. */
export interface WorkerSetup {
  ruleset: CompiledRuleset;
  /** Rules stopped earlier for taking too long. */
  disabled: number[];
  /** Shared slot where the worker says which rule it is running. */
  current: SharedArrayBuffer;
}

const setup = workerData as WorkerSetup;
const matcher = new Matcher(setup.ruleset, new Set(setup.disabled), new Int32Array(setup.current));

let bulk: BulkReader | undefined;

parentPort?.on('message', (request: WorkerRequest) => {
  try {
    if (request.bulk) {
      bulk ??= new BulkReader(matcher);
      for (let part = bulk.next(request.bulk); part; part = bulk.next(request.bulk)) parentPort?.postMessage({ id: request.id, part });
      parentPort?.postMessage({ id: request.id, results: [] });
      return;
    }
    const results = matchBatch(matcher, request.batch);
    // Handing the batch's buffer back frees this worker of it at once (left for the worker's
    // GC, dead 1 MiB buffers piled up to V8's external-memory threshold, ~90 MB per worker),
    // and the scan reuses it for a later batch.
    parentPort?.postMessage({ id: request.id, results, buffer: request.batch.buffer }, [request.batch.buffer]);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
