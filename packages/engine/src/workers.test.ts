import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { base62Crc32 } from '@pubguard/corpus';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { maxJobs, scanAll } from './scan.js';

// Counts worker pools the scan starts, without changing what they do.
const pools = vi.hoisted(() => ({ created: 0, sizes: [] as number[] }));
vi.mock('./pool/pool.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('./pool/pool.js')>();
  class CountedPool extends original.WorkerPool {
    constructor(...args: ConstructorParameters<typeof original.WorkerPool>) {
      super(...args);
      pools.created++;
      pools.sizes.push(args[1].size);
    }
  }
  return { ...original, WorkerPool: CountedPool };
});
// The cores the scan sees, so the outcome does not depend on the machine running the tests.
const machine = vi.hoisted(() => ({ cores: 2 }));
vi.mock('node:os', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:os')>();
  return { ...original, availableParallelism: () => machine.cores };
});

const MiB = 1024 * 1024;
const body = 'Zq8TnB2wLk9RzD4vHs6MpC8yFj3GaE';
const token = `ghp_${body}${base62Crc32(body)}`;
/** 1 MiB of source-like text, with the token in the middle of the one marked. */
function chunk(withToken: boolean): Buffer {
  const line = 'const value = compute(input, options) + offset; // keep going\n';
  const text = line.repeat(Math.floor(MiB / line.length));
  return Buffer.from(withToken ? text.replace(line, `const t = "${token}";\n`) : text);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-workers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  pools.created = 0;
  pools.sizes = [];
  machine.cores = 2;
});

/**
 * Standard input that arrives after 400 ms: matching then takes a small share of the scan's
 * time, so only what a directory still holds can tell that workers pay.
 */
async function* slowStdin(): AsyncGenerator<Uint8Array> {
  await sleep(400);
  yield Buffer.from('nothing to see here\n');
}

/** Writes `count` files of `size` bytes into `tree`, named `${prefix}000.js` on; file `tokenAt` holds the token. */
async function writeFiles(tree: string, prefix: string, count: number, size: number, tokenAt = -1): Promise<void> {
  await mkdir(tree, { recursive: true });
  for (let i = 0; i < count; i++) await writeFile(join(tree, `${prefix}${String(i).padStart(3, '0')}.js`), chunk(i === tokenAt).subarray(0, size));
}

