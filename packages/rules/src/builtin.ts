import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BuiltinRulesMissingError } from './errors.js';
import type { CompiledRuleset, RuleDefinition } from './types.js';

/** What `scripts/build.mjs` writes to `generated/builtin.json`. */
export interface BuiltinRulesFile {
  version: 1;
  definitions: RuleDefinition[];
  ruleset: CompiledRuleset;
}

// Same relative position from src/ and from dist/, so sources under vitest and the build agree.
const BUILTIN_URL = new URL('../generated/builtin.json', import.meta.url);

let cached: BuiltinRulesFile | undefined;

function load(): BuiltinRulesFile {
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(BUILTIN_URL, 'utf8');
  } catch {
    throw new BuiltinRulesMissingError(
      `built-in rules not found at ${fileURLToPath(BUILTIN_URL)}; run \`pnpm build\` (it generates them from packages/rules/rules/*.yaml)`,
    );
  }
  let parsed: Partial<BuiltinRulesFile> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<BuiltinRulesFile>;
  } catch {
    // A damaged file gets the same actionable message as one of another version.
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.definitions) || !parsed.ruleset) {
    throw new BuiltinRulesMissingError(`${fileURLToPath(BUILTIN_URL)} is not a built-in rules file of this version; run \`pnpm build\``);
  }
  cached = parsed as BuiltinRulesFile;
  return cached;
}

/** The built-in rule definitions, as written in `packages/rules/rules/*.yaml`. */
export function builtinRuleDefinitions(): RuleDefinition[] {
  return structuredClone(load().definitions);
}

/** The built-in rules compiled for the matcher (compiled at build time, not at start-up). */
export function builtinRuleset(): CompiledRuleset {
  return load().ruleset;
}
