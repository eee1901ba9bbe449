import { builtinRuleset, isPathOnlyRule, ruleAppliesToPath } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { PathRules, requiredLiteral } from './paths.js';

describe('requiredLiteral', () => {
  it('takes the longest literal run, across segments and wildcards', () => {
    expect(requiredLiteral('**/.env')).toBe('.env');
    expect(requiredLiteral('**/*.tfstate.backup')).toBe('.tfstate.backup');
    expect(requiredLiteral('**/.ssh/*_key')).toBe('.ssh');
    expect(requiredLiteral('**/.git/**')).toBe('.git');
    expect(requiredLiteral('**/id_?sa')).toBe('id_');
  });

  it('gives up on globs without a literal or with syntax whose parts are optional', () => {
    for (const glob of ['**', '**/*', '**/*.{pem,key}', '**/[ab].env', '**/!(x).env', '**/+(a|b)', 'a\\*b']) {
      expect(requiredLiteral(glob), glob).toBeUndefined();
    }
  });
});

describe('PathRules', () => {
  const ruleset = builtinRuleset();
  // Every rule's verdict the slow way: each path-limited rule's own globs, no shortcut.
  const bruteForce = (path: string) => {
    const pathOnly: number[] = [];
    const gated: number[] = [];
    ruleset.rules.forEach((rule, index) => {
      if (!rule.paths?.length || !ruleAppliesToPath(rule, path)) return;
      (isPathOnlyRule(rule) ? pathOnly : gated).push(index);
    });
    return { pathOnly, gated };
  };
  // Paths that each glob of the built-in rules matches, with prefixes, plus near misses.
  const paths = ruleset.rules
    .flatMap((rule) => rule.paths ?? [])
    .flatMap((glob) => {
      const tail = glob.replace(/^\*\*\//, '').replace(/\/\*\*$/, '/HEAD').replace(/\*/g, 'x').replace(/\?/g, 'q');
      return [tail, `pkg/${tail}`, `./a/b/${tail}`, `a\\b\\${tail}`, `${tail}.orig/`, tail.toUpperCase(), tail.slice(1)];
    })
    .concat(['package/index.js', 'package/.envrc', 'src/config.ts', 'webpack.config.js', '.github/workflows/ci.yml', '']);

  it('gives the same verdict as every rule tested on its own', () => {
    const rules = new PathRules(ruleset);
    let matched = 0;
    for (const path of paths) {
      const expected = bruteForce(path);
      expect(rules.check(path), path).toEqual(expected);
      if (expected.pathOnly.length + expected.gated.length > 0) matched++;
    }
    // The list must exercise the matching side, not only the quick "no" of the literals.
    expect(matched).toBeGreaterThan(100);
  });
});
