import { readFileSync } from 'node:fs';
import { lstat, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { brokenLinkOnPath, describeBrokenLink, describeFsError, type Finding, findDuplicateJsonKey, loadBaseline, maskNames, redact, type ScanLimits, type ScanOptions, STRUCTURE_RULES } from '@pubguard/engine';
import type { ReportFormat } from '@pubguard/report';
import { type CompiledRuleset, type RuleDefinition, RuleError, builtinRuleDefinitions, builtinRuleset, checkRuleExamples, compileRules, keywordReachWarning, parseRuleDefinition } from '@pubguard/rules';
import picomatch from 'picomatch';
import { closest } from './suggest.js';

/** The file `loadConfig` looks for. */
export const CONFIG_FILE_NAME = 'pubguard.config.json';

/** Limits as written in the config file (seconds rather than milliseconds for the time limit). */
export interface ConfigLimits {
  maxDepth?: number;
  maxEntries?: number;
  maxEntryBytes?: number;
  maxArtifactBytes?: number;
  maxCompressionRatio?: number;
  maxArtifactSeconds?: number;
  maxFindingsPerFile?: number;
  maxFindingsPerArtifact?: number;
}

/** Global allowlists: findings they match are never reported, whatever the rule. */
export interface ConfigAllowlist {
  /**
   * Picomatch globs on the entry path inside the artifact (also below the package's top
   * directory, `package/` in an npm tarball), or on the whole `artifact!entry` path.
   */
  paths?: string[];
  /** Regex sources; a secret any of them matches is dropped. */
  regexes?: string[];
  /** Case-insensitive words; a secret containing one is dropped. */
  stopwords?: string[];
  /** The same kinds of entries for one rule only, by rule id. */
  rules?: Record<string, Omit<ConfigAllowlist, 'rules'>>;
}

/** A custom rule: the built-in rule shape, with examples optional. */
export type CustomRuleDefinition = Omit<RuleDefinition, 'examples' | 'negative_examples'> & Partial<Pick<RuleDefinition, 'examples' | 'negative_examples'>>;

/** Which rules run: built-ins minus `disable`, plus `custom`. */
export interface ConfigRules {
  disable?: string[];
  custom?: CustomRuleDefinition[];
}

/** The contents of `pubguard.config.json`, validated; every key is optional. */
export interface PubguardConfig {
  $schema?: string;
  ignore?: string[];
  jobs?: number;
  limits?: ConfigLimits;
  format?: ReportFormat;
  baseline?: string;
  rules?: ConfigRules;
  allowlist?: ConfigAllowlist;
}

/** A config file found and validated. */
export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  /** The directory holding it: relative paths in the file are relative to it. */
  dir: string;
  config: PubguardConfig;
}

/** How strictly a config file's custom rules are judged when it is loaded. */
export interface ConfigCheckOptions {
  /**
   * False leaves a custom rule's own examples untried, for `pubguard rules check`, which reports
   * every problem of every rule rather than refusing the file at the first. Default true.
   */
  examples?: boolean;
  /**
   * False lets a custom rule that does not compile or does not fit the schema (an invalid
   * pattern, a keyword too short, bad flags, a negative secretGroup, an unknown field) through,
   * for `pubguard rules check`, which lists it as a problem of that rule and checks the others.
   * A rule without a usable id (a kebab-case string) is still refused: nothing could name it.
   * Default true.
   */
  compile?: boolean;
}

/** A config file that cannot be used: the message names the file and the key (or line and column). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The config file concerned. */
  readonly file: string;
  /** Dotted key path of the offending value (`limits.maxDepth`, `rules.custom[0].pattern`), when known. */
  readonly keyPath: string | undefined;
  /** What is wrong, without the file and key path. */
  readonly reason: string;
  constructor(file: string, message: string, keyPath?: string) {
    super(`${file}: ${keyPath ? `${keyPath}: ` : ''}${message}`);
    this.file = file;
    this.keyPath = keyPath;
    this.reason = message;
  }
}

// ---------------------------------------------------------------------------------------
// Locating and parsing

/**
 * Whether anything is at `path`: only nothing at all, not even a link, is absent. A link that
 * leads nowhere, a directory or a file that cannot be read is a config file that cannot be
 * used, and passing over it would apply one further up, with other allowlists and rules.
 */
