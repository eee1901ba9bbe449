import { type Acceptance, acceptCandidate } from './accept.js';
import { compileRules } from './compile.js';
import { RuleError } from './errors.js';
import { compareRulePriority } from './overlap.js';
import { ruleAppliesToPath } from './paths.js';
import { redact } from './redact.js';
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

const MAX_STRINGS = 256;

function product(a: string[], b: string[]): string[] | undefined {
  if (a.length * b.length > MAX_STRINGS) return undefined;
  return [...new Set(a.flatMap((x) => b.map((y) => x + y)))];
}

// What every match of a piece of a regex holds, as far as literal text goes: `all`, every
// string the piece can match (undefined when unknown or too many); `pre` and `suf`, strings
// one of which starts and one of which ends every non-empty match ([''] when nothing is
// known); `empty`, whether it can match nothing; `covered`, whether every match holds a keyword.
interface Held {
  all?: string[];
  pre: string[];
  suf: string[];
  empty: boolean;
  covered: boolean;
}

// One way through a sequence: the text so far ends with one of `run`; `covered` once a keyword is certain.
interface Track {
  run: string[];
  covered: boolean;
}

const NOTHING_KNOWN: Held = { pre: [''], suf: [''], empty: false, covered: false };
const EMPTY: Held = { all: [''], pre: [''], suf: [''], empty: true, covered: false };

function known(all: string[]): Held {
  return { all, pre: all, suf: all, empty: all.includes(''), covered: false };
}

// Repeats of a piece whose strings are known, n from `min` to `max`, while there are few.
function repeats(strings: string[], min: number, max: number): string[] | undefined {
  if (max > 16) return undefined;
  let power: string[] | undefined = [''];
  const out = new Set<string>();
  for (let n = 0; n <= max && power; n++) {
    if (n >= min) for (const t of power) out.add(t);
    if (out.size > MAX_STRINGS) return undefined;
    if (n < max) power = product(power, strings);
  }
  return power ? [...out] : undefined;
}

/**
 * Whether every match of a regex source holds one of the keywords (case-insensitive) as
 * literal text: in a run of literal characters, small classes and small alternations that no
 * match can skip, or in every branch of an alternation, or beside the match in a positive
 * look-around. Text in an optional part (`?`, `*`, `{0,n}`), in one branch only, in a negative
 * look-around or in a group that a match may skip does not count.
 */
