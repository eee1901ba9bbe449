import { type CompiledRuleset, globsPattern, isPathOnlyRule, normaliseEntryPath, ruleAppliesToPath } from '@pubguard/rules';

/** Which path-based rules apply to a file: path-only rules report it, gated rules may run in it. */
export interface PathVerdict {
  /** Rules that report this file by its path alone. */
  pathOnly: number[];
  /** Pattern rules limited to certain paths that may run in this file. */
  gated: number[];
}

const NONE: PathVerdict = { pathOnly: [], gated: [] };

/**
 * A substring every path matching `glob` contains, or undefined when the glob has none or uses
 * syntax (braces, classes, extglobs, escapes) whose literal parts are not simply required.
 */
export function requiredLiteral(glob: string): string | undefined {
  if (/[[\]{}()!+@\\]/.test(glob)) return undefined;
  const pieces = glob.split(/[*?/]+/).filter((p) => p.length > 0);
  return pieces.sort((a, b) => b.length - a.length)[0];
}

/** The ruleset's path-limited rules, tested once per file on the main thread. */
export class PathRules {
  private readonly indexes: number[];
  private readonly globs: string[];
  /**
   * Every rule's include globs in one regex: almost no file matches any, and one test says so.
   * Compiled on the first path that passes `literals`, which many scans never see.
   */
  private any: RegExp | undefined;
  /**
   * Matches a substring of each glob that a matching path must contain, when every glob has
   * one: most paths contain none, and this alternation of literals costs a tenth of `any`.
   */
  private readonly literals: RegExp | undefined;

  constructor(private readonly ruleset: CompiledRuleset) {
    this.indexes = ruleset.rules.flatMap((rule, index) => (rule.paths?.length ? [index] : []));
    const globs = this.indexes.flatMap((i) => ruleset.rules[i]?.paths ?? []);
    this.globs = globs;
    const literals = globs.map(requiredLiteral);
    this.literals = literals.every((l) => l !== undefined)
      ? new RegExp([...new Set(literals as string[])].map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))
      : undefined;
  }

  /** The verdict for a file whose innermost path is `path`. */
  check(path: string): PathVerdict {
    if (this.globs.length === 0) return NONE;
    const normalised = normaliseEntryPath(path);
    if (this.literals && !this.literals.test(normalised)) return NONE;
    // Compiled with the rules (the built-in ones at build time); it only ever says "maybe".
    this.any ??= new RegExp(this.indexes.map((i) => this.ruleset.rules[i]?.pathsPattern ?? globsPattern(this.ruleset.rules[i]?.paths ?? [])).join('|'));
    if (!this.any.test(normalised)) return NONE;
    const verdict: PathVerdict = { pathOnly: [], gated: [] };
    for (const index of this.indexes) {
      const rule = this.ruleset.rules[index];
      if (!rule || !ruleAppliesToPath(rule, path)) continue;
      (isPathOnlyRule(rule) ? verdict.pathOnly : verdict.gated).push(index);
    }
    return verdict;
  }
}
