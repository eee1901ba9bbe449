import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRuleDefinitions } from '@pubguard/rules';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE_NAME } from '../config.js';
import { UsageError } from '../io.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';
import { rulesCheckCommand, rulesListCommand } from './rules.js';

describe('pubguard rules list', () => {
  it('lists every built-in rule with its severity', async () => {
    const io = memoryIO();
    expect((await rulesListCommand.run([], io)).exitCode).toBe(0);
    expect(io.out()).toMatch(/^github-classic-token\s+critical\s+GitHub token/m);
    expect(io.out()).toMatch(/^\d+ rules and 6 archive-structure checks, which cannot be disabled\n$/m);
  });
  it('lists the archive-structure checks a scan runs, marked as such, in text and JSON', async () => {
    const io = memoryIO();
    await rulesListCommand.run([], io);
    expect(io.out()).toMatch(/^archive-path-traversal\s+high\s+Archive entry path escapes the extraction directory \(structure check\)$/m);
    for (const id of ['archive-link-outside', 'archive-device-file', 'archive-setuid', 'archive-duplicate-entry', 'archive-nonfile-data']) expect(io.out()).toMatch(new RegExp(`^${id} `, 'm'));
    const json = memoryIO();
    await rulesListCommand.run(['-f', 'json'], json);
    const rows = JSON.parse(json.out()) as Array<{ id: string; source: string; disableable: boolean }>;
    expect(rows.find((r) => r.id === 'archive-setuid')).toMatchObject({ source: 'structure', disableable: false });
    expect(rows.find((r) => r.id === 'npm-access-token')).toMatchObject({ source: 'builtin', disableable: true });
  });
  it('puts each heading above its column', async () => {
    const io = memoryIO();
    await rulesListCommand.run([], io);
    const [head, row] = io.out().split('\n');
    for (const heading of ['SEVERITY', 'TITLE']) {
      const at = head!.indexOf(heading);
      expect(row![at - 1]).toBe(' ');
      expect(row![at]).not.toBe(' ');
    }
  });
  it('prints JSON with --format json', async () => {
    const io = memoryIO();
    expect((await rulesListCommand.run(['--format', 'json'], io)).exitCode).toBe(0);
    const rows = JSON.parse(io.out()) as Array<{ id: string; severity: string; title: string }>;
    expect(rows.find((r) => r.id === 'npm-access-token')).toMatchObject({ severity: 'critical', title: 'npm access token' });
  });
  it('refuses an unknown format or option as a usage error (exit 2)', async () => {
    await expect(rulesListCommand.run(['-f', 'xml'], memoryIO())).rejects.toThrow(UsageError);
    await expect(rulesListCommand.run(['-f', 'xml'], memoryIO())).rejects.toThrow("unknown format 'xml'");
    await expect(rulesCheckCommand.run(['--bogus'], memoryIO())).rejects.toThrow(UsageError);
  });
});

describe('pubguard rules check', () => {
  it('passes on the built-in rules', async () => {
    const io = memoryIO();
    expect((await rulesCheckCommand.run([], io)).exitCode).toBe(0);
    expect(io.out()).toMatch(/^rules check: \d+ rules, no problems\n$/);
  });
  it('has help', async () => {
    expect(rulesCheckCommand.name).toBe('rules check');
    expect(rulesCheckCommand.help).toContain('Usage: pubguard rules check');
    expect(rulesListCommand.help).toContain('Usage: pubguard rules list');
  });
});

