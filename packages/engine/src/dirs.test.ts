import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirectory } from './dirs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-dirs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeDirectory', () => {
  it('makes the missing levels, and leaves what is there', async () => {
    await makeDirectory(join(dir, 'a', 'b', 'c'));
    expect((await stat(join(dir, 'a', 'b', 'c'))).isDirectory()).toBe(true);
    await makeDirectory(join(dir, 'a', 'b'));
    await makeDirectory(dir);
  });

  it('fails with ENOTDIR where a file stands in the way', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(makeDirectory(join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node 20's mkdir({ recursive: true }) never returns for such a path.
  it.skipIf(!existsSync('/proc/self'))('fails, and returns, where a level cannot be made', async () => {
    await expect(makeDirectory('/proc/no-such-dir/sub')).rejects.toMatchObject({ code: 'ENOENT' });
  }, 5_000);
});
