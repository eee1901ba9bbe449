import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BuiltinRulesMissingError } from './errors.js';
import type { CompiledRuleset, RuleDefinition } from './types.js';

// Same relative position from src/ and from dist/, so sources under vitest and the build agree.
// Two files, both written by `scripts/build.mjs`: a scan reads only the ruleset, and the
// definitions (with every rule's examples) are 60% of the bytes.
const RULESET_URL = new URL('../generated/builtin.json', import.meta.url);
const DEFINITIONS_URL = new URL('../generated/builtin-definitions.json', import.meta.url);

let ruleset: CompiledRuleset | undefined;
let definitions: RuleDefinition[] | undefined;

/**
 * `field` of a generated file of version 1; throws BuiltinRulesMissingError, saying to build,
 * when the file is missing, damaged or of another version.
 */
function readGenerated(url: URL, field: 'ruleset' | 'definitions'): unknown {
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch {
    throw new BuiltinRulesMissingError(
      `built-in rules not found at ${fileURLToPath(url)}; run \`pnpm build\` (it generates them from packages/rules/rules/*.yaml)`,
    );
  }
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A damaged file gets the same actionable message as one of another version.
  }
  const value = parsed?.[field];
  const shaped = field === 'definitions' ? Array.isArray(value) : typeof value === 'object' && value !== null;
  if (parsed?.version !== 1 || !shaped) {
    throw new BuiltinRulesMissingError(`${fileURLToPath(url)} is not a built-in rules file of this version; run \`pnpm build\``);
  }
  return value;
}

/** The built-in rule definitions, as written in `packages/rules/rules/*.yaml`. */
export function builtinRuleDefinitions(): RuleDefinition[] {
  definitions ??= readGenerated(DEFINITIONS_URL, 'definitions') as RuleDefinition[];
  return structuredClone(definitions);
}

/** The built-in rules compiled for the matcher (compiled at build time, not at start-up). */
export function builtinRuleset(): CompiledRuleset {
  ruleset ??= readGenerated(RULESET_URL, 'ruleset') as CompiledRuleset;
  return ruleset;
}
