import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planInputs, readInside } from './inputs.js';

let dir: string;
beforeAll(async () => {
  // Real, as the link targets a walk hands to `reads` are (macOS's tmpdir is behind a link).
  dir = await realpath(await mkdtemp(join(tmpdir(), 'pubguard-inputs-')));
  await mkdir(join(dir, 'pkg', 'dist', 'sub'), { recursive: true });
  await mkdir(join(dir, 'elsewhere'));
  await writeFile(join(dir, 'pkg', 'dist', 'a.txt'), 'a');
  await writeFile(join(dir, 'elsewhere', 'x.txt'), 'x');
  await symlink(join(dir, 'pkg'), join(dir, 'pkg-link'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const plan = (inputs: string[], ignore: string[] = []) => planInputs(inputs, dir, ignore);
const shape = async (inputs: string[]) => (await plan(inputs)).inputs.map(({ input, inner }) => [input, [...inner.keys()].sort()]);

describe('planInputs', () => {
  it('keeps the first of the inputs that name one path, however it is spelled or linked', async () => {
    expect(await shape(['pkg/dist', './pkg/dist/', join(dir, 'pkg', 'dist'), 'pkg-link/dist', 'pkg//sub/../dist', '-', '-'])).toEqual([
      ['pkg/dist', []],
      ['-', []],
    ]);
  });

  it('gives each directory the paths below it that other inputs name, in any order', async () => {
    expect(await shape(['pkg/dist/a.txt', '.', 'pkg-link/dist/sub', 'pkg', 'elsewhere'])).toEqual([
      ['pkg/dist/a.txt', []],
      ['.', ['elsewhere', 'pkg', 'pkg/dist/a.txt', 'pkg/dist/sub']],
      ['pkg-link/dist/sub', []],
      ['pkg', ['dist/a.txt', 'dist/sub']],
      ['elsewhere', []],
    ]);
  });

  it('compares paths that do not exist as given, without folding case', async () => {
    expect(await shape(['pkg/missing', 'pkg/missing/', 'pkg/Missing', 'pkg'])).toEqual([
      ['pkg/missing', []],
      ['pkg/Missing', []],
      ['pkg', ['Missing', 'missing']],
    ]);
  });

  it('says which link targets another input reads: named, or below a directory and not ignored', async () => {
    const { reads } = await plan(['pkg', 'elsewhere/x.txt'], ['dist/sub/**']);
    expect(await reads(join(dir, 'elsewhere', 'x.txt'))).toBe(true);
    expect(await reads(join(dir, 'pkg', 'dist'))).toBe(true);
    expect(await reads(join(dir, 'pkg'))).toBe(true);
    expect(await reads(join(dir, 'pkg', 'dist', 'sub', 'deep.txt'))).toBe(false);
    expect(await reads(join(dir, 'elsewhere'))).toBe(false);
    expect(await reads(join(dir, 'pkgs', 'a.txt'))).toBe(false);
  });
});

describe('readInside', () => {
  it('holds for a named path and what lies below it, not for a sibling sharing its prefix', () => {
    const inner = new Map([['dist', 'x/dist'], ['lib/a.js', 'x/lib/a.js']]);
    expect(['dist', 'dist/x.js', 'dist/sub/y.js', 'lib/a.js'].filter((p) => readInside(p, inner))).toHaveLength(4);
    expect(['dist2/x.js', 'distx', 'lib/a.json', 'lib', 'a/dist', ''].filter((p) => readInside(p, inner))).toEqual([]);
  });

  it('leaves to a listed inner directory only the files its list holds', () => {
    const inner = new Map([['packages/a', 'packages/a'], ['packages/a/vendor/b', './packages/a/vendor/b']]);
    const onlyFiles = new Map([
      ['.', new Set(['packages/a/index.js', 'packages/a/dev-only.js', 'packages/a/vendor/b/x.js', 'packages/a/vendor/b/y.js'])],
      ['packages/a', new Set(['index.js', 'vendor/b/y.js'])],
      ['./packages/a/vendor/b', new Set(['x.js'])],
    ]);
    const outer = [...onlyFiles.get('.')!];
    expect(outer.filter((p) => !readInside(p, inner, onlyFiles))).toEqual(['packages/a/dev-only.js']);
    // Walked whole, the inner directory reads everything below it.
    expect(outer.filter((p) => !readInside(p, inner, new Map()))).toEqual([]);
  });
});
