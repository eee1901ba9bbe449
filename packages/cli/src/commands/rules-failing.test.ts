import type * as Rules from '@pubguard/rules';
import { describe, expect, it, vi } from 'vitest';
import { memoryIO } from '../testing.js';
import { rulesCheckCommand } from './rules.js';

// A rule set with a broken rule, to see the failing path of `rules check` end to end.
vi.mock('@pubguard/rules', async (importOriginal) => {
  const actual = await importOriginal<typeof Rules>();
  return {
    ...actual,
    builtinRuleDefinitions: (): Rules.RuleDefinition[] => [
      {
        id: 'broken-rule',
        title: 'Broken',
        severity: 'high',
        keywords: ['tok_'],
        pattern: '(tok_[a-z]+)',
        references: ['https://example.invalid'],
        examples: ['tok_abc'],
        negative_examples: ['x', 'y'],
      },
    ],
  };
});

describe('pubguard rules check with problems', () => {
  it('lists each problem and exits 1', async () => {
    const io = memoryIO();
    expect((await rulesCheckCommand.run([], io)).exitCode).toBe(1);
    expect(io.out()).toContain('broken-rule: has 1 example(s); at least 2 are needed');
    expect(io.out()).toContain("broken-rule: pattern has an unbounded quantifier '+'");
    expect(io.out()).toMatch(/rules check: \d+ problems? in 1 of 1 rule\n$/);
  });
  it('prints the problems as JSON with --format json', async () => {
    const io = memoryIO();
    expect((await rulesCheckCommand.run(['--format', 'json'], io)).exitCode).toBe(1);
    const problems = JSON.parse(io.out()) as Array<{ ruleId: string; message: string }>;
    expect(problems.every((p) => p.ruleId === 'broken-rule')).toBe(true);
  });
});
