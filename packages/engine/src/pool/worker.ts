import { parentPort, workerData } from 'node:worker_threads';
import type { CompiledRuleset } from '@pubguard/rules';
import { type Batch, matchBatch } from '../matcher/batch.js';
import { Matcher } from '../matcher/matcher.js';

/** Message a worker receives: one batch to match, tagged so the reply can be paired. */
export interface WorkerRequest {
  id: number;
  batch: Batch;
}

const matcher = new Matcher((workerData as { ruleset: CompiledRuleset }).ruleset);

parentPort?.on('message', (request: WorkerRequest) => {
  try {
    parentPort?.postMessage({ id: request.id, results: matchBatch(matcher, request.batch) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
