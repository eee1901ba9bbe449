import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LENGTH, captureGroupCount, compileRules, escapeAwareBoundary } from './compile.js';
import { RuleError } from './errors.js';
import type { RuleDefinition } from './types.js';

function def(overrides: Partial<RuleDefinition> = {}): RuleDefinition {
  return {
    id: 'demo-token',
    title: 'Demo token',
    severity: 'high',
    keywords: ['demo_'],
    pattern: '(demo_[a-z0-9]{10})',
    examples: [],
    negative_examples: [],
    ...overrides,
  };
}

function errorOf(fn: () => unknown): RuleError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RuleError) return error;
    throw error;
  }
  throw new Error('expected a RuleError');
}

describe('compileRules', () => {
  it('builds the keyword table, defaults and maxMatchLength', () => {
    const set = compileRules([
      def(),
      def({ id: 'other', keywords: ['DEMO_', 'oth'], pattern: 'oth(er)', maxLength: 900 }),
    ]);
    expect(set.keywords).toEqual(['demo_', 'oth']);
    expect(set.keywordRules).toEqual([[0, 1], [1]]);
    expect(set.rules[0]).toMatchObject({ confidence: 'medium', secretGroup: 1, maxLength: DEFAULT_MAX_LENGTH, flags: '' });
    expect(set.maxMatchLength).toBe(900);
    expect(structuredClone(set)).toEqual(set);
  });
  it('takes the whole match as the secret of a pattern without groups, unless told otherwise', () => {
    const set = compileRules([def({ pattern: 'demo_[a-z]{8}' })]);
    expect(set.rules[0]?.secretGroup).toBe(0);
    expect(() => compileRules([def({ pattern: 'demo_[a-z]{8}', secretGroup: 1 })])).toThrow(/secretGroup 1 but the pattern has 0/);
  });
  it('names the rule in every error', () => {
    const cases: Array<[Partial<RuleDefinition>, RegExp]> = [
      [{ pattern: '(unclosed' }, /invalid pattern/],
      [{ keywords: [] }, /at least one keyword/],
      [{ keywords: ['ab'] }, /shorter than 3/],
      [{ keywords: ['abcdef'], maxLength: 4 }, /longer than maxLength/],
      [{ keywords: ['d\u00e9mo'] }, /printable ASCII/],
      [{ secretGroup: 2 }, /secretGroup 2 but the pattern has 1/],
      [{ flags: 'g' }, /only i, m and s/],
      [{ pattern: undefined }, /needs `paths`/],
      [{ keywordWithin: 256 }, /keywordWithin must be a whole number below maxLength 256/],
      [{ keywordWithin: -1 }, /keywordWithin must be a whole number/],
      [{ pattern: undefined, keywords: [], paths: ['**/.env'], keywordWithin: 0 }, /`keywordWithin` needs a `pattern`/],
    ];
    for (const [overrides, message] of cases) {
      const e = errorOf(() => compileRules([def(overrides)]));
      expect(e.message).toMatch(message);
      expect(e.message).toContain("rule 'demo-token'");
      expect(e.ruleId).toBe('demo-token');
    }
  });
  it('refuses duplicate ids', () => {
    expect(errorOf(() => compileRules([def(), def()])).message).toMatch(/duplicate rule id 'demo-token'/);
  });
  it('compiles path-only rules without keywords and splits exclusions', () => {
    const set = compileRules([def({ pattern: undefined, keywords: [], paths: ['**/.env', '**/.env.*', '!**/.env.example'] })]);
    expect(set.rules[0]).toMatchObject({ source: '', paths: ['**/.env', '**/.env.*'], pathsExclude: ['**/.env.example'] });
    expect(set.keywords).toEqual([]);
    expect(set.maxMatchLength).toBe(0);
  });
});

describe('escapeAwareBoundary', () => {
  const token = 'tok_Q7mZ2rT9vK4pL8wX3nB6';
  const regex = new RegExp(escapeAwareBoundary('(?<![A-Za-z0-9_])(tok_[A-Za-z0-9]{20})(?![A-Za-z0-9])'));

  it('lets a leading word boundary accept an escape sequence before the match', () => {
    for (const before of ['"a\\n', '"a\\t', '\\r\\n', '"\\u0022', '\\x3d', 'q=a%3D', '%22', 'x=', '']) {
      expect(regex.exec(`${before}${token}"`)?.[1], before).toBe(token);
    }
  });
  it('still refuses a match inside a word', () => {
    for (const before of ['an', 'x_', '%3', '\\u002', 'A']) expect(regex.exec(`${before}${token}"`), before).toBeNull();
  });
  it('leaves other patterns as they are', () => {
    for (const source of ['(tok_[a-z]{4})', '(?<![/+])(tok_[a-z]{4})', '\\b(tok_[a-z]{4})', 'x(?<![A-Za-z])(tok_)']) {
      expect(escapeAwareBoundary(source)).toBe(source);
    }
    expect(compileRules([def({ pattern: '(?<![A-Za-z0-9_])(demo_[a-z0-9]{10})' })]).rules[0]?.source).toBe(
      escapeAwareBoundary('(?<![A-Za-z0-9_])(demo_[a-z0-9]{10})'),
    );
  });
});

describe('captureGroupCount', () => {
  it('counts capturing groups only', () => {
    expect(captureGroupCount('a(b)(?:c)(d(e))')).toBe(3);
    expect(captureGroupCount('abc')).toBe(0);
  });
});
