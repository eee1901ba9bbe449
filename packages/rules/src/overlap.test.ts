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

/** The first version of `dropOverlapping`, which compared each finding with every one kept. */
function dropOverlappingReference<T>(items: readonly T[], spanOf: (item: T) => readonly [number, number], ruleOf: (item: T) => RulePriority): T[] {
  const sorted = [...items].sort((a, b) => spanOf(a)[0] - spanOf(b)[0] || compareRulePriority(ruleOf(a), ruleOf(b)));
  const kept: T[] = [];
  for (const item of sorted) {
    const [start, end] = spanOf(item);
    if (end <= start) {
      kept.push(item);
      continue;
    }
    const rivals = kept.filter((k) => {
      const [ks, ke] = spanOf(k);
      return ke > ks && ks < end && start < ke;
    });
    if (rivals.some((r) => compareRulePriority(ruleOf(r), ruleOf(item)) <= 0)) continue;
    for (const r of rivals) kept.splice(kept.indexOf(r), 1);
    kept.push(item);
  }
  return kept.sort((a, b) => spanOf(a)[0] - spanOf(b)[0]);
}

describe('dropOverlapping against the quadratic reference', () => {
  // A small seeded generator, so a failure can be replayed from the seed in its message.
  function random(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  // Equal priorities on purpose: two objects of one rule, and two rules that differ only by id.
  const pool = [generic, google, pem, { ...google }, rule('a', 'high', 'high'), rule('b', 'medium', 'low'), rule('c', 'medium', 'low'), rule('d', 'low', 'info')];

  it('keeps the same findings in the same order on random overlapping, nested and empty spans', () => {
    type G = F & { i: number };
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      const int = (n: number) => Math.floor(next() * n);
      const count = int(40);
      const width = 1 + int(80);
      const fs: G[] = [];
      for (let i = 0; i < count; i++) {
        const s = int(width);
        // Mostly short spans, some long ones that nest others, some empty or reversed.
        const len = next() < 0.1 ? -int(3) : next() < 0.2 ? int(width) : int(12);
        fs.push({ r: pool[int(pool.length)] as RulePriority, s, e: s + len, i });
      }
      const span = (f: G): [number, number] => [f.s, f.e];
      const got = dropOverlapping(fs, span, (f) => f.r).map((f) => f.i);
      const want = dropOverlappingReference(fs, span, (f) => f.r).map((f) => f.i);
      expect(got, `seed ${seed}`).toEqual(want);
    }
  });

  it('takes linear time on 100 000 findings in one file', () => {
    const fs: F[] = [];
    for (let i = 0; i < 100_000; i++) fs.push({ r: i % 3 === 0 ? google : generic, s: i * 50, e: i * 50 + 40 });
    const start = performance.now();
    const kept = keep(fs);
    // Comparing each finding with every kept one takes minutes here.
    expect(performance.now() - start).toBeLessThan(1000);
    expect(kept).toHaveLength(100_000);
  });
});
