import { RuleError } from './errors.js';
import type { ChecksumScheme, Confidence, RuleDefinition, Severity, ValidatorSpec } from './types.js';

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
const CONFIDENCES: readonly Confidence[] = ['high', 'medium', 'low'];
const SCHEMES: readonly ChecksumScheme[] = ['github-crc32', 'gitlab-routable', 'grafana-crc32', 'vercel-crc32', 'zuplo-crc32'];
// A record, so that a validator added to ValidatorSpec and left out here fails to compile.
const VALIDATOR_TYPE_SET: Record<ValidatorSpec['type'], true> = {
  checksum: true,
  entropy: true,
  charclasses: true,
  'pypi-macaroon': true,
  jwt: true,
  pem: true,
  'sas-not-expired': true,
  'not-placeholder': true,
  'not-digest': true,
  'basic-auth': true,
};
/** Every validator `type` a rule may name (the config's JSON Schema lists the same). */
export const VALIDATOR_TYPES: readonly ValidatorSpec['type'][] = Object.keys(VALIDATOR_TYPE_SET) as ValidatorSpec['type'][];
const KNOWN_FIELDS = new Set([
  'id', 'title', 'severity', 'confidence', 'keywords', 'pattern', 'flags', 'secretGroup', 'maxLength', 'keywordWithin',
  'validators', 'allowlist', 'references', 'description', 'examples', 'negative_examples', 'paths',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, field: string, where: string, required: boolean): string[] | undefined {
  if (value === undefined && !required) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new RuleError(`${where}: \`${field}\` must be a list of strings`);
  }
  return value as string[];
}

function parseValidator(value: unknown, where: string): ValidatorSpec {
  if (!isRecord(value) || typeof value.type !== 'string') throw new RuleError(`${where}: each validator needs a \`type\``);
  switch (value.type) {
    case 'checksum':
      if (typeof value.scheme !== 'string' || !SCHEMES.includes(value.scheme as ChecksumScheme)) {
        throw new RuleError(`${where}: checksum validator needs \`scheme\`, one of ${SCHEMES.join(', ')}`);
      }
      return { type: 'checksum', scheme: value.scheme as ChecksumScheme };
    case 'entropy':
    case 'charclasses':
      if (typeof value.min !== 'number' || !Number.isFinite(value.min)) {
        throw new RuleError(`${where}: ${value.type} validator needs a numeric \`min\``);
      }
      if (value.type === 'entropy' && value.hexMin !== undefined) {
        if (typeof value.hexMin !== 'number' || !Number.isFinite(value.hexMin)) {
          throw new RuleError(`${where}: entropy validator's \`hexMin\` must be a number`);
        }
        return { type: 'entropy', min: value.min, hexMin: value.hexMin };
      }
      if (value.type === 'charclasses' && (value.longMin !== undefined || value.longFrom !== undefined)) {
        const whole = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0;
        if (!whole(value.longMin) || !whole(value.longFrom)) {
          throw new RuleError(`${where}: charclasses validator's \`longMin\` and \`longFrom\` go together and must be whole numbers`);
        }
        return { type: 'charclasses', min: value.min, longMin: value.longMin as number, longFrom: value.longFrom as number };
      }
      return { type: value.type, min: value.min };
    case 'pypi-macaroon':
    case 'jwt':
    case 'pem':
    case 'not-placeholder':
    case 'not-digest':
    case 'sas-not-expired':
    case 'basic-auth':
      return { type: value.type };
    default:
      throw new RuleError(`${where}: unknown validator type '${value.type}'`);
  }
}

/**
 * Checks the shape of one rule as read from a file (YAML or JSON) and returns it typed.
 * `origin` names where it came from (a file name) for the error message.
 */
