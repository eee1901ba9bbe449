import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Finding, redact } from '@pubguard/engine';
import { type RuleDefinition, VALIDATOR_TYPES } from '@pubguard/rules';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allowlistFilter,
  CONFIG_FILE_NAME,
  ConfigError,
  configSchema,
  jsonErrorOffset,
  type LoadedConfig,
  loadConfig,
  loadRulesConfig,
  loadScanConfig,
  packagePathGlobs,
  parseConfig,
  rulesetFromConfig,
  scanOptionsFromConfig,
  validateConfig,
} from './config.js';
import { run } from './run.js';
import { memoryIO } from './testing.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error a config text gives, or fails the test. */
function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'pubguard.config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const BUILTINS: RuleDefinition[] = [
  { id: 'alpha-token', title: 'Alpha token', severity: 'high', keywords: ['alpha_'], pattern: '(alpha_[a-z0-9]{20})', examples: [], negative_examples: [] },
  { id: 'beta-token', title: 'Beta token', severity: 'low', keywords: ['beta_'], pattern: '(beta_[a-z0-9]{20})', examples: [], negative_examples: [] },
];

function loaded(config: object): LoadedConfig {
  return { path: '/repo/pubguard.config.json', dir: '/repo', config: parseConfig(JSON.stringify(config), '/repo/pubguard.config.json') };
}

describe('loadConfig', () => {
  it('finds the config in a parent directory and resolves the baseline next to it', async () => {
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ jobs: 2, baseline: '.pubguard/baseline.json' }));
    const deep = join(dir, 'a', 'b');
    await mkdir(deep, { recursive: true });
    const found = await loadConfig(deep);
    expect(found?.path).toBe(join(dir, CONFIG_FILE_NAME));
    expect(found?.config.jobs).toBe(2);
    expect(scanOptionsFromConfig(found).baselinePath).toBe(join(dir, '.pubguard', 'baseline.json'));
  });

  it('prefers the nearest config', async () => {
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ jobs: 1 }));
    await mkdir(join(dir, 'pkg'));
    await writeFile(join(dir, 'pkg', CONFIG_FILE_NAME), JSON.stringify({ jobs: 3 }));
    expect((await loadConfig(join(dir, 'pkg')))?.config.jobs).toBe(3);
  });

  it('reads an explicit path relative to the working directory', async () => {
    await writeFile(join(dir, 'custom.json'), JSON.stringify({ ignore: ['**/*.map'] }));
    const found = await loadConfig(dir, 'custom.json');
    expect(found?.config.ignore).toEqual(['**/*.map']);
  });

  it('names a missing explicit file', async () => {
    await expect(loadConfig(dir, 'nope.json')).rejects.toThrow(/nope\.json: cannot read the config file: no such file/);
  });

  it('reports the file, line and column of broken JSON', async () => {
    await writeFile(join(dir, CONFIG_FILE_NAME), '{\n  "jobs": 2,\n}\n');
    const error = await loadConfig(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`${join(dir, CONFIG_FILE_NAME)}:3:1: invalid JSON: Expected double-quoted property name`);
  });
});

