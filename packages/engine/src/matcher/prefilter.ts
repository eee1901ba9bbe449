// The word loop reads four bytes per load and takes the first of them from the low end of
// the word. On a big-endian machine every position goes through the byte loop instead.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Below this many positions, making a Uint32Array view and aligning to it costs more than
// it saves: many files in a package are that small.
const WORD_LOOP_MIN = 64;

// Candidate keywords are grouped by a hash of their first three bytes: 4096 groups keep the
// group tables small enough to stay in cache, and hardly any two keyword prefixes share one.
const GROUP_BITS = 12;

/** Group of a case-folded trigram (`b0 | b1 << 8 | b2 << 16`, each byte ORed with 0x20). */
function groupOf(trigram: number): number {
  return Math.imul(trigram, 0x9e3779b1) >>> (32 - GROUP_BITS);
}

/**
 * Finds every position where a keyword starts, case-insensitively, in one pass over bytes.
 *
 * Three steps, cheapest first, so that almost every position costs a few integer
 * operations and one table load:
 * 1. `pairs`: per (case-folded) first two bytes, a 32-bit set of the low five bits of the
 *    third. The main loop loads the input four bytes at a time and tests the four positions
 *    of each word with one branch.
 * 2. `fourth`: per group of the first three bytes, a 32-bit set of the low five bits of the
 *    fourth (every bit for a three-byte keyword); rejects most of what (1) lets through in
 *    text ("int" in "interface", "her" in "here").
 * 3. The keywords of that group, compared four bytes at a time as integers.
 * Every keyword that matches at a position is reported, so a keyword inside another
 * (`token` in `auth_token`) is found at its own position as well.
 *
 * Case folding in (1) and (2) is an OR with 0x20, which also merges some pairs of
 * non-letters (`_` with DEL, `-` with CR): those filters may pass too much, never too
 * little. The comparison in (3) is exact: ASCII letters in either case, every other byte as
 * it is.
 */
export class KeywordPrefilter {
  /** First two bytes (`b0 | b1 << 8`, folded) -> bit `b2 & 31` set when some keyword starts with them. */
  private readonly pairs = new Int32Array(65536);
  /** Group of the first three bytes -> bit `b3 & 31` set when some keyword continues with it. */
  private readonly fourth = new Int32Array(1 << GROUP_BITS);
  /** Keywords of group g are `groupStart[g] .. groupEnd[g] - 1` in the arrays below (none: both 0). */
  private readonly groupStart = new Uint32Array(1 << GROUP_BITS);
  private readonly groupEnd = new Uint32Array(1 << GROUP_BITS);
  private readonly lengths: Uint32Array;
  /** Where each keyword's words start in `words`, `cases` and `masks`. */
  private readonly wordStart: Uint32Array;
  /**
   * Each keyword (lower-cased) as little-endian 32-bit words, so that bytes read from the
   * input match word `k` when `((input | cases[k]) & masks[k]) === words[k]`: `cases` has
   * 0x20 at the ASCII letters (folding case), 0 at every other byte (compared exactly), and
   * `masks` clears the bytes past the keyword's end in its last word.
   */
  private readonly words: Int32Array;
  private readonly cases: Int32Array;
  private readonly masks: Int32Array;
  private readonly rules: number[][];

  /** `keywords[i]` triggers the rules `keywordRules[i]`. Keywords have at least three bytes. */
  constructor(keywords: readonly string[], keywordRules: readonly (readonly number[])[]) {
    const rulesOf = new Map<string, Set<number>>();
    keywords.forEach((k, i) => {
      const key = k.toLowerCase();
      const set = rulesOf.get(key) ?? new Set<number>();
      for (const r of keywordRules[i] ?? []) set.add(r);
      rulesOf.set(key, set);
    });
    const entries: Array<{ group: number; keyword: string; rules: number[] }> = [];
    let wordCount = 0;
    for (const [keyword, rules] of rulesOf) {
      if (keyword.length < 3) throw new RangeError(`keyword '${keyword}' is shorter than three characters`);
      // Bytes as latin1 encodes them: the low byte of each UTF-16 unit.
      const b = (j: number): number => (keyword.charCodeAt(j) & 0xff) | 0x20;
      const trigram = b(0) | (b(1) << 8) | (b(2) << 16);
      const group = groupOf(trigram);
      this.pairs[trigram & 0xffff] = (this.pairs[trigram & 0xffff] as number) | (1 << (b(2) & 31));
      this.fourth[group] = (this.fourth[group] as number) | (keyword.length > 3 ? 1 << (b(3) & 31) : -1);
      entries.push({ group, keyword, rules: [...rules].sort((x, y) => x - y) });
      wordCount += (keyword.length + 3) >>> 2;
    }
    // Stable: keywords of one group keep their order, so hits at one position do too.
    entries.sort((x, y) => x.group - y.group);
    this.lengths = new Uint32Array(entries.length);
    this.wordStart = new Uint32Array(entries.length);
    this.words = new Int32Array(wordCount);
    this.cases = new Int32Array(wordCount);
    this.masks = new Int32Array(wordCount);
    this.rules = [];
    let next = 0;
    for (let i = 0; i < entries.length; i++) {
      const { group, keyword, rules } = entries[i] as (typeof entries)[number];
      this.lengths[i] = keyword.length;
      this.wordStart[i] = next;
      for (let j = 0; j < keyword.length; j++) {
        const byte = keyword.charCodeAt(j) & 0xff;
        const k = next + (j >>> 2);
        const shift = 8 * (j & 3);
        this.words[k] = (this.words[k] as number) | (byte << shift);
        this.cases[k] = (this.cases[k] as number) | ((byte >= 0x61 && byte <= 0x7a ? 0x20 : 0) << shift);
        this.masks[k] = (this.masks[k] as number) | (0xff << shift);
      }
      next += (keyword.length + 3) >>> 2;
      this.rules.push(rules);
      if (this.groupEnd[group] === 0) this.groupStart[group] = i;
      this.groupEnd[group] = i + 1;
    }
  }