export function everyMatchHoldsKeyword(source: string, keywords: readonly string[]): boolean {
  const wanted = keywords.map((k) => k.toLowerCase()).filter((k) => k !== '');
  if (wanted.length === 0) return false;
  const holdsOne = (t: string): boolean => wanted.some((k) => t.toLowerCase().includes(k));
  const holds = (strings: string[]): boolean => strings.length > 0 && strings.every(holdsOne);
  const isCovered = (h: Held): boolean => h.covered || (!h.empty && (holds(h.all ?? h.pre) || holds(h.suf)));
  // A keyword can reach back at most its length less one into earlier text, so when the
  // strings of a run grow too many, only their ends are kept (a string that already holds a
  // keyword is kept as one that does).
  const reach = Math.max(...wanted.map((k) => k.length)) - 1;
  const HELD = `\u0000${wanted[0]}`;
  const ends = (strings: string[]): string[] => [...new Set(strings.map((t) => (holdsOne(t) ? HELD : t.slice(Math.max(0, t.length - reach)))))];
  const groups: Array<{ all?: string[]; sure: boolean }> = [];
  let i = 0;
  const union = (lists: Array<string[] | undefined>): string[] | undefined => {
    if (lists.some((l) => l === undefined)) return undefined;
    const joined = [...new Set(lists.flatMap((l) => l ?? []))];
    return joined.length <= MAX_STRINGS ? joined : undefined;
  };
  // Groups inside a part that a match may skip may hold nothing: a back-reference to one is unknown.
  const unsure = (from: number): void => {
    for (let g = from; g < groups.length; g++) (groups[g] as { sure: boolean }).sure = false;
  };
  const parseAlternation = (): Held => {
    const firstGroup = groups.length;
    const branches: Held[] = [parseSequence()];
    while (source[i] === '|') {
      i++;
      branches.push(parseSequence());
    }
    if (branches.length === 1) return branches[0] as Held;
    unsure(firstGroup);
    return {
      all: union(branches.map((b) => b.all)),
      pre: union(branches.map((b) => b.pre)) ?? [''],
      suf: union(branches.map((b) => b.suf)) ?? [''],
      empty: branches.some((b) => b.empty),
      covered: branches.every(isCovered),
    };
  };
  // A sequence is read along tracks: the text matched so far ends with one of `run`, and
  // `covered` says whether a keyword was already seen for certain. An optional part whose text
  // is unknown forks a track (skipped, or taken: then what it starts with ends a clause and what
  // it ends with starts a new run); tracks that agree on `covered` are merged, so there are at
  // most two.
  const parseSequence = (): Held => {
    let exact = true; // runs are whole strings from the sequence's start, not ends of them
    let allKnown = true;
    let empty = true;
    let pre: string[] | undefined;
    let tracks: Track[] = [{ run: [''], covered: false }];
    const join = (a: string[], b: string[]): string[] => {
      const whole = product(a, b);
      if (whole) return whole;
      exact = false;
      return product(ends(a), b) ?? ends(b);
    };
    const merge = (list: Track[]): Track[] =>
      [true, false].flatMap((covered) => {
        const same = list.filter((t) => t.covered === covered);
        if (same.length === 0) return [];
        let run = [...new Set(same.flatMap((t) => t.run))];
        if (run.length > MAX_STRINGS) {
          exact = false;
          run = ends(run);
        }
        return [{ run, covered }];
      });
    while (i < source.length && source[i] !== '|' && source[i] !== ')') {
      const firstGroup = groups.length;
      const piece = quantified(parseAtom(), firstGroup);
      if (!piece.empty) empty = false;
      const mandatoryCovered = isCovered(piece);
      if (piece.all) {
        tracks = merge(tracks.map((t) => ({ run: join(t.run, piece.all as string[]), covered: t.covered || mandatoryCovered })));
        continue;
      }
      if (pre === undefined) {
        const first = tracks[0]?.run ?? [''];
        pre = exact ? (piece.empty ? first : join(first, piece.pre)) : [''];
      }
      allKnown = false;
      const taken = tracks.map((t) => ({ run: piece.suf, covered: t.covered || mandatoryCovered || holds(join(t.run, piece.pre)) }));
      tracks = merge(piece.empty ? [...tracks, ...taken] : taken);
    }
    const runs = [...new Set(tracks.flatMap((t) => t.run))];
    const covered = tracks.every((t) => t.covered || holds(t.run));
    if (allKnown && exact) return { ...known(runs), covered };
    return { pre: pre ?? [''], suf: exact || runs.every((t) => t !== HELD) ? runs : [''], empty, covered };
  };
  const quantified = (piece: Held, firstGroup: number): Held => {
    const c = source[i];
    const range = c === '{' ? /^\{(\d+)(?:(,)(\d*))?\}/.exec(source.slice(i)) : null;
    if (c !== '?' && c !== '*' && c !== '+' && !range) return piece;
    i += range ? range[0].length : 1;
    if (source[i] === '?') i++; // lazy
    const min = range ? Number(range[1]) : c === '+' ? 1 : 0;
    const max = range ? (range[2] === undefined ? min : range[3] === '' ? Infinity : Number(range[3])) : c === '?' ? 1 : Infinity;
    if (min === 0) unsure(firstGroup);
    const all = piece.all ? repeats(piece.all, min, max) : undefined;
    if (all) return { ...known(all), covered: min > 0 && isCovered(piece) };
    if (min === 0) return { pre: piece.all ?? piece.pre, suf: piece.all ?? piece.suf, empty: true, covered: false };
    const head = piece.all ? repeats(piece.all, min, min) : undefined;
    return { pre: head ?? piece.all ?? piece.pre, suf: head ?? piece.all ?? piece.suf, empty: piece.empty, covered: isCovered(piece) };
  };
  const parseAtom = (): Held => {
    const c = source[i] as string;
    i++;
    if (c === '(') {
      const opening = /^\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(source.slice(i));
      if (opening) i += opening[0].length;
      const capturing = !opening || (opening[0].startsWith('?<') && !/^\?<[=!]/.test(opening[0]));
      const number = groups.length;
      if (capturing) groups.push({ sure: true });
      const inner = parseAlternation();
      i++; // ')'
      if (capturing) (groups[number] as { all?: string[] }).all = inner.all;
      if (opening && /^\?(?:!|<!)$/.test(opening[0])) return EMPTY;
      // Beside every match, as a look-around's text is counted: the keyword is then always near one.
      if (opening && /^\?(?:=|<=)$/.test(opening[0])) return { ...EMPTY, covered: isCovered(inner) };
      return inner;
    }
    if (c === '[') {
      const close = classEnd(source, i);
      const members = classMembers(source.slice(i, close));
      i = close + 1;
      return members ? known(members) : NOTHING_KNOWN;
    }
    if (c === '\\') {
      const next = source[i] ?? '';
      const hex = next === 'x' ? /^x([0-9a-fA-F]{2})/.exec(source.slice(i)) : next === 'u' ? /^u([0-9a-fA-F]{4})/.exec(source.slice(i)) : null;
      if (hex?.[1]) {
        i += hex[0].length;
        return known([String.fromCharCode(Number.parseInt(hex[1], 16))]);
      }
      const backReference = /^[1-9][0-9]?/.exec(source.slice(i));
      if (backReference) {
        i += backReference[0].length;
        const group = groups[Number(backReference[0]) - 1];
        return group?.sure && group.all ? known(group.all) : NOTHING_KNOWN;
      }
      i++;
      if (next === 'b' || next === 'B') return EMPTY;
      if (next === 'k') {
        const name = /^<[^>]*>/.exec(source.slice(i));
        if (name) i += name[0].length;
        return NOTHING_KNOWN;
      }
      if (/[A-Za-z0-9]/.test(next)) return NOTHING_KNOWN;
      return known([next]);
    }
    if (c === '^' || c === '$') return EMPTY;
    if (c === '.') return NOTHING_KNOWN;
    return known([c]);
  };
  let covered = false;
  while (i < source.length) {
    if (isCovered(parseAlternation())) covered = true;
    i++; // an unbalanced ')'
  }
  return covered;
}