describe('parseConfig', () => {
  it('accepts a full config', () => {
    const config = parseConfig(
      JSON.stringify({
        $schema: './node_modules/@pubguard/cli/schemas/pubguard.config.schema.json',
        ignore: ['test/**'],
        jobs: 0,
        limits: { maxDepth: 3, maxEntries: 10, maxEntryBytes: 1024, maxArtifactBytes: 4096, maxCompressionRatio: 50.5, maxArtifactSeconds: 1.5, maxFindingsPerFile: 20, maxFindingsPerArtifact: 200 },
        format: 'sarif',
        baseline: 'baseline.json',
        rules: { disable: ['alpha-token'], custom: [{ id: 'acme-key', title: 'Acme key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' }] },
        allowlist: { paths: ['**/fixtures/**'], regexes: ['^test_'], stopwords: ['dummy'] },
      }),
      'c.json',
    );
    expect(config.format).toBe('sarif');
    const options = scanOptionsFromConfig({ path: '/x/c.json', dir: '/x', config });
    expect(options.limits).toEqual({ maxDepth: 3, maxEntries: 10, maxEntryBytes: 1024, maxArtifactBytes: 4096, maxCompressionRatio: 50.5, maxArtifactMs: 1500, maxFindingsPerFile: 20, maxFindingsPerArtifact: 200 });
    expect(options.jobs).toBe(0);
    expect(options.baselinePath).toBe('/x/baseline.json');
  });

  it('gives line and column for errors V8 reports without a position', () => {
    expect(errorOf('{\n  "jobs": tru\n}').message).toBe('pubguard.config.json:2:11: invalid JSON: unexpected "tru"');
    expect(errorOf('{\n  "a": 1,\n  "b": }').message).toBe('pubguard.config.json:3:8: invalid JSON: unexpected "}"');
    expect(errorOf('{"jobs": 1').message).toBe("pubguard.config.json:1:11: invalid JSON: Expected ',' or '}' after property value");
    expect(errorOf('').message).toBe('pubguard.config.json:1:1: invalid JSON: unexpected end of file');
  });

  it('counts lines ended by CR LF or a lone CR as an editor shows them', () => {
    expect(errorOf('{\r\n  "jobs": tru\r\n}').message).toBe('pubguard.config.json:2:11: invalid JSON: unexpected "tru"');
    expect(errorOf('{\r  "a": 1,\r\n\r  "b": }').message).toBe('pubguard.config.json:4:8: invalid JSON: unexpected "}"');
  });

  it('refuses a key written twice, which JSON.parse would read as the last one', () => {
    const hidden = errorOf('{\n  "rules": { "disable": [] },\n  "jobs": 2,\n  "rules": { "disable": ["github-classic-token"] }\n}\n');
    expect(hidden.message).toBe(
      'pubguard.config.json:4:3: rules: the key is written twice (first on line 2); only the last would count, whichever one a reader takes for it: keep one',
    );
    expect(hidden.keyPath).toBe('rules');
    expect(errorOf('{"allowlist": {"rules": {"aws-access-key-id": {"stopwords": ["x"]},\n "aws-access-key-\\u0069d": {"stopwords": []}}}}').message).toMatch(
      /^pubguard\.config\.json:2:2: allowlist\.rules\.aws-access-key-id: the key is written twice \(first on line 1\)/,
    );
    expect(errorOf('\ufeff{"jobs": 1, "jobs": 2}').message).toMatch(/^pubguard\.config\.json:1:13: jobs: the key is written twice/);
    // The same key in two objects is no repetition.
    expect(parseConfig('{"limits": {"maxDepth": 2}, "allowlist": {"rules": {"a-b": {"paths": ["x"]}, "c-d": {"paths": ["x"]}}}}', 'c.json').limits?.maxDepth).toBe(2);
  });

  it('names an unknown key with its path', () => {
    const top = errorOf('{"jbos": 2}');
    expect(top.keyPath).toBe('jbos');
    expect(top.message).toMatch(/^pubguard\.config\.json: jbos: unknown key; known keys: ignore, jobs, limits/);
    expect(errorOf('{"limits": {"maxDeth": 2}}').message).toMatch(/: limits\.maxDeth: unknown key; known keys here: maxDepth,/);
    expect(errorOf('{"rules": {"custom": [{"id": "x-y", "title": "t", "severity": "low", "keywords": ["abc"], "pattern": "a", "colour": 1}]}}').keyPath).toBe('rules.custom[0].colour');
  });

  it("names a key that Object's prototype holds (__proto__, constructor) as unknown, at any depth", () => {
    for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
      const at = (text: string): string | undefined => errorOf(text.replace('KEY', key)).keyPath;
      expect(errorOf(`{"${key}": {"jobs": 3}}`).message).toMatch(new RegExp(`^pubguard\\.config\\.json: ${key}: unknown key; known keys: ignore, jobs,`));
      expect(at('{"limits": {"KEY": 5}}')).toBe(`limits.${key}`);
      expect(at('{"allowlist": {"KEY": []}}')).toBe(`allowlist.${key}`);
      expect(at('{"allowlist": {"rules": {"a-b": {"paths": ["x"], "KEY": 1}}}}')).toBe(`allowlist.rules."a-b".${key}`);
      expect(at('{"rules": {"custom": [{"id": "x-y", "title": "t", "severity": "low", "keywords": ["abc"], "pattern": "a", "KEY": {}}]}}')).toBe(`rules.custom[0].${key}`);
    }
    // A rule id in allowlist.rules is a key of a map: checked as any id, and kept an own key that changes no prototype.
    const config = parseConfig('{"allowlist": {"rules": {"__proto__": {"paths": ["x"]}}}}', 'c.json');
    expect(Object.getPrototypeOf(config.allowlist!.rules)).toBe(Object.prototype);
    expect(Object.keys(config.allowlist!.rules!)).toEqual(['__proto__']);
    expect(() => parseConfig('{"allowlist": {"rules": {"__proto__": {"paths": 1}}}}', 'c.json')).toThrow(/allowlist\.rules\.__proto__\.paths: must be an array/);
  });

  it('names a wrong type with its path and the value found', () => {
    expect(errorOf('{"jobs": "4"}').message).toBe('pubguard.config.json: jobs: must be a whole number; got the string "4"');
    expect(errorOf('{"jobs": 1.5}').keyPath).toBe('jobs');
    expect(errorOf('{"jobs": -1}').message).toContain('jobs: must be at least 0; got -1');
    expect(errorOf('{"ignore": ["a", 3]}').message).toContain('ignore[1]: must be a string; got number 3');
    expect(errorOf('{"format": "xml"}').message).toContain('format: must be one of "text", "json", "sarif", "junit", "github"; got the string "xml"');
    expect(errorOf('{"limits": []}').message).toContain('limits: must be an object; got an array');
    expect(errorOf('[]').message).toContain('the config must be a JSON object; got an array');
    expect(errorOf('{"rules": {"custom": [{"id": "Bad Id", "title": "t", "severity": "low"}]}}').keyPath).toBe('rules.custom[0].id');
    expect(errorOf('{"rules": {"custom": [{"id": "x-y", "title": "t"}]}}').message).toContain('rules.custom[0]: missing required key "severity"');
  });

  it('reports an invalid regex in a custom rule naming the rule', () => {
    const error = errorOf('{"rules": {"custom": [{"id": "acme-key", "title": "Acme", "severity": "high", "keywords": ["acme_"], "pattern": "(acme_[0-9a-f"}]}}');
    expect(error.keyPath).toBe('rules.custom[0]');
    expect(error.message).toMatch(/rules\.custom\[0\]: rule 'acme-key': invalid pattern: .*Unterminated character class/);
  });

  it('reports other rule problems found by the rules package', () => {
    expect(errorOf('{"rules": {"custom": [{"id": "acme-key", "title": "Acme", "severity": "high", "pattern": "(acme)"}]}}').message).toContain("rule 'acme-key': `keywords` must be a list of strings");
    expect(errorOf('{"rules": {"custom": [{"id": "acme-key", "title": "Acme", "severity": "high", "keywords": ["acme"], "pattern": "acme", "secretGroup": 2}]}}').message).toContain('secretGroup 2 but the pattern has 0 capture group(s)');
  });

  it("refuses a custom rule that misses its own example or reports its negative example", () => {
    const rule = { id: 'acme-key', title: 'Acme', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };
    const key = 'acme_9f3a7c1e5b2d8f4a6c0e3b7d1f9a5c2e';
    const config = (extra: object) => JSON.stringify({ rules: { custom: [{ ...rule, ...extra }] } });
    expect(parseConfig(config({ examples: [`k = "${key}"`], negative_examples: ['k = "acme_test"'] }), 'c.json').rules?.custom).toHaveLength(1);
    // A keyword typo: the prefilter never runs the pattern, so the rule would find nothing.
    const missed = errorOf(config({ keywords: ['acme-'], examples: [`k = "${key}"`] }));
    expect(missed.keyPath).toBe('rules.custom[0]');
    expect(missed.message).toContain("rules.custom[0]: rule 'acme-key': example 1: match contains none of the keywords");
    expect(errorOf(config({ examples: ['k = "acme_xyz"'] })).message).toContain("rule 'acme-key': example 1 is not reported (no regex match)");
    expect(errorOf(config({ negative_examples: [`k = "${key}"`] })).message).toContain("rule 'acme-key': negative example 1 is reported");
    const paths = { id: 'acme-dump', title: 'Acme dump', severity: 'high', keywords: [], paths: ['**/*.acme'] };
    expect(errorOf(JSON.stringify({ rules: { custom: [{ ...paths, examples: ['dump.acmex'] }] } })).message).toContain('example 1 (path "dump.acmex") is not matched by `paths`');
  });

  it('refuses a negated ignore glob, which the directory walk would take for the glob itself', () => {
    const error = errorOf('{"ignore": ["test/**", "!test/keep/**"]}');
    expect(error.keyPath).toBe('ignore[1]');
    expect(error.message).toContain('a negated glob cannot bring back what another ignore glob skips');
  });

  it('checks that allowlist regexes compile', () => {
    const error = errorOf('{"allowlist": {"regexes": ["ok", "(broken"]}}');
    expect(error.keyPath).toBe('allowlist.regexes[1]');
    expect(error.message).toContain('invalid regular expression');
  });
});

