/** A rule that cannot be used as written: names the rule (and its file when known). */
export class RuleError extends Error {
  override name = 'RuleError';
  /** The offending rule's id, when the problem is in one rule. */
  readonly ruleId: string | undefined;
  constructor(message: string, ruleId?: string) {
    super(message);
    this.ruleId = ruleId;
  }
}

/** The built-in rules were not generated: the package was used without its build step. */
export class BuiltinRulesMissingError extends Error {
  override name = 'BuiltinRulesMissingError';
}
