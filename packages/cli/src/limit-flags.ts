import type { ScanLimits } from '@pubguard/engine';
import { parseCount, parseSeconds, parseSize } from './args.js';

/** One command-line flag that sets an engine limit: its name, the limit, how it is read and what --help says of it. */
interface LimitFlag {
  /** The limit it sets, as `limits` in the config file and the engine name it. */
  limit: keyof ScanLimits;
  /** Parses the flag's text, throwing a UsageError naming `flag` for a bad value. */
  parse: (text: string, flag: string) => number;
  /** The placeholder --help shows after the flag. */
  arg: 'N' | 'SIZE' | 'S';
  /** The --help description, one entry per line. */
  help: readonly string[];
}

// One table for every command that takes these flags, so that `scan` and `baseline create`
// read, refuse and describe a limit in the same words.
const LIMIT_FLAGS = {
  'max-depth': { limit: 'maxDepth', parse: (t, f) => parseCount(t, f), arg: 'N', help: ['archives inside archives (default 5)'] },
  'max-entries': { limit: 'maxEntries', parse: (t, f) => parseCount(t, f, 1), arg: 'N', help: ['entries per archive (default 100000)'] },
  'max-entry-bytes': { limit: 'maxEntryBytes', parse: parseSize, arg: 'SIZE', help: ['uncompressed bytes per entry (default 2GiB)'] },
  'max-artifact-bytes': { limit: 'maxArtifactBytes', parse: parseSize, arg: 'SIZE', help: ['uncompressed bytes per artifact (default 8GiB)'] },
  'max-ratio': { limit: 'maxCompressionRatio', parse: (t, f) => parseCount(t, f, 1), arg: 'N', help: ['compression ratio per entry (default 200)'] },
  'max-artifact-seconds': { limit: 'maxArtifactMs', parse: parseSeconds, arg: 'S', help: ['seconds per artifact, 0.5 allowed (default: no limit)'] },
  'max-findings': {
    limit: 'maxFindingsPerFile',
    parse: (t, f) => parseCount(t, f, 1),
    arg: 'N',
    help: ['findings kept per file (default 1000); the rest are', 'counted in a limit event, not reported'],
  },
  'max-artifact-findings': {
    limit: 'maxFindingsPerArtifact',
    parse: (t, f) => parseCount(t, f, 1),
    arg: 'N',
    help: ['findings kept per artifact, all its files together', '(default 10000); the rest are counted in one limit event'],
  },
} as const satisfies Record<string, LimitFlag>;

/** The name (without `--`) of a flag that sets a limit. */
export type LimitFlagName = keyof typeof LIMIT_FLAGS;

/** Every limit flag, in the order `scan --help` lists them. */
export const ALL_LIMIT_FLAGS = Object.keys(LIMIT_FLAGS) as LimitFlagName[];

/** The flags of the two findings limits, which decide what a scan reports rather than what it reads. */
export const FINDINGS_LIMIT_FLAGS: readonly LimitFlagName[] = ['max-findings', 'max-artifact-findings'];

/** The limit the flag `name` sets. */
export function limitOfFlag(name: LimitFlagName): keyof ScanLimits {
  return LIMIT_FLAGS[name].limit;
}

/** node:util parseArgs declarations of the flags `names`. */
export function limitOptions(names: readonly LimitFlagName[]): Record<LimitFlagName, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as Record<LimitFlagName, { type: 'string' }>;
}

/** The limits the flags `names` set among parsed `values`; a bad value is a UsageError. */
export function limitsFromFlags(values: Partial<Record<string, unknown>>, names: readonly LimitFlagName[]): Partial<ScanLimits> {
  const limits: Partial<ScanLimits> = {};
  for (const name of names) {
    const text = values[name];
    if (typeof text === 'string') limits[LIMIT_FLAGS[name].limit] = LIMIT_FLAGS[name].parse(text, `--${name}`);
  }
  return limits;
}

/** The --help lines of the flags `names`, laid out as in `scan --help`'s Limits section. */
export function limitHelp(names: readonly LimitFlagName[]): string {
  const column = 33;
  const lines: string[] = [];
  for (const name of names) {
    const { arg, help } = LIMIT_FLAGS[name];
    const head = `      --${name} ${arg}`;
    help.forEach((text, i) => lines.push(`${i === 0 ? head.padEnd(column) : ' '.repeat(column)}${text}`));
  }
  return lines.join('\n');
}
