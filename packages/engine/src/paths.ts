import { type CompiledRuleset, isPathOnlyRule, ruleAppliesToPath } from '@pubguard/rules';

/** Which path-based rules apply to a file: path-only rules report it, gated rules may run in it. */
export interface PathVerdict {
  /** Rules that report this file by its path alone. */
  pathOnly: number[];
  /** Pattern rules limited to certain paths that may run in this file. */
  gated: number[];
}

const NONE: PathVerdict = { pathOnly: [], gated: [] };

/** The ruleset's path-limited rules, tested once per file on the main thread. */
export class PathRules {
  private readonly indexes: number[];

  constructor(private readonly ruleset: CompiledRuleset) {
    this.indexes = ruleset.rules.flatMap((rule, index) => (rule.paths?.length ? [index] : []));
  }

  /** The verdict for a file whose innermost path is `path`. */
  check(path: string): PathVerdict {
    if (this.indexes.length === 0) return NONE;
    const verdict: PathVerdict = { pathOnly: [], gated: [] };
    for (const index of this.indexes) {
      const rule = this.ruleset.rules[index];
      if (!rule || !ruleAppliesToPath(rule, path)) continue;
      (isPathOnlyRule(rule) ? verdict.pathOnly : verdict.gated).push(index);
    }
    return verdict;
  }
}