  /**
   * Calls `hit(position, keywordLength, rules)` for every keyword start in `bytes[from, to)`,
   * in order of position. Matches may end past `to`, up to the end of `bytes`.
   */
  scan(bytes: Uint8Array, from: number, to: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const end = Math.min(to, bytes.length - 2);
    if (from >= end) return;
    if (!LITTLE_ENDIAN || end - from < WORD_LOOP_MIN) {
      this.scanBytes(bytes, from, end, hit);
      return;
    }
    // A Uint32Array view needs a 4-byte aligned start: the few positions before it go
    // through the byte loop.
    const base = bytes.byteOffset;
    const first = from + ((4 - ((base + from) & 3)) & 3);
    this.scanBytes(bytes, from, first, hit);
    const words = new Uint32Array(bytes.buffer, base + first, (bytes.length - first) >>> 2);
    // Word k holds positions first + 4k .. first + 4k + 3; their trigrams reach into word k + 1.
    const count = Math.min(words.length - 1, (end - first) >>> 2);
    this.scanWords(bytes, words, first, count, hit);
    this.scanBytes(bytes, first + 4 * count, end, hit);
  }

  /**
   * Step (1) for the positions of `words[0 .. count - 1]`, which start at `bytes[first]`.
   * Only the loop, in a method of its own: V8 compiles it on stack replacement while it runs,
   * and code after the loop would have had no type feedback yet, making that compiled code
   * bail out at the end of every call.
   */
  private scanWords(bytes: Uint8Array, words: Uint32Array, first: number, count: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const pairs = this.pairs;
    let w = (words[0] as number) | 0x20202020;
    for (let k = 0; k < count; k++) {
      const x = (words[k + 1] as number) | 0x20202020;
      // A shift by a byte uses its low five bits: `>>> (w >>> 16)` shifts by b2 & 31.
      if (
        (((pairs[w & 0xffff] as number) >>> (w >>> 16)) |
          ((pairs[(w >>> 8) & 0xffff] as number) >>> (w >>> 24)) |
          ((pairs[w >>> 16] as number) >>> x) |
          ((pairs[(w >>> 24) | ((x & 0xff) << 8)] as number) >>> (x >>> 8))) &
        1
      ) {
        this.scanWord(bytes, first + 4 * k, w, x, hit);
      }
      w = x;
    }
  }

  /** Runs steps (1) and (2) for each of the four positions of a word where (1) passed for at least one. */
  private scanWord(bytes: Uint8Array, position: number, w: number, x: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const pairs = this.pairs;
    if (((pairs[w & 0xffff] as number) >>> (w >>> 16)) & 1) this.probe(bytes, position, w, hit);
    if (((pairs[(w >>> 8) & 0xffff] as number) >>> (w >>> 24)) & 1) this.probe(bytes, position + 1, (w >>> 8) | (x << 24), hit);
    if (((pairs[w >>> 16] as number) >>> x) & 1) this.probe(bytes, position + 2, (w >>> 16) | (x << 16), hit);
    if (((pairs[(w >>> 24) | ((x & 0xff) << 8)] as number) >>> (x >>> 8)) & 1) this.probe(bytes, position + 3, (w >>> 24) | (x << 8), hit);
  }

  /** Step (2) for a position whose next four bytes, folded, are `head` (the first in the low byte). */
  private probe(bytes: Uint8Array, position: number, head: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    if ((((this.fourth[groupOf(head & 0xffffff)] as number) >>> (head >>> 24)) & 1) === 0) return;
    this.verify(bytes, position, hit);
  }

  /** Step (1) one position at a time, for short ranges, the unaligned head and the tail. `end` ≤ bytes.length - 2. */
  private scanBytes(bytes: Uint8Array, from: number, end: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const pairs = this.pairs;
    for (let i = from; i < end; i++) {
      const pair = ((bytes[i] as number) | 0x20) | (((bytes[i + 1] as number) | 0x20) << 8);
      if (((pairs[pair] as number) >>> (bytes[i + 2] as number)) & 1) this.verify(bytes, i, hit);
    }
  }

  /** Step (3): compares the keywords of the position's group and reports those that match. */
  private verify(bytes: Uint8Array, position: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const left = bytes.length - position;
    const first = readWord(bytes, position, left);
    const group = groupOf((first | 0x202020) & 0xffffff);
    const stop = this.groupEnd[group] as number;
    const { lengths, wordStart, words, cases, masks } = this;
    for (let c = this.groupStart[group] as number; c < stop; c++) {
      const length = lengths[c] as number;
      if (length > left) continue;
      let k = wordStart[c] as number;
      if (((first | (cases[k] as number)) & (masks[k] as number)) !== words[k]) continue;
      let j = 4;
      for (k++; j < length; j += 4, k++) {
        if (((readWord(bytes, position + j, left - j) | (cases[k] as number)) & (masks[k] as number)) !== words[k]) break;
      }
      if (j >= length) hit(position, length, this.rules[c] as number[]);
    }
  }
}

/** Up to four bytes from `at` as a little-endian integer; `left` is how many there are, missing ones read as 0. */
function readWord(bytes: Uint8Array, at: number, left: number): number {
  if (left >= 4) return (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24);
  let word = 0;
  for (let j = 0; j < left; j++) word |= (bytes[at + j] as number) << (8 * j);
  return word;
}
