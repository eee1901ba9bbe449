import { availableParallelism } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { maskNames, maxJobs } from '@pubguard/engine';
import { type CliIO, UsageError } from './io.js';
import { closest } from './suggest.js';

/** node:util's parseArgs (strict by default) with its errors turned into usage errors. */
export function parseStrict<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    const unknown = /^Unknown option '(--[^']+)'/.exec(message)?.[1];
    const near = unknown === undefined ? [] : closest(unknown, Object.keys(config.options ?? {}).map((name) => `--${name}`));
    throw new UsageError(near.length > 0 ? `${message}. Did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : message);
  }
}

/** Option declarations as node:util parseArgs takes them. */
export type OptionSpecs = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** What `parseCommandArgs` returns: each option's value by its declared type, and the positionals. */
export interface ParsedCommandArgs<T extends OptionSpecs> {
  values: { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/** Parses arguments strictly with node:util, turning its errors into usage errors. */
export function parseCommandArgs<T extends OptionSpecs>(argv: string[], options: T): ParsedCommandArgs<T> {
  return parseStrict({ args: argv, options, allowPositionals: true }) as unknown as ParsedCommandArgs<T>;
}

/**
 * `jobs` as the scan will run it: above `maxJobs()` the engine runs that many, which is said
 * on stderr so that a value copied from a bigger machine is not cut down without a word.
 */
export function capJobs(jobs: number, source: string, io: Pick<CliIO, 'stderr'>): number {
  const max = maxJobs();
  if (jobs <= max) return jobs;
  const cpus = availableParallelism();
  io.stderr.write(`warning: ${source} ${jobs} is more worker threads than help on ${cpus === 1 ? '1 CPU' : `${cpus} CPUs`}: running ${max} (at most 4 per CPU, at least 4)\n`);
  return max;
}

/** The worker threads `--jobs TEXT` or else the config asks for, capped by `capJobs`; undefined for the default. */
export function jobsSetting(text: string | undefined, config: { jobs?: number; loaded?: { path: string } | undefined }, io: Pick<CliIO, 'stderr'>): number | undefined {
  if (text !== undefined) return capJobs(parseCount(text, '--jobs'), '--jobs', io);
  // A token in the config's path is shortened, as a scan shortens it in the paths it reports.
  if (config.jobs !== undefined) return capJobs(config.jobs, `"jobs" in ${config.loaded === undefined ? 'the config' : maskNames(config.loaded.path)}`, io);
  return undefined;
}

/** A whole number of at least `min` given to `flag`. */
export function parseCount(text: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new UsageError(`${flag} takes a whole number ≥ ${min}; got '${text}'`);
  return Number(text);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** Parses `123`, `64KiB`, `10MB`, `2GiB` into bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${flag} takes a size such as 1048576, 64KiB, 10MB or 2GiB; got '${text}'`);
  return Math.floor(Number(m[1]) * unit);
}

/** A number of seconds, decimals allowed (`0.5`), as milliseconds; 0 where 0 means no limit. */
export function parseSeconds(text: string, flag: string): number {
  const ms = Math.round(Number(text) * 1000);
  if (!/^\d+(?:\.\d+)?$/.test(text.trim()) || (ms === 0 && Number(text) !== 0)) throw new UsageError(`${flag} takes a number of seconds ≥ 0.001, such as 30 or 0.5 (0: no limit); got '${text}'`);
  return ms;
}

/**
 * `--ignore` globs, refusing a negated one: the directory walk would take `!src/**` for
 * `src/**` and skip the very files it names, so a scan would silently read less.
 */
export function ignoreGlobs(globs: readonly string[] | undefined): string[] {
  for (const glob of globs ?? []) {
    if (glob.startsWith('!')) throw new UsageError(`--ignore ${glob}: a negated glob cannot bring back what another --ignore skips; list only the paths to skip`);
  }
  return [...(globs ?? [])];
}

/**
 * Checks a registry or repository URL given as `flag`: npm and twine speak HTTP only, so
 * anything else would pass a dry run and fail at the upload.
 */
export function checkHttpUrl(text: string, flag: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} '${text}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${flag} must be an https:// or http:// URL, not ${url.protocol}//`);
}
