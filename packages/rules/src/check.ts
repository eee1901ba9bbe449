import { type Acceptance, acceptCandidate } from './accept.js';
import { compileRules } from './compile.js';
import { RuleError } from './errors.js';
import { compareRulePriority } from './overlap.js';
import { ruleAppliesToPath } from './paths.js';
import type { CompiledRule, RuleDefinition } from './types.js';

/** One thing wrong with a rule, as `rules check` lists it. */
export interface RuleProblem {
  /** The rule concerned; absent for problems of the whole set. */
  ruleId?: string;
  message: string;
  /** `'warning'` for what does not make a rule wrong, only less well tested; absent for a problem. */
  level?: 'warning';
}

/** How strict `checkRules` is. */
export interface CheckRulesOptions {
  /**
   * Fewer than two examples or negative examples, and no reference, are warnings rather than
   * problems: for rules written for one project (a config's custom rules), whose token format
   * may be documented nowhere and whose examples are optional. Default false.
   */
  relaxed?: boolean;
}

/** One regex match of a rule in a text, with the verdict of `acceptCandidate`. */
export interface RuleMatch {
  /** The captured secret. */
  secret: string;
  /** The whole regex match. */
  match: string;
  /** Offset of the match in the text. */
  index: number;
  /** Offset of the captured secret in the text. */
  secretIndex: number;
  acceptance: Acceptance;
}

/** Runs one rule's regex over a whole text and judges every match (for tests and linting). */
export function matchRule(rule: CompiledRule, text: string): RuleMatch[] {
  if (!rule.source) return [];
  const re = new RegExp(rule.source, `${rule.flags}dg`);
  const out: RuleMatch[] = [];
  for (const m of text.matchAll(re)) {
    const secret = m[rule.secretGroup] ?? '';
    if (m[0].length === 0) continue;
    const index = m.index ?? 0;
    const secretIndex = m.indices?.[rule.secretGroup]?.[0] ?? index;
    out.push({ secret, match: m[0], index, secretIndex, acceptance: acceptCandidate(rule, secret, m[0]) });
  }
  return out;
}

/** Describes the first unbounded quantifier (`*`, `+`, `{n,}`) in a regex source, if any. */
export function findUnboundedQuantifier(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '*' || c === '+') return `'${c}' at offset ${i}`;
    else if (c === '{') {
      const m = /^\{\d+,\}/.exec(source.slice(i));
      if (m) return `'${m[0]}' at offset ${i}`;
    }
  }
  return undefined;
}

function checkOne(def: RuleDefinition, rule: CompiledRule, relaxed: boolean): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const add = (message: string): void => void problems.push({ ruleId: def.id, message });
  const advise = (message: string): void => void problems.push(relaxed ? { ruleId: def.id, message, level: 'warning' } : { ruleId: def.id, message });
  const wanted = (tells: string): string => (relaxed ? `2 or more are advised, so \`rules check\` can tell ${tells}` : 'at least 2 are needed');
  if (def.examples.length < 2) advise(`has ${def.examples.length} example(s); ${wanted('that the rule finds what it should')}`);
  if (def.negative_examples.length < 2) advise(`has ${def.negative_examples.length} negative example(s); ${wanted('that it leaves alone what it should')}`);
  if (!def.references?.length) advise('has no reference to the published format');
  if (rule.source) {
    const unbounded = findUnboundedQuantifier(rule.source);
    if (unbounded) add(`pattern has an unbounded quantifier ${unbounded}; bound it (e.g. {1,64}) so matching stays linear`);
  }
  problems.push(...checkRuleExamples(def, rule));
  return problems;
}

/**
 * Runs a compiled rule over its own examples and negative examples (entry paths for a
 * path-only rule): every example must be reported, within `maxLength` and with a keyword,
 * and no negative example may be. Says nothing about how many examples there are.
 */
