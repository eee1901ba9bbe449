// Lower-cases ASCII letters and leaves every other byte alone: keywords are matched
// case-insensitively on raw bytes, without decoding or copying the chunk.
const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;

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
 * Three filters, cheapest first, so that almost every position costs a few integer
 * operations and one table load:
 * 1. `pairs`: per (case-folded) first two bytes, a 32-bit set of the low five bits of the
 *    third. The main loop loads the chunk four bytes at a time and tests the four positions
 *    of each word with one branch.
 * 2. `fourth`: per group of the first three bytes, a 32-bit set of the low five bits of the
 *    fourth (every bit for a three-byte keyword); rejects most of what (1) lets through in
 *    text ("int" in "interface", "her" in "here").
 * 3. The keywords of that group: their first four bytes compared as one integer, then every
 *    byte with exact ASCII case folding.
 * Every keyword that matches at a position is reported, so a keyword inside another
 * (`token` in `auth_token`) is found at its own position as well.
 *
 * Case folding in (1)–(3) is an OR with 0x20, which also merges some pairs of non-letters
 * (`_` with DEL, `-` with CR): the filters may pass too much, never too little, and the
 * byte comparison at the end tells them apart.
 */
export class KeywordPrefilter {
  /** First two bytes (`b0 | b1 << 8`, folded) -> bit `b2 & 31` set when some keyword starts with them. */
  private readonly pairs = new Int32Array(65536);
  /** Group of the first three bytes -> bit `b3 & 31` set when some keyword continues with it. */
  private readonly fourth = new Int32Array(1 << GROUP_BITS);
  /** Keywords of group g are `groupStart[g] .. groupStart[g + 1] - 1` in the arrays below. */
  private readonly groupStart = new Uint32Array((1 << GROUP_BITS) + 1);
  /** First four bytes of each keyword, folded, as a little-endian integer (three for a three-byte keyword). */
  private readonly heads: Int32Array;
  /** Which bytes of `heads` count: all four, or the low three for a three-byte keyword. */
  private readonly headMasks: Int32Array;
  private readonly lengths: Uint32Array;
  /** Where each keyword's bytes (lower-cased) start in `keywordBytes`. */
  private readonly offsets: Uint32Array;
  private readonly keywordBytes: Uint8Array;
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
    const entries: Array<{ group: number; bytes: Uint8Array; rules: number[] }> = [];
    for (const [keyword, rules] of rulesOf) {
      if (keyword.length < 3) throw new RangeError(`keyword '${keyword}' is shorter than three characters`);
      const bytes = Buffer.from(keyword, 'latin1');
      const b = (j: number): number => (bytes[j] ?? 0) | 0x20;
      const trigram = b(0) | (b(1) << 8) | (b(2) << 16);
      const group = groupOf(trigram);
      this.pairs[trigram & 0xffff] = (this.pairs[trigram & 0xffff] ?? 0) | (1 << (b(2) & 31));
      this.fourth[group] = (this.fourth[group] ?? 0) | (bytes.length > 3 ? 1 << (b(3) & 31) : -1);
      entries.push({ group, bytes, rules: [...rules].sort((x, y) => x - y) });
    }
    // Stable: keywords of one group keep their order, so hits at one position do too.
    entries.sort((x, y) => x.group - y.group);
    const n = entries.length;
    this.heads = new Int32Array(n);
    this.headMasks = new Int32Array(n);
    this.lengths = new Uint32Array(n);
    this.offsets = new Uint32Array(n);
    this.keywordBytes = new Uint8Array(entries.reduce((sum, e) => sum + e.bytes.length, 0));
    this.rules = [];
    let offset = 0;
    entries.forEach((e, i) => {
      const b = (j: number): number => (e.bytes[j] ?? 0) | 0x20;
      const long = e.bytes.length > 3;
      this.heads[i] = b(0) | (b(1) << 8) | (b(2) << 16) | (long ? b(3) << 24 : 0);
      this.headMasks[i] = long ? -1 : 0xffffff;
      this.lengths[i] = e.bytes.length;
      this.offsets[i] = offset;
      this.keywordBytes.set(e.bytes, offset);
      offset += e.bytes.length;
      this.rules.push(e.rules);
      this.groupStart[e.group + 1] = i + 1;
    });
    // Empty groups start where the previous one ended.
    for (let g = 1; g < this.groupStart.length; g++) {
      this.groupStart[g] = Math.max(this.groupStart[g] ?? 0, this.groupStart[g - 1] ?? 0);
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
    this.scanBytes(bytes, first + 4 * count, end, hit);
  }

  /** The four positions of a word where the first filter passed at least one: which ones, and then the rest. */
  private scanWord(bytes: Uint8Array, position: number, w: number, x: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const pairs = this.pairs;
    if (((pairs[w & 0xffff] as number) >>> (w >>> 16)) & 1) this.probe(bytes, position, w, hit);
    if (((pairs[(w >>> 8) & 0xffff] as number) >>> (w >>> 24)) & 1) this.probe(bytes, position + 1, (w >>> 8) | (x << 24), hit);
    if (((pairs[w >>> 16] as number) >>> x) & 1) this.probe(bytes, position + 2, (w >>> 16) | (x << 16), hit);
    if (((pairs[(w >>> 24) | ((x & 0xff) << 8)] as number) >>> (x >>> 8)) & 1) this.probe(bytes, position + 3, (w >>> 24) | (x << 8), hit);
  }

  /** Second filter for a position whose four folded bytes are `head` (b0 in the low byte). */
  private probe(bytes: Uint8Array, position: number, head: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    if ((((this.fourth[groupOf(head & 0xffffff)] as number) >>> (head >>> 24)) & 1) === 0) return;
    this.verify(bytes, position, hit);
  }

  /** One position at a time, for short ranges, the unaligned head and the tail. `end` ≤ bytes.length - 2. */
  private scanBytes(bytes: Uint8Array, from: number, end: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const pairs = this.pairs;
    for (let i = from; i < end; i++) {
      const pair = ((bytes[i] as number) | 0x20) | (((bytes[i + 1] as number) | 0x20) << 8);
      if (((pairs[pair] as number) >>> (bytes[i + 2] as number)) & 1) this.verify(bytes, i, hit);
    }
  }

  /** Compares the keywords of the position's group and reports those that match. */
  private verify(bytes: Uint8Array, position: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const left = bytes.length - position;
    const trigram = ((bytes[position] as number) | 0x20) | (((bytes[position + 1] as number) | 0x20) << 8) | (((bytes[position + 2] as number) | 0x20) << 16);
    const head = left > 3 ? trigram | (((bytes[position + 3] as number) | 0x20) << 24) : trigram;
    const group = groupOf(trigram);
    const stop = this.groupStart[group + 1] as number;
    const keywordBytes = this.keywordBytes;
    for (let c = this.groupStart[group] as number; c < stop; c++) {
      if ((head & (this.headMasks[c] as number)) !== this.heads[c]) continue;
      const length = this.lengths[c] as number;
      if (length > left) continue;
      const offset = this.offsets[c] as number;
      let j = 0;
      while (j < length && FOLD[bytes[position + j] as number] === keywordBytes[offset + j]) j++;
      if (j === length) hit(position, length, this.rules[c] as number[]);
    }
  }
}
