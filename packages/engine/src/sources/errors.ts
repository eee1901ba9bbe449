import { describeFsError } from '../fs-errors.js';
import type { ScanError, ScanErrorKind, ScanLimits } from '../types.js';

/** Joins an artifact path and nested member names into the `outer!inner` form used in every report. */
export function joinChain(chain: readonly string[]): string {
  return chain.join('!');
}

/**
 * How far a problem reaches: the entry being read, the archive holding it, the whole
 * artifact, or the whole enumeration (abort).
 */
export type StopScope = 'entry' | 'archive' | 'artifact' | 'all';

/**
 * Internal: unwinds the readers up to the level named by `scope`, carrying the event to
 * report. The same object travels through stream errors, so `reported` keeps it from
 * being yielded twice when several layers see it.
 */
export class Stop extends Error {
  override name = 'Stop';
  reported = false;
  constructor(
    readonly event: ScanError,
    readonly scope: StopScope,
  ) {
    super(event.message);
  }
}

/**
 * How to raise each limit, named in limit messages: the flag of `pubguard scan` (and of
 * `baseline create`, for the findings limits) and the key of pubguard.config.json where there are ones, else the library option (naming a flag that
 * does not exist would send users astray). Both are named because `pubguard publish` scans
 * too but takes its limits from the config file only.
 */
const FLAGS: Record<keyof ScanLimits, string> = {
  maxDepth: '--max-depth of pubguard scan or limits.maxDepth in pubguard.config.json',
  maxEntries: '--max-entries of pubguard scan or limits.maxEntries in pubguard.config.json',
  maxEntryBytes: '--max-entry-bytes of pubguard scan or limits.maxEntryBytes in pubguard.config.json',
  maxArtifactBytes: '--max-artifact-bytes of pubguard scan or limits.maxArtifactBytes in pubguard.config.json',
  maxCompressionRatio: '--max-ratio of pubguard scan or limits.maxCompressionRatio in pubguard.config.json',
  ratioThresholdBytes: 'the scan() option limits.ratioThresholdBytes',
  maxInMemoryArchiveBytes: 'the scan() option limits.maxInMemoryArchiveBytes',
  maxSpillBytes: 'the scan() option limits.maxSpillBytes',
  maxArtifactMs: '--max-artifact-seconds of pubguard scan or limits.maxArtifactSeconds in pubguard.config.json',
  maxFindingsPerFile: '--max-findings of pubguard scan and baseline create or limits.maxFindingsPerFile in pubguard.config.json',
  maxFindingsPerArtifact: '--max-artifact-findings of pubguard scan and baseline create or limits.maxFindingsPerArtifact in pubguard.config.json',
};

/** `n` and the noun, singular for one (`1 entry`, `2 entries`). */
export function countOf(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Builds the Stop for a crossed limit: what was crossed, its value and how to raise it. */
export function limitStop(
  chain: readonly string[],
  limit: keyof ScanLimits,
  what: string,
  value: string,
  scope: StopScope,
): Stop {
  const message = `${what} (limit ${limit} = ${value}); raise it with ${FLAGS[limit]} if the input is trusted`;
  return new Stop({ path: joinChain(chain), kind: 'limit', limit, message }, scope);
}

/** Builds a Stop for a non-limit problem. */
export function problem(chain: readonly string[], kind: ScanErrorKind, message: string, scope: StopScope): Stop {
  return new Stop({ path: joinChain(chain), kind, message }, scope);
}

/** Human form of a byte count for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** The `code` of a Node system error, if it is one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Maps a file-system error on a path to a Stop a user can act on, or undefined if it is not one. */
export function fsStop(chain: readonly string[], err: unknown, scope: StopScope): Stop | undefined {
  const code = errorCode(err);
  switch (code) {
    case 'ENOENT':
      return problem(chain, 'not-found', describeFsError(err, { target: 'file or directory' }), scope);
    case 'EACCES':
    case 'EPERM':
      return problem(chain, 'unreadable', describeFsError(err), scope);
    case 'EISDIR':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'EIO':
    case 'EMFILE':
    case 'ENFILE':
    case 'ENAMETOOLONG':
    case 'EBUSY':
    case 'ENXIO':
      return problem(chain, 'unreadable', `cannot read: ${describeFsError(err)}`, scope);
    default:
      return undefined;
  }
}
