import type { CompiledRule, Confidence, Severity } from './types.js';

const CONFIDENCE_RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };
const SEVERITY_RANK: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };

/** The parts of a rule that decide which of two overlapping findings is kept. */
export type RulePriority = Pick<CompiledRule, 'id' | 'confidence' | 'severity'>;

/**
 * Orders rules by how much a finding of theirs tells: confidence first (a checksummed
 * format beats a generic assignment), then severity, then id for a stable result.
 * Negative when `a` ranks first.
 */
export function compareRulePriority(a: RulePriority, b: RulePriority): number {
  return (
    CONFIDENCE_RANK[b.confidence] - CONFIDENCE_RANK[a.confidence] ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * Of findings in one file whose secrets overlap, keeps only the one whose rule ranks first,
 * so one secret is reported once (a PyPI token on a `.pypirc` password line, a key that a
 * generic assignment rule also sees). Empty spans never overlap. Order of the result: by start.
 */
export function dropOverlapping<T>(items: readonly T[], spanOf: (item: T) => readonly [number, number], ruleOf: (item: T) => RulePriority): T[] {
  const sorted = [...items].sort((a, b) => spanOf(a)[0] - spanOf(b)[0] || compareRulePriority(ruleOf(a), ruleOf(b)));
  // Taken in order of start, the kept non-empty spans never overlap one another, so only the
  // last one kept can reach past the current start: one comparison per finding instead of a
  // pass over all kept ones, which made a file with tens of thousands of findings take minutes.
  const kept: T[] = [];
  const dropped = new Uint8Array(sorted.length);
  let last = -1;
  let lastEnd = 0;
  for (const item of sorted) {
    const [start, end] = spanOf(item);
    // Written so a NaN bound also counts as empty: such a span overlaps nothing.
    if (!(end > start)) {
      kept.push(item);
      continue;
    }
    if (last >= 0 && lastEnd > start) {
      if (compareRulePriority(ruleOf(kept[last] as T), ruleOf(item)) <= 0) continue;
      dropped[last] = 1;
    }
    last = kept.length;
    lastEnd = end;
    kept.push(item);
  }
  return kept.filter((_, i) => dropped[i] === 0).sort((a, b) => spanOf(a)[0] - spanOf(b)[0]);
}