async function isThere(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * The nearest `pubguard.config.json` in `cwd` or a directory above it, up to the filesystem
 * root, whatever it is: reading it says when it is not a file that can be read.
 */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (await isThere(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Finds (walking up from `cwd`) or reads (`explicitPath`, relative to `cwd`) the config file
 * and validates it. Undefined when no file is found and none was asked for.
 */
export async function loadConfig(cwd: string, explicitPath?: string, options: ConfigCheckOptions = {}): Promise<LoadedConfig | undefined> {
  const path = explicitPath !== undefined ? resolve(cwd, explicitPath) : await findConfigFile(cwd);
  if (path === undefined) return undefined;
  // Said of a file found rather than named, whose user may not know it is there.
  const found = explicitPath === undefined ? `; it is the nearest ${CONFIG_FILE_NAME}, so none further up is used in its place: fix or remove it, or name the config to use with --config` : '';
  let text: string;
  try {
    // A FIFO found by its name would block the read for good; one named (`-c <(…)`) is meant.
    if (explicitPath === undefined) {
      const info = await stat(path);
      if (!info.isFile() && !info.isDirectory()) throw new ConfigError(path, `cannot read the config file: is not a regular file${found}`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const broken = (error as NodeJS.ErrnoException).code === 'ENOENT' ? await brokenLinkOnPath(path) : undefined;
    throw new ConfigError(path, `cannot read the config file: ${broken ? describeBrokenLink(path, broken) : describeFsError(error)}${found}`);
  }
  return { path, dir: dirname(path), config: parseConfig(text, path, options) };
}

/**
 * 1-based line and column of a UTF-16 offset in `text`, lines ending at LF, CR or CR LF as
 * an editor shows them (a file saved with classic Mac OS line ends has lines too).
 */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of the first syntax error in `text`, for JSON.parse messages that carry no position
 * (V8 says only "Unexpected token" for some mistakes). Undefined if the text is valid JSON.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '"') {
      string();
    } else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) fail();
      i += (m as RegExpExecArray)[0].length;
    }
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return;
      }
      if (code < 0x20) fail();
      if (code === 0x5c) {
        const next = text[i + 1] ?? '';
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(next) || next === '') {
          i++;
          fail();
        }
        i += 2;
        continue;
      }
      i++;
    }
    fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (typeof error === 'number') return error;
    throw error;
  }
}

/** Parses JSON, turning a syntax error or a key written twice into a ConfigError with line and column. */
function parseJson(text: string, file: string): unknown {
  // A BOM is legal in files editors write but not in JSON.parse input.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    const data: unknown = JSON.parse(body);
    // JSON.parse keeps the last of two equal keys: a second "rules" or "allowlist" further down
    // would disable a rule or hide findings while the one a reviewer reads looks harmless.
    const twice = findDuplicateJsonKey(body);
    if (twice) {
      const message = `the key is written twice (first on line ${twice.firstLine}); only the last would count, whichever one a reader takes for it: keep one`;
      throw new ConfigError(`${file}:${twice.line}:${twice.column}`, message, maskSecretLike(twice.path));
    }
    return data;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const m = /^(.*?) in JSON at position (\d+)/s.exec(reason);
    let offset: number;
    let short: string;
    if (m) {
      offset = Number(m[2]);
      short = m[1] as string;
    } else {
      // V8 gives no position for some mistakes (and quotes the whole input): find it ourselves.
      offset = jsonErrorOffset(body) ?? body.length;
      const word = /^[\w.+-]+/.exec(body.slice(offset))?.[0] ?? body.slice(offset, offset + 1);
      short = offset >= body.length ? 'unexpected end of file' : `unexpected ${word === '\n' ? 'line break' : JSON.stringify(maskSecretLike(word))}`;
    }
    const { line, column } = lineColumn(body, offset);
    throw new ConfigError(`${file}:${line}:${column}`, `invalid JSON: ${short}`);
  }
}

// ---------------------------------------------------------------------------------------
// Validation against the shipped schema

/** The subset of JSON Schema the shipped schema uses. */
interface SchemaNode {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  /** `false` forbids unknown keys; a schema checks the value of every key not in `properties`. */
  additionalProperties?: boolean | SchemaNode;
  required?: string[];
  items?: SchemaNode;
  minimum?: number;
  minLength?: number;
  pattern?: string;
  $ref?: string;
  $defs?: Record<string, SchemaNode>;
  description?: string;
}

const SCHEMA_URL = new URL('../schemas/pubguard.config.schema.json', import.meta.url);
let schemaCache: SchemaNode | undefined;

/** The JSON Schema shipped in the package (`schemas/pubguard.config.schema.json`). */
export function configSchema(): SchemaNode {
  schemaCache ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as SchemaNode;
  return schemaCache;
}

