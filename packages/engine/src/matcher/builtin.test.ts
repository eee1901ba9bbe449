import { builtinRuleDefinitions, builtinRuleset } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { Matcher } from './matcher.js';

// The rules package checks each rule's examples against its regex alone; this runs them
// through the real matcher (keyword prefilter, windows, validators) with every rule loaded.
describe('built-in rule examples through the matcher', () => {
  const ruleset = builtinRuleset();
  const matcher = new Matcher(ruleset);
  const ids = ruleset.rules.map((r) => r.id);
  const definitions = builtinRuleDefinitions().filter((d) => d.pattern && !d.paths?.length);

  const found = (text: string) => {
    const spec = { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true };
    return matcher.matchSegment(text, spec).matches.map((m) => ids[m.rule]);
  };

  it.each(definitions.map((d) => [d.id, d] as const))('%s', (id, definition) => {
    for (const example of definition.examples) expect(found(example), `example: ${example}`).toContain(id);
    for (const negative of definition.negative_examples) expect(found(negative), `negative: ${negative}`).not.toContain(id);
  });
});

describe('built-in rule examples after an escape sequence', () => {
  const ruleset = builtinRuleset();
  const matcher = new Matcher(ruleset);
  const ids = ruleset.rules.map((r) => r.id);
  // Rules that refuse a letter or digit before their match, as minified code, JSON strings,
  // source maps and URLs put an escape there.
  const bounded = builtinRuleDefinitions().filter((d) => d.pattern?.startsWith('(?<![') && !d.paths?.length);

  const found = (text: string) => {
    const spec = { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true };
    return matcher.matchSegment(text, spec).matches.map((m) => ids[m.rule]);
  };

  it.each(bounded.map((d) => [d.id, d] as const))('%s', (id, definition) => {
    for (const example of definition.examples) {
      for (const escape of ['\\n', '\\t', '\\u0022', '\\x3d', '%3D', '%22']) {
        expect(found(`"a${escape}${example}"`), `after ${escape}: ${example}`).toContain(id);
      }
    }
  });
});

describe('built-in rule examples inside a JSON string', () => {
  const ruleset = builtinRuleset();
  const matcher = new Matcher(ruleset);
  const ids = ruleset.rules.map((r) => r.id);
  // Formats that span several lines or make up a whole file of their own: in a JSON string
  // (a source map's sourcesContent, a notebook cell) their line structure is gone.
  const structured = new Set([
    'docker-config-auth',
    'gcp-service-account-key',
    'npmrc-auth-token',
    'yarnrc-npm-auth-token',
    'pem-private-key',
    'pgp-private-key',
    'putty-private-key',
    'kubeconfig-client-key',
    'pypirc-password',
  ]);
  const definitions = builtinRuleDefinitions().filter((d) => d.pattern && !d.paths?.length && !structured.has(d.id));

  const found = (text: string) => {
    const spec = { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true };
    return matcher.matchSegment(text, spec).matches.map((m) => ids[m.rule]);
  };

  it.each(definitions.map((d) => [d.id, d] as const))('%s', (id, definition) => {
    // Examples written with escaped quotes already show the embedded form.
    for (const example of definition.examples.filter((e) => !e.includes('\\"'))) {
      // As a bundler writes a source file into a source map: quotes become \" and newlines \n.
      const embedded = `{"version":3,"sourcesContent":[${JSON.stringify(`${example}\n`)}]}`;
      expect(found(embedded), embedded).toContain(id);
    }
  });
});
