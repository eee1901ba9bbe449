import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base62Crc32, Prng, tgzBuffer, zipBuffer } from '@pubguard/corpus';
import { builtinRuleDefinitions, builtinRuleset, compileRules, redact } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NameMatcher } from './matcher/names.js';
import { maskNames } from './names.js';
import { scan, scanAll, type ScanOptions } from './scan.js';
import { TEST_TOKEN_RULE } from './testing.js';
import type { Finding, ScanEvent } from './types.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const rng = new Prng(91);
const checksummed = (prefix: string): string => {
  const body = rng.string(BASE62, 30);
  return `${prefix}_${body}${base62Crc32(body)}`;
};
/** Fake tokens, each used once below so that finding one in the output says where it leaked from. */
const FILE_TOKEN = checksummed('ghp');
const DIR_TOKEN = checksummed('npm');
const ENTRY_TOKEN = checksummed('ghp');
const ENTRY_DIR_TOKEN = checksummed('npm');
const ZIP_DIR_TOKEN = `AKIA${rng.string('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
const NESTED_TOKEN = checksummed('ghp');
const BROKEN_TOKEN = checksummed('npm');
const ALL = [FILE_TOKEN, DIR_TOKEN, ENTRY_TOKEN, ENTRY_DIR_TOKEN, ZIP_DIR_TOKEN, NESTED_TOKEN, BROKEN_TOKEN];
/** Symbolic links named after tokens: to a file and to a directory inside, out, to nothing, and one in a directory that holds nothing else. */
const LINK_FILE = checksummed('ghp');
const LINK_DIR = checksummed('npm');
const LINK_OUT = checksummed('ghp');
const LINK_BROKEN = checksummed('npm');
const LINK_HOLDER = checksummed('ghp');
const LINKS = [LINK_FILE, LINK_DIR, LINK_OUT, LINK_BROKEN, LINK_HOLDER];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-names-'));
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'creds', DIR_TOKEN), { recursive: true });
  await mkdir(join(tree, 'lib'), { recursive: true });
  // Many files below the token's directory: the finding on it is one, not one per file.
  for (let i = 0; i < 40; i++) await writeFile(join(tree, 'creds', DIR_TOKEN, `f${i}.txt`), `file ${i}\n`);
  // The same token in the file's name and in what it holds: two findings, two fingerprints.
  await writeFile(join(tree, 'lib', `${FILE_TOKEN}.json`), `{"token": "${FILE_TOKEN}"}\n`);
  await writeFile(join(tree, 'lib', 'index.js'), 'module.exports = 1;\n');
  const nested = await zipBuffer([{ path: 'inner.txt', content: 'x' }]);
  await writeFile(
    join(dir, 'pkg-1.0.0.tgz'),
    await tgzBuffer([
      { path: 'package/package.json', content: '{"name":"pkg","version":"1.0.0"}' },
      { path: `package/${ENTRY_TOKEN}.json`, content: '{}' },
      { path: `package/keys/${ENTRY_DIR_TOKEN}/a.txt`, content: 'a' },
      { path: `package/keys/${ENTRY_DIR_TOKEN}/b.txt`, content: 'b' },
      { path: `package/vendor/${NESTED_TOKEN}.zip`, content: nested },
    ]),
  );
  await writeFile(join(dir, 'app.zip'), await zipBuffer([{ path: `conf/${ZIP_DIR_TOKEN}`, type: 'dir' }, { path: 'conf/app.ini', content: 'x=1\n' }]));
  // A file named as an archive that is none: reported as an error naming it.
  await mkdir(join(dir, 'broken'));
  await writeFile(join(dir, 'broken', `${BROKEN_TOKEN}.zip`), 'PK\u0003\u0004 not really a zip');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (inputs: string[], options: ScanOptions = {}) => scanAll(inputs, { cwd: dir, jobs: 0, ...options });
const inName = (findings: readonly Finding[]) => findings.filter((f) => f.in === 'name').map((f) => `${f.ruleId} ${f.path}`).sort();

describe('secrets in names', () => {
  for (const jobs of [0, 2]) {
    it(`are found in the paths of a directory walk, once per file or directory named (jobs ${jobs})`, async () => {
      const { findings, errors } = await run(['tree'], { jobs, inlineBytes: 0 });
      expect(errors).toEqual([]);
      expect(inName(findings)).toEqual([`github-classic-token tree/lib/${redact(FILE_TOKEN)}.json`, `npm-access-token tree/creds/${redact(DIR_TOKEN)}`]);
      const named = findings.find((f) => f.in === 'name' && f.ruleId === 'github-classic-token');
      expect(named?.location).toEqual({ artifact: `tree/lib/${redact(FILE_TOKEN)}.json`, entry: [], line: 1, column: 1, byteOffset: 0 });
      expect(named?.secret).toBe(redact(FILE_TOKEN));
      const content = findings.find((f) => f.in === undefined && f.ruleId === 'github-classic-token');
      expect(content?.path).toBe(named?.path);
      expect(content?.fingerprint).not.toBe(named?.fingerprint);
    });
  }

  it('are found in archive entry names as stored: files, directories, nested archives', async () => {
    const { findings, errors } = await run(['pkg-1.0.0.tgz', 'app.zip']);
    expect(errors).toEqual([]);
    expect(inName(findings)).toEqual([
      `aws-access-key-id app.zip!conf/${redact(ZIP_DIR_TOKEN)}`,
      `github-classic-token pkg-1.0.0.tgz!package/${redact(ENTRY_TOKEN)}.json`,
      `github-classic-token pkg-1.0.0.tgz!package/vendor/${redact(NESTED_TOKEN)}.zip`,
      `npm-access-token pkg-1.0.0.tgz!package/keys/${redact(ENTRY_DIR_TOKEN)}`,
    ]);
  });

  it('are fingerprinted by rule and secret, whatever file or archive holds the name', async () => {
    const first = await run(['pkg-1.0.0.tgz']);
    await writeFile(join(dir, 'other.zip'), await zipBuffer([{ path: `lib/${ENTRY_TOKEN}.json`, content: '{}' }]));
    const second = await run(['other.zip']);
    const print = (r: { findings: Finding[] }) => r.findings.find((f) => f.in === 'name' && f.secret === redact(ENTRY_TOKEN))?.fingerprint;
    expect(print(first)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(print(second)).toBe(print(first));
    // A baseline made of one accepts it in the other.
    const baselined = await run(['other.zip'], { baseline: new Set([print(first) as string]) });
    expect(inName(baselined.findings)).toEqual([]);
    expect(baselined.stats.baselined).toBe(1);
  });

  for (const bulkDirectories of [true, false]) {
    it(`are found in the names of symbolic links, wherever they lead (bulkDirectories ${bulkDirectories})`, async () => {
      const pkg = join(dir, `links-${bulkDirectories}`, 'pkg');
      await mkdir(join(pkg, 'sub'), { recursive: true });
      await mkdir(join(pkg, LINK_HOLDER));
      await writeFile(join(pkg, 'real.txt'), 'real\n');
      await writeFile(join(pkg, 'sub', 'a.txt'), 'a\n');
      await writeFile(join(pkg, '..', 'outside.txt'), 'outside\n');
      await symlink('real.txt', join(pkg, LINK_FILE));
      await symlink('sub', join(pkg, LINK_DIR));
      await symlink('../outside.txt', join(pkg, LINK_OUT));
      await symlink('absent', join(pkg, LINK_BROKEN));
      await symlink('../real.txt', join(pkg, LINK_HOLDER, 'alias'));
      const input = `links-${bulkDirectories}/pkg`;
      const events: ScanEvent[] = [];
      for await (const event of scan([input], { cwd: dir, jobs: 0, bulkDirectories, progressIntervalMs: 1 })) events.push(event);
      const text = JSON.stringify(events);
      for (const token of LINKS) expect(text).not.toContain(token);
      const findings = events.flatMap((e) => (e.type === 'finding' ? [e.finding] : []));
      expect(inName(findings)).toEqual(
        [
          `github-classic-token ${input}/${redact(LINK_FILE)}`,
          `npm-access-token ${input}/${redact(LINK_DIR)}`,
          `github-classic-token ${input}/${redact(LINK_OUT)}`,
          `npm-access-token ${input}/${redact(LINK_BROKEN)}`,
          `github-classic-token ${input}/${redact(LINK_HOLDER)}`,
        ].sort(),
      );
      expect(findings.every((f) => f.in === 'name' && f.location.line === 1 && f.location.entry.length === 0)).toBe(true);
      const errors = events.flatMap((e) => (e.type === 'error' ? [`${e.error.kind} ${e.error.path}`] : []));
      expect(errors.sort()).toEqual([`unreadable ${input}/${redact(LINK_BROKEN)}`, `unsupported ${input}/${redact(LINK_OUT)}`]);
      // A link out to what another input reads is no error, and its name is still matched.
      const both = await run([input, `links-${bulkDirectories}/outside.txt`], { bulkDirectories });
      expect(both.errors.map((e) => e.path)).toEqual([`${input}/${redact(LINK_BROKEN)}`]);
      expect(inName(both.findings)).toContain(`github-classic-token ${input}/${redact(LINK_OUT)}`);
      // Shown in full as any name is.
      const shown = await run([input], { bulkDirectories, showNames: true });
      expect(inName(shown.findings)).toContain(`github-classic-token ${input}/${LINK_FILE}`);
    });
  }

  it('never leave a token whole in any event: findings, errors or progress', async () => {
    const events: ScanEvent[] = [];
    for await (const event of scan(['tree', 'pkg-1.0.0.tgz', 'app.zip', 'broken'], { cwd: dir, jobs: 0, progressIntervalMs: 1 })) events.push(event);
    const text = JSON.stringify(events);
    for (const token of ALL) expect(text).not.toContain(token);
    const broken = events.find((e) => e.type === 'error');
    expect(broken?.type === 'error' && broken.error.path).toBe(`broken/${redact(BROKEN_TOKEN)}.zip`);
    expect(events.some((e) => e.type === 'progress')).toBe(true);
  });

  it('are shown in full with showNames, and with showSecrets unless showNames says otherwise', async () => {
    const shown = await run(['tree'], { showNames: true });
    expect(inName(shown.findings)).toContain(`npm-access-token tree/creds/${DIR_TOKEN}`);
    expect(shown.findings.find((f) => f.in === 'name')?.secret).toContain('…');
    const secrets = await run(['tree'], { showSecrets: true });
    expect(inName(secrets.findings)).toContain(`npm-access-token tree/creds/${DIR_TOKEN}`);
    // What `baseline create` asks for: secrets in full to judge them, names shortened in the file it writes.
    const baseline = await run(['tree'], { showSecrets: true, showNames: false });
    expect(inName(baseline.findings)).toContain(`npm-access-token tree/creds/${redact(DIR_TOKEN)}`);
    expect(baseline.findings.find((f) => f.ruleId === 'npm-access-token')?.secret).toBe(DIR_TOKEN);
  });

  it('leave allowlists to see the paths as they are', async () => {
    const seen: string[] = [];
    const exclude = (f: Finding): boolean => {
      seen.push(f.path);
      return f.path.startsWith(`tree/creds/${DIR_TOKEN}`);
    };
    const { findings } = await run(['tree'], { exclude });
    expect(seen).toContain(`tree/creds/${DIR_TOKEN}`);
    expect(inName(findings)).toEqual([`github-classic-token tree/lib/${redact(FILE_TOKEN)}.json`]);
  });

  it('match each directory once, not once per file below it', async () => {
    const find = vi.spyOn(NameMatcher.prototype, 'find');
    try {
      await run(['tree']);
      const below = find.mock.calls.filter(([name]) => name.startsWith(`creds/${DIR_TOKEN}/`));
      expect(below).toHaveLength(40);
      // The first file's name is matched whole, every later one from its file name on.
      expect(below.filter(([, from]) => (from ?? 0) === 0)).toHaveLength(1);
      expect(below.slice(1).every(([, from]) => from === `creds/${DIR_TOKEN}/`.length)).toBe(true);
    } finally {
      find.mockRestore();
    }
  });

  it('are matched with built-in rules only, alongside rules from a config file', async () => {
    const withCustom = compileRules([...builtinRuleDefinitions(), { ...TEST_TOKEN_RULE, confidence: 'high' }]);
    const custom = `tok_${'Q7mZ2rT9vK4pL8wX3nB6cY1h'}`;
    await mkdir(join(dir, 'custom', custom), { recursive: true });
    await writeFile(join(dir, 'custom', custom, 'a.txt'), 'a');
    await writeFile(join(dir, 'custom', `${FILE_TOKEN}.txt`), 'b');
    const { findings } = await run(['custom'], { ruleset: withCustom, jobs: 1 });
    expect(inName(findings)).toEqual([`github-classic-token custom/${redact(FILE_TOKEN)}.txt`]);
  });
});

describe('maskNames', () => {
  it('shortens what a scan finds in names, for output made outside a scan', () => {
    expect(maskNames(`dist/${FILE_TOKEN}.tgz`)).toBe(`dist/${redact(FILE_TOKEN)}.tgz`);
    expect(maskNames('dist/pkg-1.0.0.tgz')).toBe('dist/pkg-1.0.0.tgz');
    expect(maskNames(`dist/${FILE_TOKEN}.tgz`, builtinRuleset())).toBe(`dist/${redact(FILE_TOKEN)}.tgz`);
  });
});
