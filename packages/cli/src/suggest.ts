/**
 * Edit distance between two words, counting an insertion, a deletion, a substitution or a
 * swap of two neighbouring characters as one edit: swaps are the commonest typo ("scna").
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((d[(i - 1) * cols + j] ?? 0) + 1, (d[i * cols + j - 1] ?? 0) + 1, (d[(i - 1) * cols + j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (d[(i - 2) * cols + j - 2] ?? 0) + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1] ?? 0;
}

/**
 * The candidates nearest to a mistyped `word` (every one at the smallest distance found):
 * within two edits, and no more edits than half the word, so that a short word is not taken
 * for just any other.
 */
export function closest(word: string, candidates: readonly string[]): string[] {
  const limit = Math.min(2, Math.floor(word.length / 2));
  const scored = [...new Set(candidates)].map((c) => ({ c, d: editDistance(word, c) })).filter((s) => s.d <= limit);
  scored.sort((x, y) => x.d - y.d);
  return scored.filter((s) => s.d === scored[0]?.d).map((s) => s.c);
}