export function checkRuleExamples(def: RuleDefinition, rule: CompiledRule): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const add = (message: string): void => void problems.push({ ruleId: def.id, message });
  if (!rule.source) {
    // Path-only rules: examples and negative examples are entry paths.
    def.examples.forEach((path, i) => {
      if (!ruleAppliesToPath(rule, path)) add(`example ${i + 1} (path ${JSON.stringify(path)}) is not matched by \`paths\``);
    });
    def.negative_examples.forEach((path, i) => {
      if (ruleAppliesToPath(rule, path)) add(`negative example ${i + 1} (path ${JSON.stringify(path)}) is matched by \`paths\``);
    });
    return problems;
  }
  const hasChecksum = rule.validators.some((v) => v.type === 'checksum');
  def.examples.forEach((example, i) => {
    const matches = matchRule(rule, example);
    const accepted = matches.filter((m) => m.acceptance.ok);
    if (accepted.length === 0) {
      const why = matches.map((m) => (m.acceptance.ok ? 'accepted' : m.acceptance.reason)).join('; ');
      add(`example ${i + 1} is not reported (${matches.length ? `rejected: ${why}` : 'no regex match'})`);
    }
    for (const m of accepted) {
      if (m.match.length > rule.maxLength) add(`example ${i + 1}: match of ${m.match.length} chars exceeds maxLength ${rule.maxLength}`);
      const lower = m.match.toLowerCase();
      const firstKeyword = Math.min(...(rule.keywords ?? []).map((k) => lower.indexOf(k)).filter((at) => at >= 0));
      if (!Number.isFinite(firstKeyword)) add(`example ${i + 1}: match contains none of the keywords`);
      else if (rule.keywordWithin !== undefined && firstKeyword > rule.keywordWithin) {
        add(`example ${i + 1}: the first keyword starts ${firstKeyword} bytes into the match, past keywordWithin ${rule.keywordWithin}`);
      }
    }
    if (hasChecksum) {
      for (const m of matches) {
        if (!m.acceptance.ok && m.acceptance.reason.startsWith('checksum')) add(`example ${i + 1}: a token has an invalid checksum`);
      }
    }
  });
  def.negative_examples.forEach((negative, i) => {
    for (const m of matchRule(rule, negative)) {
      if (m.acceptance.ok) add(`negative example ${i + 1} is reported (secret ${JSON.stringify(m.secret.slice(0, 12))}…)`);
    }
  });
  return problems;
}

/**
 * Lints rule definitions: every rule compiles (pattern, keywords, flags), ids are unique, each
 * rule has 2+ examples, 2+ negative examples and a reference (warnings only when `relaxed`),
 * every example is reported with a valid checksum where the format has one, no negative
 * example is, and patterns are bounded.
 */
export function checkRules(defs: RuleDefinition[], options: CheckRulesOptions = {}): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const seen = new Set<string>();
  for (const def of defs) {
    if (seen.has(def.id)) {
      problems.push({ ruleId: def.id, message: 'duplicate rule id' });
      continue;
    }
    seen.add(def.id);
    let rule: CompiledRule | undefined;
    try {
      rule = compileRules([def]).rules[0];
    } catch (error) {
      if (!(error instanceof RuleError)) throw error;
      problems.push({ ruleId: def.id, message: error.message.replace(`rule '${def.id}': `, '') });
      continue;
    }
    if (rule) problems.push(...checkOne(def, rule, options.relaxed === true));
  }
  return problems;
}

/**
 * A warning for each rule of `others` that, in every example of `def`, reports a secret
 * overlapping one `rule` reports there: a scan keeps one finding per secret (the rule ranking
 * first, see `dropOverlapping`), so one of the two rules adds nothing on such secrets.
 * Rules limited to some files (`paths`) are left out, their overlap depending on the file.
 */
export function checkRuleOverlaps(def: RuleDefinition, rule: CompiledRule, others: readonly CompiledRule[]): RuleProblem[] {
  if (!rule.source || def.examples.length === 0) return [];
  const spans = def.examples.map((example) =>
    matchRule(rule, example)
      .filter((m) => m.acceptance.ok)
      .map((m): [number, number] => [m.secretIndex, m.secretIndex + m.secret.length]),
  );
  // An example the rule itself does not report is checkRuleExamples' problem, not an overlap.
  if (spans.some((s) => s.length === 0)) return [];
  const problems: RuleProblem[] = [];
  for (const other of others) {
    if (other.id === rule.id || !other.source || other.paths?.length) continue;
    const overlapsEvery = def.examples.every((example, i) =>
      matchRule(other, example).some((m) => {
        if (!m.acceptance.ok) return false;
        const end = m.secretIndex + m.secret.length;
        return (spans[i] ?? []).some(([start, stop]) => m.secretIndex < stop && start < end);
      }),
    );
    if (!overlapsEvery) continue;
    const kept = compareRulePriority(rule, other) <= 0 ? rule.id : other.id;
    problems.push({
      ruleId: def.id,
      message: `every example is also reported by rule '${other.id}'; a scan reports such a secret once, as '${kept}'`,
      level: 'warning',
    });
  }
  return problems;
}