// A config may hold a known token on purpose (an allowlist regex or a stopword for a revoked
// test token), and its errors reach CI logs: a value quoted back shows each token-shaped run in
// the short form reports give a secret. A run is token-shaped when it is 16 characters or more
// and a piece of it between `-` and `_` mixes letters and digits over 10 characters or more;
// rule ids (`acme-key-2024v2`), words and paths stay as written, so the message still says
// what to fix, and the key path says which entry.
const TOKEN_RUN = /[A-Za-z0-9_+/=-]{16,}/g;
const MIXED_PIECE = /[A-Za-z0-9+/=]{10,}/g;

function maskSecretLike(text: string): string {
  return text.replace(TOKEN_RUN, (run) => ((run.match(MIXED_PIECE) ?? []).some((piece) => /[A-Za-z]/.test(piece) && /[0-9]/.test(piece)) ? redact(run) : run));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = maskSecretLike(value);
    return `the string ${JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}…` : shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return false;
  }
}

const ARTICLE: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false' };

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  key = maskSecretLike(key);
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${safe}` : safe;
}

/** Checks `value` against a schema node; throws ConfigError naming the first offending key. */
function check(root: SchemaNode, node: SchemaNode, value: unknown, path: string, file: string): void {
  const fail = (message: string, at = path): never => {
    throw new ConfigError(file, message, at || undefined);
  };
  if (node.$ref !== undefined) {
    const name = /^#\/\$defs\/(.+)$/.exec(node.$ref)?.[1];
    const target = name !== undefined ? root.$defs?.[name] : undefined;
    if (!target) throw new Error(`config schema: unresolved $ref ${node.$ref}`);
    check(root, target, value, path, file);
    return;
  }
  if (node.enum !== undefined && !node.enum.includes(value)) {
    fail(`must be one of ${node.enum.map((e) => JSON.stringify(e)).join(', ')}; got ${describeValue(value)}`);
  }
  if (node.type !== undefined && !typeMatches(node.type, value)) {
    fail(`must be ${ARTICLE[node.type] ?? node.type}; got ${describeValue(value)}`);
  }
  if (typeof value === 'number' && node.minimum !== undefined && value < node.minimum) {
    fail(`must be at least ${node.minimum}; got ${value}`);
  }
  if (typeof value === 'string') {
    if (node.minLength !== undefined && value.length < node.minLength) {
      fail(node.minLength === 1 ? 'must not be empty' : `must be at least ${node.minLength} characters long; got ${describeValue(value)}`);
    }
    if (node.pattern !== undefined && !new RegExp(node.pattern).test(value)) fail(`${describeValue(value)} does not have the expected form ${node.pattern}`);
  }
  if (Array.isArray(value) && node.items) {
    value.forEach((item, i) => check(root, node.items as SchemaNode, item, childPath(path, i), file));
  }
  if (typeMatches('object', value) && (node.properties || node.required || typeof node.additionalProperties === 'object')) {
    const record = value as Record<string, unknown>;
    const props = node.properties ?? {};
    for (const key of node.required ?? []) if (!Object.hasOwn(record, key)) fail(`missing required key "${key}"`);
    for (const [key, child] of Object.entries(record)) {
      // Own properties only: `props.__proto__` or `props.constructor` is Object's, not a schema,
      // and took those keys for known ones, letting `{"__proto__": …}` through at any depth.
      const sub = Object.hasOwn(props, key) ? props[key] : typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
      if (sub) check(root, sub, child, childPath(path, key), file);
      else if (node.additionalProperties === false) {
        const known = Object.keys(props).filter((k) => k !== '$schema');
        fail(`unknown key; known keys${path ? ` here` : ''}: ${known.join(', ')}`, childPath(path, key));
      }
    }
  }
}

/** Validates parsed JSON against the config schema and returns it typed; throws ConfigError. */
export function validateConfig(data: unknown, file: string, options: ConfigCheckOptions = {}): PubguardConfig {
  const schema = configSchema();
  if (!typeMatches('object', data)) throw new ConfigError(file, `the config must be a JSON object; got ${describeValue(data)}`);
  // Before the schema, whose pattern alone would not say why: the directory walk takes
  // `!src/**` for `src/**` and would skip the very files the glob names.
  const ignore = (data as { ignore?: unknown }).ignore;
  if (Array.isArray(ignore)) {
    ignore.forEach((glob, i) => {
      if (typeof glob === 'string' && glob.startsWith('!')) {
        throw new ConfigError(file, 'a negated glob cannot bring back what another ignore glob skips; list only the paths to skip', `ignore[${i}]`);
      }
    });
  }
  // For `rules check`, a custom rule that is wrong in itself is that rule's problem, listed
  // by ruleDefinitionsFromConfig; the rest of the file is checked as usual.
  const listed = options.compile === false ? listedRuleProblems(data) : new Set<number>();
  if (listed.size === 0) check(schema, schema, data, '', file);
  else {
    const record = data as { rules: { custom: unknown[] } };
    check(schema, schema, { ...record, rules: { ...record.rules, custom: [] } }, '', file);
    record.rules.custom.forEach((rule, i) => {
      if (!listed.has(i)) check(schema, { $ref: '#/$defs/rule' }, rule, `rules.custom[${i}]`, file);
    });
  }
  const config = data as PubguardConfig;
  const regexLists: Array<[string, string[] | undefined]> = [
    ['allowlist.regexes', config.allowlist?.regexes],
    ...Object.entries(config.allowlist?.rules ?? {}).map(([id, entry]): [string, string[] | undefined] => [childPath(childPath('allowlist.rules', id), 'regexes'), entry.regexes]),
  ];
  for (const [at, list] of regexLists) {
    list?.forEach((source, i) => {
      try {
        new RegExp(source);
      } catch (error) {
        // V8 quotes the whole source in its message.
        throw new ConfigError(file, `invalid regular expression: ${(error as Error).message.split(source).join(maskSecretLike(source))}`, `${at}[${i}]`);
      }
    });
  }
  config.rules?.custom?.forEach((rule, i) => {
    if (listed.has(i)) return;
    // The rules package owns the rule shape beyond the schema (validator parameters, etc.).
    let def: RuleDefinition;
    let compiled: CompiledRuleset;
    try {
      def = parseRuleDefinition({ examples: [], negative_examples: [], ...rule }, 'custom rule');
    } catch (error) {
      if (error instanceof RuleError) throw new ConfigError(file, ruleMessage(error), `rules.custom[${i}]`);
      throw error;
    }
    try {
      compiled = compileRules([def]);
    } catch (error) {
      if (!(error instanceof RuleError)) throw error;
      if (options.compile === false) return;
      throw new ConfigError(file, ruleMessage(error), `rules.custom[${i}]`);
    }
    // Examples are optional, but one that is written and not reported means the rule is
    // broken (a keyword typo, a wrong group) and would silently find nothing.
    const compiledRule = compiled.rules[0];
    const problem = compiledRule && options.examples !== false ? checkRuleExamples(def, compiledRule)[0] : undefined;
    if (problem) throw new ConfigError(file, `rule '${def.id}': ${problem.message}`, `rules.custom[${i}]`);
  });
  return config;
}

function ruleMessage(error: RuleError): string {
  return error.message.replace(/^custom rule: /, '');
}

/** A custom rule's id when it is one a problem can be listed under (kebab-case, as the schema wants). */
function usableRuleId(rule: unknown): string | undefined {
  const id = typeMatches('object', rule) ? (rule as { id?: unknown }).id : undefined;
  return typeof id === 'string' && /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(id) ? id : undefined;
}

