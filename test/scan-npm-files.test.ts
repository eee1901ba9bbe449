import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base62Crc32, Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN, type ProcessResult, runPubguard, withoutCiIdentity } from './helpers.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fake GitHub classic token with a valid checksum (the rule rejects any other). */
function githubToken(rng: Prng): string {
  let body = '';
  for (let i = 0; i < 30; i++) body += BASE62[rng.int(0, 61)];
  return `ghp_${body}${base62Crc32(body)}`;
}

interface Report {
  findings: { ruleId: string; path: string; fingerprint: string }[];
  errors: { path: string; kind: string; message: string }[];
  stats: { files: number };
}

/** Runs the real npm, as a publish would, without a registry: a dry run needs none. */
function npm(args: string[], cwd: string): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const env = { ...withoutCiIdentity(process.env), NO_COLOR: '1', NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' };
    execFile('npm', args, { cwd, env }, (error, stdout, stderr) => resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr }));
  });
}

let dir: string;
let pkg: string;
let leaked: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-npm-files-e2e-'));
  pkg = join(dir, 'pkg');
  const rng = new Prng(4242);
  leaked = githubToken(rng);
  await mkdir(join(pkg, 'lib'), { recursive: true });
  await mkdir(join(pkg, 'test'));
  await writeFile(
    join(pkg, 'package.json'),
    `${JSON.stringify({ name: 'npm-files-e2e', version: '1.0.0', files: ['lib'], scripts: { prepublishOnly: `node ${JSON.stringify(PUBGUARD_BIN)} scan --npm-files .` } }, null, 2)}\n`,
  );
  await writeFile(join(pkg, 'lib', 'index.js'), 'module.exports = require("./config");\n');
  await writeFile(join(pkg, 'lib', 'config.js'), `module.exports = { token: "${leaked}" };\n`);
  // What npm leaves out because of "files": a developer's .env, a test fixture.
  await writeFile(join(pkg, '.env'), `GITHUB_TOKEN=${githubToken(rng)}\n`);
  await writeFile(join(pkg, 'test', 'fixture.js'), `const t = "${githubToken(rng)}";\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan --npm-files with the real npm', () => {
  it('scans what npm pack would publish, reporting it as a scan of the directory does', async () => {
    const plain = await runPubguard(['scan', '--format', 'json', '.'], { cwd: pkg });
    const only = await runPubguard(['scan', '-q', '--format', 'json', '--npm-files', '.'], { cwd: pkg });
    expect(only.stderr).toBe('');
    const all = JSON.parse(plain.stdout) as Report;
    const shipped = JSON.parse(only.stdout) as Report;
    expect(new Set(all.findings.map((f) => f.path))).toEqual(new Set(['.env', 'lib/config.js', 'test/fixture.js']));
    expect(shipped.findings.map((f) => [f.ruleId, f.path])).toEqual([['github-classic-token', 'lib/config.js']]);
    expect(all.findings.filter((f) => f.path === 'lib/config.js')).toEqual(shipped.findings);
    expect(shipped.errors).toEqual([]);
    // lib/index.js, lib/config.js and package.json: what `npm pack` puts in the tarball.
    expect(shipped.stats.files).toBe(3);
    expect(plain.code).toBe(1);
    expect(only.code).toBe(1);
  });

  it('lets npm publish go on when only files npm leaves out hold secrets, and stops it for a shipped one', async () => {
    // --offline: a dry run would otherwise ask the registry about the version, and retry.
    const registry = ['--offline', '--registry', 'http://127.0.0.1:9/'];
    const stopped = await npm(['publish', '--dry-run', ...registry], pkg);
    expect(stopped.code).not.toBe(0);
    expect(stopped.stdout + stopped.stderr).toContain('lib/config.js');
    expect(stopped.stdout + stopped.stderr).not.toContain(leaked);

    await writeFile(join(pkg, 'lib', 'config.js'), 'module.exports = { token: process.env.GITHUB_TOKEN };\n');
    const published = await npm(['publish', '--dry-run', ...registry], pkg);
    expect(published.stdout + published.stderr).toContain('Scanned 3 artifacts, 3 files');
    expect(published.code).toBe(0);
    // Without --npm-files the same publish would have been stopped by the .env and the fixture.
    expect((await runPubguard(['scan', '-q', '.'], { cwd: pkg })).code).toBe(1);
  });

  it('stops with npm’s reason when npm cannot read the package', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'package.json'), '{"name": "broken",\n');
    const r = await runPubguard(['scan', '--npm-files', 'broken'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pubguard scan: npm pack --dry-run failed in broken \(exit code 1\): .*Invalid package\.json/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

describe('pubguard scan --npm-files with one package inside another, with the real npm', () => {
  it('reads every file the outer package publishes, also below an inner package that leaves it out', async () => {
    const root = join(dir, 'workspace');
    await mkdir(join(root, 'packages', 'a'), { recursive: true });
    const rng = new Prng(77);
    await writeFile(join(root, 'package.json'), `${JSON.stringify({ name: 'workspace-e2e', version: '1.0.0', workspaces: ['packages/*'] }, null, 2)}\n`);
    await writeFile(join(root, 'packages', 'a', 'package.json'), `${JSON.stringify({ name: 'workspace-e2e-a', version: '1.0.0', files: ['index.js'] }, null, 2)}\n`);
    await writeFile(join(root, 'packages', 'a', 'index.js'), `const t = "${githubToken(rng)}";\n`);
    // Not in packages/a's tarball, but in the root's, which has no "files".
    await writeFile(join(root, 'packages', 'a', 'dev-only.js'), `const t = "${githubToken(rng)}";\n`);
    const scanJson = async (args: string[]) => {
      const r = await runPubguard(['scan', '-q', '--format', 'json', '--npm-files', ...args], { cwd: root });
      return { code: r.code, report: JSON.parse(r.stdout) as Report };
    };
    const outer = await scanJson(['.']);
    const inner = await scanJson(['packages/a']);
    expect(outer.report.findings.map((f) => f.path).sort()).toEqual(['packages/a/dev-only.js', 'packages/a/index.js']);
    expect(inner.report.findings.map((f) => f.path)).toEqual(['packages/a/index.js']);
    for (const args of [['.', 'packages/a'], ['packages/a', '.'], ['./', './packages/a/']]) {
      const both = await scanJson(args);
      // Each file once: index.js for the inner package, which reads it, dev-only.js for the root.
      expect(both.report.findings, args.join(' ')).toEqual(outer.report.findings);
      expect(both.report.stats.files, args.join(' ')).toBe(outer.report.stats.files);
      expect(both.code).toBe(1);
    }
    const out = join(dir, 'workspace-baseline.json');
    expect((await runPubguard(['baseline', 'create', '-o', out, '--npm-files', '.', 'packages/a'], { cwd: root })).code).toBe(0);
    const recorded = JSON.parse(await readFile(out, 'utf8')) as { findings: { path: string }[] };
    expect(recorded.findings.map((f) => f.path)).toEqual(['packages/a/dev-only.js', 'packages/a/index.js']);
  });
});

describe("pubguard's own files in what npm would publish, with the real npm", () => {
  it('are named by init, baseline create --npm-files and scan --npm-files, until .npmignore leaves them out', async () => {
    const own = join(dir, 'own');
    await mkdir(own);
    await writeFile(join(own, 'package.json'), `${JSON.stringify({ name: 'own-e2e', version: '1.0.0' }, null, 2)}\n`);
    await writeFile(join(own, 'index.js'), 'module.exports = {};\n');
    const warning = (command: string, files: string) => `pubguard ${command}: warning: npm would publish ${files}: leave`;

    const init = await runPubguard(['init'], { cwd: own });
    expect(init.code).toBe(0);
    expect(init.stderr).toContain(warning('init', 'pubguard.config.json'));
    // Written for the first time, the baseline is in no list npm printed before the scan.
    const created = await runPubguard(['baseline', 'create', '--npm-files', '.'], { cwd: own });
    expect(created.code).toBe(0);
    expect(created.stderr).toContain(warning('baseline create', '.pubguard/baseline.json, pubguard.config.json'));
    const elsewhere = await runPubguard(['baseline', 'create', '-o', join(dir, 'own-baseline.json'), '--npm-files', '.'], { cwd: own });
    expect(elsewhere.stderr).toContain(warning('baseline create', '.pubguard/baseline.json, pubguard.config.json'));

    await writeFile(join(own, 'pubguard.config.json'), `${JSON.stringify({ baseline: 'state/accepted.json' })}\n`);
    await mkdir(join(own, 'state'));
    await writeFile(join(own, 'state', 'accepted.json'), `${JSON.stringify({ version: 1, fingerprints: [], findings: [] })}\n`);
    const scan = await runPubguard(['scan', '--npm-files', '.'], { cwd: own });
    expect(scan.code).toBe(0);
    expect(scan.stderr).toContain(warning('scan', '.pubguard/baseline.json, pubguard.config.json, state/accepted.json'));
    expect((await runPubguard(['scan', '-q', '--npm-files', '.'], { cwd: own })).stderr).toBe('');

    await writeFile(join(own, '.npmignore'), '.pubguard/\npubguard.config.json\nstate/\n');
    const left = await runPubguard(['scan', '--npm-files', '.'], { cwd: own });
    expect(left.stderr).not.toContain('warning');
    expect(left.code).toBe(0);
  });
});

describe('baselines of files found by their path, with the real npm', () => {
  it('apply alike to the package directory the pre-publish scan reads and to the tarball publish scans', async () => {
    const keys = join(dir, 'keys');
    await mkdir(join(keys, 'test', 'fixtures'), { recursive: true });
    await writeFile(join(keys, 'package.json'), `${JSON.stringify({ name: 'keys-e2e', version: '1.0.0' }, null, 2)}\n`);
    await writeFile(join(keys, 'index.js'), 'module.exports = {};\n');
    // A key fixture shipped on purpose: the rule reports the file by its name.
    await writeFile(join(keys, 'test', 'fixtures', 'id_ed25519'), 'fixture\n');
    const packed = await npm(['pack', '--silent', '--pack-destination', dir], keys);
    expect(packed.code).toBe(0);
    const tarball = join(dir, packed.stdout.trim().split('\n').at(-1) ?? '');

    const scanJson = async (args: string[]) => {
      const r = await runPubguard(['scan', '--format', 'json', ...args], { cwd: keys });
      return { code: r.code, report: JSON.parse(r.stdout) as Report };
    };
    const before = await scanJson([tarball]);
    expect(before.report.findings.map((f) => [f.ruleId, f.path])).toEqual([['ssh-private-key-file', `${tarball}!package/test/fixtures/id_ed25519`]]);
    expect(before.code).toBe(1);

    expect((await runPubguard(['baseline', 'create', '-o', join(dir, 'from-dir.json'), '.'], { cwd: keys })).code).toBe(0);
    const tarballScan = await scanJson(['--baseline', join(dir, 'from-dir.json'), tarball]);
    expect(tarballScan.report.findings).toEqual([]);
    expect(tarballScan.code).toBe(0);

    expect((await runPubguard(['baseline', 'create', '-o', join(dir, 'from-tarball.json'), tarball], { cwd: keys })).code).toBe(0);
    const directoryScan = await scanJson(['--baseline', join(dir, 'from-tarball.json'), '--npm-files', '.']);
    expect(directoryScan.report.findings).toEqual([]);
    expect(directoryScan.code).toBe(0);

    // baseline create --npm-files records what the pre-publish scan reads: not a file npm leaves out.
    await writeFile(join(keys, '.npmignore'), 'local/\n');
    await mkdir(join(keys, 'local'));
    await writeFile(join(keys, 'local', '.env'), 'X=1\n');
    expect((await runPubguard(['baseline', 'create', '-o', join(dir, 'npm-files.json'), '--npm-files', '.'], { cwd: keys })).code).toBe(0);
    const recorded = JSON.parse(await readFile(join(dir, 'npm-files.json'), 'utf8')) as { findings: { path: string }[] };
    expect(recorded.findings.map((f) => f.path)).toEqual(['test/fixtures/id_ed25519']);
    expect((await runPubguard(['baseline', 'create', '-o', join(dir, 'all.json'), '.'], { cwd: keys })).code).toBe(0);
    expect((JSON.parse(await readFile(join(dir, 'all.json'), 'utf8')) as { findings: { path: string }[] }).findings.map((f) => f.path).sort()).toEqual(['local/.env', 'test/fixtures/id_ed25519']);
    expect((await scanJson(['--baseline', join(dir, 'npm-files.json'), tarball])).code).toBe(0);
  });
});
