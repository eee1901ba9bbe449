/** How bad a leak of this credential is. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** How sure a match is to be a real credential (checksummed formats are `high`). */
export type Confidence = 'high' | 'medium' | 'low';

/** A validator named in a rule file; the matcher applies them in order to each candidate. */
export type ValidatorSpec =
  | { type: 'checksum'; scheme: ChecksumScheme }
  /** `hexMin`, when given, replaces `min` for a value of 32 or more hex digits of one case. */
  | { type: 'entropy'; min: number; hexMin?: number }
  /** `longMin`, with `longFrom`, replaces `min` for a value of `longFrom` or more characters. */
  | { type: 'charclasses'; min: number; longMin?: number; longFrom?: number }
  | { type: 'pypi-macaroon' }
  | { type: 'jwt' }
  | { type: 'pem' }
  | { type: 'not-placeholder' }
  /** Rejects an Azure SAS whose signed expiry (`se=`, in the match) has passed. */
  | { type: 'sas-not-expired' }
  /** The secret is the base64 of `user:password` (an `Authorization: Basic` value) whose password is no placeholder. */
  | { type: 'basic-auth' }
  /** Rejects values that are public or derived data: digests, integrity strings, UUIDs, images, public keys. */
  | { type: 'not-digest' };

/** Offline-checkable checksum schemes of published token formats. */
export type ChecksumScheme =
  | 'github-crc32'
  | 'gitlab-routable'
  | 'grafana-crc32'
  | 'vercel-crc32'
  | 'zuplo-crc32';

/** A rule as written in a rule file (YAML), before compilation. */
export interface RuleDefinition {
  /** Stable identifier, kebab-case, unique across all rules. */
  id: string;
  title: string;
  severity: Severity;
  confidence?: Confidence;
  /** Literals of which at least one occurs in every match; matched case-insensitively. */
  keywords: string[];
  /**
   * JavaScript regular expression source; group `secretGroup` captures the secret.
   * Absent only for path-only rules (those with `paths`), which report the file itself.
   */
  pattern?: string;
  /** Extra regex flags (only `i`, `m` and `s` are meaningful). */
  flags?: string;
  /** Capture group holding the secret; 0 means the whole match. Default 1. */
  secretGroup?: number;
  /** Upper bound on a match's length in bytes; bounds the window searched around a keyword. */
  maxLength?: number;
  /**
   * Every match has a keyword starting at most this many bytes after the match's own start
   * (0: matches begin with a keyword). Lets the matcher search from just before a keyword hit
   * instead of `maxLength` before it; checked against the examples.
   */
  keywordWithin?: number;
  validators?: ValidatorSpec[];
  /** Matched secrets (the captured value) that are documented examples, never reported. */
  allowlist?: string[];
  references?: string[];
  description?: string;
  examples: string[];
  negative_examples: string[];
  /**
   * Picomatch globs on the innermost entry path. With `pattern`, the pattern runs only in
   * matching files; without it, every matching file is a finding by its path alone, and
   * `examples` / `negative_examples` are entry paths. A glob written `!glob` excludes.
   */
  paths?: string[];
}

/** A rule ready for the matcher: plain data, so it can be posted to a worker as is. */
export interface CompiledRule {
  id: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /** Regex source; the empty string for path-only rules, which have no keywords. */
  source: string;
  flags: string;
  secretGroup: number;
  maxLength: number;
  /** See `RuleDefinition.keywordWithin`; absent when the rule does not bound it. */
  keywordWithin?: number;
  validators: ValidatorSpec[];
  allowlist: string[];
  references: string[];
  description: string;
  /** Lower-cased keywords of this rule (also indexed in `CompiledRuleset.keywords`). */
  keywords?: string[];
  /** Picomatch globs on the innermost entry path; see `RuleDefinition.paths`. */
  paths?: string[];
  /**
   * A regex source that every path matching `paths` matches (`globsPattern(paths)`), made when
   * the rule is compiled, so a scan can test each path against every rule at once without
   * compiling globs. Exclusions are not in it: a match only says "maybe".
   */
  pathsPattern?: string;
  /** Globs excluded from `paths` (written `!glob` in the rule file). */
  pathsExclude?: string[];
}

/** The whole ruleset in the form the matcher consumes; structured-clone safe. */
export interface CompiledRuleset {
  rules: CompiledRule[];
  /** Distinct lower-cased keywords. */
  keywords: string[];
  /** For each keyword (same index), the indexes of the rules it triggers. */
  keywordRules: number[][];
  /** The longest possible match over all rules: the overlap needed between chunks. */
  maxMatchLength: number;
}