export function parseRuleDefinition(value: unknown, origin: string): RuleDefinition {
  if (!isRecord(value)) throw new RuleError(`${origin}: each rule must be a mapping`);
  const id = value.id;
  if (typeof id !== 'string' || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(id)) {
    throw new RuleError(`${origin}: rule ${JSON.stringify(id)}: \`id\` must be kebab-case (a-z, 0-9, -)`);
  }
  const where = `${origin}: rule '${id}'`;
  const fail = (message: string): never => {
    throw new RuleError(`${where}: ${message}`, id);
  };
  for (const key of Object.keys(value)) if (!KNOWN_FIELDS.has(key)) fail(`unknown field \`${key}\``);
  if (typeof value.title !== 'string' || value.title.trim() === '') fail('`title` is required');
  if (!SEVERITIES.includes(value.severity as Severity)) fail(`\`severity\` must be one of ${SEVERITIES.join(', ')}`);
  if (value.confidence !== undefined && !CONFIDENCES.includes(value.confidence as Confidence)) {
    fail(`\`confidence\` must be one of ${CONFIDENCES.join(', ')}`);
  }
  if (value.pattern !== undefined && typeof value.pattern !== 'string') fail('`pattern` must be a string');
  if (value.flags !== undefined && (typeof value.flags !== 'string' || !/^[ims]*$/.test(value.flags))) {
    fail('`flags` may only contain i, m and s');
  }
  for (const n of ['secretGroup', 'maxLength', 'keywordWithin'] as const) {
    const v = value[n];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) fail(`\`${n}\` must be a non-negative integer`);
  }
  if (value.description !== undefined && typeof value.description !== 'string') fail('`description` must be a string');
  if (value.validators !== undefined && !Array.isArray(value.validators)) fail('`validators` must be a list');
  let keywords: string[] | undefined;
  let paths: string[] | undefined;
  let examples: string[] | undefined;
  let negatives: string[] | undefined;
  let allowlist: string[] | undefined;
  let references: string[] | undefined;
  let validators: ValidatorSpec[] | undefined;
  try {
    paths = stringList(value.paths, 'paths', where, false);
    keywords = stringList(value.keywords, 'keywords', where, paths === undefined) ?? [];
    examples = stringList(value.examples, 'examples', where, true);
    negatives = stringList(value.negative_examples, 'negative_examples', where, true);
    allowlist = stringList(value.allowlist, 'allowlist', where, false);
    references = stringList(value.references, 'references', where, false);
    validators = (value.validators as unknown[] | undefined)?.map((v) => parseValidator(v, where));
  } catch (error) {
    if (error instanceof RuleError) throw new RuleError(error.message, id);
    throw error;
  }
  if (value.pattern === undefined && paths === undefined) fail('needs a `pattern` (or `paths` for a path-only rule)');
  const def: RuleDefinition = {
    id,
    title: value.title as string,
    severity: value.severity as Severity,
    keywords: keywords ?? [],
    examples: examples ?? [],
    negative_examples: negatives ?? [],
  };
  if (value.confidence !== undefined) def.confidence = value.confidence as Confidence;
  if (value.pattern !== undefined) def.pattern = value.pattern as string;
  if (value.flags !== undefined) def.flags = value.flags as string;
  if (value.secretGroup !== undefined) def.secretGroup = value.secretGroup as number;
  if (value.maxLength !== undefined) def.maxLength = value.maxLength as number;
  if (value.keywordWithin !== undefined) def.keywordWithin = value.keywordWithin as number;
  if (validators !== undefined) def.validators = validators;
  if (allowlist !== undefined) def.allowlist = allowlist;
  if (references !== undefined) def.references = references;
  if (value.description !== undefined) def.description = value.description as string;
  if (paths !== undefined) def.paths = paths;
  return def;
}

/** Checks the shape of a rule file's contents: a list of rules. `origin` names the file. */
export function parseRuleDefinitions(value: unknown, origin: string): RuleDefinition[] {
  if (!Array.isArray(value)) throw new RuleError(`${origin}: a rule file must be a list of rules`);
  return value.map((v) => parseRuleDefinition(v, origin));
}
