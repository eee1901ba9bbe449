import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, tgzBuffer } from '@pubguard/corpus';
import { fingerprint, redact } from '@pubguard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, type ProcessResult, runPubguard } from './helpers.js';

// Paths named after secrets, given to every command that prints a path of its own (an output
// file, a baseline, a config) rather than one of a scan's findings: none may print it in full.
const rng = new Prng(6151);
/** The token in the paths given on the command line. */
const T = githubToken(rng);
/** Found in what the scanned files hold. */
const CONTENT = githubToken(rng);
const OTHER = githubToken(rng);
/** A secret of the README's custom rule, which names are not matched with. */
const ACME = `acme_${rng.string('0123456789abcdef', 32)}`;
const ACME_RULE = { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };
/** A custom rule none of whose keywords every match holds: scan, baseline create and rules check warn of it, naming the config. */
const WARNED_RULE = { id: 'odd-key', title: 'Odd key', severity: 'high', keywords: ['zzq'], pattern: '(zzq|yyq)[a-z]{10}' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-token-paths-'));
  await mkdir(join(dir, 'd1'));
  await writeFile(join(dir, 'd1', 'a.txt'), `first = "${CONTENT}"\nsecond = "${OTHER}"\n`);
  await mkdir(join(dir, 'empty'));
  // Directories where a report or a baseline should go: neither can be written.
  await mkdir(join(dir, 'od', `${T}.json`), { recursive: true });
  await mkdir(join(dir, 'acme', 'od', `${ACME}.json`), { recursive: true });
  await mkdir(join(dir, 'acme', 't'), { recursive: true });
  await writeFile(join(dir, 'acme', 'pubguard.config.json'), JSON.stringify({ rules: { custom: [ACME_RULE] } }));
  await writeFile(join(dir, 'acme', 't', `${ACME}.txt`), `ACME_KEY=${ACME}\n`);
  await mkdir(join(dir, 'cfg', T), { recursive: true });
  await writeFile(join(dir, 'cfg', T, 'pubguard.config.json'), JSON.stringify({ jobs: 1000, rules: { custom: [WARNED_RULE] }, allowlist: { paths: ['fixtures/**'] } }));
  // A tarball found in a scanned directory, whose fixture `fixtures/**` does not leave out there.
  await mkdir(join(dir, 'proj', 'dist'), { recursive: true });
  await writeFile(
    join(dir, 'proj', 'dist', 'pkg-1.0.0.tgz'),
    await tgzBuffer([
      { path: 'package/package.json', content: '{"name":"pkg","version":"1.0.0"}\n' },
      { path: 'package/fixtures/key.txt', content: `token = "${CONTENT}"\n` },
    ]),
  );
  await mkdir(join(dir, 'pkg', 'lib'), { recursive: true });
  await mkdir(join(dir, 'pkg', 'keys'));
  await writeFile(join(dir, 'pkg', 'package.json'), `${JSON.stringify({ name: 'token-paths', version: '1.0.0' })}\n`);
  await writeFile(join(dir, 'pkg', 'lib', 'index.js'), 'module.exports = 1;\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Where each of `secrets` appears, in full or its middle half, in what a run printed and in `files`. */
async function leaks(run: ProcessResult, secrets: readonly string[], files: readonly string[] = []): Promise<string[]> {
  const texts: Record<string, string> = { stdout: run.stdout, stderr: run.stderr };
  for (const file of files) texts[file] = await readFile(join(dir, file), 'utf8');
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      if (text.includes(secret.slice(Math.floor(secret.length / 4), Math.floor((3 * secret.length) / 4)))) found.push(`${where}: ${redact(secret)}`);
    }
  }
  return found;
}