describe('config errors', () => {
  const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
  // Unique enough that no fixed part of a message holds a piece of it.
  // A digit in every one: a random run of letters alone (one in 600) is a word, quoted as written.
  const token = () => `ghp_${alnum(34)}7Q`;

  it('quote a token-shaped value in its redacted short form, still naming the entry and what is wrong', () => {
    const regex = token();
    const bad = errorOf(JSON.stringify({ allowlist: { regexes: ['^x$', `^${regex}(`] } }));
    expect(bad.keyPath).toBe('allowlist.regexes[1]');
    expect(bad.message).toContain(`invalid regular expression: Invalid regular expression: /^${redact(regex)}(/: Unterminated group`);
    const stopword = token();
    const wrongType = errorOf(JSON.stringify({ allowlist: { stopwords: stopword } }));
    expect(wrongType.message).toContain(`allowlist.stopwords: must be an array; got the string ${JSON.stringify(redact(stopword))}`);
    const id = token();
    let unknown: unknown;
    try {
      rulesetFromConfig(loaded({ rules: { disable: ['alpha-token', id] } }), BUILTINS);
    } catch (error) {
      unknown = error;
    }
    expect(unknown).toBeInstanceOf(ConfigError);
    expect((unknown as ConfigError).message).toContain(`rules.disable[1]: no built-in rule has the id '${redact(id)}'`);
    for (const [secret, message] of [
      [regex, bad.message],
      [stopword, wrongType.message],
      [id, (unknown as ConfigError).message],
    ] as const) {
      expect(message).not.toContain(secret.slice(4, 12));
      expect(message).not.toContain(secret.slice(-8));
    }
  });

  it('quote ids, words and short values as written', () => {
    expect(errorOf(JSON.stringify({ allowlist: { stopwords: 'acme-key-2024v2-release' } })).message).toContain('got the string "acme-key-2024v2-release"');
    expect(errorOf(JSON.stringify({ allowlist: { regexes: ['^build(\\d+'] } })).message).toContain('/^build(\\d+/: Unterminated group');
  });
});

