import { describe, expect, it } from 'vitest';
import { compileRules } from './compile.js';
import { builtinRuleDefinitions, builtinRuleset } from './builtin.js';
import type { CompiledRule } from './types.js';
import { globsPattern, isPathOnlyRule, MAX_TARGET_DEPTH, MAX_TARGET_LENGTH, normaliseEntryPath, pathFindingTarget, ruleAppliesToPath } from './paths.js';

const [pathRule, scoped, plain] = compileRules([
  { id: 'keys', title: 'k', severity: 'high', keywords: [], paths: ['**/id_rsa', '**/*.pem', '!**/test/**'], examples: [], negative_examples: [] },
  { id: 'scoped', title: 's', severity: 'high', keywords: ['abc'], pattern: '(abc)', paths: ['**/.npmrc'], examples: [], negative_examples: [] },
  { id: 'plain', title: 'p', severity: 'high', keywords: ['abc'], pattern: '(abc)', examples: [], negative_examples: [] },
]).rules;

describe('ruleAppliesToPath', () => {
  it('matches dotfiles, nested paths and exclusions', () => {
    if (!pathRule || !scoped || !plain) throw new Error('rules missing');
    expect(ruleAppliesToPath(pathRule, 'id_rsa')).toBe(true);
    expect(ruleAppliesToPath(pathRule, 'package/.ssh/id_rsa')).toBe(true);
    expect(ruleAppliesToPath(pathRule, 'certs\\server.pem')).toBe(true);
    expect(ruleAppliesToPath(pathRule, 'pkg/test/fixture.pem')).toBe(false);
    expect(ruleAppliesToPath(pathRule, 'id_rsa.pub')).toBe(false);
    expect(ruleAppliesToPath(scoped, 'package/.npmrc')).toBe(true);
    expect(ruleAppliesToPath(scoped, 'package/npmrc.md')).toBe(false);
    expect(ruleAppliesToPath(plain, 'anything')).toBe(true);
    expect(isPathOnlyRule(pathRule)).toBe(true);
    expect(isPathOnlyRule(scoped)).toBe(false);
  });

  it('matches paths below a directory scanned as .. or ./', () => {
    if (!pathRule || !scoped) throw new Error('rules missing');
    expect(ruleAppliesToPath(pathRule, '../id_rsa')).toBe(true);
    expect(ruleAppliesToPath(pathRule, '../../keys/server.pem')).toBe(true);
    expect(ruleAppliesToPath(pathRule, '..\\.ssh\\id_rsa')).toBe(true);
    expect(ruleAppliesToPath(scoped, './../.npmrc')).toBe(true);
    expect(ruleAppliesToPath(pathRule, '../test/fixture.pem')).toBe(false);
    expect(normaliseEntryPath('.env')).toBe('.env');
    expect(normaliseEntryPath('..env/id_rsa')).toBe('..env/id_rsa');
  });
});