/**
 * What is wrong with a custom rule in itself, before compiling: the schema's verdict on it,
 * then the rules package's (`keywords[0]: must be at least 3 characters long; …`). Undefined
 * when nothing is.
 */
function customRuleProblem(rule: unknown): string | undefined {
  try {
    check(configSchema(), { $ref: '#/$defs/rule' }, rule, '', '');
    parseRuleDefinition({ examples: [], negative_examples: [], ...(rule as object) }, 'custom rule');
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.keyPath ? `${error.keyPath}: ${error.reason}` : error.reason;
    if (error instanceof RuleError) return ruleMessage(error).replace(/^rule '[^']*': /, '');
    throw error;
  }
}

/** Indexes of the custom rules in raw config data that are wrong in themselves and have a usable id. */
function listedRuleProblems(data: unknown): Set<number> {
  const custom = typeMatches('object', data) ? (data as { rules?: unknown }).rules : undefined;
  const rules = typeMatches('object', custom) ? (custom as { custom?: unknown }).custom : undefined;
  const out = new Set<number>();
  if (Array.isArray(rules)) {
    rules.forEach((rule, i) => {
      if (usableRuleId(rule) !== undefined && customRuleProblem(rule) !== undefined) out.add(i);
    });
  }
  return out;
}

/** Parses and validates the text of a config file; `file` names it in error messages. */
export function parseConfig(text: string, file: string, options: ConfigCheckOptions = {}): PubguardConfig {
  return validateConfig(parseJson(text, file), file, options);
}

// ---------------------------------------------------------------------------------------
// Turning a config into scan settings

/** The ids of the archive-structure findings, which a per-rule allowlist may name as it names a rule's. */
const STRUCTURE_IDS: ReadonlySet<string> = new Set(STRUCTURE_RULES.map((r) => r.id));

