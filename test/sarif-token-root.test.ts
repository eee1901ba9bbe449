import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, tgzBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sarifValidator } from '../packages/report/src/__fixtures__/sarif-schema.js';
import { githubToken, runPubguard } from './helpers.js';

interface Location {
  uri: string;
  uriBaseId?: string;
}
interface Sarif {
  runs: {
    results: { locations: { physicalLocation: { artifactLocation: Location } }[] }[];
    invocations: { toolExecutionNotifications: { locations: { physicalLocation: { artifactLocation: Location } }[] }[] }[];
  }[];
}

/** The name of a directory above the working directory, and of the working directory itself. */
const ABOVE_TOKEN = githubToken(new Prng(5201));
const CWD_TOKEN = githubToken(new Prng(5202));
/** In a file and in a file's name below the scanned directory. */
const CONTENT_TOKEN = githubToken(new Prng(5203));
const NAME_TOKEN = githubToken(new Prng(5204));
const TOKENS = [ABOVE_TOKEN, CWD_TOKEN, CONTENT_TOKEN, NAME_TOKEN];
/** As reports shorten a secret of 40 characters. */
const short = (token: string): string => `${token.slice(0, 6)}…${token.slice(-4)}`;

let base: string;
/** The working directory: named after a token, below another directory named after one. */
let cwd: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'pubguard-e2e-sarif-root-'));
  cwd = join(base, ABOVE_TOKEN, CWD_TOKEN);
  const dist = join(cwd, 'dist');
  await mkdir(dist, { recursive: true });
  await writeFile(join(dist, 'config.js'), `module.exports = { token: "${CONTENT_TOKEN}" };\n`);
  await writeFile(join(dist, `${NAME_TOKEN}.json`), '{}\n');
  await writeFile(join(dist, 'pkg.tgz'), await tgzBuffer([{ path: 'package/index.js', content: `const t = "${CONTENT_TOKEN}";\n` }]));
  // A gzip that is not one: an error, whose SARIF notification has a location too.
  await writeFile(join(dist, 'broken.tgz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** The artifact locations of a SARIF log's results and notifications, each as `uriBaseId uri`. */
function locations(sarif: Sarif): { results: string[]; notifications: string[] } {
  const shown = (l: Location) => `${l.uriBaseId ?? '-'} ${l.uri}`;
  const run = sarif.runs[0]!;
  return {
    results: run.results.map((r) => shown(r.locations[0]!.physicalLocation.artifactLocation)).sort(),
    notifications: run.invocations[0]!.toolExecutionNotifications.map((n) => shown(n.locations[0]!.physicalLocation.artifactLocation)),
  };
}

const EXPECTED = {
  results: ['%SRCROOT% dist/config.js', `%SRCROOT% dist/${encodeURIComponent(short(NAME_TOKEN))}.json`, '%SRCROOT% dist/pkg.tgz!package/index.js'].sort(),
  notifications: ['%SRCROOT% dist/broken.tgz'],
};

describe('pubguard scan from a working directory named after a secret', () => {
  const validate = sarifValidator();

  it('gives SARIF URIs relative to %SRCROOT% for an absolute path below it, and prints no token in full in any format', async () => {
    const run = await runPubguard(
      ['scan', join(cwd, 'dist'), '-j', '0', '-f', 'json', '-o', 'report.json', '-f', 'sarif', '-o', 'report.sarif', '-f', 'github', '-o', 'report.github.txt', '-f', 'junit', '-o', 'report.xml', '-f', 'text'],
      { cwd },
    );
    expect(run.code).toBe(1);
    const outputs: Record<string, string> = { stdout: run.stdout, stderr: run.stderr };
    for (const file of ['report.json', 'report.sarif', 'report.github.txt', 'report.xml']) outputs[file] = await readFile(join(cwd, file), 'utf8');
    for (const [where, text] of Object.entries(outputs)) {
      for (const token of TOKENS) expect(text, `${where} holds ${short(token)}`).not.toContain(token);
    }

    const sarif = JSON.parse(outputs['report.sarif']!) as Sarif;
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(locations(sarif)).toEqual(EXPECTED);

    // The other formats show the path as it was given, with the tokens in it shortened.
    const shownDist = join(base, short(ABOVE_TOKEN), short(CWD_TOKEN), 'dist');
    const report = JSON.parse(outputs['report.json']!) as { findings: { path: string }[]; errors: { path: string }[] };
    expect(report.findings.map((f) => f.path)).toContain(`${shownDist}/config.js`);
    expect(report.errors.map((e) => e.path)).toEqual([`${shownDist}/broken.tgz`]);
    expect(run.stdout).toContain(`${shownDist}/config.js:1:28`);
    expect(outputs['report.github.txt']).toContain(`file=${shownDist}/config.js,line=1`);
    expect(outputs['report.xml']).toContain(`${shownDist}/config.js:1:28`);
  });

  it('gives the same URIs with --show-secrets, and from a directory above', async () => {
    const shown = await runPubguard(['scan', join(cwd, 'dist'), '-j', '0', '-f', 'sarif', '--show-secrets'], { cwd });
    expect(shown.code).toBe(1);
    const sarif = JSON.parse(shown.stdout) as Sarif;
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(locations(sarif)).toEqual({ ...EXPECTED, results: EXPECTED.results.map((r) => r.replace(encodeURIComponent(short(NAME_TOKEN)), NAME_TOKEN)).sort() });

    const above = join(base, ABOVE_TOKEN);
    const fromAbove = await runPubguard(['scan', join(cwd, 'dist'), '-j', '0', '-f', 'sarif'], { cwd: above });
    expect(fromAbove.code).toBe(1);
    for (const token of TOKENS) expect(fromAbove.stdout).not.toContain(token);
    const prefix = `%SRCROOT% ${encodeURIComponent(short(CWD_TOKEN))}/`;
    const relocated = locations(JSON.parse(fromAbove.stdout) as Sarif);
    expect(relocated).toEqual({ results: EXPECTED.results.map((r) => r.replace('%SRCROOT% ', prefix)), notifications: EXPECTED.notifications.map((r) => r.replace('%SRCROOT% ', prefix)) });
  });

  it('gives the same URIs when report merge turns shard reports into SARIF', async () => {
    for (const shard of ['1/2', '2/2']) {
      const run = await runPubguard(['scan', join(cwd, 'dist'), '-j', '0', '-f', 'json', '-o', `shard-${shard[0]}.json`, '--shard', shard, '-q'], { cwd });
      expect([0, 1, 2]).toContain(run.code);
    }
    const merged = await runPubguard(['report', 'merge', 'shard-1.json', 'shard-2.json', '-f', 'sarif'], { cwd });
    expect(merged.code).toBe(1);
    for (const token of TOKENS) expect(merged.stdout).not.toContain(token);
    const sarif = JSON.parse(merged.stdout) as Sarif;
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(locations(sarif)).toEqual(EXPECTED);
  });
});
