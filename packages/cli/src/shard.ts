import { posix } from 'node:path';
import { nodeCrypto } from './builtins.js';
import { UsageError } from './io.js';

/** A shard of a run: `index` of `count`, both as written in `--shard I/N` (1-based). */
export interface Shard {
  index: number;
  count: number;
}

/** The form a path is hashed in: forward slashes, no `./` prefix, `..` and `.` segments resolved. */
export function normaliseShardPath(path: string): string {
  const slashed = path.replace(/\\/g, '/');
  const normal = posix.normalize(slashed);
  return normal.startsWith('./') ? normal.slice(2) : normal;
}

/**
 * The shard (1 to `count`) a path belongs to: sha256 of the normalised path, its first six
 * bytes read as a number, modulo `count`. Depends on nothing but the path text, so every
 * machine of a CI matrix agrees.
 */
export function shardOf(path: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a whole number ≥ 1, got ${count}`);
  const digest = nodeCrypto().createHash('sha256').update(normaliseShardPath(path), 'utf8').digest();
  return (digest.readUIntBE(0, 6) % count) + 1;
}

/** Parses `I/N` (1 ≤ I ≤ N), as given to `--shard`; throws UsageError with the expected form. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard takes I/N, e.g. 2/3 for the second of three shards; got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: the number of shards must be at least 1`);
  if (index < 1 || index > count) throw new UsageError(`--shard ${text}: the shard must be between 1 and ${count}`);
  return { index, count };
}

/** Whether a top-level path (an input, or a file or problem below a directory) is in `shard`. */
export function shardSelector(shard: Shard): (path: string) => boolean {
  if (!Number.isInteger(shard.index) || shard.index < 1 || shard.index > shard.count) {
    throw new RangeError(`shard index must be between 1 and ${shard.count}, got ${shard.index}`);
  }
  return (path) => shardOf(path, shard.count) === shard.index;
}

/** What decides which files a sharded scan splits: its paths and the options that add or drop files. */
export interface ShardScope {
  /** The paths to scan, as given on the command line. */
  paths: readonly string[];
  /** Every --ignore glob, the config file's included. */
  ignore: readonly string[];
  /** --npm-files: only the files npm would publish. */
  npmFiles: boolean;
}

/**
 * Identifies the partition a shard belongs to, as `sha256:<hex>`: shards of one scan get the
 * same value on every machine of a CI matrix (paths normalised, order and repeats ignored),
 * and `report merge` tells shards of another scan apart by it.
 */
export function shardInputs(scope: ShardScope): string {
  // Normalised as shardOf normalises the paths it splits, and no further: `dist` and its
  // absolute spelling split differently (the reported paths differ), so they are other scans.
  const path = (given: string): string => {
    const normal = normaliseShardPath(given);
    return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
  };
  const sortedSet = (items: Iterable<string>): string[] => [...new Set(items)].sort();
  const canonical = JSON.stringify({ paths: sortedSet(scope.paths.map(path)), ignore: sortedSet(scope.ignore), npmFiles: scope.npmFiles });
  return `sha256:${nodeCrypto().createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}
