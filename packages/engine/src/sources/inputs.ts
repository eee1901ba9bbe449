import { realpath } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { ignoreMatcher, walkIgnoreGlobs } from './disk.js';

/** An input to enumerate, with the paths below it that other inputs name. */
export interface PlannedInput {
  /** The input as given. */
  input: string;
  /**
   * Paths below this input, relative to it with `/`, that another input names, each with that
   * input as given: a walk of this directory leaves to it what it reads (see `readInside`).
   */
  inner: ReadonlyMap<string, string>;
}

/** The inputs to enumerate, in order, and what they read between them. */
export interface InputPlan {
  inputs: PlannedInput[];
  /**
   * Whether another input reads the real path `target` (a symbolic link's, found by a walk):
   * it names that path, or a directory above it that the ignore globs do not leave it out of.
   */
  reads(target: string): Promise<boolean>;
}

/**
 * Drops inputs that name a path an earlier input named, and tells each directory input which
 * paths below it other inputs name, so that every file is read once, under the most specific
 * input that names it, exactly as that input would read it alone (display path, fingerprint of
 * path findings, shard). Paths are compared as the file system resolves them (links, `.`,
 * `..`, trailing slashes), never by folding case, which would take two files for one where the
 * file system tells `Dist` from `dist`. An input that cannot be resolved (it does not exist) is
 * compared by its path.
 */
export async function planInputs(inputs: readonly string[], cwd: string, ignore: readonly string[]): Promise<InputPlan> {
  const kept: { input: string; real: string }[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    const real = input === '-' ? input : await realOrResolved(resolve(cwd, input));
    if (seen.has(real)) continue;
    seen.add(real);
    kept.push({ input, real });
  }
  const planned = kept.map(({ input }) => ({ input, inner: new Map<string, string>() }));
  const byReal = new Map<string, Map<string, string>>();
  const inputOf = new Map<string, string>();
  kept.forEach(({ input, real }, i) => {
    if (input === '-') return;
    byReal.set(real, planned[i]!.inner);
    inputOf.set(real, input);
  });
  // Up from each input rather than each input against every other: `scan dist/*` may name
  // thousands.
  for (const [real, input] of inputOf) {
    for (const dir of above(real)) byReal.get(dir)?.set(slashed(relative(dir, real)), input);
  }
  let ignored: ((path: string) => boolean) | undefined;
  const reads = async (target: string): Promise<boolean> => {
    if (byReal.has(target)) return true;
    // The nearest input above the target is the one whose walk would find it.
    const owner = above(target).find((dir) => byReal.has(dir));
    if (owner === undefined) return false;
    ignored ??= ignore.length > 0 ? await ignoreMatcher(walkIgnoreGlobs(ignore)) : () => false;
    return !ignored(slashed(relative(owner, target)));
  };
  return { inputs: planned, reads };
}

/** The directories above an absolute path, nearest first, up to the root. */
function above(path: string): string[] {
  const dirs: string[] = [];
  for (let child = path, dir = dirname(path); dir !== child; child = dir, dir = dirname(dir)) dirs.push(dir);
  return dirs;
}

/** A relative path with `/`, as walks give them. */
function slashed(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/**
 * Whether an input named below a directory reads its file `rel` (a walk's path, with `/`):
 * `rel` is one of `inner`, or lies below one that is walked whole or whose `onlyFiles` list
 * holds it. A listed directory reads only its list, so a file it leaves out is still the outer
 * directory's to read: the outer package's tarball ships it (`--npm-files . packages/a`).
 */
export function readInside(rel: string, inner: ReadonlyMap<string, string>, onlyFiles?: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  if (inner.size === 0) return false;
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) {
    const input = inner.get(rel.slice(0, i));
    if (input === undefined) continue;
    const listed = onlyFiles?.get(input);
    if (listed === undefined || listed.has(rel.slice(i + 1))) return true;
  }
  return inner.has(rel);
}

/** The real path of `abs`, or `abs` itself when it cannot be resolved (it does not exist). */
async function realOrResolved(abs: string): Promise<string> {
  try {
    return await realpath(abs);
  } catch {
    return abs;
  }
}
