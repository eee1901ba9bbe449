import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { base62Crc32 } from '@pubguard/corpus';
import { builtinRuleset } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PART_FILES, BulkReader, bulkJob, stopBulk } from './bulk.js';
import { Matcher } from './matcher/matcher.js';
import { readPlainFileSync } from './sources/plain.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-bulk-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readPlainFileSync', () => {
  const buffer = Buffer.alloc(256);

  it('reads a whole plain file at the offset, up to and including cap bytes', async () => {
    await writeFile(join(dir, 'ten.txt'), '0123456789');
    expect(readPlainFileSync(join(dir, 'ten.txt'), buffer, 5, 10)).toBe(10);
    expect(buffer.subarray(5, 15).toString()).toBe('0123456789');
    await writeFile(join(dir, 'empty.txt'), '');
    expect(readPlainFileSync(join(dir, 'empty.txt'), buffer, 0, 10)).toBe(0);
  });

  it('leaves to the usual path a file larger than cap, an archive, or what it cannot read as a file', async () => {
    await writeFile(join(dir, 'eleven.txt'), '01234567890');
    expect(readPlainFileSync(join(dir, 'eleven.txt'), buffer, 0, 10)).toBe(-1);
    await writeFile(join(dir, 'x.gz'), gzipSync('hello'));
    expect(readPlainFileSync(join(dir, 'x.gz'), buffer, 0, 100)).toBe(-1);
    await writeFile(join(dir, 'x.bz2'), 'BZh91AY&SY');
    expect(readPlainFileSync(join(dir, 'x.bz2'), buffer, 0, 100)).toBe(-1);
    expect(readPlainFileSync(join(dir, 'missing.txt'), buffer, 0, 100)).toBe(-1);
    await mkdir(join(dir, 'sub'), { recursive: true });
    expect(readPlainFileSync(join(dir, 'sub'), buffer, 0, 100)).toBe(-1);
  });

  it.skipIf(process.platform === 'win32')('does not hang on a FIFO', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(readPlainFileSync(fifo, buffer, 0, 100)).toBe(-1);
  });
});

describe('BulkReader', () => {
  const matcher = new Matcher(builtinRuleset());

  async function files(n: number): Promise<string[]> {
    const sub = await mkdtemp(join(dir, 'files-'));
    const paths: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = join(sub, `f${i}.js`);
      // Every 7th file is an archive, which must be left to the usual path.
      await writeFile(p, i % 7 === 3 ? gzipSync(`file ${i}`) : `const file = ${i};\n`.repeat(i % 5));
      paths.push(p);
    }
    return paths;
  }

  it('two readers sharing a job claim every file once, and leave archives to the usual path', async () => {
    const paths = await files(3 * PART_FILES + 5);
    const job = bulkJob(paths, paths.map(() => null), 4096);
    const readers = [new BulkReader(matcher), new BulkReader(matcher)];
    const seen = new Array<number>(paths.length).fill(0);
    const read = new Array<number>(paths.length).fill(-2);
    for (let turn = 0; ; turn++) {
      const part = readers[turn % 2]!.next(job);
      if (!part) break;
      part.results.forEach((r, k) => {
        const i = part.indices[k]!;
        seen[i]!++;
        read[i] = r === null ? -1 : part.bytes[k]!;
      });
    }
    expect(seen.every((n) => n === 1)).toBe(true);
    read.forEach((n, i) => expect(n).toBe(i % 7 === 3 ? -1 : `const file = ${i};\n`.length * (i % 5)));
    expect(readers[0]!.next(job)).toBeUndefined();
  });

  it('claims nothing more once the job is stopped', async () => {
    const paths = await files(2 * PART_FILES);
    const job = bulkJob(paths, paths.map(() => null), 4096);
    const reader = new BulkReader(matcher);
    expect(reader.next(job)?.indices[0]).toBe(0);
    stopBulk(job);
    expect(reader.next(job)).toBeUndefined();
  });

  it('matches each file as one whole segment, as the usual path does with a file this small', async () => {
    const body = 'Xq7TnB2wLk9RzD4vHs6MpC8yFj3GaE';
    const token = `ghp_${body}${base62Crc32(body)}`;
    const p = join(dir, 'secret.js');
    await writeFile(p, `line one\nconst t = "${token}";\n`);
    const job = bulkJob([p], [null], 4096);
    const part = new BulkReader(matcher).next(job);
    const bytes = Buffer.from(`line one\nconst t = "${token}";\n`);
    const alone = matcher.matchSegment(bytes, { ownedStart: 0, ownedEnd: bytes.length, atFileStart: true, atFileEnd: true });
    expect(alone.matches).toHaveLength(1);
    expect(part?.results[0]).toEqual(alone);
  });
});
