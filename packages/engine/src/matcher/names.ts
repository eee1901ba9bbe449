import { type CompiledRule, type CompiledRuleset, dropOverlapping, redact } from '@pubguard/rules';
import { Matcher } from './matcher.js';

/**
 * Whether a rule is matched against file, directory and archive entry names as well as
 * contents: a high-confidence, case-sensitive pattern, which is a provider's prefix and a fixed
 * shape, most of them with a checksum or an entropy check (`ghp_`, `github_pat_`, `npm_`,
 * `pypi-`, `AKIA`, `xoxb-`, `sk_live_`...): a match of one says "credential" wherever it is.
 *
 * Not every rule, on purpose. The others are written for text around a value: an assignment
 * (`api_key = "…"`), a provider's name nearby, a URL, a settings file. Names hold none of that,
 * only identifiers and digests, which some of those shapes take for keys (`key-<md5>.json` for a
 * Mailgun key, `live_<hex>` for a Lob key), and a name has no line to put `pubguard:allow` on.
 * Rules limited to some paths are about what such files hold, and path-only rules already judge
 * names by their own globs.
 */
export function matchesNames(rule: CompiledRule): boolean {
  return rule.confidence === 'high' && rule.source !== '' && (rule.paths?.length ?? 0) === 0 && !rule.flags.includes('i');
}

/** A secret found in a name: the rule's index in the whole ruleset and where the secret sits. */
export interface NameMatch {
  rule: number;
  /** Offsets of the secret in the name, end excluded. */
  start: number;
  end: number;
  secret: string;
}

// A character a latin1 byte cannot hold (a name in any script) becomes one no rule takes as part
// of a token, so that offsets in the bytes matched are offsets in the name.
const NOT_LATIN1 = /[^\u0000-\u00ff]/g;
// Path separators, and `!` between an archive and its entry, end a token as a line end does:
// some tokens' alphabets hold `/` (Fly.io's, Grafana Cloud's), and a match must not run on
// into the next directory's name (`fo1_legacy/components/...`).
const SEPARATORS = /[/\\!]/g;

/**
 * Matches names (a path below a scanned directory, an archive entry's name, or any text shown
 * with one, such as an error message) with the rules `matchesNames` picks. Does no I/O.
 */
export class NameMatcher {
  /** Made on the first name holding a keyword: most scans never meet one. */
  private matcher: Matcher | undefined;
  /** The whole ruleset's index of each rule the matcher holds, in order. */
  private readonly indexes: number[];
  private readonly rules: CompiledRule[];
  private readonly sub: CompiledRuleset;
  /**
   * Every keyword of the rules, in any case: a name that holds none holds no match. A scan tests
   * each file's name, and a regex test of a short string is cheaper than the prefilter on its
   * bytes: 5000 names took 3 ms against 6 ms, set-up included, in a fresh process.
   */
  private readonly keywords: RegExp | undefined;

  /** `indexes`: the rules of `ruleset` to match names with (see `nameRuleIndexes`), in ascending order. */
  constructor(ruleset: CompiledRuleset, indexes: readonly number[]) {
    this.indexes = [...indexes];
    this.rules = this.indexes.map((i) => ruleset.rules[i] as CompiledRule);
    this.sub = subset(ruleset, this.indexes);
    this.keywords = this.sub.keywords.length === 0 ? undefined : new RegExp(this.sub.keywords.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
  }

  /** Whether the matcher holds any rule at all. */
  get empty(): boolean {
    return this.indexes.length === 0;
  }

  /**
   * The secrets in `name` that start at `from` or later (what comes before it is still seen
   * as context), by start, one per secret where rules overlap.
   */
  find(name: string, from = 0): NameMatch[] {
    const keywords = this.keywords;
    if (keywords === undefined || from >= name.length) return [];
    // A match holds a keyword of its rule, at or after where the match starts.
    keywords.lastIndex = from;
    if (!keywords.test(name)) return [];
    // A name is no encoded config: base64 in it is left as it is.
    this.matcher ??= new Matcher(this.sub, new Set(), undefined, { base64: false });
    const text = name.replace(NOT_LATIN1, '\u007f').replace(SEPARATORS, '\n');
    const { matches } = this.matcher.matchSegment(text, { ownedStart: from, ownedEnd: text.length, atFileStart: true, atFileEnd: true });
    if (matches.length === 0) return [];
    const kept = dropOverlapping(matches, (m) => [m.start, m.end], (m) => this.rules[m.rule] as CompiledRule);
    return kept.map((m) => ({ rule: this.indexes[m.rule] as number, start: m.secretStart, end: m.secretEnd, secret: name.slice(m.secretStart, m.secretEnd) }));
  }

  /**
   * For each of `names`, 1 when a keyword of the rules is in it, else 0 (`find` then finds
   * nothing in it): one regex pass over all of them, for the thousands of files of a
   * directory, most of which would each cost a call for nothing.
   */
  withKeywords(names: readonly string[]): Uint8Array {
    const flags = new Uint8Array(names.length);
    const keywords = this.keywords;
    if (keywords === undefined || names.length === 0) return flags;
    // No name holds a NUL, and no keyword either: no keyword spans two names.
    const text = names.join('\0');
    const ends = new Uint32Array(names.length);
    let at = 0;
    names.forEach((name, i) => {
      at += name.length;
      ends[i] = at;
      at++;
    });
    let i = 0;
    keywords.lastIndex = 0;
    for (let m = keywords.exec(text); m !== null; m = keywords.exec(text)) {
      while ((ends[i] as number) <= m.index) i++;
      flags[i] = 1;
      // On to the next name: one hit is enough.
      keywords.lastIndex = (ends[i] as number) + 1;
    }
    return flags;
  }

  /** `text` with every secret `find` finds in it shortened as `redact` shortens a finding's secret. */
  mask(text: string): string {
    const found = this.find(text);
    if (found.length === 0) return text;
    let out = '';
    let at = 0;
    for (const m of found) {
      out += text.slice(at, m.start) + redact(m.secret);
      at = m.end;
    }
    return out + text.slice(at);
  }
}

/**
 * The rules of `ruleset` that names are matched with: those `matchesNames` picks, of them only
 * those `trusted` allows (names are matched on the calling thread, where a watchdog cannot
 * stop a rule that backtracks without end, so rules from a config file are left out).
 */
export function nameRuleIndexes(ruleset: CompiledRuleset, trusted: (rule: CompiledRule) => boolean = () => true): number[] {
  return ruleset.rules.flatMap((rule, index) => (matchesNames(rule) && trusted(rule) ? [index] : []));
}

/** The part of `ruleset` made of the rules at `indexes`, with its keyword table cut down to them. */
function subset(ruleset: CompiledRuleset, indexes: readonly number[]): CompiledRuleset {
  const position = new Map(indexes.map((full, i) => [full, i]));
  const keywords: string[] = [];
  const keywordRules: number[][] = [];
  ruleset.keywords.forEach((keyword, k) => {
    const rules = (ruleset.keywordRules[k] ?? []).flatMap((r) => {
      const at = position.get(r);
      return at === undefined ? [] : [at];
    });
    if (rules.length === 0) return;
    keywords.push(keyword);
    keywordRules.push(rules.sort((a, b) => a - b));
  });
  const rules = indexes.map((i) => ruleset.rules[i] as CompiledRule);
  return { rules, keywords, keywordRules, maxMatchLength: rules.reduce((max, r) => Math.max(max, r.maxLength), 0) };
}