describe('when workers start', () => {
  it('not while something other than matching limits the scan (input arriving slowly)', async () => {
    async function* slow(): AsyncGenerator<Uint8Array> {
      // Pauses long enough that matching a chunk stays a small part of the wait, even on a
      // machine whose cores are busy with other work.
      for (let i = 0; i < 24; i++) {
        await sleep(50);
        yield chunk(i === 12);
      }
    }
    const result = await scanAll(['-'], { stdin: slow(), jobs: 1, inlineBytes: MiB });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(0);
  });

  it('once matching and reading take most of the time (a directory of many files)', async () => {
    const tree = join(dir, 'tree');
    // Several claims' worth of files, so workers can still join after the first.
    await writeFiles(tree, 'f', 128, MiB / 4, 100);
    // A first scan loads the directory walker, so the one measured spends its time reading.
    const alone = await scanAll([tree], { jobs: 0 });
    pools.created = 0;
    const result = await scanAll([tree], { jobs: 1, inlineBytes: MiB });
    expect(result.findings).toEqual(alone.findings);
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(1);
  });

  it('for a directory whose files still to read are worth it, however long the scan took before', async () => {
    const tree = join(dir, 'estimate');
    // 100 files of 128 KiB, then 156 of 64 bytes: most of the walk's sample is small files, so
    // its median says 16 KiB in all; after the 64 files read before estimating, the 192 left
    // look like 24 MiB (4.5 MiB in truth).
    await writeFiles(tree, 'a', 100, MiB / 8, 80);
    await writeFiles(tree, 'b', 156, 64);
    const result = await scanAll(['-', tree], { stdin: slowStdin(), jobs: 1, inlineBytes: MiB });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(1);
  });

  it("from the walk's sample of file sizes, before this thread has read enough files to estimate", async () => {
    const tree = join(dir, 'sampled');
    // 12 MiB in 48 files: too few for the estimate made after 64 files read, and matched in a
    // small share of a scan that waited 400 ms for standard input first.
    await writeFiles(tree, 'f', 48, MiB / 4, 40);
    const result = await scanAll(['-', tree], { stdin: slowStdin(), jobs: 1, inlineBytes: MiB });
    expect(result.stats.files).toBe(49);
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(1);
  });

  it('for one file whose size says it is worth it, however long the scan took before', async () => {
    const file = join(dir, 'large.js');
    // 3 MiB, over twice inlineBytes, read after a scan that waited 400 ms for standard input:
    // matching never takes half of the time, so only the size can start the worker.
    await writeFile(file, Buffer.concat([chunk(false), chunk(true), chunk(false)]));
    const result = await scanAll(['-', file], { stdin: slowStdin(), jobs: 1, inlineBytes: MiB });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(1);
  });

  it('not for a file whose size is under twice inlineBytes', async () => {
    const file = join(dir, 'medium.js');
    await writeFile(file, Buffer.concat([chunk(true), chunk(false).subarray(0, MiB / 2)]));
    const result = await scanAll(['-', file], { stdin: slowStdin(), jobs: 1, inlineBytes: MiB });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(0);
  });

  it('not for a small directory whose first files are its largest, as in many packages', async () => {
    const tree = join(dir, 'front-loaded');
    // 1.4 MiB in all. From its first 32 files, the 169 left would look like 3.7 MiB; from
    // its first 64, like 1.8 MiB, under twice inlineBytes.
    await writeFiles(tree, 'b', 200, 4 * 1024, 150);
    await writeFile(join(tree, 'a-changelog.md'), chunk(false).subarray(0, 600 * 1024));
    const result = await scanAll(['-', tree], { stdin: slowStdin(), jobs: 1, inlineBytes: MiB });
    expect(result.stats.files).toBe(202);
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(0);
  });

  it('not while zlib inflating a stream and this thread take every core, as a large tarball does on two', async () => {
    // Varied lines, so the data inflates at a ratio real bundles have, well under the limit.
    const lines = Array.from({ length: 300_000 }, (_, i) => `export const v${i % 4999} = compute(input${i % 97}, options) + ${i};\n`);
    lines[150_000] = `const t = "${token}";\n`;
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(16 * MiB);
    const gz = join(dir, 'bundle.js.gz');
    await writeFile(gz, gzipSync(text, { level: 1 }));
    const result = await scanAll([gz], { jobs: 1, inlineBytes: MiB });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.created).toBe(0);
  });

  it('with the first batch when inlineBytes is 0', async () => {
    async function* slow(): AsyncGenerator<Uint8Array> {
      await sleep(20);
      yield chunk(true);
    }
    await scanAll(['-'], { stdin: slow(), jobs: 1, inlineBytes: 0 });
    expect(pools.created).toBe(1);
  });
});

describe('how many workers start', () => {
  async function* slow(): AsyncGenerator<Uint8Array> {
    await sleep(20);
    yield chunk(true);
  }
  // -j 1000 on two CPUs took 9 GB and seventy times as long as the default.
  it('at most four per CPU, however many jobs are asked for', async () => {
    expect(maxJobs()).toBe(8);
    const result = await scanAll(['-'], { stdin: slow(), jobs: 1000, inlineBytes: 0 });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
    expect(pools.sizes).toEqual([8]);
  });
  it('four at least, on one CPU', async () => {
    machine.cores = 1;
    expect(maxJobs()).toBe(4);
    await scanAll(['-'], { stdin: slow(), jobs: 6, inlineBytes: 0 });
    expect(pools.sizes).toEqual([4]);
  });
  it('as many as asked for up to that', async () => {
    await scanAll(['-'], { stdin: slow(), jobs: 8, inlineBytes: 0 });
    expect(pools.sizes).toEqual([8]);
  });
});
