import { describe, expect, it } from 'vitest';
import { compileRules } from './compile.js';
import { isPathOnlyRule, pathFindingTarget, ruleAppliesToPath } from './paths.js';

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
