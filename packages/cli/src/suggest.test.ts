import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps of neighbours as one edit each', () => {
    expect(editDistance('scan', 'scan')).toBe(0);
    expect(editDistance('scna', 'scan')).toBe(1);
    expect(editDistance('sca', 'scan')).toBe(1);
    expect(editDistance('scans', 'scan')).toBe(1);
    expect(editDistance('sxan', 'scan')).toBe(1);
    expect(editDistance('--fromat', '--format')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closest', () => {
  it('returns the nearest candidates within two edits', () => {
    expect(closest('scna', ['scan', 'init', 'rules'])).toEqual(['scan']);
    expect(closest('--jbos', ['--jobs', '--json', '--quiet'])).toEqual(['--jobs']);
    expect(closest('nmp', ['npm', 'pypi'])).toEqual(['npm']);
  });

  it('suggests nothing for a word far from every candidate, or too short to judge', () => {
    expect(closest('frobnicate', ['scan', 'init', 'rules'])).toEqual([]);
    expect(closest('x', ['scan', 'init'])).toEqual([]);
    expect(closest('ab', ['ax', 'ay', 'by'])).toEqual(['ax', 'ay']);
  });
});
