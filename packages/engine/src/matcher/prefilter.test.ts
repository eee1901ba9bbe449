import { builtinRuleset } from '@pubguard/rules';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeywordPrefilter } from './prefilter.js';

type Hit = [position: number, length: number, rules: number[]];

/** The obvious definition: every position, every keyword, ASCII letters folded, nothing else. */
function reference(keywords: readonly string[], keywordRules: readonly (readonly number[])[], bytes: Uint8Array, from: number, to: number): Hit[] {
  const rulesOf = new Map<string, Set<number>>();
  keywords.forEach((k, i) => {
    const key = k.toLowerCase();
    const set = rulesOf.get(key) ?? new Set<number>();
    for (const r of keywordRules[i] ?? []) set.add(r);
    rulesOf.set(key, set);
  });
  const fold = (b: number): number => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  const hits: Hit[] = [];
  for (let p = from; p < Math.min(to, bytes.length); p++) {
    for (const [keyword, rules] of rulesOf) {
      const k = Buffer.from(keyword, 'latin1');
      if (p + k.length > bytes.length) continue;
      let j = 0;
      while (j < k.length && fold(bytes[p + j] ?? -1) === k[j]) j++;
      if (j === k.length) hits.push([p, k.length, [...rules].sort((a, b) => a - b)]);
    }
  }
  return sorted(hits);
}

function sorted(hits: Hit[]): Hit[] {
  return hits.sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2][0] ?? 0) - (b[2][0] ?? 0));
}

/** Runs the prefilter and checks that hits arrive in order of position, as the matcher relies on. */
function scan(filter: KeywordPrefilter, bytes: Uint8Array, from: number, to: number): Hit[] {
  const hits: Hit[] = [];
  let last = -1;
  filter.scan(bytes, from, to, (pos, len, rules) => {
    expect(pos).toBeGreaterThanOrEqual(last);
    last = pos;
    hits.push([pos, len, [...rules]]);
  });
  return sorted(hits);
}

/** `text` as latin1 bytes starting `shift` bytes into a larger buffer, so every alignment of the word loop is reached. */
function placed(text: string, shift: number, fill = 'a'): Uint8Array {
  const raw = Buffer.from(text, 'latin1');
  // What lies around the bytes must never be read: `fill` can complete a keyword there.
  const outer = new Uint8Array(raw.length + shift + 8).fill(fill.charCodeAt(0));
  outer.set(raw, shift);
  return outer.subarray(shift, shift + raw.length);
}