describe('jsonErrorOffset', () => {
  it('is undefined for valid JSON and finds the first bad character otherwise', () => {
    for (const ok of ['{}', '[1, 2.5e3, "a\\u00e9", true, null]', ' {"a": {"b": []}} ']) expect(jsonErrorOffset(ok)).toBeUndefined();
    expect(jsonErrorOffset('{"a":}')).toBe(5);
    expect(jsonErrorOffset('[1,]')).toBe(3);
    expect(jsonErrorOffset('{"a": "x\\q"}')).toBe(9);
    expect(jsonErrorOffset('{"a": 1} x')).toBe(9);
  });
});

describe('rulesetFromConfig', () => {
  it('keeps built-ins, drops disabled ones and adds custom rules', () => {
    expect(rulesetFromConfig(undefined, BUILTINS).rules.map((r) => r.id)).toEqual(['alpha-token', 'beta-token']);
    const ruleset = rulesetFromConfig(
      loaded({ rules: { disable: ['alpha-token'], custom: [{ id: 'acme-key', title: 'Acme key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' }] } }),
      BUILTINS,
    );
    expect(ruleset.rules.map((r) => r.id)).toEqual(['beta-token', 'acme-key']);
    expect(ruleset.keywords).toContain('acme_');
    expect(ruleset.keywords).not.toContain('alpha_');
  });

  it('lets a custom rule replace a disabled built-in of the same id', () => {
    const ruleset = rulesetFromConfig(
      loaded({ rules: { disable: ['beta-token'], custom: [{ id: 'beta-token', title: 'Beta, stricter', severity: 'critical', keywords: ['beta_'], pattern: '(beta_[a-z0-9]{30})' }] } }),
      BUILTINS,
    );
    expect(ruleset.rules.find((r) => r.id === 'beta-token')?.severity).toBe('critical');
  });

  it('refuses a clash with a kept built-in, duplicates and unknown disabled ids', () => {
    const rule = { id: 'beta-token', title: 'B', severity: 'low', keywords: ['beta_'], pattern: '(beta_x)' };
    expect(() => rulesetFromConfig(loaded({ rules: { custom: [rule] } }), BUILTINS)).toThrow(/rules\.custom\[0\]\.id: rule 'beta-token' has the id of a built-in rule; add 'beta-token' to rules\.disable/);
    const other = { ...rule, id: 'gamma-token' };
    expect(() => rulesetFromConfig(loaded({ rules: { custom: [other, other] } }), BUILTINS)).toThrow(/rules\.custom\[1\]\.id: duplicate rule id 'gamma-token'/);
    expect(() => rulesetFromConfig(loaded({ rules: { disable: ['alpha-tokn'] } }), BUILTINS)).toThrow(/rules\.disable\[0\]: no built-in rule has the id 'alpha-tokn'/);
  });

  it('refuses a custom rule with the id of an archive-structure check', () => {
    const rule = { id: 'archive-setuid', title: 'X', severity: 'high', keywords: ['xkey_'], pattern: '(xkey_[0-9a-f]{32})' };
    expect(() => rulesetFromConfig(loaded({ rules: { custom: [rule] } }), BUILTINS)).toThrow(/rules\.custom\[0\]\.id: rule 'archive-setuid' has the id of an archive-structure check, which cannot be replaced; choose another id$/);
  });

  it('suggests the id an unknown one was meant to be, else where the ids are listed', async () => {
    expect(() => rulesetFromConfig(loaded({ rules: { disable: ['alpha-tokn'] } }), BUILTINS)).toThrow(/id 'alpha-tokn'; did you mean 'alpha-token'\?$/);
    expect(() => rulesetFromConfig(loaded({ rules: { disable: ['archive-setiud'] } }), BUILTINS)).toThrow(/id 'archive-setiud'; did you mean 'archive-setuid'\?$/);
    expect(() => rulesetFromConfig(loaded({ rules: { disable: ['delta'] } }), BUILTINS)).toThrow(/id 'delta' \(`pubguard rules list` run outside this project lists the built-in ones\)$/);
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ allowlist: { rules: { 'beta-tokn': { paths: ['docs/**'] } } } }));
    await expect(loadScanConfig(dir, undefined, BUILTINS)).rejects.toThrow(/no rule has the id 'beta-tokn'; did you mean 'beta-token'\?$/);
  });
});

