import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeFsError } from '@pubguard/engine';
import { type ClientResult, type CommandRunner, clientFailureSummary, redactText, secretsFromEnv, spawnRunner } from '@pubguard/release';

/** The files of a package directory could not be listed as npm would publish them; the message says why. */
export class NpmFilesError extends Error {
  override name = 'NpmFilesError';
}

/** How long `npm pack --dry-run` may take before it is stopped: it reads no network, only the package. */
export const NPM_PACK_TIMEOUT_MS = 120_000;

/** The command that lists a package's files; scripts off, so nothing is built or run. */
export const NPM_PACK_ARGS: readonly string[] = ['pack', '--dry-run', '--json', '--ignore-scripts'];

/** Options of `npmPackFiles`. */
export interface NpmPackFilesOptions {
  /** Directory a relative `dir` is resolved against. */
  cwd: string;
  /** npm's environment; values of secret-looking variables are masked in what npm printed. */
  env: Record<string, string | undefined>;
  /** Starts npm (default: `spawnRunner`, no shell); tests stand in for it. */
  runner?: CommandRunner;
  /** Stops npm after this many milliseconds (default `NPM_PACK_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Interrupts npm when aborted (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * The files `npm pack` would put in the tarball of the package in `dir` (as npm 7 and later
 * list them with `npm pack --dry-run --json`), relative to `dir` with `/`. npm runs in `dir`
 * from PATH, without a shell and without lifecycle scripts; whatever stops it is raised as an
 * NpmFilesError naming the directory and npm's own reason, any token in it masked.
 */
export async function npmPackFiles(dir: string, options: NpmPackFilesOptions): Promise<string[]> {
  const abs = resolve(options.cwd, dir);
  await checkPackageDir(dir, abs);
  let result: ClientResult;
  try {
    result = await (options.runner ?? spawnRunner)('npm', NPM_PACK_ARGS, {
      // The update check is the one thing a dry-run pack would ask a registry.
      env: { ...options.env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' },
      cwd: abs,
      timeoutMs: options.timeoutMs ?? NPM_PACK_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw new NpmFilesError(`cannot list the files npm would publish from ${dir}: ${(error as Error).message}`);
  }
  if (options.signal?.aborted) throw new NpmFilesError(`interrupted while npm listed the files of ${dir}`);
  const secrets = secretsFromEnv(options.env);
  if (result.code === null) {
    const ms = options.timeoutMs ?? NPM_PACK_TIMEOUT_MS;
    const seconds = ms >= 10_000 ? Math.round(ms / 1000) : ms / 1000;
    throw new NpmFilesError(`npm pack --dry-run in ${dir} did not finish within ${seconds} s and was stopped`);
  }
  if (result.code !== 0) {
    const why = clientFailureSummary(redactText(result.stderr, secrets)) || clientFailureSummary(redactText(jsonErrorSummary(result.stdout), secrets));
    throw new NpmFilesError(`npm pack --dry-run failed in ${dir} (exit code ${result.code})${why ? `: ${why}` : ''}; fix what npm says, or scan the tarball of \`npm pack\` instead`);
  }
  return parsePackFiles(result.stdout, dir);
}

/** Refuses, before npm runs, a path that is not a directory holding package.json. */
async function checkPackageDir(dir: string, abs: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(abs)).isDirectory();
  } catch (error) {
    throw new NpmFilesError(`cannot read ${dir}: ${describeFsError(error, { target: 'directory' })}`);
  }
  if (!isDir) throw new NpmFilesError(`--npm-files takes package directories, and ${dir} is not one; scan a tarball without --npm-files`);
  try {
    await stat(join(abs, 'package.json'));
  } catch (error) {
    throw new NpmFilesError(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${dir} holds no package.json: --npm-files takes the directory of an npm package`
        : `cannot read ${join(dir, 'package.json')}: ${describeFsError(error)}`,
    );
  }
}

/** npm's own one-line reason from the `{ "error": { "summary" } }` it prints with --json, or ''. */
function jsonErrorSummary(stdout: string): string {
  try {
    const summary = (JSON.parse(stdout) as { error?: { summary?: unknown } } | null)?.error?.summary;
    return typeof summary === 'string' ? summary : '';
  } catch {
    return '';
  }
}

/**
 * The file paths in the output of `npm pack --dry-run --json`: an array holding one object
 * per package, whose `files` lists `{ path, size, mode }`. Anything else, or a path that
 * leaves the package, is an NpmFilesError: scanning less than npm publishes must not pass.
 * A backslash separates directories on Windows only: elsewhere it is part of a file name
 * (`lib/a\b.js`), which npm publishes as it is.
 */
export function parsePackFiles(stdout: string, dir: string, windows = process.platform === 'win32'): string[] {
  const unreadable = (what: string) =>
    new NpmFilesError(`cannot read what \`npm ${NPM_PACK_ARGS.join(' ')}\` printed in ${dir}: ${what}; is npm 7 or later on PATH?`);
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw unreadable(stdout.trim() === '' ? 'it printed nothing' : 'it is not JSON');
  }
  if (!Array.isArray(data) || data.length !== 1) throw unreadable('expected a JSON array holding one package');
  const files = (data[0] as { files?: unknown } | null)?.files;
  if (!Array.isArray(files)) throw unreadable('the package has no "files" list');
  const paths: string[] = [];
  for (const file of files) {
    const path = (file as { path?: unknown } | null)?.path;
    if (typeof path !== 'string' || path === '') throw unreadable('a file without a "path"');
    const rel = windows ? path.replace(/\\/g, '/') : path;
    if (rel.startsWith('/') || /^[a-z]:/i.test(rel) || rel.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      throw unreadable(`a path that is not a plain path inside the package: ${JSON.stringify(path)}`);
    }
    paths.push(rel);
  }
  return paths;
}