/** The definitions of the rules a config makes a scan run, in the order it runs them. */
export interface ConfigRuleDefinitions {
  /** The built-in rules minus `rules.disable`. */
  builtin: RuleDefinition[];
  /** `rules.custom`, examples defaulting to none. */
  custom: RuleDefinition[];
  /**
   * Custom rules wrong in themselves (a keyword too short, bad flags...), each by its id with
   * what is wrong; only with `options.compile` false, else they are refused. Not in `custom`.
   */
  invalid: Array<{ id: string; message: string }>;
}

/**
 * The built-in definitions minus `rules.disable`, and `rules.custom`. Unknown ids in
 * `disable`, a custom id that clashes with a kept built-in, a structure check or another
 * custom rule, and a custom rule that does not compile (an invalid regex) are ConfigErrors
 * naming the rule; with `options.compile` false, the last is let through, and a custom rule
 * wrong in itself is returned in `invalid`.
 */
export function ruleDefinitionsFromConfig(
  loaded: LoadedConfig | undefined,
  builtins: readonly RuleDefinition[] = builtinRuleDefinitions(),
  options: ConfigCheckOptions = {},
): ConfigRuleDefinitions {
  const rules = loaded?.config.rules;
  const file = loaded?.path ?? CONFIG_FILE_NAME;
  const builtinIds = new Set(builtins.map((b) => b.id));
  const disabled = new Set<string>();
  (rules?.disable ?? []).forEach((id, i) => {
    if (STRUCTURE_IDS.has(id)) {
      throw new ConfigError(file, `'${id}' is an archive-structure check, which cannot be disabled; allow the entries it reports with ${childPath(childPath('allowlist.rules', id), 'paths')}, or with a baseline`, `rules.disable[${i}]`);
    }
    // A typo of a structure check's id is suggested too: the message then says why it cannot be disabled.
    if (!builtinIds.has(id)) throw new ConfigError(file, `no built-in rule has the id '${maskSecretLike(id)}'${unknownIdHint(id, [...builtinIds, ...STRUCTURE_IDS])}`, `rules.disable[${i}]`);
    disabled.add(id);
  });
  const kept = builtins.filter((b) => !disabled.has(b.id));
  const invalid: ConfigRuleDefinitions['invalid'] = [];
  const custom = (rules?.custom ?? []).map((rule, i) => {
    // Only a rule with a usable id gets here with a problem: validateConfig refuses the others.
    const problem = options.compile === false ? customRuleProblem(rule) : undefined;
    const def = problem === undefined ? parseRuleDefinition({ examples: [], negative_examples: [], ...rule }, 'custom rule') : undefined;
    const id = def?.id ?? rule.id;
    if (problem !== undefined) invalid.push({ id, message: problem });
    if (builtinIds.has(id) && !disabled.has(id)) {
      throw new ConfigError(file, `rule '${id}' has the id of a built-in rule; add '${id}' to rules.disable to replace it, or choose another id`, `rules.custom[${i}].id`);
    }
    // Findings, SARIF descriptions and allowlist.rules entries are keyed by id: a custom rule
    // named like a structure check would share all three with it, and the check cannot be disabled.
    if (STRUCTURE_IDS.has(id)) {
      throw new ConfigError(file, `rule '${id}' has the id of an archive-structure check, which cannot be replaced; choose another id`, `rules.custom[${i}].id`);
    }
    return { id, def, index: i };
  });
  // Custom rules are compiled alone first, so an error names the custom rule's key path.
  const seen = new Map<string, number>();
  for (const { id, def, index } of custom) {
    const before = seen.get(id);
    if (before !== undefined) throw new ConfigError(file, `duplicate rule id '${id}' (also rules.custom[${before}])`, `rules.custom[${index}].id`);
    seen.set(id, index);
    if (options.compile === false || !def) continue;
    try {
      compileRules([def]);
    } catch (error) {
      if (error instanceof RuleError) throw new ConfigError(file, ruleMessage(error), `rules.custom[${index}]`);
      throw error;
    }
  }
  return { builtin: kept, custom: custom.flatMap(({ def }) => (def ? [def] : [])), invalid };
}

/**
 * The ruleset to scan with: the built-in definitions minus `rules.disable`, plus
 * `rules.custom` (see `ruleDefinitionsFromConfig` for what is refused). Without `builtins`,
 * the package's built-in rules, precompiled when the config changes nothing.
 */
export function rulesetFromConfig(loaded: LoadedConfig | undefined, builtins?: readonly RuleDefinition[]): CompiledRuleset {
  const rules = loaded?.config.rules;
  // Compiling 160 rules costs more than a whole small scan: use the build's compiled set.
  if (!builtins && !rules?.disable?.length && !rules?.custom?.length) return builtinRuleset();
  const { builtin, custom } = ruleDefinitionsFromConfig(loaded, builtins);
  return compileRules([...builtin, ...custom]);
}

