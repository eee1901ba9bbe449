import { builtinRuleset } from '@pubguard/rules';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from './pool.js';

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('WorkerPool', () => {
  it('calls onStart before each worker starts, and its end once the worker runs, not only when it exits', async () => {
    const calls: string[] = [];
    pool = new WorkerPool(builtinRuleset(), {
      size: 2,
      timeoutMs: 30_000,
      keepBatches: false,
      onStart: () => {
        calls.push('start');
        return () => calls.push('end');
      },
    });
    expect(calls).toEqual(['start', 'start']);
    const text = Buffer.from('nothing to see here\n');
    const buffer = new ArrayBuffer(text.length);
    new Uint8Array(buffer).set(text);
    const results = await pool.run({ buffer, segments: [{ offset: 0, length: text.length, ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true }] });
    expect(results).toHaveLength(1);
    // The worker that matched the batch is running; the other may still be starting.
    expect(calls.filter((c) => c === 'end').length).toBeGreaterThanOrEqual(1);
    await pool.close();
    pool = undefined;
    // Ended once each, however a worker ends.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.filter((c) => c === 'end')).toHaveLength(2);
  });

  it('ends the start of a worker stopped before it ran', async () => {
    let ended = 0;
    pool = new WorkerPool(builtinRuleset(), { size: 1, timeoutMs: 30_000, keepBatches: false, onStart: () => () => ended++ });
    await pool.close();
    pool = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(1);
  });
});
