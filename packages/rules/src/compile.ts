import { RuleError } from './errors.js';
import type { CompiledRule, CompiledRuleset, RuleDefinition } from './types.js';
import { globsPattern } from './paths.js';

/** Window bound for a rule that does not set `maxLength`. */
export const DEFAULT_MAX_LENGTH = 256;

/** Shortest keyword accepted: shorter ones would make the prefilter fire everywhere. */
export const MIN_KEYWORD_LENGTH = 3;

/** Number of capture groups in a regex source. */
export function captureGroupCount(source: string, flags = ''): number {
  // An alternative that matches the empty string makes exec() return every group as undefined.
  const m = new RegExp(`${source}|`, flags).exec('');
  return m ? m.length - 1 : 0;
}

/**
 * What may come right before a letter or digit for that character to end an escape
 * sequence rather than a word: `\n`, `\t` (any backslash escape), `\u0022`, `\x22`, `%22`.
 */
const ESCAPE_HEAD = String.raw`\\|(?:\\u[0-9A-Fa-f]{2}|\\x|%)[0-9A-Fa-f]`;

/**
 * Lets a pattern that starts by refusing a letter or digit before its match (`(?<![A-Za-z0-9_])`)
 * match after an escape sequence ending in one: in minified code, JSON strings and source maps a
 * token often follows `\n` or `\u003d`, and in URLs `%3D`, whose last character is not part
 * of the token's word. Other patterns are returned as they are. One nested look-behind: the
 * same test as alternatives of a positive one made matching three times slower.
 */
export function escapeAwareBoundary(source: string): string {
  const m = /^\(\?<!\[((?:[^\]\\]|\\.)*)\]\)/.exec(source);
  if (!m || !/A-Z|a-z|0-9/.test(m[1] as string)) return source;
  return `(?<!(?<!${ESCAPE_HEAD})[${m[1]}])${source.slice(m[0].length)}`;
}

function compileOne(def: RuleDefinition): CompiledRule {
  const fail = (message: string): never => {
    throw new RuleError(`rule '${def.id}': ${message}`, def.id);
  };
  const flags = def.flags ?? '';
  if (!/^[ims]*$/.test(flags) || new Set(flags).size !== flags.length) fail(`flags '${flags}': only i, m and s, once each`);
  const maxLength = def.maxLength ?? DEFAULT_MAX_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < 1) fail(`maxLength must be a positive integer, not ${maxLength}`);
  const keywords = [...new Set(def.keywords.map((k) => k.toLowerCase()))];
  const source = escapeAwareBoundary(def.pattern ?? '');
  let secretGroup = def.secretGroup ?? 1;
  if (def.pattern === undefined) {
    if (!def.paths?.length) fail('a rule without `pattern` needs `paths`');
    if (keywords.length) fail('a path-only rule has no keywords (it matches no content)');
    secretGroup = 0;
  } else {
    if (keywords.length === 0) fail('needs at least one keyword (a literal every match contains)');
    for (const k of keywords) {
      if (k.length < MIN_KEYWORD_LENGTH) fail(`keyword '${k}' is shorter than ${MIN_KEYWORD_LENGTH} characters`);
      if (k.length > maxLength) fail(`keyword '${k}' is longer than maxLength ${maxLength}`);
      // The prefilter works on latin1-decoded bytes, lower-cased as ASCII.
      if (!/^[\x20-\x7e]+$/.test(k)) fail(`keyword '${k}' must be printable ASCII`);
    }
    try {
      new RegExp(source, flags);
    } catch (error) {
      fail(`invalid pattern: ${(error as Error).message}`);
    }
    const groups = captureGroupCount(source, flags);
    // A pattern without groups can only mean its whole match: refusing the default would make
    // every such rule state the obvious.
    if (def.secretGroup === undefined && groups === 0) secretGroup = 0;
    if (!Number.isInteger(secretGroup) || secretGroup < 0 || secretGroup > groups) {
      fail(`secretGroup ${secretGroup} but the pattern has ${groups} capture group(s)`);
    }
  }
  if (def.keywordWithin !== undefined) {
    if (def.pattern === undefined) fail('`keywordWithin` needs a `pattern`');
    if (!Number.isInteger(def.keywordWithin) || def.keywordWithin < 0 || def.keywordWithin >= maxLength) {
      fail(`keywordWithin must be a whole number below maxLength ${maxLength}, not ${def.keywordWithin}`);
    }
  }
  const include = def.paths?.filter((p) => !p.startsWith('!'));
  const exclude = def.paths?.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  if (def.paths && include?.length === 0) fail('`paths` needs at least one glob that is not an exclusion');
  const rule: CompiledRule = {
    id: def.id,
    title: def.title,
    severity: def.severity,
    confidence: def.confidence ?? 'medium',
    source,
    flags,
    secretGroup,
    maxLength,
    validators: def.validators ?? [],
    allowlist: def.allowlist ?? [],
    references: def.references ?? [],
    description: def.description ?? '',
    keywords,
  };
  if (def.keywordWithin !== undefined) rule.keywordWithin = def.keywordWithin;
  if (include) {
    rule.paths = include;
    rule.pathsPattern = globsPattern(include);
  }
  if (exclude?.length) rule.pathsExclude = exclude;
  return rule;
}

/**
 * Compiles rule definitions into the ruleset the matcher consumes: checks every rule and
 * builds the keyword table. Throws `RuleError` naming the first rule that cannot be used.
 */
export function compileRules(defs: RuleDefinition[]): CompiledRuleset {
  const seen = new Set<string>();
  const rules: CompiledRule[] = [];
  const keywordIndex = new Map<string, number>();
  const keywords: string[] = [];
  const keywordRules: number[][] = [];
  for (const def of defs) {
    if (seen.has(def.id)) throw new RuleError(`duplicate rule id '${def.id}'`, def.id);
    seen.add(def.id);
    const rule = compileOne(def);
    const index = rules.push(rule) - 1;
    for (const k of rule.keywords ?? []) {
      let ki = keywordIndex.get(k);
      if (ki === undefined) {
        ki = keywords.push(k) - 1;
        keywordIndex.set(k, ki);
        keywordRules.push([]);
      }
      keywordRules[ki]?.push(index);
    }
  }
  const maxMatchLength = rules.reduce((max, r) => (r.source ? Math.max(max, r.maxLength) : max), 0);
  return { rules, keywords, keywordRules, maxMatchLength };
}