/** What a config contributes to a scan, in the engine's terms. */
export interface ConfigScanSettings {
  ignore: string[];
  jobs?: number;
  limits: Partial<ScanLimits>;
  /** Absolute path of the baseline file. */
  baselinePath?: string;
  format?: ReportFormat;
}

/**
 * The scan options a config sets: ignore globs, jobs, limits and the baseline path
 * (resolved against the config file's directory). Command-line values should be laid over these.
 */
export function scanOptionsFromConfig(loaded: LoadedConfig | undefined): ConfigScanSettings {
  const config = loaded?.config ?? {};
  const out: ConfigScanSettings = {
    ignore: [...(config.ignore ?? [])],
    limits: {},
  };
  if (config.jobs !== undefined) out.jobs = config.jobs;
  if (config.format !== undefined) out.format = config.format;
  if (loaded && config.baseline !== undefined) out.baselinePath = resolve(loaded.dir, config.baseline);
  const l = config.limits ?? {};
  if (l.maxDepth !== undefined) out.limits.maxDepth = l.maxDepth;
  if (l.maxEntries !== undefined) out.limits.maxEntries = l.maxEntries;
  if (l.maxEntryBytes !== undefined) out.limits.maxEntryBytes = l.maxEntryBytes;
  if (l.maxArtifactBytes !== undefined) out.limits.maxArtifactBytes = l.maxArtifactBytes;
  if (l.maxCompressionRatio !== undefined) out.limits.maxCompressionRatio = l.maxCompressionRatio;
  if (l.maxArtifactSeconds !== undefined) out.limits.maxArtifactMs = Math.round(l.maxArtifactSeconds * 1000);
  if (l.maxFindingsPerFile !== undefined) out.limits.maxFindingsPerFile = l.maxFindingsPerFile;
  if (l.maxFindingsPerArtifact !== undefined) out.limits.maxFindingsPerArtifact = l.maxFindingsPerArtifact;
  return out;
}

/** Where allowlist paths are anchored: the scan's working directory and the config file's directory. */
export interface AllowlistBase {
  cwd: string;
  dir: string;
}

/**
 * A predicate for the global allowlist: true when a finding must be dropped. `secret` is the
 * unredacted value (the engine's `exclude` option passes it), because regexes and stopwords
 * cannot be judged on a redacted secret. With `base`, a path glob also matches a file's path
 * relative to the config file's directory; with `packagePath` (the engine passes it), an
 * archive member's path below its package's top directory. Undefined when the allowlist is empty.
 */
export function allowlistFilter(allowlist: ConfigAllowlist | undefined, base?: AllowlistBase): ((finding: Finding, secret: string, packagePath?: string) => boolean) | undefined {
  const global = entryFilter(allowlist, base);
  const perRule = new Map<string, (finding: Finding, secret: string, packagePath?: string) => boolean>();
  for (const [id, entry] of Object.entries(allowlist?.rules ?? {})) {
    const filter = entryFilter(entry, base);
    if (filter) perRule.set(id, filter);
  }
  if (!global && perRule.size === 0) return undefined;
  return (finding, secret, packagePath) => global?.(finding, secret, packagePath) === true || perRule.get(finding.ruleId)?.(finding, secret, packagePath) === true;
}

/** The predicate for one set of allowlist entries; undefined when it has none. */
function entryFilter(entry: Omit<ConfigAllowlist, 'rules'> | undefined, base: AllowlistBase | undefined): ((finding: Finding, secret: string, packagePath?: string) => boolean) | undefined {
  const paths = entry?.paths ?? [];
  const regexes = (entry?.regexes ?? []).map((r) => new RegExp(r));
  const stopwords = (entry?.stopwords ?? []).map((w) => w.toLowerCase());
  if (paths.length + regexes.length + stopwords.length === 0) return undefined;
  const pathMatch = paths.length ? picomatch(paths, { dot: true }) : undefined;
  return (finding, secret, packagePath) => {
    if (pathMatch) {
      // The engine asks again with the path below the package root, and applies the answer
      // only when that directory is the root (`test/**` then matches `package/test/a.js`).
      if (packagePath !== undefined) return pathMatch(packagePath);
      const inner = finding.location.entry.join('!');
      const slashed = finding.path.replace(/\\/g, '/');
      // `./docs/a.js` names the same file as `docs/a.js`, but picomatch matches neither
      // `docs/**` nor `**/docs/**` against a leading `./`.
      const plain = slashed.replace(/^(?:\.\/+)+/, '');
      if ((inner && pathMatch(inner)) || pathMatch(finding.path) || pathMatch(slashed) || pathMatch(plain)) return true;
      // The same config must allow the same files whether the scan runs from the config's
      // directory (`scan .`), from below it (`scan ../..`) or on an absolute path.
      const anchored = base ? pathFromConfig(finding, base) : undefined;
      if (anchored !== undefined && anchored !== plain && pathMatch(anchored)) return true;
    }
    if (secret && regexes.some((re) => re.test(secret))) return true;
    if (secret && stopwords.length) {
      const lower = secret.toLowerCase();
      if (stopwords.some((w) => lower.includes(w))) return true;
    }
    return false;
  };
}

