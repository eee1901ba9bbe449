import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinRuleDefinitions } from './builtin.js';

// What the repository's README promises about checksums must be what the built-in rules check.
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
const rules = builtinRuleDefinitions();
/** Whether some built-in rule of this provider (its id starts with the name) checks a checksum. */
const providerChecksums = (provider: string): boolean[] => {
  const id = provider.toLowerCase().split(' ')[0]!;
  return rules.filter((r) => r.id.startsWith(`${id}-`)).map((r) => (r.validators ?? []).some((v) => v.type === 'checksum'));
};
/** The providers named before the first backtick or `(` of each item of a parenthesised list. */
const providers = (list: string): string[] => list.split(',').map((item) => item.trim().split(/[ `(]/)[0]!).filter(Boolean);

describe("the README's checksum claims", () => {
  it('name only providers a built-in rule reports with a valid checksum only', () => {
    const list = /Tokens with a published checksum \(([^)]*)\) are reported only when the checksum is valid/.exec(readme)?.[1];
    expect(list).toBeDefined();
    const named = providers(list!);
    expect(named.length).toBeGreaterThan(3);
    for (const provider of named) expect(providerChecksums(provider), provider).toContain(true);
  });

  it('say which providers are matched without their checksum', () => {
    const list = /\. ([^.]*?) tokens end in a checksum whose algorithm neither provider publishes/.exec(readme)?.[1];
    expect(list).toBeDefined();
    const named = list!.split(/ and /).map((p) => p.trim().split(/[ `(]/)[0]!);
    expect(named).toEqual(['Vercel', 'Zuplo']);
    for (const provider of named) {
      expect(providerChecksums(provider).length, provider).toBeGreaterThan(0);
      expect(providerChecksums(provider), provider).not.toContain(true);
    }
  });
});
