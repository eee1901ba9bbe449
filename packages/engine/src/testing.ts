import type { RuleDefinition } from '@pubguard/rules';

/** A rule for this package's tests: `tok_` and 24 letters or digits, the whole token its secret. */
export const TEST_TOKEN_RULE: RuleDefinition = {
  id: 'test-token',
  title: 'Test token',
  severity: 'high',
  keywords: ['tok_'],
  pattern: '\\b(tok_[A-Za-z0-9]{24})\\b',
  secretGroup: 1,
  maxLength: 40,
  examples: [],
  negative_examples: [],
};