describe('loadRulesConfig', () => {
  const rule = { id: 'gamma-token', title: 'G', severity: 'low', keywords: ['gamma_'], pattern: '(gamma_[a-z]{8})', examples: ['gamma_1'] };
  it('returns the kept built-ins and the custom rules, refusing a rule whose example fails unless told not to try examples', async () => {
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ rules: { disable: ['github-classic-token'], custom: [rule] } }));
    await expect(loadRulesConfig(dir, undefined)).rejects.toThrow("rules.custom[0]: rule 'gamma-token': example 1 is not reported");
    const rules = await loadRulesConfig(dir, undefined, { examples: false });
    expect(rules.loaded?.path).toBe(join(dir, CONFIG_FILE_NAME));
    expect(rules.custom.map((d) => [d.id, d.examples, d.negative_examples])).toEqual([['gamma-token', ['gamma_1'], []]]);
    expect(rules.builtin.some((d) => d.id === 'github-classic-token')).toBe(false);
    expect(rules.builtin.some((d) => d.id === 'npm-access-token')).toBe(true);
  });
  it('refuses a per-rule allowlist for a rule that does not run, as loadScanConfig does', async () => {
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ allowlist: { rules: { 'gamma-token': { paths: ['docs/**'] } } } }));
    await expect(loadRulesConfig(dir, undefined)).rejects.toThrow(/allowlist\.rules\."gamma-token": no rule has the id 'gamma-token'/);
  });
});

