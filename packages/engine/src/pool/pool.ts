import { Worker } from 'node:worker_threads';
import type { CompiledRuleset } from '@pubguard/rules';
import type { BulkJob, BulkPart } from '../bulk.js';
import type { Batch } from '../matcher/batch.js';
import type { SegmentResult } from '../matcher/matcher.js';
import type { WorkerRequest, WorkerSetup } from './worker.js';

/** A batch a worker could not match; the scan reports it per file and goes on. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
}

/** A rule ran longer than the watchdog allows (catastrophic backtracking); it is now disabled. */
export class RuleTimeoutError extends WorkerTaskError {
  override name = 'RuleTimeoutError';
  constructor(
    readonly ruleIndex: number,
    readonly ms: number,
    /** The batch, still intact when the pool was asked to keep batches, so it can be matched again. */
    readonly batch: Batch | undefined,
  ) {
    super(`rule #${ruleIndex} ran for more than ${ms} ms`);
  }
}

/** How the pool runs. */
export interface PoolOptions {
  /** Worker threads. */
  size: number;
  /** A batch taking longer than this is stopped and the rule it was in is disabled. */
  timeoutMs: number;
  /** Copy batches to workers instead of moving them, so a stopped batch can be retried. */
  keepBatches: boolean;
  /** Receives each batch buffer a worker hands back, for reuse. */
  recycle?: (buffer: ArrayBuffer) => void;
  /** `ScanOptions.onWorkerStart`. */
  onStart?: () => () => void;
}

interface Task {
  request: WorkerRequest;
  resolve: (results: SegmentResult[]) => void;
  reject: (error: Error) => void;
  /** A bulk job's claims, as they are done. */
  onPart?: (part: BulkPart) => void;
}

interface Slot {
  worker: Worker;
  current: Int32Array;
  busy: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

type Reply =
  | { id: number; results: SegmentResult[]; buffer?: ArrayBuffer; error?: undefined; part?: undefined }
  | { id: number; part: BulkPart; error?: undefined }
  | { id: number; error: string; part?: undefined };

// Workers always run built JavaScript: from sources (tests) we point at the build output,
// which the test command produces first. One way everywhere, no loader in the worker.
function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace('/src/pool/pool.ts', '/dist/pool/worker.js'));
  return new URL('./worker.js', here);
}

/** A fixed set of worker threads, each with its own matcher, watched for runaway rules. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private readonly disabled = new Set<number>();
  private nextId = 1;
  private closed = false;
  /** Workers that died since the last successful batch; past a few, the pool gives up. */
  private deaths = 0;
  private broken: Error | undefined;

  constructor(
    private readonly ruleset: CompiledRuleset,
    private readonly options: PoolOptions,
  ) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  /** Matches a batch on the next free worker. */
  run(batch: Batch): Promise<SegmentResult[]> {
    if (this.closed) return Promise.reject(new WorkerTaskError('worker pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, batch }, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Has every worker claim files from `job` until none are left; `onPart` receives each part's
   * results. Settles once every worker has stopped claiming. A worker that dies, or whose part
   * takes longer than the timeout (the rule it was in is then disabled, as for a batch), rejects
   * its share; the files it had claimed and not reported are the caller's to read again.
   */
  share(job: BulkJob, onPart: (part: BulkPart) => void): Promise<void>[] {
    return this.slots.map(
      () =>
        new Promise<void>((resolve, reject) => {
          if (this.closed || this.broken) {
            resolve();
            return;
          }
          this.queue.push({ request: { id: this.nextId++, bulk: job }, resolve: () => resolve(), reject, onPart });
          this.dispatch();
        }),
    );
  }

  /** True when every worker is busy and has a batch waiting: more work would only queue. */
  get saturated(): boolean {
    return this.queue.length >= this.slots.length && this.slots.every((slot) => slot.busy !== undefined);
  }

  /** Stops every worker; pending batches are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new WorkerTaskError('scan stopped'));
    for (const slot of this.slots) clearTimeout(slot.timer);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(): Slot {
    const current = new SharedArrayBuffer(4);
    const setup: WorkerSetup = { ruleset: this.ruleset, disabled: [...this.disabled], current };
    // No inherited execArgv: a test runner's loader or export conditions must not leak into
    // the worker, which always runs the built JavaScript. A small young generation makes the
    // worker collect each batch's transferred buffer and strings soon after matching it; with
    // V8's default, two workers added about 140 MB of garbage to a 300 MB scan's peak RSS.
    const running = this.options.onStart?.();
    let worker: Worker;
    try {
      worker = new Worker(workerUrl(), { workerData: setup, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    } catch (error) {
      running?.();
      throw error;
    }
    if (running) {
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        running();
      };
      worker.once('online', end);
      worker.once('exit', end);
    }
    const slot: Slot = { worker, current: new Int32Array(current), busy: undefined, timer: undefined };
    worker.on('message', (reply: Reply) => {
      if (reply.part !== undefined) {
        if (slot.busy?.request.id !== reply.id) return;
        // Each part gets the whole timeout: a bulk job runs as long as the directory is large.
        this.watch(slot);
        slot.busy.onPart?.(reply.part);
        return;
      }
      const task = this.finish(slot);
      if (task && task.request.id === reply.id) {
        this.deaths = 0;
        if (reply.error !== undefined) task.reject(new WorkerTaskError(reply.error));
        else {
          if (reply.buffer) this.options.recycle?.(reply.buffer);
          task.resolve(reply.results);
        }
      }
      this.dispatch();
    });
    const fail = (error: Error) => {
      this.finish(slot)?.reject(new WorkerTaskError(`worker stopped: ${error.message}`));
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      if (++this.deaths > 2 * this.options.size) {
        // Workers that die again and again (e.g. cannot even start) would loop forever.
        this.broken = new WorkerTaskError(`worker threads keep failing: ${error.message}`);
        for (const queued of this.queue.splice(0)) queued.reject(this.broken);
        return;
      }
      // Replace the dead worker so one bad batch does not end the scan.
      this.slots[index] = this.spawn();
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed && code !== 0) fail(new Error(`exit code ${code}`));
    });
    return slot;
  }

  private finish(slot: Slot): Task | undefined {
    const task = slot.busy;
    slot.busy = undefined;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    return task;
  }

  /** A batch overran: name the rule, disable it, replace the worker. */
  private overrun(slot: Slot): void {
    const rule = Atomics.load(slot.current, 0);
    const task = this.finish(slot);
    const index = this.slots.indexOf(slot);
    if (rule >= 0) this.disabled.add(rule);
    void slot.worker.terminate();
    if (index >= 0) this.slots[index] = this.spawn();
    task?.reject(new RuleTimeoutError(rule, this.options.timeoutMs, this.options.keepBatches ? task.request.batch : undefined));
    this.dispatch();
  }

  /** (Re)starts the watchdog of a busy slot. */
  private watch(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.overrun(slot), this.options.timeoutMs);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const task = this.queue.shift();
      if (!task) return;
      slot.busy = task;
      this.watch(slot);
      if (task.request.bulk) {
        slot.worker.postMessage(task.request);
        continue;
      }
      const transfer = this.options.keepBatches ? [] : [task.request.batch.buffer];
      slot.worker.postMessage(task.request, transfer);
    }
  }
}