/** An allowlist path glob and the config key that holds it. */
export interface AllowlistGlob {
  glob: string;
  /** `allowlist.paths`, or `allowlist.rules.<rule-id>.paths`. */
  key: string;
}

/**
 * The allowlist path globs, global or for a finding's rule, that match `packagePath`, an
 * archive member's path below the archive's top directory: those the engine applies to it
 * only in an archive an input names itself (see `allowlistFilter`), so that `scan` can say
 * which glob to write for one found in a scanned directory. Undefined without path globs.
 */
export function packagePathGlobs(allowlist: ConfigAllowlist | undefined): ((finding: Finding, packagePath: string) => AllowlistGlob[]) | undefined {
  const sets: { rule: string | undefined; key: string; globs: { glob: string; match: (path: string) => boolean }[] }[] = [];
  const add = (rule: string | undefined, key: string, paths: readonly string[] | undefined) => {
    if (paths?.length) sets.push({ rule, key, globs: paths.map((glob) => ({ glob, match: picomatch(glob, { dot: true }) })) });
  };
  add(undefined, 'allowlist.paths', allowlist?.paths);
  for (const [id, entry] of Object.entries(allowlist?.rules ?? {})) add(id, childPath(childPath('allowlist.rules', id), 'paths'), entry.paths);
  if (sets.length === 0) return undefined;
  return (finding, packagePath) =>
    sets.filter((set) => set.rule === undefined || set.rule === finding.ruleId).flatMap((set) => set.globs.filter((g) => g.match(packagePath)).map(({ glob }) => ({ glob, key: set.key })));
}

/** A finding's `artifact!entry` path with the artifact relative to the config's directory; undefined outside it or for stdin. */
function pathFromConfig(finding: Finding, base: AllowlistBase): string | undefined {
  const artifact = finding.location.artifact;
  if (artifact === '-' || artifact === '') return undefined;
  const rel = relative(base.dir, resolve(base.cwd, artifact));
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return undefined;
  return [rel.replace(/\\/g, '/'), ...finding.location.entry].join('!');
}

/**
 * The ids nearest to a mistyped one, or where to see them all: `pubguard rules list` loads the
 * same config and stops at the same error, so it lists them only where no config is found.
 */
function unknownIdHint(id: string, known: Iterable<string>): string {
  const near = closest(id, [...known]);
  if (near.length > 0) return `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?`;
  return ' (`pubguard rules list` run outside this project lists the built-in ones)';
}

/** Refuses a per-rule allowlist for a rule not in `rules`: it would silently do nothing. */
function checkAllowlistRuleIds(loaded: LoadedConfig | undefined, rules: ReadonlyArray<{ id: string }>): void {
  const ids = new Set([...rules.map((r) => r.id), ...STRUCTURE_IDS]);
  const disabled = new Set(loaded?.config.rules?.disable ?? []);
  for (const id of Object.keys(loaded?.config.allowlist?.rules ?? {})) {
    if (ids.has(id)) continue;
    const shown = maskSecretLike(id);
    const why = disabled.has(id) ? `rule '${shown}' is disabled in rules.disable, so its allowlist would never apply; remove one or the other` : `no rule has the id '${shown}'${unknownIdHint(id, ids)}`;
    throw new ConfigError(loaded?.path ?? CONFIG_FILE_NAME, why, childPath('allowlist.rules', id));
  }
}

/** Everything a scan takes from the config, resolved in one call. */
export interface ScanConfig extends ConfigScanSettings {
  /** The config file used; undefined when there is none. */
  loaded: LoadedConfig | undefined;
  /** Built-ins minus `rules.disable`, plus `rules.custom`. */
  ruleset: CompiledRuleset;
  /** The global allowlist (see `allowlistFilter`); undefined when empty. */
  drop: ((finding: Finding, secret: string, packagePath?: string) => boolean) | undefined;
  /** Warnings about the config's custom rules, to print before a scan (`customRuleWarnings`). */
  warnings: string[];
}

/**
 * Prints a scan config's warnings on stderr, before the scan they are about, with a token in
 * the config's path shortened as a scan shortens it in the paths it reports.
 */
