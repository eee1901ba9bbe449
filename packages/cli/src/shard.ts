import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
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
  const digest = createHash('sha256').update(normaliseShardPath(path), 'utf8').digest();
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

/** The paths of shard `index` (1-based) of `count`, in their original order. */
export function selectShard(paths: readonly string[], index: number, count: number): string[] {
  if (!Number.isInteger(index) || index < 1 || index > count) throw new RangeError(`shard index must be between 1 and ${count}, got ${index}`);
  return paths.filter((p) => shardOf(p, count) === index);
}

/** Options of `expandInputs`. */
export interface ExpandOptions {
  /** Directory relative inputs are resolved against. */
  cwd: string;
  /** Globs relative to each directory input, as the scan's `ignore`. */
  ignore?: readonly string[];
}

/**
 * Replaces each directory input by the files below it (sorted, written as `input/relative`),
 * so a single directory can be split into shards. Files, `-` and paths that do not exist are
 * kept as given: the scan reports the missing ones.
 */
export async function expandInputs(inputs: readonly string[], options: ExpandOptions): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      out.push(input);
      continue;
    }
    const absolute = resolve(options.cwd, input);
    let isDirectory = false;
    try {
      isDirectory = (await stat(absolute)).isDirectory();
    } catch {
      isDirectory = false;
    }
    if (!isDirectory) {
      out.push(input);
      continue;
    }
    // Loaded here, so only a sharded scan of a directory pays for fast-glob.
    const { default: fg } = await import('fast-glob');
    const files = await fg('**/*', {
      cwd: absolute,
      dot: true,
      onlyFiles: true,
      followSymbolicLinks: false,
      ignore: [...(options.ignore ?? [])],
    });
    files.sort();
    const prefix = input.replace(/\\/g, '/').replace(/\/+$/, '');
    for (const file of files) out.push(`${prefix}/${file}`);
  }
  return out;
}
