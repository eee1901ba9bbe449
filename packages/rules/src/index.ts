export type {
  ChecksumScheme,
  CompiledRule,
  CompiledRuleset,
  Confidence,
  RuleDefinition,
  Severity,
  ValidatorSpec,
} from './types.js';
export { BuiltinRulesMissingError, RuleError } from './errors.js';
export { builtinRuleDefinitions, builtinRuleset } from './builtin.js';
export { MIN_KEYWORD_LENGTH, compileRules } from './compile.js';
export { type Acceptance, acceptCandidate, basicAuthReason, fingerprintValue, digestReason, placeholderReason, sasExpiredReason } from './accept.js';
export { type CheckRulesOptions, type RuleMatch, type RuleProblem, checkRuleExamples, checkRuleOverlaps, checkRules, everyMatchHoldsKeyword, keywordReachWarning, matchRule } from './check.js';
export { globsPattern, isPathOnlyRule, normaliseEntryPath, pathFindingTarget, ruleAppliesToPath } from './paths.js';
export { parseRuleDefinition, parseRuleDefinitions, VALIDATOR_TYPES } from './schema.js';
export {
  BASE62_ALPHABET,
  type MacaroonInfo,
  base62Encode,
  charClasses,
  crc32,
  decodeBase64,
  entropy,
  githubChecksumValid,
  gitlabRoutableChecksumValid,
  grafanaChecksumValid,
  jwtValid,
  parseMacaroonV2,
  pemBody,
  pemBodyValid,
  pypiMacaroonValid,
  vercelChecksumValid,
  zuploChecksumValid,
} from './validators.js';
export { dropOverlapping, type RulePriority } from './overlap.js';
export { isFullSecret, redact } from './redact.js';
