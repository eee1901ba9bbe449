import { describe, expect, it } from 'vitest';
import { RuleError } from './errors.js';
import { parseRuleDefinitions, VALIDATOR_TYPES } from './schema.js';

const base = {
  id: 'demo-token',
  title: 'Demo',
  severity: 'high',
  keywords: ['demo_'],
  pattern: '(demo_[a-z]{4})',
  examples: ['demo_abcd'],
  negative_examples: ['demo_'],
};

function message(value: unknown): string {
  try {
    parseRuleDefinitions(value, 'rules/demo.yaml');
  } catch (error) {
    if (error instanceof RuleError) return error.message;
    throw error;
  }
  return '';
}

describe('parseRuleDefinitions', () => {
  it('returns typed rules and keeps optional fields', () => {
    const [rule] = parseRuleDefinitions([{ ...base, validators: [{ type: 'entropy', min: 3 }], confidence: 'low' }], 'x');
    expect(rule).toMatchObject({ id: 'demo-token', confidence: 'low', validators: [{ type: 'entropy', min: 3 }] });
  });
  it("keeps a charclasses validator's longMin and longFrom, and refuses one without the other", () => {
    const [rule] = parseRuleDefinitions([{ ...base, validators: [{ type: 'charclasses', min: 3, longMin: 2, longFrom: 20 }] }], 'x');
    expect(rule?.validators).toEqual([{ type: 'charclasses', min: 3, longMin: 2, longFrom: 20 }]);
    expect(message([{ ...base, validators: [{ type: 'charclasses', min: 3, longMin: 2 }] }])).toMatch(/`longMin` and `longFrom` go together/);
    expect(message([{ ...base, validators: [{ type: 'charclasses', min: 3, longFrom: 'x', longMin: 2 }] }])).toMatch(/whole numbers/);
  });
  it("keeps an entropy validator's hexMin and refuses one that is not a number", () => {
    const [rule] = parseRuleDefinitions([{ ...base, validators: [{ type: 'entropy', min: 3.5, hexMin: 3 }] }], 'x');
    expect(rule?.validators).toEqual([{ type: 'entropy', min: 3.5, hexMin: 3 }]);
    expect(message([{ ...base, validators: [{ type: 'entropy', min: 3.5, hexMin: 'low' }] }])).toMatch(/`hexMin` must be a number/);
  });
  it('takes the basic-auth validator, which has no parameters', () => {
    const [rule] = parseRuleDefinitions([{ ...base, validators: [{ type: 'basic-auth' }] }], 'x');
    expect(rule?.validators).toEqual([{ type: 'basic-auth' }]);
    expect(VALIDATOR_TYPES).toContain('basic-auth');
  });
  it('takes every type VALIDATOR_TYPES lists', () => {
    const params: Record<string, object> = { checksum: { scheme: 'github-crc32' }, entropy: { min: 3 }, charclasses: { min: 2 } };
    for (const type of VALIDATOR_TYPES) {
      expect(() => parseRuleDefinitions([{ ...base, validators: [{ type, ...params[type] }] }], 'x'), type).not.toThrow();
    }
  });
  it('names the file and the rule on a problem', () => {
    expect(message({})).toBe('rules/demo.yaml: a rule file must be a list of rules');
    expect(message([{ ...base, id: 'Bad_Id' }])).toMatch(/^rules\/demo\.yaml: rule "Bad_Id": `id` must be kebab-case/);
    expect(message([{ ...base, severity: 'urgent' }])).toMatch(/^rules\/demo\.yaml: rule 'demo-token': `severity` must be one of/);
    expect(message([{ ...base, keywords: 'demo_' }])).toMatch(/rule 'demo-token': `keywords` must be a list of strings/);
    expect(message([{ ...base, validators: [{ type: 'magic' }] }])).toMatch(/unknown validator type 'magic'/);
    expect(message([{ ...base, validators: [{ type: 'checksum', scheme: 'md5' }] }])).toMatch(/checksum validator needs `scheme`/);
    expect(message([{ ...base, patern: 'typo' }])).toMatch(/unknown field `patern`/);
    expect(message([{ ...base, pattern: undefined }])).toMatch(/needs a `pattern`/);
    expect(message([{ ...base, flags: 'gu' }])).toMatch(/`flags` may only contain i, m and s/);
  });
});
