// Lower-cases ASCII letters and leaves every other byte alone: keywords are matched
// case-insensitively on raw bytes, without decoding or copying the chunk.
const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;

/**
 * Finds every position where a keyword starts, case-insensitively, in one pass over bytes.
 *
 * A bitset of the (case-folded) first three bytes of every keyword rejects almost every
 * position with one lookup; where it hits, a table indexed by the first two bytes lists the
 * keywords to compare. Every keyword that matches at a position is reported, so a keyword
 * inside another (`token` in `auth_token`) is found at its own position as well.
 */
export class KeywordPrefilter {
  /** One bit per possible first three bytes (2 MiB): set when some keyword starts with them. */
  private readonly trigrams = new Uint32Array(1 << 19);
  /** Bigram -> 1 + index into `candidates`, or 0 when no keyword starts with that pair. */
  private readonly table = new Uint16Array(65536);
  /** Per bigram: keywords (as bytes, lower-cased) starting with it. */
  private readonly candidates: Array<Array<{ bytes: Uint8Array; rules: number[] }>> = [];

  /** `keywords[i]` triggers the rules `keywordRules[i]`. Keywords have at least three bytes. */
  constructor(keywords: readonly string[], keywordRules: readonly (readonly number[])[]) {
    const rulesOf = new Map<string, Set<number>>();
    keywords.forEach((k, i) => {
      const key = k.toLowerCase();
      const set = rulesOf.get(key) ?? new Set<number>();
      for (const r of keywordRules[i] ?? []) set.add(r);
      rulesOf.set(key, set);
    });
    for (const [keyword, rules] of rulesOf) {
      if (keyword.length < 3) throw new RangeError(`keyword '${keyword}' is shorter than three characters`);
      const bytes = Buffer.from(keyword, 'latin1');
      // Indexed by bytes with bit 5 set: that folds case in one OR (and merges a few
      // punctuation pairs, which the full comparison then tells apart).
      const bigram = (((bytes[0] ?? 0) | 0x20) << 8) | ((bytes[1] ?? 0) | 0x20);
      const trigram = (bigram << 8) | ((bytes[2] ?? 0) | 0x20);
      this.trigrams[trigram >>> 5] = (this.trigrams[trigram >>> 5] ?? 0) | (1 << (trigram & 31));
      let slot = this.table[bigram] ?? 0;
      if (slot === 0) {
        this.candidates.push([]);
        slot = this.candidates.length;
        this.table[bigram] = slot;
      }
      this.candidates[slot - 1]?.push({ bytes, rules: [...rules].sort((a, b) => a - b) });
    }
  }

  /**
   * Calls `hit(position, keywordLength, rules)` for every keyword start in `bytes[from, to)`.
   * Matches may end past `to`, up to the end of `bytes`.
   */
  scan(bytes: Uint8Array, from: number, to: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const trigrams = this.trigrams;
    const table = this.table;
    const end = Math.min(to, bytes.length - 2);
    if (from >= end) return;
    let h = (((bytes[from] as number) | 0x20) << 8) | ((bytes[from + 1] as number) | 0x20);
    for (let i = from; i < end; i++) {
      h = ((h << 8) | (bytes[i + 2] as number) | 0x20) & 0xffffff;
      if (((trigrams[h >>> 5] as number) & (1 << (h & 31))) === 0) continue;
      const list = this.candidates[(table[h >>> 8] as number) - 1] as Array<{ bytes: Uint8Array; rules: number[] }>;
      for (const keyword of list) {
        const k = keyword.bytes;
        if (i + k.length > bytes.length) continue;
        let j = 0;
        while (j < k.length && FOLD[bytes[i + j] as number] === k[j]) j++;
        if (j === k.length) hit(i, k.length, keyword.rules);
      }
    }
  }
}