describe('paths the commands print themselves, named after a secret', () => {
  it('scan: a report file that cannot be written', async () => {
    const run = await runPubguard(['scan', 'd1', '-j', '0', '-f', 'json', '-o', `od/${T}.json`], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write ${join(dir, 'od', redact(T))}.json: is a directory`);
    expect(await leaks(run, [T])).toEqual([]);

    // A secret that only the scan knows, by a rule names are not matched with.
    const acme = await runPubguard(['scan', 't', '-j', '0', '-f', 'json', '-o', `od/${ACME}.json`], { cwd: join(dir, 'acme') });
    expect(acme.code).toBe(2);
    expect(acme.stderr).toContain(`cannot write ${join(dir, 'acme', 'od', redact(ACME))}.json`);
    expect(await leaks(acme, [ACME])).toEqual([]);
  });

  it("scan: a custom rule's secret in its finding's path, in every format and with -v", async () => {
    const run = await runPubguard(
      ['scan', 't', '-j', '0', '-v', '-f', 'json', '-o', 'r.json', '-f', 'sarif', '-o', 'r.sarif', '-f', 'junit', '-o', 'r.xml', '-f', 'github', '-o', 'r.github.txt', '-f', 'text'],
      { cwd: join(dir, 'acme') },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`t/${redact(ACME)}.txt:1:10`);
    const report = JSON.parse(await readFile(join(dir, 'acme', 'r.json'), 'utf8')) as { findings: { ruleId: string; path: string; secret: string }[] };
    expect(report.findings.map((f) => [f.ruleId, f.path, f.secret])).toEqual([['acme-key', `t/${redact(ACME)}.txt`, redact(ACME)]]);
    expect(await leaks(run, [ACME], ['acme/r.json', 'acme/r.sarif', 'acme/r.xml', 'acme/r.github.txt'])).toEqual([]);

    // Shown in full only when asked for.
    const shown = await runPubguard(['scan', 't', '-j', '0', '-f', 'json', '--show-secrets'], { cwd: join(dir, 'acme') });
    expect((JSON.parse(shown.stdout) as { findings: { path: string }[] }).findings.map((f) => f.path)).toEqual([`t/${ACME}.txt`]);

    // Run from a directory named after it, on an absolute path below: a SARIF URI is still
    // relative to %SRCROOT%, not a file: URI of a path shortened into one that names nothing.
    const named = join(dir, 'acme', ACME);
    await mkdir(join(named, 'src'), { recursive: true });
    await writeFile(join(named, 'src', 'k.txt'), `k = ${ACME}\n`);
    const sarif = await runPubguard(['scan', join(named, 'src'), '-j', '0', '-f', 'sarif'], { cwd: named });
    expect(sarif.code).toBe(1);
    const location = (JSON.parse(sarif.stdout) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[] }[] }[] }).runs[0]!.results[0]!.locations[0]!
      .physicalLocation.artifactLocation;
    expect(location).toEqual({ uri: 'src/k.txt', uriBaseId: '%SRCROOT%' });
    expect(await leaks(sarif, [ACME])).toEqual([]);
  });

  it("scan -v: the baseline's path and its entries in the notes on entries that matched nothing", async () => {
    await mkdir(join(dir, 'bl'), { recursive: true });
    const made = await runPubguard(['baseline', 'create', 'd1', '-j', '0', '-o', `bl/${T}.json`], { cwd: dir });
    expect(made.code).toBe(0);
    const elsewhere = await runPubguard(['scan', 'empty', '-j', '0', '-v', '--baseline', `bl/${T}.json`], { cwd: dir });
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stderr).toContain(`2 entries of baseline bl/${redact(T)}.json are for artifacts not scanned`);
    expect(await leaks(elsewhere, [T])).toEqual([]);

    // A baseline written before names were shortened in it, with an entry for a file now clean.
    await mkdir(join(dir, 'clean', T), { recursive: true });
    await writeFile(join(dir, 'clean', T, 'old.txt'), 'nothing here now\n');
    const print = fingerprint('github-classic-token', OTHER);
    await writeFile(join(dir, 'bl', `old-${T}.json`), JSON.stringify({ version: 1, fingerprints: [print], findings: [{ ruleId: 'github-classic-token', path: `clean/${T}/old.txt`, fingerprint: print }] }));
    const stale = await runPubguard(['scan', 'clean', '-j', '0', '-v', '--baseline', `bl/old-${T}.json`], { cwd: dir });
    expect(stale.stderr).toContain(`1 entry of baseline bl/old-${redact(T)}.json for what this scan read matched no finding`);
    expect(stale.stderr).toContain(`(github-classic-token in clean/${redact(T)}/old.txt)`);
    expect(await leaks(stale, [T])).toEqual([]);
  });

  it('baseline create: the file it wrote, could not write, or would not write', async () => {
    const wrote = await runPubguard(['baseline', 'create', 'd1', '-j', '0', '-o', `nodir/${T}.json`], { cwd: dir });
    expect(wrote.code).toBe(0);
    expect(wrote.stdout).toContain(`wrote nodir/${redact(T)}.json: 2 fingerprints`);
    expect(wrote.stdout).toContain(`pubguard scan --baseline nodir/${redact(T)}.json`);
    expect(await leaks(wrote, [T, CONTENT, OTHER], [`nodir/${T}.json`])).toEqual([]);

    const unwritable = await runPubguard(['baseline', 'create', 'd1', '-j', '0', '-o', `od/${T}.json`], { cwd: dir });
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain('is a directory, not a file');
    expect(await leaks(unwritable, [T])).toEqual([]);

    // A findings limit cut the scan short: nothing is written, and the message names the file.
    const cut = await runPubguard(['baseline', 'create', 'd1', '-j', '0', '--max-findings', '1', '-o', `nodir/${T}.json`], { cwd: dir });
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain(`nodir/${redact(T)}.json was not written and is unchanged`);
    expect(await leaks(cut, [T])).toEqual([]);

    // The custom rule's secret, known from the scan, in the output's name.
    const acme = await runPubguard(['baseline', 'create', 't', '-j', '0', '-o', `out/${ACME}.json`], { cwd: join(dir, 'acme') });
    expect(acme.code).toBe(0);
    expect(acme.stdout).toContain(`wrote out/${redact(ACME)}.json: 1 fingerprint`);
    expect(await leaks(acme, [ACME], [`acme/out/${ACME}.json`])).toEqual([]);
  });

  it('scan, baseline create, rules list and rules check: a config file in a directory named after a token', async () => {
    const config = `cfg/${T}/pubguard.config.json`;
    const shownConfig = `cfg/${redact(T)}/pubguard.config.json`;
    const scan = await runPubguard(['scan', 'proj', '-c', config], { cwd: dir });
    expect(scan.code).toBe(1);
    expect(scan.stderr).toContain(`warning: ${join(dir, shownConfig)}: rules.custom[0] (odd-key)`);
    expect(scan.stderr).toContain(`warning: "jobs" in ${join(dir, shownConfig)} 1000 is more worker threads`);
    expect(scan.stderr).toContain(`allowlist path "fixtures/**" (allowlist.paths in ${shownConfig}) did not leave out`);
    expect(await leaks(scan, [T, CONTENT])).toEqual([]);

    const baseline = await runPubguard(['baseline', 'create', 'd1', '-c', config, '-o', 'bl/with-config.json'], { cwd: dir });
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toContain(`in ${shownConfig}, which publish reads too`);
    expect(await leaks(baseline, [T])).toEqual([]);

    const list = await runPubguard(['rules', 'list', '-c', config], { cwd: dir });
    expect(list.stdout).toContain(`(1 custom; from ${shownConfig})`);
    const check = await runPubguard(['rules', 'check', '-c', config], { cwd: dir });
    expect(check.stdout).toContain(`(1 custom; from ${shownConfig})`);
    const missing = await runPubguard(['scan', 'd1', '-c', `cfg/${T}/missing.json`], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the config file');
    expect(await leaks(list, [T])).toEqual([]);
    expect(await leaks(check, [T])).toEqual([]);
    expect(await leaks(missing, [T])).toEqual([]);
  });

  it('report merge: the merged file it wrote', async () => {
    const shard = await runPubguard(['scan', 'd1', '-j', '0', '-q', '-f', 'json', '-o', 'shard.json'], { cwd: dir });
    expect(shard.code).toBe(1);
    await mkdir(join(dir, 'merged', T), { recursive: true });
    const merged = await runPubguard(['report', 'merge', 'shard.json', '-o', `merged/${T}/all.json`], { cwd: dir });
    expect(merged.code).toBe(1);
    expect(merged.stderr).toContain(`-> merged/${redact(T)}/all.json`);
    expect(await leaks(merged, [T, CONTENT])).toEqual([]);
  });

  it('scan: inputs that are not there, and an output given the wrong format', async () => {
    const missing = await runPubguard(['scan', `missing/${T}.tgz`], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain(`missing/${redact(T)}.tgz: not-found`);
    const format = await runPubguard(['scan', 'd1', '-o', `${T}.sarif`], { cwd: dir });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('would get the text report');
    expect(await leaks(missing, [T])).toEqual([]);
    expect(await leaks(format, [T])).toEqual([]);
  });

  it('scan and baseline create --npm-files: the warning that npm would publish the baseline', async () => {
    const pkg = join(dir, 'pkg');
    const made = await runPubguard(['baseline', 'create', '--npm-files', '.', '-j', '0', '-o', `keys/${T}.json`], { cwd: pkg });
    expect(made.code).toBe(0);
    expect(made.stderr).toContain(`npm would publish keys/${redact(T)}.json`);
    const scan = await runPubguard(['scan', '--npm-files', '.', '-j', '0', '--baseline', `keys/${T}.json`], { cwd: pkg });
    expect(scan.stderr).toContain(`npm would publish keys/${redact(T)}.json`);
    expect(await leaks(made, [T])).toEqual([]);
    expect(await leaks(scan, [T])).toEqual([]);
  });
});