export function printConfigWarnings(config: Pick<ScanConfig, 'warnings'>, io: { stderr: { write(text: string): unknown } }): void {
  for (const warning of config.warnings) io.stderr.write(`warning: ${maskNames(warning)}\n`);
}

/**
 * What a scan warns of in the config's custom rules: a rule that may fire only by chance, as
 * `rules check` warns (`keywordReachWarning`). A scan runs such a rule as written, so a custom
 * rule whose keyword its matches never hold would otherwise miss secrets without a word.
 */
export function customRuleWarnings(loaded: LoadedConfig | undefined, ruleset: CompiledRuleset): string[] {
  const custom = loaded?.config.rules?.custom ?? [];
  const warnings: string[] = [];
  custom.forEach((def, i) => {
    const rule = ruleset.rules.find((r) => r.id === def.id);
    const why = rule && keywordReachWarning({ keywords: def.keywords, examples: def.examples ?? [] }, rule);
    if (why) warnings.push(`${loaded?.path ?? CONFIG_FILE_NAME}: rules.custom[${i}] (${def.id}): ${why}`);
  });
  return warnings;
}

/**
 * Loads the config (`explicitPath`, or the nearest one above `cwd`) and resolves it for a
 * scan; without a config file the result holds the built-in rules and no settings.
 */
export async function loadScanConfig(cwd: string, explicitPath: string | undefined, builtins?: readonly RuleDefinition[]): Promise<ScanConfig> {
  const loaded = await loadConfig(cwd, explicitPath);
  const ruleset = rulesetFromConfig(loaded, builtins);
  checkAllowlistRuleIds(loaded, ruleset.rules);
  const drop = allowlistFilter(loaded?.config.allowlist, loaded ? { cwd, dir: loaded.dir } : undefined);
  return { ...scanOptionsFromConfig(loaded), loaded, ruleset, drop, warnings: customRuleWarnings(loaded, ruleset) };
}

/** What a command line lays over a config's scan settings: each value given wins over the config's. */
export interface ScanOverrides {
  limits?: Partial<ScanLimits>;
  /** Added to the config's ignore globs. */
  ignore?: readonly string[];
  jobs?: number;
  /** A baseline file relative to `cwd`, used instead of the config's; false for none (`baseline create` records every finding). */
  baseline?: string | false;
}

/** The engine options a config and a command line make, and the baseline file they name. */
export interface ConfiguredScan {
  options: ScanOptions & Required<Pick<ScanOptions, 'ruleset' | 'limits' | 'ignore'>>;
  /** Absolute path of the baseline file read into `options.baseline`; undefined without one. */
  baselinePath: string | undefined;
}

/**
 * Turns a loaded config and the command line's values into engine options: rules, allowlist,
 * ignore globs, limits, jobs and the baseline (read here). The one way from a config to a scan,
 * so that `pubguard scan` and the scan step of `pubguard publish` run the same scan.
 */
export async function configuredScan(config: ScanConfig, cwd: string, overrides: ScanOverrides = {}): Promise<ConfiguredScan> {
  const options: ConfiguredScan['options'] = {
    ruleset: config.ruleset,
    cwd,
    limits: { ...config.limits, ...overrides.limits },
    ignore: [...config.ignore, ...(overrides.ignore ?? [])],
  };
  if (config.drop) options.exclude = config.drop;
  const jobs = overrides.jobs ?? config.jobs;
  if (jobs !== undefined) options.jobs = jobs;
  const baselinePath = overrides.baseline === false ? undefined : overrides.baseline !== undefined ? resolve(cwd, overrides.baseline) : config.baselinePath;
  if (baselinePath !== undefined) options.baseline = await loadBaseline(baselinePath);
  return { options, baselinePath };
}

/** The rules a config makes a scan run, as `pubguard rules list` and `rules check` show them. */
export interface RulesConfig extends ConfigRuleDefinitions {
  /** The config file used; undefined when there is none. */
  loaded: LoadedConfig | undefined;
}

/**
 * Loads the config (`explicitPath`, or the nearest one above `cwd`) as `loadScanConfig` does,
 * refusing what a scan refuses (bar what `options` lets through), and returns the
 * definitions of the rules a scan would run.
 */
export async function loadRulesConfig(cwd: string, explicitPath: string | undefined, options: ConfigCheckOptions = {}): Promise<RulesConfig> {
  const loaded = await loadConfig(cwd, explicitPath, options);
  const { builtin, custom, invalid } = ruleDefinitionsFromConfig(loaded, undefined, options);
  checkAllowlistRuleIds(loaded, [...builtin, ...custom, ...invalid]);
  return { loaded, builtin, custom, invalid };
}
