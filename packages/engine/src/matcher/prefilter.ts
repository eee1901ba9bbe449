/**
 * Finds every position where any keyword starts, case-insensitively, in one pass.
 *
 * Keywords are matched on lower-cased latin1 text. Longer keywords are tried first, and a
 * keyword that contains another inherits that keyword's rules, so a position reported for
 * the longer one still triggers the shorter one's rules.
 */
export class KeywordPrefilter {
  private readonly regex: RegExp | undefined;
  private readonly ruleSets: Map<string, number[]>;

  /** `keywords[i]` triggers the rules `keywordRules[i]`. */
  constructor(keywords: readonly string[], keywordRules: readonly (readonly number[])[]) {
    const rulesOf = new Map<string, Set<number>>();
    keywords.forEach((k, i) => {
      const key = k.toLowerCase();
      const set = rulesOf.get(key) ?? new Set<number>();
      for (const r of keywordRules[i] ?? []) set.add(r);
      rulesOf.set(key, set);
    });
    const distinct = [...rulesOf.keys()].filter((k) => k.length > 0);
    this.ruleSets = new Map();
    for (const outer of distinct) {
      const merged = new Set<number>();
      for (const inner of distinct) {
        if (outer.includes(inner)) for (const r of rulesOf.get(inner) ?? []) merged.add(r);
      }
      this.ruleSets.set(outer, [...merged].sort((a, b) => a - b));
    }
    distinct.sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.regex = distinct.length
      ? new RegExp(distinct.map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g')
      : undefined;
  }

  /**
   * Calls `hit(position, keywordLength, rules)` for every keyword start in `lower[from, to)`.
   * Matches may end past `to`, up to the end of the string.
   */
  scan(lower: string, from: number, to: number, hit: (position: number, length: number, rules: readonly number[]) => void): void {
    const regex = this.regex;
    if (!regex) return;
    regex.lastIndex = from;
    for (;;) {
      const m = regex.exec(lower);
      if (m === null || m.index >= to) return;
      hit(m.index, m[0].length, this.ruleSets.get(m[0]) ?? []);
      // Restart one past the start so keywords overlapping this one are still seen.
      regex.lastIndex = m.index + 1;
    }
  }
}
