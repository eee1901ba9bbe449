import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import type { CliIO } from './io.js';
import { UsageError } from './io.js';

/**
 * For each package directory, the files npm would publish from it, as the engine takes them
 * (`--npm-files` of `scan` and `baseline create`).
 */
export async function publishedFiles(dirs: readonly string[], io: CliIO): Promise<Map<string, Set<string>>> {
  if (dirs.includes('-')) throw new UsageError('--npm-files takes package directories, not standard input (-)');
  const only = new Map<string, Set<string>>();
  // One after the other: each npm run reads the whole package, and the first failure stops all.
  for (const dir of new Set(dirs)) only.set(dir, new Set(await packageFiles(dir, io)));
  return only;
}

/** The files npm would publish from one package directory (`npmPackFiles`, with the io's cwd, env and signal). */
async function packageFiles(dir: string, io: CliIO): Promise<string[]> {
  // Loaded only here: it brings in the publishing code (and node:crypto), which a plain scan
  // never needs at start-up.
  const { npmPackFiles } = await import('./npm-files.js');
  return npmPackFiles(dir, { cwd: io.cwd, env: io.env, ...(io.signal ? { signal: io.signal } : {}) });
}

/** Whether a path inside a package, with `/`, is pubguard's by its name: in `.pubguard/` (baseline, audit log) or a `pubguard.config.json`. */
function ownByName(rel: string): boolean {
  const parts = rel.split('/');
  return parts.slice(0, -1).includes('.pubguard') || parts.at(-1) === 'pubguard.config.json';
}

/**
 * pubguard's own files among those npm would publish (`lists`, as `publishedFiles` gives
 * them): anything in a `.pubguard/` directory (the default baseline and audit log), a
 * `pubguard.config.json`, and the files of `own` (absolute paths: the config and baseline in
 * use, a baseline being written). Each is named as a scan reports it, sorted, once.
 */
export function ownFilesPublished(lists: ReadonlyMap<string, ReadonlySet<string>>, cwd: string, own: readonly (string | undefined)[]): string[] {
  const named = new Set(own.filter((path): path is string => path !== undefined).map((path) => resolve(cwd, path)));
  const found = new Set<string>();
  for (const [dir, files] of lists) {
    const shown = dir.split(sep).join('/');
    for (const rel of files) if (ownByName(rel) || named.has(resolve(cwd, dir, rel))) found.add(posix.join(shown, rel));
  }
  return [...found].sort();
}

/**
 * How a scan of `lists` would name `file` (an absolute path written since they were made)
 * when npm would now publish it from one of their package directories, asked again in each
 * directory above it; else undefined. npm failing now, when it listed the package before,
 * leaves the question to the next `scan --npm-files`, which asks again.
 */
export async function publishedSince(lists: ReadonlyMap<string, ReadonlySet<string>>, file: string, io: CliIO): Promise<string | undefined> {
  for (const dir of lists.keys()) {
    const rel = relative(resolve(io.cwd, dir), file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    const slashed = rel.split(sep).join('/');
    try {
      if ((await packageFiles(dir, io)).includes(slashed)) return posix.join(dir.split(sep).join('/'), slashed);
    } catch {
      // See above.
    }
  }
  return undefined;
}

/** The warning that npm would publish pubguard's own `files`, for `command` to print on stderr. */
export function ownFilesWarning(command: string, files: readonly string[]): string {
  const them = files.length === 1 ? 'it' : 'them';
  return `pubguard ${command}: warning: npm would publish ${files.join(', ')}: leave ${them} out with .npmignore or "files" in package.json: pubguard's files are no part of the package, and a baseline or an audit log names files, fingerprints and people\n`;
}
