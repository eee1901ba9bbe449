import { describe, expect, it } from 'vitest';
import { UsageError } from './io.js';
import { normaliseShardPath, parseShard, shardInputs, shardOf, shardSelector } from './shard.js';

describe('shardOf', () => {
  it('gives the same shard on every machine (pinned values of the sha256 scheme)', () => {
    expect(shardOf('dist/pkg-1.0.0.tgz', 3)).toBe(2);
    expect(shardOf('dist/a.whl', 3)).toBe(3);
    expect(shardOf('packages/x/lib/index.js', 3)).toBe(1);
    expect(shardOf('packages/x/lib/index.js', 7)).toBe(6);
    expect(shardOf('anything', 1)).toBe(1);
  });

  it('hashes the normalised path, so separators and ./ do not matter', () => {
    expect(normaliseShardPath('.\\dist\\sub\\..\\pkg-1.0.0.tgz')).toBe('dist/pkg-1.0.0.tgz');
    for (const n of [2, 3, 5, 16]) {
      expect(shardOf('dist\\pkg-1.0.0.tgz', n)).toBe(shardOf('dist/pkg-1.0.0.tgz', n));
      expect(shardOf('./dist//pkg-1.0.0.tgz', n)).toBe(shardOf('dist/pkg-1.0.0.tgz', n));
    }
  });

  it('refuses a count below 1', () => {
    expect(() => shardOf('a', 0)).toThrow(RangeError);
  });
});

describe('shardSelector', () => {
  const paths = Array.from({ length: 3000 }, (_, i) => `dist/pkg-${i}.tgz`);
  const selectShard = (list: string[], index: number, count: number) => list.filter(shardSelector({ index, count }));

  it('splits the paths into disjoint shards that together are all of them, in order', () => {
    const shards = [1, 2, 3].map((i) => selectShard(paths, i, 3));
    expect(shards.flat().sort()).toEqual([...paths].sort());
    expect(new Set(shards.flat()).size).toBe(paths.length);
    for (const shard of shards) expect(shard).toEqual(paths.filter((p) => shard.includes(p)));
  });

  it('spreads paths about evenly', () => {
    for (const i of [1, 2, 3]) {
      const n = selectShard(paths, i, 3).length;
      expect(n).toBeGreaterThan(900);
      expect(n).toBeLessThan(1100);
    }
  });

  it('refuses an index outside 1..count', () => {
    expect(() => shardSelector({ index: 0, count: 3 })).toThrow(RangeError);
    expect(() => shardSelector({ index: 4, count: 3 })).toThrow(RangeError);
  });
});

describe('parseShard', () => {
  it('reads I/N', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
  });

  it('explains what is wrong', () => {
    expect(() => parseShard('2')).toThrow(UsageError);
    expect(() => parseShard('2')).toThrow(/--shard takes I\/N, e\.g\. 2\/3/);
    expect(() => parseShard('a/b')).toThrow(/takes I\/N/);
    expect(() => parseShard('0/3')).toThrow(/between 1 and 3/);
    expect(() => parseShard('4/3')).toThrow(/between 1 and 3/);
    expect(() => parseShard('1/0')).toThrow(/at least 1/);
  });
});

describe('shardInputs', () => {
  const scope = { paths: ['dist', 'packages/a'], ignore: ['**/*.map'], npmFiles: false };

  it('is the same for every spelling of a path that splits alike, and for any order or repeat', () => {
    const id = shardInputs(scope);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(shardInputs({ ...scope, paths: ['./packages/a/', 'dist', 'dist\\'] })).toBe(id);
    expect(shardInputs({ ...scope, ignore: ['**/*.map', '**/*.map'] })).toBe(id);
  });

  it('differs when the paths, the globs or --npm-files differ', () => {
    const id = shardInputs(scope);
    expect(shardInputs({ ...scope, paths: ['dist'] })).not.toBe(id);
    expect(shardInputs({ ...scope, ignore: [] })).not.toBe(id);
    expect(shardInputs({ ...scope, npmFiles: true })).not.toBe(id);
    // Files below an absolute path are reported, and so split, by their absolute paths.
    expect(shardInputs({ ...scope, paths: ['/work/repo/dist', 'packages/a'] })).not.toBe(id);
  });
});
