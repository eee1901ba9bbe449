import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateBytes, walkDirectory } from './disk.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-estimate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes files of the given sizes, in order, and returns them as the walk would. */
async function files(prefix: string, sizes: number[]): Promise<{ abs: string }[]> {
  const out: { abs: string }[] = [];
  for (const [i, size] of sizes.entries()) {
    const abs = join(dir, `${prefix}${String(i).padStart(4, '0')}`);
    await writeFile(abs, Buffer.alloc(size, 0x61));
    out.push({ abs });
  }
  return out;
}

describe('estimateBytes', () => {
  it('is exact for files of one size, sampling at most 64 of many', async () => {
    const list = await files('even', Array.from({ length: 300 }, () => 1000));
    expect(estimateBytes(list)).toBe(300_000);
  });

  it('is not thrown far off by a few large files, as a mean would be', async () => {
    // A package: 200 small files and, first in path order, a few large ones.
    const sizes = [...Array.from({ length: 4 }, () => 512 * 1024), ...Array.from({ length: 200 }, () => 2000)];
    const list = await files('front', sizes);
    const total = sizes.reduce((a, b) => a + b, 0);
    const estimate = estimateBytes(list);
    expect(estimate).toBe(2000 * 204);
    expect(estimate).toBeLessThan(total);
  });

  it('leaves out files it cannot stat, and is 0 when none can be', async () => {
    const list = await files('gone', [100, 100, 100, 100]);
    list.splice(1, 0, { abs: join(dir, 'missing-a') });
    expect(estimateBytes(list)).toBe(500);
    expect(estimateBytes([{ abs: join(dir, 'missing-b') }, { abs: dir }])).toBe(0);
    expect(estimateBytes([])).toBe(0);
  });
});

describe('walkDirectory', () => {
  it('lists files whose path holds a line break, honouring the ignore globs', async () => {
    const tree = join(dir, 'breaks');
    const names = ['plain.js', 'new\nline.js', 'cr\rname.js', 'sep\u2028name.js', 'sub\ndir/inner.js', 'node_modules/x\ny.js', 'a/m\nn.map'];
    for (const name of names) {
      await mkdir(join(tree, dirname(name)), { recursive: true });
      await writeFile(join(tree, name), 'x');
    }
    const items = await walkDirectory('pkg', tree, ['node_modules/**', '**/*.map']);
    expect(items.map((i) => i.display)).toEqual(['pkg/cr\rname.js', 'pkg/new\nline.js', 'pkg/plain.js', 'pkg/sep\u2028name.js', 'pkg/sub\ndir/inner.js']);
    expect(items.every((i) => i.type === 'file')).toBe(true);
  });
  it('takes an ignore glob ending in a slash for the directory it names', async () => {
    const tree = join(dir, 'slash');
    for (const name of ['lib/a.js', 'test/fixtures/k.js', 'docs/x\ny.md', 'docs/b.md']) {
      await mkdir(join(tree, dirname(name)), { recursive: true });
      await writeFile(join(tree, name), 'x');
    }
    const items = await walkDirectory('pkg', tree, ['test/', 'docs//']);
    expect(items.map((i) => i.display)).toEqual(['pkg/lib/a.js']);
  });
  it('lists each file once under a root whose own name holds a line break', async () => {
    const tree = join(dir, 'root\nwith break');
    for (const name of ['a.js', 'sub/b.js', 'sub/c\nd.js']) {
      await mkdir(join(tree, dirname(name)), { recursive: true });
      await writeFile(join(tree, name), 'x');
    }
    const items = await walkDirectory('pkg', tree, []);
    expect(items.map((i) => i.display)).toEqual(['pkg/a.js', 'pkg/sub/b.js', 'pkg/sub/c\nd.js']);
  });
  it('says a loop of symbolic links is a loop, and a link to nothing leads nowhere', async () => {
    const tree = join(dir, 'loop');
    await mkdir(tree);
    await symlink('l1', join(tree, 'l2'));
    await symlink('l2', join(tree, 'l1'));
    await symlink('absent', join(tree, 'gone'));
    const items = await walkDirectory('pkg', tree, []);
    expect(items.filter((i) => i.type === 'error').map((i) => [i.display, i.type === 'error' ? i.message : ''])).toEqual([
      ['pkg/gone', 'symbolic link whose target does not exist; not followed'],
      ['pkg/l1', 'symbolic link that leads back to itself (a loop of links); not followed'],
      ['pkg/l2', 'symbolic link that leads back to itself (a loop of links); not followed'],
    ]);
  });
  it('lists every symbolic link by its own name, wherever it leads', async () => {
    const tree = join(dir, 'links');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'real.txt'), 'x');
    await writeFile(join(dir, 'outside.txt'), 'y');
    await symlink('real.txt', join(tree, 'to-file'));
    await symlink('sub', join(tree, 'to-dir'));
    await symlink(join(dir, 'outside.txt'), join(tree, 'to-outside'));
    await symlink('absent', join(tree, 'to-nothing'));
    const items = await walkDirectory('pkg', tree, []);
    expect(items.map((i) => `${i.type} ${i.display} ${i.rel}`)).toEqual([
      'file pkg/real.txt real.txt',
      'link pkg/to-dir to-dir',
      'link pkg/to-file to-file',
      'link pkg/to-nothing to-nothing',
      'error pkg/to-nothing to-nothing',
      'link pkg/to-outside to-outside',
      'error pkg/to-outside to-outside',
    ]);
  });
  it.skipIf(process.platform !== 'linux')('lists a name that is not valid UTF-8 as latin1, with the bytes to open it by, in a directory of such a name too', async () => {
    const tree = join(dir, 'latin1');
    const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    await mkdir(tree);
    await writeFile(bytes(tree, '/bad', [0xff, 0xfe], '.js'), 'one');
    await writeFile(bytes(tree, '/bad', [0xfe, 0xff], '.js'), 'two');
    await mkdir(bytes(tree, '/d', [0xe9]));
    await writeFile(bytes(tree, '/d', [0xe9], '/in.js'), 'three');
    const items = await walkDirectory('pkg', tree, []);
    expect(items.map((i) => i.display)).toEqual(['pkg/bad\u00fe\u00ff.js', 'pkg/bad\u00ff\u00fe.js', 'pkg/d\u00e9/in.js']);
    const texts = await Promise.all(items.map(async (i) => (i.type === 'file' && i.raw ? (await readFile(i.raw)).toString() : undefined)));
    expect(texts).toEqual(['two', 'one', 'three']);
  });
});