describe('loadScanConfig', () => {
  it("says that a per-rule allowlist's rule is disabled, rather than unknown", async () => {
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ rules: { disable: ['beta-token'] }, allowlist: { rules: { 'beta-token': { paths: ['docs/**'] } } } }));
    await expect(loadScanConfig(dir, undefined, BUILTINS)).rejects.toThrow(`allowlist.rules."beta-token": rule 'beta-token' is disabled in rules.disable, so its allowlist would never apply`);
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ allowlist: { rules: { 'beta-tokn': { paths: ['docs/**'] } } } }));
    await expect(loadScanConfig(dir, undefined, BUILTINS)).rejects.toThrow(/no rule has the id 'beta-tokn'/);
  });

  it("loads the README's example config as written", async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const text = /## Configuration[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    if (text === undefined) throw new Error('no json block under ## Configuration in README.md');
    await writeFile(join(dir, CONFIG_FILE_NAME), text);
    const config = await loadScanConfig(dir, undefined);
    const ids = config.ruleset.rules.map((r) => r.id);
    expect(ids).toContain('acme-key');
    for (const id of parseConfig(text, CONFIG_FILE_NAME).rules?.disable ?? []) expect(ids).not.toContain(id);
    expect(config.drop).toBeDefined();
  });

  it("scans a clean project with the README's example config, before any baseline exists", async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const text = /## Configuration[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1]!;
    await writeFile(join(dir, CONFIG_FILE_NAME), text);
    await writeFile(join(dir, 'index.js'), 'module.exports = 1;\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '.'], io)).exitCode, io.err()).toBe(0);
  });
});

describe('allowlistFilter', () => {
  const finding = (path: string, entry: string[]): Finding => ({
    ruleId: 'alpha-token',
    title: 'Alpha',
    severity: 'high',
    confidence: 'high',
    path,
    location: { artifact: path.split('!')[0] ?? path, entry, line: 1, column: 1, byteOffset: 0 },
    secret: 'alp…xyz',
    fingerprint: 'sha256:0',
  });

  it('is undefined for an empty allowlist', () => {
    expect(allowlistFilter(undefined)).toBeUndefined();
    expect(allowlistFilter({ paths: [] })).toBeUndefined();
  });

  it('drops findings by entry path, whole path, regex and stopword', () => {
    const drop = allowlistFilter({ paths: ['**/fixtures/**', 'dist/vendor/*.js'], regexes: ['^alpha_test'], stopwords: ['DUMMY'] });
    if (!drop) throw new Error('expected a filter');
    expect(drop(finding('pkg.tgz!package/test/fixtures/keys.js', ['package/test/fixtures/keys.js']), 'alpha_real1')).toBe(true);
    expect(drop(finding('dist/vendor/x.js', []), 'alpha_real1')).toBe(true);
    expect(drop(finding('pkg.tgz!package/lib/a.js', ['package/lib/a.js']), 'alpha_test123')).toBe(true);
    expect(drop(finding('pkg.tgz!package/lib/a.js', ['package/lib/a.js']), 'alpha_dummy123')).toBe(true);
    expect(drop(finding('pkg.tgz!package/lib/a.js', ['package/lib/a.js']), 'alpha_real1')).toBe(false);
  });

  it('matches a file named with a leading ./ as the same file without it', () => {
    const drop = allowlistFilter({ paths: ['docs/**', '**/test/fixtures/**'] });
    if (!drop) throw new Error('expected a filter');
    expect(drop(finding('./docs/a.js', []), 'alpha_real1')).toBe(true);
    expect(drop(finding('./test/fixtures/keys.js', []), 'alpha_real1')).toBe(true);
    expect(drop(finding('.\\docs\\a.js', []), 'alpha_real1')).toBe(true);
    expect(drop(finding('./lib/a.js', []), 'alpha_real1')).toBe(false);
  });

  it("matches an archive member's path below its package's top directory, as the engine passes it", () => {
    const drop = allowlistFilter({ paths: ['test/**'], rules: { 'alpha-token': { paths: ['docs/**'] } } });
    if (!drop) throw new Error('expected a filter');
    const inTest = finding('pkg-1.0.0.tgz!package/test/a.js', ['package/test/a.js']);
    expect(drop(inTest, 'alpha_real1')).toBe(false);
    expect(drop(inTest, 'alpha_real1', 'test/a.js')).toBe(true);
    expect(drop(finding('pkg-1.0.0.tgz!package/docs/a.md', ['package/docs/a.md']), 'alpha_real1', 'docs/a.md')).toBe(true);
    expect(drop(finding('pkg-1.0.0.tgz!package/lib/a.js', ['package/lib/a.js']), 'alpha_real1', 'lib/a.js')).toBe(false);
  });

  it('matches a file on disk by its path from the config file, wherever the scan runs', () => {
    const base = { cwd: join(dir, 'sub', 'deep'), dir };
    const drop = allowlistFilter({ paths: ['docs/**', 'dist/*.tgz!**/fixtures/**'], rules: { 'alpha-token': { paths: ['src/gen/*.js'] } } }, base);
    if (!drop) throw new Error('expected a filter');
    expect(drop(finding('../../docs/a.js', []), 'alpha_real1')).toBe(true);
    expect(drop(finding(join(dir, 'docs', 'a.js'), []), 'alpha_real1')).toBe(true);
    expect(drop(finding('../../dist/pkg.tgz!package/fixtures/k.js', ['package/fixtures/k.js']), 'alpha_real1')).toBe(true);
    expect(drop(finding('../../src/gen/a.js', []), 'alpha_real1')).toBe(true);
    expect(drop(finding('../../lib/a.js', []), 'alpha_real1')).toBe(false);
    // Outside the config's directory nothing is anchored to it.
    expect(drop(finding('../../../docs/a.js', []), 'alpha_real1')).toBe(false);
    expect(drop(finding('-', []), 'alpha_real1')).toBe(false);
  });

  it("applies a rule's own allowlist to that rule only", () => {
    const drop = allowlistFilter({ rules: { 'alpha-token': { paths: ['**/docs/**'], stopwords: ['sample'] } } });
    if (!drop) throw new Error('expected a filter');
    const inDocs = finding('pkg.tgz!package/docs/a.md', ['package/docs/a.md']);
    expect(drop(inDocs, 'alpha_real1')).toBe(true);
    expect(drop({ ...inDocs, ruleId: 'beta-token' }, 'alpha_real1')).toBe(false);
    expect(drop(finding('pkg.tgz!package/lib/a.js', ['package/lib/a.js']), 'alpha_SAMPLE_1')).toBe(true);
    expect(drop(finding('pkg.tgz!package/lib/a.js', ['package/lib/a.js']), 'alpha_real1')).toBe(false);
  });
});