describe('KeywordPrefilter', () => {
  it('reports every keyword at every position, overlapping and nested ones too', () => {
    const filter = new KeywordPrefilter(['abcd', 'cdef', 'bcd', 'ABC'], [[0], [1], [2], [3]]);
    expect(scan(filter, Buffer.from('xxAbCdefxx', 'latin1'), 0, 10)).toEqual([
      [2, 3, [3]],
      [2, 4, [0]],
      [3, 3, [2]],
      [4, 4, [1]],
    ]);
  });

  it('finds keywords at odd and even offsets, at every alignment, in short and long inputs', () => {
    const keywords = ['ghp_', 'npm_', 'cio', 'password'];
    const rules = [[0], [1], [2], [3]];
    const filter = new KeywordPrefilter(keywords, rules);
    for (const size of [20, 200]) {
      for (const shift of [0, 1, 2, 3]) {
        for (let at = 0; at + 8 <= size; at += 7) {
          const text = `${'x'.repeat(at)}PassWord${'y'.repeat(size - at - 8)}`;
          const bytes = placed(text, shift);
          expect(scan(filter, bytes, 0, size)).toEqual([[at, 8, [3]]]);
        }
      }
    }
  });

  it('finds a keyword that ends the buffer, and one that starts just before `to` and ends after it', () => {
    const filter = new KeywordPrefilter(['token', 'cio'], [[0], [1]]);
    for (const pad of [0, 1, 2, 3, 61, 62, 63, 64, 65, 200]) {
      for (const shift of [0, 1, 2, 3]) {
        const text = `${'-'.repeat(pad)}TOKEN`;
        const bytes = placed(text, shift);
        expect(scan(filter, bytes, 0, bytes.length)).toEqual([[pad, 5, [0]]]);
        // Starts in the range, ends past `to`: still found.
        expect(scan(filter, bytes, 0, pad + 1)).toEqual([[pad, 5, [0]]]);
        // Starts at `to`: belongs to the next range.
        expect(scan(filter, bytes, 0, pad)).toEqual([]);
        const short = placed(`${'-'.repeat(pad)}cio`, shift);
        expect(scan(filter, short, 0, short.length)).toEqual([[pad, 3, [1]]]);
      }
    }
  });

  it('does not report a keyword longer than the bytes left', () => {
    const filter = new KeywordPrefilter(['password', 'pas'], [[0], [1]]);
    for (const pad of [0, 5, 70, 133]) {
      const text = `${'.'.repeat(pad)}passwor`;
      for (const shift of [0, 1, 2, 3]) expect(scan(filter, placed(text, shift, 'd'), 0, text.length)).toEqual([[pad, 3, [1]]]);
    }
  });

  it('honours `from`: positions before it are not reported even when the keyword runs into the range', () => {
    const filter = new KeywordPrefilter(['secret'], [[0]]);
    const text = `${'z'.repeat(100)}secret${'z'.repeat(100)}secret`;
    const bytes = placed(text, 2);
    expect(scan(filter, bytes, 101, bytes.length)).toEqual([[206, 6, [0]]]);
    expect(scan(filter, bytes, 100, bytes.length)).toEqual([
      [100, 6, [0]],
      [206, 6, [0]],
    ]);
  });

  it('folds ASCII letters only: the bytes that OR 0x20 merges with a keyword byte do not match', () => {
    // '_' | 0x20 is DEL, ':' and 0x1a, '-' and CR, '.' and 0x0e, '~' and '^', '0' and 0x10.
    const filter = new KeywordPrefilter(['_auth', 'jdbc:', 'glrt-', 'sg.', '0q~'], [[0], [1], [2], [3], [4]]);
    const decoys = ['\x7fauth', 'jdbc\x1a', 'glrt\r', 'sg\x0e', '0q^', '\x10q~', '0Q^'];
    for (const shift of [0, 3]) {
      const text = `${decoys.join(' ')} ${'.'.repeat(80)} ${decoys.join('|')}`;
      expect(scan(filter, placed(text, shift), 0, text.length)).toEqual([]);
      const real = `${'.'.repeat(70)}_AUTH JDBC: GLRT- SG. 0Q~`;
      expect(scan(filter, placed(real, shift), 0, real.length).map((h) => h[0])).toEqual([70, 76, 82, 88, 92]);
    }
  });

  it('matches mixed case in the input and in the keywords, and merges rules of keywords equal after lower-casing', () => {
    const filter = new KeywordPrefilter(['Api_Key', 'api_key', 'APIKEY'], [[4], [1, 4], [2]]);
    const text = `x aPi_KeY y ApIkEy ${'#'.repeat(70)}API_KEY`;
    expect(scan(filter, placed(text, 1), 0, text.length)).toEqual([
      [2, 7, [1, 4]],
      [12, 6, [2]],
      [89, 7, [1, 4]],
    ]);
  });

  it('rejects keywords shorter than three characters', () => {
    expect(() => new KeywordPrefilter(['ab'], [[0]])).toThrow(RangeError);
  });

  it('agrees with the obvious definition on random keywords, texts, ranges and alignments', () => {
    // A small alphabet with case pairs, OR-0x20 aliases and high bytes, so keywords overlap,
    // share prefixes and collide in the filters often.
    const alphabet = ['a', 'A', 'b', 'B', 'c', '_', '\x7f', '-', '\r', ':', '\x1a', '0', '\x10', '\xe9', '\xc9', ' '];
    const keywordArb = fc.array(fc.constantFrom(...alphabet), { minLength: 3, maxLength: 7 }).map((cs) => cs.join(''));
    const caseArb = fc.record({
      keywords: fc.array(keywordArb, { minLength: 1, maxLength: 12 }),
      pieces: fc.array(fc.oneof(fc.constantFrom(...alphabet), keywordArb), { maxLength: 120 }),
      shift: fc.integer({ min: 0, max: 7 }),
      cut: fc.tuple(fc.nat(), fc.nat()),
    });
    fc.assert(
      fc.property(caseArb, ({ keywords, pieces, shift, cut }) => {
        const rules = keywords.map((_, i) => [i]);
        // Keywords themselves (in random case) appear in the text.
        const text = pieces.map((p, i) => (i % 3 === 0 && keywords.length > 0 ? (keywords[i % keywords.length] ?? p).toUpperCase() : p)).join('');
        const bytes = placed(text, shift);
        const from = bytes.length === 0 ? 0 : cut[0] % (bytes.length + 1);
        const to = from + (bytes.length === 0 ? 0 : cut[1] % (bytes.length - from + 2));
        const filter = new KeywordPrefilter(keywords, rules);
        expect(scan(filter, bytes, from, to)).toEqual(reference(keywords, rules, bytes, from, to));
      }),
      { seed: 0x9f1e_7e52, numRuns: 400 },
    );
  });

  it('agrees with the obvious definition for the builtin keywords, on text made of them', () => {
    const { keywords, keywordRules } = builtinRuleset();
    const filter = new KeywordPrefilter(keywords, keywordRules);
    const fillers = [' ', '\n', '"', '=', 'x', 'Z', '_', '-', '.', '\x7f', '\r', '\x00', '\xff'];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...keywords), fc.constantFrom(...fillers)), { maxLength: 80 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        (pieces, upper, shift) => {
          const joined = pieces.join('');
          const text = upper ? joined.toUpperCase() : joined;
          const bytes = placed(text, shift);
          expect(scan(filter, bytes, 0, bytes.length)).toEqual(reference(keywords, keywordRules, bytes, 0, bytes.length));
        },
      ),
      { seed: 0x0b11_7105, numRuns: 150 },
    );
  });
});
