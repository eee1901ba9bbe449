import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@pubguard/corpus';
import { builtinRuleDefinitions, compileRules, redact } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FoundSecrets, MIN_MASKED_SECRET } from './found-secrets.js';
import { fingerprint } from './redact.js';
import { scan, scanAll } from './scan.js';
import { TEST_TOKEN_RULE } from './testing.js';
import type { Finding, ScanError, ScanEvent } from './types.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rng = new Prng(7319);
const token = (): string => `tok_${rng.string(ALNUM, 24)}`;
/** Rules from a config file are not matched against names: only their findings can tell a path holds their secret. */
const ruleset = compileRules([...builtinRuleDefinitions(), TEST_TOKEN_RULE]);

describe('FoundSecrets', () => {
  it('shortens every secret it holds wherever a text holds it, the longest first', () => {
    const found = new FoundSecrets();
    const a = token();
    const longer = `${a}_and_more`;
    found.add(a);
    found.add(longer);
    expect(found.mask(`x/${a}/${longer}.txt ${a}`)).toBe(`x/${redact(a)}/${redact(longer)}.txt ${redact(a)}`);
    expect(found.mask('x/nothing/here.txt')).toBe('x/nothing/here.txt');
  });

  it('leaves short secrets alone, which ordinary names spell as often', () => {
    const found = new FoundSecrets();
    found.add('development');
    expect('development'.length).toBeLessThan(MIN_MASKED_SECRET);
    expect(found.size).toBe(0);
    expect(found.mask('config/development.json')).toBe('config/development.json');
  });
});

describe('a secret a scan found, in the paths it shows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-found-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is shortened in its own finding's path, in every event, by a rule that names are not matched with", async () => {
    const key = token();
    await mkdir(join(dir, 'own', key), { recursive: true });
    await writeFile(join(dir, 'own', key, `${key}.txt`), `key = ${key}\n`);
    const events: ScanEvent[] = [];
    for await (const event of scan([join(dir, 'own')], { ruleset, jobs: 0, cwd: dir })) events.push(event);
    const findings = events.flatMap((e) => (e.type === 'finding' ? [e.finding] : []));
    expect(findings.map((f) => [f.ruleId, f.path, f.location.artifact, f.secret])).toEqual([
      ['test-token', join(dir, 'own', redact(key), `${redact(key)}.txt`), join(dir, 'own', redact(key), `${redact(key)}.txt`), redact(key)],
    ]);
    expect(JSON.stringify(events)).not.toContain(key);
    // Shown as they are when names are.
    const shown = await scanAll([join(dir, 'own')], { ruleset, jobs: 0, showSecrets: true });
    expect(shown.findings[0]?.path).toBe(join(dir, 'own', key, `${key}.txt`));
  });

  it('is shortened by scanAll in what was reported before it was found, and in text the caller prints', async () => {
    const key = token();
    await mkdir(join(dir, 'later'));
    // Read first: a broken archive named after a key that only the next input holds.
    await writeFile(join(dir, 'later', `${key}.tgz`), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
    await writeFile(join(dir, 'later', 'z.txt'), `key = ${key}\n`);
    const result = await scanAll([join(dir, 'later', `${key}.tgz`), join(dir, 'later', 'z.txt')], { ruleset, jobs: 0 });
    expect(result.errors.map((e: ScanError) => [e.path, e.kind])).toEqual([[join(dir, 'later', `${redact(key)}.tgz`), 'corrupt']]);
    expect(JSON.stringify(result.errors)).not.toContain(key);
    expect(result.mask(`cannot write out/${key}.json`)).toBe(`cannot write out/${redact(key)}.json`);
  });

  it('is shortened when the baseline leaves its finding out, and not when an allowlist does', async () => {
    const accepted = token();
    const allowed = token();
    const other = token();
    await mkdir(join(dir, 'kept'));
    const file = join(dir, 'kept', `${accepted}-${allowed}.txt`);
    await writeFile(file, `a = ${accepted}\nb = ${allowed}\nc = ${other}\n`);
    const { findings } = await scanAll([file], {
      ruleset,
      jobs: 0,
      baseline: new Set([fingerprint('test-token', accepted)]),
      exclude: (_f: Finding, secret: string) => secret === allowed,
    });
    expect(findings.map((f) => f.path)).toEqual([join(dir, 'kept', `${redact(accepted)}-${allowed}.txt`)]);
  });
});
