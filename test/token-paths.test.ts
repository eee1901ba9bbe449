import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@pubguard/corpus';
import { redact } from '@pubguard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessResult, runPubguard } from './helpers.js';

// Paths named after secrets, given to every command that prints a path of its own (an output
// file, a baseline, a config) rather than one of a scan's findings: none may print it in full.
const rng = new Prng(6151);
/** A secret of the README's custom rule, which names are not matched with. */
const ACME = `acme_${rng.string('0123456789abcdef', 32)}`;
const ACME_RULE = { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-token-paths-'));
  await mkdir(join(dir, 'acme', 't'), { recursive: true });
  await writeFile(join(dir, 'acme', 'pubguard.config.json'), JSON.stringify({ rules: { custom: [ACME_RULE] } }));
  await writeFile(join(dir, 'acme', 't', `${ACME}.txt`), `ACME_KEY=${ACME}\n`);
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

});
