import { describe, expect, it } from 'vitest';
import { compareRulePriority, dropOverlapping, type RulePriority } from './overlap.js';

const rule = (id: string, confidence: RulePriority['confidence'], severity: RulePriority['severity']): RulePriority => ({ id, confidence, severity });
const generic = rule('generic-api-key-assignment', 'low', 'medium');
const google = rule('google-api-key', 'high', 'high');
const pem = rule('pem-private-key', 'high', 'critical');

type F = { r: RulePriority; s: number; e: number };
const ids = (fs: F[]) => fs.map((f) => `${f.r.id}@${f.s}`);
const keep = (fs: F[]) => dropOverlapping(fs, (f) => [f.s, f.e], (f) => f.r);

describe('dropOverlapping', () => {
  it('keeps the specific rule over a generic one on the same secret, whatever the order', () => {
    const a = { r: generic, s: 10, e: 49 };
    const b = { r: google, s: 10, e: 49 };
    expect(ids(keep([a, b]))).toEqual(['google-api-key@10']);
    expect(ids(keep([b, a]))).toEqual(['google-api-key@10']);
  });

  it('resolves partial overlaps and leaves separate secrets alone', () => {
    const fs = [
      { r: generic, s: 0, e: 20 },
      { r: pem, s: 15, e: 60 },
      { r: google, s: 70, e: 109 },
      { r: generic, s: 120, e: 130 },
    ];
    expect(ids(keep(fs))).toEqual(['pem-private-key@15', 'google-api-key@70', 'generic-api-key-assignment@120']);
  });

  it('never drops findings without a span (files and archive structure)', () => {
    const fs = [
      { r: generic, s: 0, e: 0 },
      { r: google, s: 0, e: 0 },
    ];
    expect(keep(fs)).toHaveLength(2);
  });
});

describe('compareRulePriority', () => {
  it('ranks confidence, then severity, then id', () => {
    expect(compareRulePriority(google, generic)).toBeLessThan(0);
    expect(compareRulePriority(rule('a', 'high', 'high'), rule('b', 'high', 'critical'))).toBeGreaterThan(0);
    expect(compareRulePriority(rule('a', 'high', 'high'), rule('b', 'high', 'high'))).toBeLessThan(0);
  });
});
