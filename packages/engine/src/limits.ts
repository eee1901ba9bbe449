import type { ScanLimits } from './types.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Limits used when the caller sets none; each value is explained on its field. */
export const DEFAULT_LIMITS: Readonly<ScanLimits> = Object.freeze({
  /** 5 levels of archives inside archives: real packages rarely nest more than 2 or 3. */
  maxDepth: 5,
  /** 100 000 entries per archive: large wheels and jars stay below a few tens of thousands. */
  maxEntries: 100_000,
  /** 2 GiB per entry: larger single files in a package are almost certainly hostile or data. */
  maxEntryBytes: 2 * GiB,
  /** 8 GiB per artifact, all entries together, so one input cannot make a scan run for hours. */
  maxArtifactBytes: 8 * GiB,
  /** 200:1 inflation: text and code compress 3–20x; zip bombs compress 1000x and more. */
  maxCompressionRatio: 200,
  /** 4 MiB before the ratio is checked: small, highly repetitive files are common and harmless. */
  ratioThresholdBytes: 4 * MiB,
  /** 64 MiB: a nested zip up to this size is read from memory, a larger one from a spill file. */
  maxInMemoryArchiveBytes: 64 * MiB,
  /** 4 GiB of spill files alive at once, so a scan cannot fill the temp disk. */
  maxSpillBytes: 4 * GiB,
  /** 0: no wall-time limit per artifact unless the caller asks for one. */
  maxArtifactMs: 0,
  /**
   * 1000 findings per file: a real package holds a handful per file, while one token repeated
   * through a file held a few KB of memory per finding without bound (1.25 M findings, 2.8 GB).
   */
  maxFindingsPerFile: 1000,
  /**
   * 10 000 findings per artifact: each costs about 2 KB, so some 20 MB, where 500 entries of a
   * zip holding a token 1000 times each kept 500 000 (1 GB); ten files at their own limit, far
   * more than a real package holds, and under the 25 000 results code scanning takes in a run.
   */
  maxFindingsPerArtifact: 10_000,
});

/** A limit value that makes no sense (negative, fractional where a count is needed, NaN). */
export class LimitsError extends Error {
  override name = 'LimitsError';
}

/** Limits that must be at least 1 for a scan to be able to read anything. */
const POSITIVE: ReadonlySet<keyof ScanLimits> = new Set<keyof ScanLimits>([
  'maxEntries',
  'maxEntryBytes',
  'maxArtifactBytes',
  'maxCompressionRatio',
  'maxFindingsPerFile',
  'maxFindingsPerArtifact',
]);

/** Limits that may be fractional (a ratio); all others are whole numbers. */
const FRACTIONAL: ReadonlySet<keyof ScanLimits> = new Set<keyof ScanLimits>(['maxCompressionRatio']);

/** Fills unset limits from DEFAULT_LIMITS and checks every value; throws LimitsError on nonsense. */
export function resolveLimits(partial?: Partial<ScanLimits>): ScanLimits {
  const out: ScanLimits = { ...DEFAULT_LIMITS };
  if (partial === undefined) return out;
  for (const [key, value] of Object.entries(partial) as [string, unknown][]) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) {
      throw new LimitsError(`unknown limit "${key}"; known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    }
    const name = key as keyof ScanLimits;
    if (typeof value !== 'number' || Number.isNaN(value)) {
      throw new LimitsError(`limit ${name} must be a number, got ${JSON.stringify(value)}`);
    }
    if (value < 0) throw new LimitsError(`limit ${name} must not be negative, got ${value}`);
    if (!FRACTIONAL.has(name) && Number.isFinite(value) && !Number.isInteger(value)) {
      throw new LimitsError(`limit ${name} must be a whole number, got ${value}`);
    }
    if (POSITIVE.has(name) && value === 0) {
      throw new LimitsError(`limit ${name} must be greater than 0 (0 would refuse every input)`);
    }
    if (name === 'maxCompressionRatio' && value < 1) {
      throw new LimitsError(`limit maxCompressionRatio must be at least 1, got ${value}`);
    }
    out[name] = value;
  }
  return out;
}
