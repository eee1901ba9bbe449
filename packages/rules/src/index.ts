export type {
  ChecksumScheme,
  CompiledRule,
  CompiledRuleset,
  Confidence,
  RuleDefinition,
  Severity,
  ValidatorSpec,
} from './types.js';
