import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../limits.js';
import { enumerate, joinChain } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-gzip-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The files (with their text) and errors `enumerate` gives for one file holding `bytes`. */
async function read(name: string, bytes: Buffer) {
  await writeFile(join(dir, name), bytes);
  const files: [string, string][] = [];
  const errors: { path: string; kind: string; message: string }[] = [];
  for await (const item of enumerate([name], { cwd: dir, ignore: [], limits: DEFAULT_LIMITS, tmpDir: dir })) {
    for (const it of item.kind === 'batch' ? item.items : [item]) {
      if (it.kind === 'file') {
        const parts: Buffer[] = [];
        for await (const c of it.bytes) parts.push(Buffer.from(c));
        files.push([joinChain(it.chain), Buffer.concat(parts).toString('latin1')]);
      } else if (it.kind === 'error') {
        errors.push({ path: it.error.path, kind: it.error.kind, message: it.error.message });
      }
    }
  }
  return { files, errors };
}

/** `gzipSync(text)` with an FNAME field of `nameBytes` bytes put in its header. */
function withLongName(text: string, nameBytes: number): Buffer {
  const gz = gzipSync(text);
  const head = Buffer.from(gz.subarray(0, 10));
  head[3] = (head[3] as number) | 0x08;
  return Buffer.concat([head, Buffer.alloc(nameBytes, 'a'), Buffer.from([0]), gz.subarray(10)]);
}

describe('gzip member headers', () => {
  it('reads a header with a long file name below the cap', async () => {
    const r = await read('long.gz', withLongName('the content\n', 900 * 1024));
    expect(r.errors).toEqual([]);
    expect(r.files).toEqual([['long.gz!long', 'the content\n']]);
  });

  it('reports a header over 1 MiB as unsupported, not as a truncated file', async () => {
    const r = await read('longer.gz', withLongName('the content\n', 2_000_000));
    expect(r.files).toEqual([]);
    expect(r.errors).toEqual([
      {
        path: 'longer.gz',
        kind: 'unsupported',
        message: expect.stringMatching(/^the gzip header is longer than 1 MiB \(its file name, comment or extra field\), more than pubguard reads: the compressed data was not scanned/),
      },
    ]);
  });

  it('reads the members before a header over 1 MiB and names the offset where it starts', async () => {
    const first = gzipSync('first member\n');
    const r = await read('second.gz', Buffer.concat([first, withLongName('second member\n', 2_000_000)]));
    expect(r.files).toEqual([['second.gz!second', 'first member\n']]);
    expect(r.errors).toEqual([
      { path: 'second.gz', kind: 'unsupported', message: expect.stringMatching(new RegExp(`^the gzip member header at offset ${first.length} is longer than 1 MiB .*the members before it were`)) },
    ]);
  });

  it('still calls a file name cut by the end of the data truncated', async () => {
    const cut = withLongName('x', 600_000).subarray(0, 300_000);
    const r = await read('cut.gz', cut);
    expect(r.errors).toMatchObject([{ path: 'cut.gz', kind: 'corrupt', message: expect.stringMatching(/^truncated gzip stream/) }]);
  });
});
