import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsModule, npmTarball, Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

interface JsonFinding {
  ruleId: string;
  path: string;
  fingerprint: string;
  location: { line: number; column: number };
}

const key = (f: JsonFinding) => `${f.ruleId} ${f.path}:${f.location.line}:${f.location.column} ${f.fingerprint}`;

let dir: string;
const rng = new Prng(4242);
const oldSecret = githubToken(rng);
const newSecret = githubToken(rng);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-cli-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pkg(name: string, version: string, secrets: string[]): Promise<string> {
  const file = `${name}-${version}.tgz`;
  const content = await npmTarball(name, version, [{ path: 'lib/config.js', content: jsModule(secrets, { seed: 3 }).content }]);
  await writeFile(join(dir, file), content);
  return file;
}

describe('pubguard baseline create', () => {
  it('suppresses the same secret in the next release but not a new secret', async () => {
    const v100 = await pkg('pkg', '1.0.0', [oldSecret]);
    const created = await runPubguard(['baseline', 'create', v100], { cwd: dir });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('wrote .pubguard/baseline.json: 1 fingerprint (1 finding in 1 artifact)');
    const baselineText = await readFile(join(dir, '.pubguard', 'baseline.json'), 'utf8');
    expect(baselineText).not.toContain(oldSecret);
    expect(baselineText).not.toContain(oldSecret.slice(4, 20));
    const baseline = JSON.parse(baselineText) as { version: number; fingerprints: string[]; findings: { ruleId: string; path: string; fingerprint: string }[] };
    expect(baseline.version).toBe(1);
    expect(baseline.findings).toEqual([{ ruleId: 'github-classic-token', path: 'pkg-1.0.0.tgz!package/lib/config.js', fingerprint: baseline.fingerprints[0] }]);

    // Without the baseline the old secret is a finding; with it, the renamed release is clean.
    const v101 = await pkg('pkg', '1.0.1', [oldSecret]);
    expect((await runPubguard(['scan', '--quiet', v101], { cwd: dir })).code).toBe(1);
    const same = await runPubguard(['scan', '--quiet', '--format', 'json', '--baseline', '.pubguard/baseline.json', v101], { cwd: dir });
    expect((JSON.parse(same.stdout) as { findings: unknown[] }).findings).toEqual([]);
    expect(same.code).toBe(0);

    // A new secret next to the old one is still reported, and only it.
    const v102 = await pkg('pkg', '1.0.2', [oldSecret, newSecret]);
    const fresh = await runPubguard(['scan', '--quiet', '--format', 'json', '--show-secrets', '--baseline', '.pubguard/baseline.json', v102], { cwd: dir });
    expect(fresh.code).toBe(1);
    const findings = (JSON.parse(fresh.stdout) as { findings: (JsonFinding & { secret: string })[] }).findings;
    expect(findings.map((f) => f.secret)).toEqual([newSecret]);
  });

  it('writes no baseline that a findings limit cut short, and takes --max-artifact-findings to raise it', async () => {
    const work = join(dir, 'limited');
    await mkdir(work);
    const secrets = Array.from({ length: 4 }, () => githubToken(rng));
    await writeFile(join(work, 'big-1.0.0.tgz'), await npmTarball('big', '1.0.0', [{ path: 'lib/config.js', content: jsModule(secrets, { seed: 5 }).content }]));
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ limits: { maxFindingsPerArtifact: 3 } }));
    const cut = await runPubguard(['baseline', 'create', 'big-1.0.0.tgz'], { cwd: work });
    expect(cut.code).toBe(2);
    expect(cut.stdout).toBe('');
    expect(cut.stderr).toContain('big-1.0.0.tgz: artifact has more than 3 findings; the first 3 were kept, 1 more was counted and not reported');
    expect(cut.stderr).toContain('.pubguard/baseline.json was not written. Raise --max-artifact-findings (now 3) or limits.maxFindingsPerArtifact in the config, and run it again');
    for (const s of secrets) expect(cut.stderr).not.toContain(s.slice(4, 20));
    await expect(readFile(join(work, '.pubguard', 'baseline.json'))).rejects.toThrow();

    const raised = await runPubguard(['baseline', 'create', '--max-artifact-findings', '4', 'big-1.0.0.tgz'], { cwd: work });
    expect(raised.stderr).toBe('');
    expect(raised.code).toBe(0);
    expect(raised.stdout).toContain('wrote .pubguard/baseline.json: 4 fingerprints (4 findings in 1 artifact)');
    // Findings the baseline accepts leave the limit's room free: the scan under it is clean.
    const scanned = await runPubguard(['scan', '--quiet', '--baseline', '.pubguard/baseline.json', 'big-1.0.0.tgz'], { cwd: work });
    expect(scanned.stderr).toBe('');
    expect(scanned.code).toBe(0);
  });

  it('with -v calls stale only the entries of a shared baseline for what the scan read', async () => {
    const work = join(dir, 'shared');
    await mkdir(join(work, 'dist'), { recursive: true });
    const [kept, rotated, other] = [githubToken(rng), githubToken(rng), githubToken(rng)];
    const write = async (name: string, version: string, secrets: string[]) =>
      writeFile(join(work, 'dist', `${name}-${version}.tgz`), await npmTarball(name, version, secrets.map((s, i) => ({ path: `lib/m${i}.js`, content: jsModule([s], { seed: i }).content }))));
    await write('app', '1.0.0', [kept, rotated]);
    await write('tool', '1.0.0', [other]);
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ baseline: '.pubguard/baseline.json' }));
    expect((await runPubguard(['baseline', 'create', 'dist/app-1.0.0.tgz', 'dist/tool-1.0.0.tgz'], { cwd: work })).code).toBe(0);

    // The next release of app, one key rotated out: tool's entry is not this scan's to judge.
    await write('app', '1.0.1', [kept]);
    const scanned = await runPubguard(['scan', '-v', 'dist/app-1.0.1.tgz'], { cwd: work });
    expect(scanned.code).toBe(0);
    expect(scanned.stderr).toMatch(/note: 1 entry of baseline \.pubguard\/baseline\.json for what this scan read matched no finding \(a rotated key, a changed or removed file\): make the baseline again from all the inputs it was made from to drop it:\n {2}sha256:[0-9a-f]{64} \(github-classic-token in dist\/app-1\.0\.0\.tgz!package\/lib\/m1\.js\)\n/);
    expect(scanned.stderr).toContain('note: 1 more entry of baseline .pubguard/baseline.json is for artifacts not scanned (by the paths the baseline records), and not checked\n');
    expect(scanned.stderr).not.toContain('tool-1.0.0');
    for (const s of [kept, rotated, other]) expect(scanned.stderr).not.toContain(s.slice(4, 20));
  });

  it('uses the config file: custom rules count, and a bad config is one clear message with exit 2', async () => {
    const work = join(dir, 'configured');
    await mkdir(work);
    const hex = Array.from({ length: 32 }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');
    await writeFile(join(work, 'app.env'), `ACME_KEY=acme_${hex}\n`);
    const custom = { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [custom] } }));
    const ok = await runPubguard(['baseline', 'create', '-o', 'b.json', 'app.env'], { cwd: work });
    expect(ok.code).toBe(0);
    expect((JSON.parse(await readFile(join(work, 'b.json'), 'utf8')) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId)).toEqual(['acme-key']);

    // The scan command reads the same config: the custom rule reports, an allowlist or an
    // ignore glob silences it, and command-line options win.
    const scanned = await runPubguard(['scan', '--quiet', '--format', 'json', 'app.env'], { cwd: work });
    expect(scanned.code).toBe(1);
    expect((JSON.parse(scanned.stdout) as { findings: JsonFinding[] }).findings.map((f) => f.ruleId)).toEqual(['acme-key']);
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [custom] }, allowlist: { regexes: [`^acme_${hex.slice(0, 8)}`] } }));
    expect((await runPubguard(['scan', '--quiet', 'app.env'], { cwd: work })).code).toBe(0);
    // A rule's own allowlist silences that rule only; one naming no rule is an error.
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [custom] }, allowlist: { rules: { 'acme-key': { paths: ['*.env'] } } } }));
    expect((await runPubguard(['scan', '--quiet', 'app.env'], { cwd: work })).code).toBe(0);
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [custom] }, allowlist: { rules: { 'github-classic-token': { paths: ['*.env'] } } } }));
    expect((await runPubguard(['scan', '--quiet', 'app.env'], { cwd: work })).code).toBe(1);
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ allowlist: { rules: { 'acme-kye': { paths: ['*.env'] } } } }));
    const unknown = await runPubguard(['scan', '--quiet', 'app.env'], { cwd: work });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/allowlist\.rules\["acme-kye"\]|allowlist\.rules\.acme-kye|no rule has the id 'acme-kye'/);
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [custom] }, ignore: ['*.env'], format: 'json' }));
    const ignored = await runPubguard(['scan', '--quiet', '.'], { cwd: work });
    expect(ignored.code).toBe(0);
    expect((JSON.parse(ignored.stdout) as { findings: unknown[] }).findings).toEqual([]);
    expect((await runPubguard(['scan', '--quiet', '--config', 'missing.json', '.'], { cwd: work })).code).toBe(2);

    const cases: [string, RegExp][] = [
      ['{"jobs": "2"}', /pubguard\.config\.json: jobs: must be a whole number; got the string "2"/],
      ['{"limits": {"maxDeph": 2}}', /pubguard\.config\.json: limits\.maxDeph: unknown key/],
      [JSON.stringify({ rules: { custom: [{ ...custom, pattern: '(acme_[0-9a-f]{32}' }] } }), /pubguard\.config\.json: rules\.custom\[0\]: rule 'acme-key': invalid pattern/],
      ['{\n  "jobs": 2,\n  "ignore": [\n}\n', /pubguard\.config\.json:4:1: invalid JSON/],
    ];
    for (const [text, message] of cases) {
      await writeFile(join(work, 'pubguard.config.json'), text);
      for (const args of [['baseline', 'create', '-o', 'b.json', 'app.env'], ['scan', 'app.env']]) {
        const result = await runPubguard(args, { cwd: work });
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
      }
    }
  });
});

