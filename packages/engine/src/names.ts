import { builtinRuleset, type CompiledRuleset } from '@pubguard/rules';
import { NameMatcher, nameRuleIndexes } from './matcher/names.js';

const matchers = new WeakMap<CompiledRuleset, NameMatcher>();

/**
 * The matcher of file and entry names for `ruleset`, made once per ruleset. Of the rules that
 * `matchesNames` picks, only built-in ones: names are matched on the calling thread, where a
 * watchdog could not stop a rule from a config file that backtracks without end.
 */
export function nameMatcherFor(ruleset: CompiledRuleset): NameMatcher {
  let matcher = matchers.get(ruleset);
  if (matcher === undefined) {
    const builtin = builtinRuleset();
    const sources = ruleset === builtin ? undefined : new Map(builtin.rules.map((r) => [r.id, r.source]));
    matcher = new NameMatcher(ruleset, nameRuleIndexes(ruleset, (rule) => sources === undefined || sources.get(rule.id) === rule.source));
    matchers.set(ruleset, matcher);
  }
  return matcher;
}

/**
 * `text` (a path, an archive entry's name, or a message naming one) with every secret that a
 * scan finds in names shortened as reports shorten secrets (`package/ghp_Ab…x9Q2.json`), for
 * output that names files outside a scan's events. `ruleset`: the scan's rules (default: the
 * built-in ones).
 */
export function maskNames(text: string, ruleset: CompiledRuleset = builtinRuleset()): string {
  return nameMatcherFor(ruleset).mask(text);
}
