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
export { type BuiltinRulesFile, builtinRuleDefinitions, builtinRuleset } from './builtin.js';
export { DEFAULT_MAX_LENGTH, MIN_KEYWORD_LENGTH, captureGroupCount, compileRules } from './compile.js';
export { type Acceptance, DOCUMENTED_EXAMPLES, acceptCandidate, digestReason, textPrefixLength, looksLikePlaceholderWord, placeholderReason } from './accept.js';
export { type RuleMatch, type RuleProblem, checkRules, findUnboundedQuantifier, matchRule } from './check.js';
export { isPathOnlyRule, pathFindingTarget, ruleAppliesToPath } from './paths.js';
export { parseRuleDefinition, parseRuleDefinitions } from './schema.js';
export {
  BASE62_ALPHABET,
  type MacaroonInfo,
  base36Encode,
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
  pemBodyValid,
  pypiMacaroonValid,
  vercelChecksumValid,
  zuploChecksumValid,
} from './validators.js';
export { compareRulePriority, dropOverlapping, type RulePriority } from './overlap.js';