describe('sharding and pubguard report merge', () => {
  it('shards 1/3, 2/3 and 3/3 together report exactly the findings of the unsharded scan', async () => {
    const shardDir = join(dir, 'many');
    await mkdir(shardDir);
    const r = new Prng(99);
    for (let i = 0; i < 12; i++) {
      const secrets = i % 4 === 3 ? [] : [githubToken(r)];
      const content = await npmTarball(`p${i}`, '1.0.0', [{ path: 'index.js', content: jsModule(secrets, { seed: i }).content }]);
      await writeFile(join(shardDir, `p${i}-1.0.0.tgz`), content);
    }
    const names: string[] = [];
    const shardSizes: number[] = [];
    for (const index of [1, 2, 3]) {
      const name = `shard-${index}.json`;
      const shard = await runPubguard(['scan', '--quiet', '--shard', `${index}/3`, '--format', 'json', '--output', name, 'many'], { cwd: dir });
      expect(shard.code).not.toBe(2);
      shardSizes.push((JSON.parse(await readFile(join(dir, name), 'utf8')) as { stats: { artifacts: number } }).stats.artifacts);
      names.push(name);
    }
    // Every shard got some of the work, and together they saw every artifact once.
    expect(shardSizes.every((n) => n > 0)).toBe(true);
    expect(shardSizes.reduce((a, b) => a + b, 0)).toBe(12);
    const whole = await runPubguard(['scan', '--quiet', '--format', 'json', 'many'], { cwd: dir });
    const merged = await runPubguard(['report', 'merge', ...names], { cwd: dir });
    expect(merged.code).toBe(1);
    const wholeFindings = (JSON.parse(whole.stdout) as { findings: JsonFinding[] }).findings;
    const mergedReport = JSON.parse(merged.stdout) as { findings: JsonFinding[]; stats: { artifacts: number } };
    expect(wholeFindings).toHaveLength(9);
    expect(mergedReport.findings.map(key).sort()).toEqual(wholeFindings.map(key).sort());
    expect(mergedReport.stats.artifacts).toBe(12);

    // Each shard left out in turn: the merge refuses, naming it, instead of passing a partial scan.
    for (const index of [1, 2, 3]) {
      const partial = await runPubguard(['report', 'merge', ...names.filter((_, i) => i !== index - 1)], { cwd: dir });
      expect(partial.code).toBe(2);
      expect(partial.stdout).toBe('');
      expect(partial.stderr).toBe(`pubguard report merge: shard ${index}/3 is missing, so what it scanned would be left out of the merged report: merge exactly one report of each of the 3 shards of the scan\n`);
    }
    const otherCount = await runPubguard(['scan', '--quiet', '--shard', '1/2', '--format', 'json', '--output', 'other.json', 'many'], { cwd: dir });
    expect(otherCount.code).not.toBe(2);
    const mixed = await runPubguard(['report', 'merge', ...names, 'other.json'], { cwd: dir });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('shard-1.json is the report of shard 1/3, other.json of shard 1/2');
  });
});

describe('inline ignore markers', () => {
  it('suppress a key on their own line, but not one a minified line holds far from them or as part of another word', async () => {
    const token = githubToken(new Prng(77));
    const pad = 'x=1;'.repeat(50);
    await mkdir(join(dir, 'inline'));
    const files: Record<string, string> = {
      'allowed.js': `const k = "${token}"; // pubguard:allow\n/* gitleaks:allow */ const j = "${token}";\n`,
      'substring.js': `const j = "${token}"; // not pubguard:allowed\n`,
      'bundle.min.js': `var re=/gitleaks:allow/;${pad}var k="${token}";${pad}\n`,
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, 'inline', name), content);
    const result = await runPubguard(['scan', '--quiet', '--format', 'json', 'inline'], { cwd: dir });
    expect(result.code).toBe(1);
    const paths = (JSON.parse(result.stdout) as { findings: JsonFinding[] }).findings.map((f) => f.path);
    expect(paths).toEqual(['inline/bundle.min.js', 'inline/substring.js']);
  });
});
