import { describe, expect, it } from 'vitest';
import { compileRules } from './compile.js';
import { builtinRuleDefinitions, builtinRuleset } from './builtin.js';
import { globsPattern, isPathOnlyRule, normaliseEntryPath, pathFindingTarget, ruleAppliesToPath } from './paths.js';

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
