import { Worker } from 'node:worker_threads';
import type { CompiledRuleset } from '@pubguard/rules';
import type { Batch } from '../matcher/batch.js';
import type { SegmentResult } from '../matcher/matcher.js';
import type { WorkerRequest } from './worker.js';

/** A batch a worker could not match; the scan reports it per file and goes on. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
}

interface Task {
  request: WorkerRequest;
  resolve: (results: SegmentResult[]) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Task | undefined;
}

type Reply = { id: number; results: SegmentResult[]; error?: undefined } | { id: number; error: string };

// Workers always run built JavaScript: from sources (tests) we point at the build output,
// which the test command produces first. One way everywhere, no loader in the worker.
function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace('/src/pool/pool.ts', '/dist/pool/worker.js'));
  return new URL('./worker.js', here);
}

/** A fixed set of worker threads, each with its own matcher; batches are transferred, not copied. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly ruleset: CompiledRuleset,
    readonly size: number,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Matches a batch on the next free worker; the batch's buffer is moved to that thread. */
  run(batch: Batch): Promise<SegmentResult[]> {
    if (this.closed) return Promise.reject(new WorkerTaskError('worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, batch }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; pending batches are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new WorkerTaskError('scan stopped'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl(), { workerData: { ruleset: this.ruleset } });
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (reply: Reply) => {
      const task = slot.busy;
      slot.busy = undefined;
      if (task && task.request.id === reply.id) {
        if (reply.error !== undefined) task.reject(new WorkerTaskError(reply.error));
        else task.resolve(reply.results);
      }
      this.dispatch();
    });
    const fail = (error: Error) => {
      const task = slot.busy;
      slot.busy = undefined;
      task?.reject(new WorkerTaskError(`worker stopped: ${error.message}`));
      if (this.closed) return;
      // Replace the dead worker so one bad batch does not end the scan.
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed && code !== 0) fail(new Error(`exit code ${code}`));
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const task = this.queue.shift();
      if (!task) return;
      slot.busy = task;
      slot.worker.postMessage(task.request, [task.request.batch.buffer]);
    }
  }
}