/** Index of the `]` closing a character class whose body starts at `from`. */
function classEnd(source: string, from: number): number {
  let j = from;
  for (; j < source.length && source[j] !== ']'; j++) if (source[j] === '\\') j++;
  return j;
}

/** The members of a character class body, when it is not negated and has at most 16 of them. */
function classMembers(body: string): string[] | undefined {
  if (body.startsWith('^')) return undefined;
  const chars: string[] = [];
  for (let j = 0; j < body.length; j++) {
    let ch = body[j] as string;
    if (ch === '\\') {
      const next = body[++j] ?? '';
      const control = ({ t: '\t', n: '\n', r: '\r' } as Record<string, string>)[next];
      if (control) ch = control;
      else if (/[A-Za-z0-9]/.test(next)) return undefined;
      else ch = next;
    }
    if (body[j + 1] === '-' && j + 2 < body.length) {
      const to = body[j + 2] as string;
      if (to === '\\') return undefined;
      const a = ch.charCodeAt(0);
      const b = to.charCodeAt(0);
      if (b - a > 16) return undefined;
      for (let k = a; k <= b; k++) chars.push(String.fromCharCode(k));
      j += 2;
    } else chars.push(ch);
    if (chars.length > 16) return undefined;
  }
  return [...new Set(chars)];
}

/**
 * Why a rule without examples may fire only by chance, or undefined: none of its keywords is
 * literal text that every match of its pattern holds (`everyMatchHoldsKeyword`). The keywords gate where the regex runs, so a match
 * holding none is found only where a keyword happens to be nearby. Examples prove a keyword
 * is in the match (`checkRuleExamples`); without them the pattern's literal text is all there
 * is to go by, so a rule with examples gets no warning here.
 */
export function keywordReachWarning(def: Pick<RuleDefinition, 'keywords' | 'examples'>, rule: CompiledRule): string | undefined {
  if (!rule.source || def.examples.length > 0 || def.keywords.length === 0) return undefined;
  if (everyMatchHoldsKeyword(rule.source, def.keywords)) return undefined;
  return (
    'no keyword is literal text the pattern can match, so a match may hold none and the rule then fires only where a keyword happens to be nearby; ' +
    "use a keyword every match contains, or add examples, which show whether it does (this check reads the pattern's literal text, small alternations and classes; a keyword spelt otherwise is not seen)"
  );
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
    const unreached = keywordReachWarning(def, rule);
    if (unreached) problems.push({ ruleId: def.id, message: unreached, level: 'warning' });
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
      if (m.acceptance.ok) add(`negative example ${i + 1} is reported (secret ${JSON.stringify(redact(m.secret))})`);
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