describe('packagePathGlobs', () => {
  const finding = (ruleId: string): Finding => ({
    ruleId,
    title: 'Alpha',
    severity: 'high',
    confidence: 'high',
    path: 'dist/pkg.tgz!package/fixtures/k.js',
    location: { artifact: 'dist/pkg.tgz', entry: ['package/fixtures/k.js'], line: 1, column: 1, byteOffset: 0 },
    secret: 'alp…xyz',
    fingerprint: 'sha256:0',
  });

  it('is undefined without path globs', () => {
    expect(packagePathGlobs(undefined)).toBeUndefined();
    expect(packagePathGlobs({ regexes: ['^x'], rules: { 'alpha-token': { stopwords: ['y'] } } })).toBeUndefined();
  });

  it("names the globs, global and the finding's rule's, that match a path below the top directory, with their keys", () => {
    const globs = packagePathGlobs({ paths: ['fixtures/**', 'docs/**', '**/fixtures/**'], rules: { 'alpha-token': { paths: ['fixtures/*.js'] }, 'beta-token': { paths: ['fixtures/**'] } } });
    if (!globs) throw new Error('expected globs');
    expect(globs(finding('alpha-token'), 'fixtures/k.js')).toEqual([
      { glob: 'fixtures/**', key: 'allowlist.paths' },
      { glob: '**/fixtures/**', key: 'allowlist.paths' },
      { glob: 'fixtures/*.js', key: 'allowlist.rules."alpha-token".paths' },
    ]);
    expect(globs(finding('gamma-token'), 'lib/a.js')).toEqual([]);
  });
});

describe('the shipped schema', () => {
  it('describes every key, so editors can show help', () => {
    const schema = configSchema();
    const keys = Object.keys(schema.properties ?? {});
    expect(keys).toEqual(['$schema', 'ignore', 'jobs', 'limits', 'format', 'baseline', 'rules', 'allowlist']);
    const missing: string[] = [];
    const walk = (node: typeof schema, path: string): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) missing.push(`${path}${key}`);
        walk(child, `${path}${key}.`);
      }
    };
    walk(schema, '');
    walk(schema.$defs?.rule ?? {}, 'rule.');
    walk(schema.$defs?.ruleAllowlist ?? {}, 'ruleAllowlist.');
    expect(missing).toEqual([]);
  });

  it('lists the validator types the rules package takes, no more and no fewer', () => {
    const items = configSchema().$defs?.rule?.properties?.validators?.items;
    expect([...(items?.properties?.type?.enum ?? [])].sort()).toEqual([...VALIDATOR_TYPES].sort());
  });

  it('is the file the package ships', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schemas');
  });
});

