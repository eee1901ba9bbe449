import picomatch from 'picomatch';
import type { CompiledRuleset } from '@pubguard/rules';

/** Which path-based rules apply to a file: path-only rules report it, gated rules may run in it. */
export interface PathVerdict {
  /** Rules that report this file by its path alone. */
  pathOnly: number[];
  /** Pattern rules limited to certain paths that may run in this file. */
  gated: number[];
}

const NONE: PathVerdict = { pathOnly: [], gated: [] };

/** Precompiled path globs of a ruleset, tested once per file on the main thread. */
export class PathRules {
  private readonly entries: Array<{ index: number; pathOnly: boolean; test: (path: string) => boolean }> = [];

  constructor(ruleset: CompiledRuleset) {
    ruleset.rules.forEach((rule, index) => {
      if (!rule.paths?.length) return;
      const options = { dot: true, basename: true, nocase: true };
      const include = picomatch(rule.paths, options);
      const exclude = rule.pathsExclude?.length ? picomatch(rule.pathsExclude, options) : undefined;
      this.entries.push({ index, pathOnly: rule.source === '', test: (p) => include(p) && !exclude?.(p) });
    });
  }

  /** The verdict for a file whose innermost path is `path`. */
  check(path: string): PathVerdict {
    if (this.entries.length === 0) return NONE;
    const verdict: PathVerdict = { pathOnly: [], gated: [] };
    for (const entry of this.entries) {
      if (!entry.test(path)) continue;
      (entry.pathOnly ? verdict.pathOnly : verdict.gated).push(entry.index);
    }
    return verdict;
  }
}
