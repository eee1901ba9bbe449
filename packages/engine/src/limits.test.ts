import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitsError, resolveLimits } from './limits.js';

describe('resolveLimits', () => {
  it('fills the documented defaults', () => {
    expect(resolveLimits()).toEqual({
      maxDepth: 5,
      maxEntries: 100000,
      maxEntryBytes: 2 * 1024 ** 3,
      maxArtifactBytes: 8 * 1024 ** 3,
      maxCompressionRatio: 200,
      ratioThresholdBytes: 4 * 1024 ** 2,
      maxInMemoryArchiveBytes: 64 * 1024 ** 2,
      maxSpillBytes: 4 * 1024 ** 3,
      maxArtifactMs: 0,
      maxFindingsPerFile: 1000,
      maxFindingsPerArtifact: 10000,
    });
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });

  it('keeps given values and ignores undefined ones', () => {
    const l = resolveLimits({ maxDepth: 0, maxEntries: undefined, maxCompressionRatio: 12.5, maxArtifactMs: 1500 });
    expect(l.maxDepth).toBe(0);
    expect(l.maxEntries).toBe(100000);
    expect(l.maxCompressionRatio).toBe(12.5);
    expect(l.maxArtifactMs).toBe(1500);
  });

  it.each([
    [{ maxDepth: -1 }, /maxDepth must not be negative/],
    [{ maxEntries: 0 }, /maxEntries must be greater than 0/],
    [{ maxFindingsPerFile: 0 }, /maxFindingsPerFile must be greater than 0/],
    [{ maxFindingsPerArtifact: 0 }, /maxFindingsPerArtifact must be greater than 0/],
    [{ maxFindingsPerArtifact: 2.5 }, /maxFindingsPerArtifact must be a whole number/],
    [{ maxEntryBytes: 1.5 }, /maxEntryBytes must be a whole number/],
    [{ maxArtifactBytes: Number.NaN }, /maxArtifactBytes must be a number/],
    [{ maxCompressionRatio: 0.5 }, /maxCompressionRatio must be at least 1/],
    [{ maxDepth: '3' as unknown as number }, /maxDepth must be a number, got "3"/],
    [{ maxDeep: 3 } as unknown as Record<string, number>, /unknown limit "maxDeep"/],
  ])('rejects %o', (partial, message) => {
    expect(() => resolveLimits(partial)).toThrow(LimitsError);
    expect(() => resolveLimits(partial)).toThrow(message);
  });

  it('names its error class', () => {
    try {
      resolveLimits({ maxDepth: -2 });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).name).toBe('LimitsError');
    }
  });
});