describe('pubguard rules with a settings file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-rules-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const acme = { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };
  const writeConfig = async (config: object, name = CONFIG_FILE_NAME): Promise<void> => writeFile(join(dir, name), JSON.stringify(config));

  it('lists the rules a scan runs: built-ins less the disabled, then the custom ones, found from a subdirectory', async () => {
    await writeConfig({ rules: { disable: ['npm-access-token'], custom: [acme] } });
    await mkdir(join(dir, 'pkg', 'src'), { recursive: true });
    const io = memoryIO({ cwd: join(dir, 'pkg', 'src') });
    expect((await rulesListCommand.run([], io)).exitCode).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines.some((l) => l.startsWith('npm-access-token '))).toBe(false);
    expect(lines.at(-2)).toMatch(/^acme-key\s+high\s+Acme API key \(custom\)$/);
    expect(lines.at(-1)).toBe(`${builtinRuleDefinitions().length} rules (1 custom, 1 built-in disabled; from ${join('..', '..', CONFIG_FILE_NAME)}) and 6 archive-structure checks, which cannot be disabled`);
  });

  it('warns on every scan, as rules check does, of a custom rule without examples none of whose keywords its pattern can match', async () => {
    const unreached = { ...acme, id: 'acme-unreached', keywords: ['acme'], pattern: '(ak_[0-9a-f]{32})' };
    await writeConfig({ rules: { custom: [acme, unreached] } });
    await writeFile(join(dir, 'a.txt'), 'nothing here\n');
    for (const argv of [['scan', '-q', '-j', '0', 'a.txt'], ['baseline', 'create', '-j', '0', '-o', 'b.json', 'a.txt']]) {
      const io = memoryIO({ cwd: dir });
      expect((await run(argv, io)).exitCode).toBe(0);
      expect(io.err()).toBe(`warning: ${join(dir, CONFIG_FILE_NAME)}: rules.custom[1] (acme-unreached): no keyword is literal text the pattern can match, so a match may hold none and the rule then fires only where a keyword happens to be nearby; use a keyword every match contains, or add examples, which show whether it does (this check reads the pattern's literal text, small alternations and classes; a keyword spelt otherwise is not seen)\n`);
    }
    // With examples, scan checks that each match holds a keyword, and refuses the rule when not.
    await writeConfig({ rules: { custom: [acme, { ...unreached, examples: [`acme ak_${'0a'.repeat(16)}`] }] } });
    const withExamples = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', 'a.txt'], withExamples)).exitCode).toBe(2);
    expect(withExamples.err()).toContain('example 1: match contains none of the keywords');
    expect(withExamples.err()).not.toContain('warning:');
  });

  it('counts a rule disabled twice in the settings file once', async () => {
    await writeConfig({ rules: { disable: ['npm-access-token', 'npm-access-token'] } });
    const io = memoryIO({ cwd: dir });
    expect((await rulesListCommand.run([], io)).exitCode).toBe(0);
    const count = builtinRuleDefinitions().length - 1;
    expect(io.out().trimEnd().split('\n').at(-1)).toBe(`${count} rules (0 custom, 1 built-in disabled; from ${CONFIG_FILE_NAME}) and 6 archive-structure checks, which cannot be disabled`);
    const check = memoryIO({ cwd: dir });
    expect((await rulesCheckCommand.run([], check)).exitCode).toBe(0);
    expect(check.out()).toBe(`rules check: ${count} rules (0 custom, 1 built-in disabled; from ${CONFIG_FILE_NAME}), no problems\n`);
  });

  it('gives each JSON row its source, the other fields as before', async () => {
    await writeConfig({ rules: { custom: [acme] } }, 'other.json');
    const io = memoryIO({ cwd: dir });
    expect((await rulesListCommand.run(['--config', 'other.json', '--format', 'json'], io)).exitCode).toBe(0);
    const rows = JSON.parse(io.out()) as Array<Record<string, unknown>>;
    expect(rows.length).toBe(builtinRuleDefinitions().length + 6 + 1);
    expect(rows.find((r) => r.id === 'npm-access-token')?.source).toBe('builtin');
    const { pattern: _pattern, ...shown } = acme;
    expect(rows.at(-1)).toEqual({ ...shown, confidence: 'medium', description: '', references: [], source: 'custom', disableable: false });
    expect(rows.every((r) => r.source === (r.id === 'acme-key' ? 'custom' : String(r.id).startsWith('archive-') ? 'structure' : 'builtin'))).toBe(true);
  });

  it('checks custom rules, warning of missing examples and references without failing', async () => {
    await writeConfig({ rules: { custom: [acme] } });
    const io = memoryIO({ cwd: dir });
    expect((await rulesCheckCommand.run([], io)).exitCode).toBe(0);
    expect(io.out()).toContain('acme-key: warning: has 0 example(s); 2 or more are advised');
    expect(io.out()).toContain('acme-key: warning: has no reference to the published format');
    expect(io.out()).toMatch(/\nrules check: \d+ rules \(1 custom; from pubguard\.config\.json\), no problems, 3 warnings\n$/);
  });

  it('fails (exit 1) on a custom example not reported, a negative example reported (which scan refuses) or an unbounded pattern', async () => {
    const hex = (seed: number) => Array.from({ length: 32 }, (_, i) => ((i * 7 + seed) % 16).toString(16)).join('');
    const broken = { ...acme, examples: [`key = acme_${hex(1)}`, 'key = acme_short'], negative_examples: [`acme_${hex(3)}`] };
    const loose = { ...acme, id: 'acme-loose', pattern: '(acme_[0-9a-f]+)', examples: [`acme_${hex(5)}`] };
    await writeConfig({ rules: { custom: [broken, loose] } });
    const io = memoryIO({ cwd: dir });
    expect((await rulesCheckCommand.run([], io)).exitCode).toBe(1);
    const out = io.out();
    expect(out).toContain('acme-key: example 2 is not reported (no regex match)');
    expect(out).toMatch(/^acme-key: negative example 1 is reported/m);
    expect(out).toMatch(/^acme-loose: pattern has an unbounded quantifier '\+'/m);
    expect(out).toMatch(/\nrules check: 3 problems in 2 of \d+ rules \(2 custom; from pubguard\.config\.json\), \d+ warnings?\n$/);
    const json = memoryIO({ cwd: dir });
    expect((await rulesCheckCommand.run(['-f', 'json'], json)).exitCode).toBe(1);
    const problems = JSON.parse(json.out()) as Array<{ ruleId: string; message: string; level: string }>;
    expect(problems.filter((p) => p.level === 'error').length).toBe(3);
    expect(problems.every((p) => p.level === 'error' || p.level === 'warning')).toBe(true);
    // The same file is one scan cannot run with.
    const scan = memoryIO({ cwd: dir });
    expect((await run(['scan', dir], scan)).exitCode).toBe(2);
    expect(scan.err()).toContain("rule 'acme-key': example 2 is not reported");
  });

  it('reports an unbounded pattern in rules check only: scan runs the rule, as the README says', async () => {
    const hex = Array.from({ length: 32 }, (_, i) => ((i * 3 + 1) % 16).toString(16)).join('');
    await writeConfig({ rules: { custom: [{ ...acme, id: 'acme-loose', pattern: '(acme_[0-9a-f]+)' }] } });
    const check = memoryIO({ cwd: dir });
    expect((await run(['rules', 'check'], check)).exitCode).toBe(1);
    expect(check.out()).toMatch(/^acme-loose: pattern has an unbounded quantifier/m);
    await writeFile(join(dir, 'key.txt'), `key = acme_${hex}\n`);
    const scan = memoryIO({ cwd: dir });
    expect((await run(['scan', 'key.txt', '-f', 'json'], scan)).exitCode).toBe(1);
    expect((JSON.parse(scan.out()) as { findings: Array<{ ruleId: string }> }).findings.map((f) => f.ruleId)).toEqual(['acme-loose']);
  });

  it('lists a custom rule that does not compile as a problem of that rule and checks the others (exit 1), which scan refuses (exit 2)', async () => {
    const hex = (seed: number) => Array.from({ length: 32 }, (_, i) => ((i * 5 + seed) % 16).toString(16)).join('');
    const good = { ...acme, examples: [`key = acme_${hex(1)}`], negative_examples: ['key = acme_short'] };
    const unterminated = { ...acme, id: 'acme-bad', pattern: '(acme_[0-9a-f{32})' };
    await writeConfig({ rules: { custom: [unterminated, good] } });
    const io = memoryIO({ cwd: dir });
    expect((await run(['rules', 'check'], io)).exitCode).toBe(1);
    expect(io.err()).toBe('');
    const out = io.out();
    expect(out).toMatch(/^acme-bad: invalid pattern: Invalid regular expression: .*Unterminated character class\n/m);
    // The rule after it was checked as usual.
    expect(out).toContain('acme-key: warning: has 1 example(s); 2 or more are advised');
    expect(out).toMatch(/\nrules check: 1 problem in 1 of \d+ rules \(2 custom; from pubguard\.config\.json\), \d+ warnings?\n$/);
    const json = memoryIO({ cwd: dir });
    expect((await run(['rules', 'check', '-f', 'json'], json)).exitCode).toBe(1);
    const problems = JSON.parse(json.out()) as Array<{ ruleId: string; message: string; level: string }>;
    expect(problems.filter((p) => p.level === 'error')).toEqual([{ ruleId: 'acme-bad', message: expect.stringMatching(/^invalid pattern: /) as unknown, level: 'error' }]);
    const scan = memoryIO({ cwd: dir });
    expect((await run(['scan', dir], scan)).exitCode).toBe(2);
    expect(scan.err()).toMatch(/rules\.custom\[0\]: rule 'acme-bad': invalid pattern: /);
    const list = memoryIO({ cwd: dir });
    expect((await run(['rules', 'list'], list)).exitCode).toBe(2);
  });

  it('lists a custom rule the schema refuses (keyword too short, bad flags, negative secretGroup) as a problem of that rule, the others checked (exit 1), which scan refuses (exit 2)', async () => {
    const short = { ...acme, id: 'short-kw', keywords: ['ab'], pattern: '(ab_[0-9a-f]{32})' };
    const flags = { ...acme, id: 'bad-flags', flags: 'q' };
    const group = { ...acme, id: 'bad-group', secretGroup: -1 };
    const typo = { ...acme, id: 'typo-field', patern: 'x' };
    await writeConfig({ rules: { custom: [short, flags, group, typo, acme] }, allowlist: { rules: { 'short-kw': { paths: ['docs/**'] } } } });
    const io = memoryIO({ cwd: dir });
    expect((await run(['rules', 'check'], io)).exitCode).toBe(1);
    expect(io.err()).toBe('');
    const out = io.out();
    expect(out).toContain('short-kw: keywords[0]: must be at least 3 characters long; got the string "ab"\n');
    expect(out).toContain('bad-flags: flags: the string "q" does not have the expected form ^[ims]*$\n');
    expect(out).toContain('bad-group: secretGroup: must be at least 0; got -1\n');
    expect(out).toMatch(/^typo-field: patern: unknown key; known keys: id, title, /m);
    expect(out).toContain('acme-key: warning: has 0 example(s)');
    expect(out).toMatch(/\nrules check: 4 problems in 4 of \d+ rules \(5 custom; from pubguard\.config\.json\), \d+ warnings?\n$/);
    const scan = memoryIO({ cwd: dir });
    expect((await run(['scan', dir], scan)).exitCode).toBe(2);
    expect(scan.err()).toContain('rules.custom[0].keywords[0]: must be at least 3 characters long');
    // A rule with no usable id cannot be named: the file is refused, as scan refuses it.
    await writeConfig({ rules: { custom: [{ ...short, id: 'Short KW' }, acme] } });
    const unnamed = memoryIO({ cwd: dir });
    expect((await run(['rules', 'check'], unnamed)).exitCode).toBe(2);
    expect(unnamed.err()).toContain('rules.custom[0].id: the string "Short KW" does not have the expected form');
  });

  it('warns of a custom rule whose every example a built-in rule reports too', async () => {
    const npm = builtinRuleDefinitions().find((d) => d.id === 'npm-access-token');
    if (!npm) throw new Error('no npm-access-token rule');
    const again = { id: 'npm-again', title: 'npm token', severity: 'high', confidence: 'low', keywords: ['npm_'], pattern: '(npm_[A-Za-z0-9]{36})', examples: npm.examples };
    await writeConfig({ rules: { custom: [again] } });
    const io = memoryIO({ cwd: dir });
    expect((await rulesCheckCommand.run([], io)).exitCode).toBe(0);
    expect(io.out()).toContain("npm-again: warning: every example is also reported by rule 'npm-access-token'; a scan reports such a secret once, as 'npm-access-token'\n");
  });

  it('refuses a settings file that cannot be used as scan does (exit 2)', async () => {
    await writeConfig({ rules: { disable: ['no-such-rule'] } });
    const scan = memoryIO({ cwd: dir });
    expect((await run(['scan', dir], scan)).exitCode).toBe(2);
    expect(scan.err()).toContain("rules.disable[0]: no built-in rule has the id 'no-such-rule'");
    for (const command of ['list', 'check']) {
      const io = memoryIO({ cwd: dir });
      expect((await run(['rules', command], io)).exitCode).toBe(2);
      expect(io.err()).toBe(scan.err().replace('pubguard scan:', `pubguard rules ${command}:`));
    }
    const missing = memoryIO({ cwd: dir });
    expect((await run(['rules', 'check', '-c', 'nope.json'], missing)).exitCode).toBe(2);
    expect(missing.err()).toBe(`pubguard rules check: ${join(dir, 'nope.json')}: cannot read the config file: no such file\n`);
  });
});
