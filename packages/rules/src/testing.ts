import { builtinRuleset } from './builtin.js';
import { matchRule } from './check.js';
import { ruleAppliesToPath } from './paths.js';

/** For tests: the secrets each built-in rule reports in `text`, as a file at `path`, by rule id. */
export function reportedByBuiltins(text: string, path = 'lib/config.js'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of builtinRuleset().rules) {
    if (rule.source === '' || !ruleAppliesToPath(rule, path)) continue;
    const secrets = matchRule(rule, text)
      .filter((m) => m.acceptance.ok)
      .map((m) => m.secret);
    if (secrets.length) out[rule.id] = secrets;
  }
  return out;
}