describe('the validator and the JSON Schema agree', () => {
  // Shapes only: rule compilation and regex checks go beyond what a schema can say.
  const ajv = new Ajv2020({ strict: true, allErrors: false });
  const validate = ajv.compile(configSchema());
  const samples: unknown[] = [
    {},
    { $schema: 'x', ignore: ['a/**'], jobs: 4, format: 'json', baseline: 'b.json' },
    { limits: { maxDepth: 0, maxEntries: 1, maxCompressionRatio: 1.5, maxArtifactSeconds: 0 } },
    { rules: { disable: ['x'], custom: [{ id: 'a-b', title: 't', severity: 'low', keywords: ['abc'], pattern: 'abc', validators: [{ type: 'entropy', min: 3 }] }] } },
    { rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', keywords: ['abc'], pattern: 'abc', validators: [{ type: 'entropy', min: 3.5, hexMin: 3 }] }] } },
    { rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', keywords: ['abc'], pattern: 'abc', validators: [{ type: 'entropy', min: 3.5, hexMin: 'x' }] }] } },
    { rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', keywords: ['basic '], pattern: 'Basic ([A-Za-z0-9+/]{8,64}={0,2})', validators: [{ type: 'basic-auth' }, { type: 'sas-not-expired' }] }] } },
    { allowlist: { paths: ['p'], regexes: ['r'], stopwords: ['s'] } },
    { allowlist: { rules: { 'a-b': { paths: ['p'], regexes: ['r'] } } } },
    { allowlist: { rules: { 'a-b': { other: ['p'] } } } },
    { allowlist: { rules: { 'a-b': ['p'] } } },
    { jobs: '4' },
    { jobs: 1.5 },
    { jobs: -1 },
    { unknown: true },
    { limits: { maxDepth: -1 } },
    { limits: { maxEntries: 0 } },
    { limits: { maxFindingsPerArtifact: 0 } },
    { limits: { maxFindingsPerArtifact: 1.5 } },
    { limits: { other: 1 } },
    { format: 'xml' },
    { ignore: 'a/**' },
    { ignore: [''] },
    { ignore: ['!src/**'] },
    { baseline: '' },
    { rules: { custom: [{ id: 'A B', title: 't', severity: 'low' }] } },
    { rules: { custom: [{ id: 'a-b', title: 't' }] } },
    { rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', validators: [{ type: 'nope' }] }] } },
    { rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', flags: 'g' }] } },
    { rules: { enable: [] } },
    { allowlist: { regexes: [1] } },
  ];

  it("takes an entropy validator's hexMin, as the built-in rules' validators do", () => {
    const custom = (hexMin: unknown) => ({ rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', keywords: ['abc'], pattern: 'abc([0-9a-f]{32})', validators: [{ type: 'entropy', min: 3.5, hexMin }] }] } });
    expect(() => validateConfig(custom(3), 'c.json')).not.toThrow();
    expect(() => validateConfig(custom('x'), 'c.json')).toThrow(/hexMin: must be a number/);
  });

  it("takes a charclasses validator's longMin with longFrom", () => {
    const custom = (extra: object) => ({ rules: { custom: [{ id: 'a-b', title: 't', severity: 'low', keywords: ['abc'], pattern: 'abc([0-9a-f]{32})', validators: [{ type: 'charclasses', min: 3, ...extra }] }] } });
    expect(() => validateConfig(custom({ longMin: 2, longFrom: 20 }), 'c.json')).not.toThrow();
    expect(() => validateConfig(custom({ longMin: 2 }), 'c.json')).toThrow(/longMin` and `longFrom` go together/);
  });

  it('accepts and rejects the same shapes', () => {
    for (const sample of samples) {
      let ours = true;
      try {
        validateConfig(structuredClone(sample), 'c.json');
      } catch (error) {
        // Errors the rules package adds beyond the schema (missing keywords) count as shape-valid here.
        ours = !(error instanceof ConfigError) || /rule '/.test((error as Error).message);
      }
      expect({ sample, valid: ours }).toEqual({ sample, valid: validate(sample) });
    }
  });
});
