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