describe('pathFindingTarget', () => {
  it('reports a directory rule once, for the directory, and a file rule for the file', () => {
    const [git] = compileRules([{ id: 'git', title: 'g', severity: 'medium', keywords: [], paths: ['**/.git/**'], examples: [], negative_examples: [] }]).rules;
    if (!git || !pathRule) throw new Error('rules missing');
    expect(pathFindingTarget(git, 'package/.git/refs/heads/main')).toBe('package/.git');
    expect(pathFindingTarget(git, '.git/HEAD')).toBe('.git');
    expect(pathFindingTarget(pathRule, 'package/.ssh/id_rsa')).toBe('package/.ssh/id_rsa');
  });

  /** The first version, which tried every parent of the path. */
  function pathFindingTargetReference(rule: CompiledRule, entryPath: string): string {
    const segments = entryPath.split('/');
    for (let n = 1; n < segments.length; n++) {
      const parent = segments.slice(0, n).join('/');
      if (ruleAppliesToPath(rule, `${parent}/x`)) return parent;
    }
    return entryPath;
  }

  it('reports what trying every parent reports, on paths within the limits', () => {
    const [git, vendored] = compileRules([
      { id: 'git', title: 'g', severity: 'medium', keywords: [], paths: ['**/.git/**'], examples: [], negative_examples: [] },
      { id: 'vendored', title: 'v', severity: 'low', keywords: [], paths: ['vendor/*/secrets/**', '!**/test/**'], examples: [], negative_examples: [] },
    ]).rules;
    if (!git || !vendored || !pathRule) throw new Error('rules missing');
    const deep = `${'d/'.repeat(MAX_TARGET_DEPTH - 2)}.git/config`;
    const paths = [
      '.git',
      '.git/',
      '.git/HEAD',
      'package/.git/refs/heads/main',
      'a/.git/modules/b/.git/config',
      './.git/config',
      '../../.git/config',
      'pkg\\.git\\config',
      'a//.git//config',
      '/abs/.git/index',
      'vendor/x/secrets/a/b',
      'vendor/x/secrets/test/b',
      'vendor/x/y/secrets/z',
      'package/.ssh/id_rsa',
      'id_rsa',
      deep,
      // The deepest and the longest parent still tried.
      `${'d/'.repeat(MAX_TARGET_DEPTH - 1)}.git/config`,
      `${'d'.repeat(MAX_TARGET_LENGTH - 5)}/.git/config`,
    ];
    for (const rule of [git, vendored, pathRule]) {
      for (const p of paths) expect(pathFindingTarget(rule, p), `${rule.id}: ${p}`).toBe(pathFindingTargetReference(rule, p));
    }
    expect(pathFindingTarget(git, deep)).toBe(deep.slice(0, -'/config'.length));
  });

  it('reports a directory deeper than the limits file by file', () => {
    const [git] = compileRules([{ id: 'git', title: 'g', severity: 'medium', keywords: [], paths: ['**/.git/**'], examples: [], negative_examples: [] }]).rules;
    if (!git) throw new Error('rules missing');
    const deep = `${'d/'.repeat(MAX_TARGET_DEPTH)}.git/config`;
    expect(pathFindingTarget(git, deep)).toBe(deep);
    const long = `${'d'.repeat(MAX_TARGET_LENGTH)}/.git/config`;
    expect(pathFindingTarget(git, long)).toBe(long);
  });

  it('takes time bounded by the limits on a path of 40 000 directories', () => {
    if (!pathRule) throw new Error('rules missing');
    const deep = `${'a/'.repeat(40_000)}id_rsa`;
    // Every parent tried, each up to the longest one tried: the most the limits allow.
    const widest = `${`${'w'.repeat(62)}/`.repeat(MAX_TARGET_DEPTH + 4)}id_rsa`;
    const start = performance.now();
    const targets = [pathFindingTarget(pathRule, deep), pathFindingTarget(pathRule, widest)];
    // Trying every parent of the first takes tens of seconds.
    expect(performance.now() - start).toBeLessThan(250);
    expect(targets).toEqual([deep, widest]);
  });
});

describe('pathsPattern', () => {
  it('matches every path a built-in rule applies to, its own examples included', () => {
    const rules = builtinRuleset().rules.filter((r) => r.paths?.length);
    expect(rules.length).toBeGreaterThan(5);
    const defs = new Map(builtinRuleDefinitions().map((d) => [d.id, d]));
    for (const rule of rules) {
      expect(rule.pathsPattern, rule.id).toBe(globsPattern(rule.paths ?? []));
      const re = new RegExp(rule.pathsPattern ?? '');
      const def = defs.get(rule.id);
      const paths = [...(def?.examples ?? []), ...(def?.negative_examples ?? [])].filter((e) => !e.includes('\n') && e.length < 300);
      for (const p of [...paths, 'package/index.js', 'package/.env', 'a/b/.npmrc', 'x/.git/config', 'keys/id_rsa']) {
        if (ruleAppliesToPath(rule, p)) expect(re.test(normaliseEntryPath(p)), `${rule.id}: ${p}`).toBe(true);
      }
    }
  });
});
