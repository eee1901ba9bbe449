import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base62Crc32, Prng, tgzBuffer, zipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard, scanEveryFormat } from './helpers.js';

interface Finding {
  ruleId: string;
  path: string;
  location: { line: number; column: number; byteOffset: number };
  secret: string;
  in?: string;
}
interface Sarif {
  runs: { results: { ruleId: string; message: { text: string }; locations: { physicalLocation: { region: { startLine: number } } }[]; properties: { in?: string } }[] }[];
}

const rng = new Prng(4711);
const ENTRY_TOKEN = githubToken(new Prng(4712));
const DIR_TOKEN = githubToken(new Prng(4713));
const npmBody = rng.string('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 30);
const ARCHIVE_DIR_TOKEN = `npm_${npmBody}${base62Crc32(npmBody)}`;
const AWS_KEY = `AKIA${rng.string('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
const TOKENS = [ENTRY_TOKEN, DIR_TOKEN, ARCHIVE_DIR_TOKEN, AWS_KEY];
/** As reports shorten a secret of 40 characters (20 for the AWS key). */
const short = (token: string): string => (token.length === 40 ? `${token.slice(0, 6)}…${token.slice(-4)}` : `${token.slice(0, 4)}…${token.slice(-2)}`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-e2e-token-names-'));
  await mkdir(join(dir, 'dist', 'creds', DIR_TOKEN), { recursive: true });
  await writeFile(join(dir, 'dist', 'creds', DIR_TOKEN, 'notes.txt'), 'nothing secret in here\n');
  // A gzip that is not one: its error names the directory.
  await writeFile(join(dir, 'dist', 'creds', DIR_TOKEN, 'broken.tgz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
  await writeFile(
    join(dir, 'dist', 'pkg-1.0.0.tgz'),
    await tgzBuffer([
      { path: 'package/package.json', content: '{"name":"pkg","version":"1.0.0"}\n' },
      { path: `package/${ENTRY_TOKEN}.json`, content: '{}\n' },
      { path: `package/cache/${ARCHIVE_DIR_TOKEN}/state.json`, content: '{}\n' },
    ]),
  );
  await writeFile(join(dir, 'dist', 'app.zip'), await zipBuffer([{ path: `keys/${AWS_KEY}.txt`, content: 'x\n' }, { path: 'README.txt', content: 'app\n' }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan of files, directories and archive entries named after a secret', () => {
  it('finds each name and prints none of them in full, in any report', async () => {
    const { run, outputs } = await scanEveryFormat('dist', dir);
    expect(run.code).toBe(1);
    for (const [where, text] of Object.entries(outputs)) {
      for (const token of TOKENS) expect(text, `${where} holds ${short(token)}`).not.toContain(token);
    }

    const report = JSON.parse(outputs['report.json']!) as { findings: Finding[]; errors: { path: string; kind: string }[] };
    const named = report.findings.filter((f) => f.in === 'name');
    expect(named.map((f) => [f.ruleId, f.path, f.secret])).toEqual([
      ['aws-access-key-id', `dist/app.zip!keys/${short(AWS_KEY)}.txt`, short(AWS_KEY)],
      ['github-classic-token', `dist/creds/${short(DIR_TOKEN)}`, short(DIR_TOKEN)],
      ['npm-access-token', `dist/pkg-1.0.0.tgz!package/cache/${short(ARCHIVE_DIR_TOKEN)}`, short(ARCHIVE_DIR_TOKEN)],
      ['github-classic-token', `dist/pkg-1.0.0.tgz!package/${short(ENTRY_TOKEN)}.json`, short(ENTRY_TOKEN)],
    ]);
    expect(named.every((f) => f.location.line === 1 && f.location.column === 1 && f.location.byteOffset === 0)).toBe(true);
    expect(report.findings).toHaveLength(named.length);
    expect(report.errors.map((e) => [e.path, e.kind])).toEqual([[`dist/creds/${short(DIR_TOKEN)}/broken.tgz`, 'corrupt']]);

    const sarif = JSON.parse(outputs['report.sarif']!) as Sarif;
    const results = sarif.runs[0]!.results;
    expect(results.map((r) => r.properties.in)).toEqual(['name', 'name', 'name', 'name']);
    expect(results.every((r) => r.locations[0]!.physicalLocation.region.startLine === 1)).toBe(true);
    expect(results[1]!.message.text).toContain(`in the name of dist/creds/${short(DIR_TOKEN)}.`);
    expect(outputs['report.github.txt']).toContain(`::error file=dist/creds/${short(DIR_TOKEN)},title=`);
    expect(run.stdout).toContain(`secret: ${short(ENTRY_TOKEN)} (in the name)`);
  });

  it('shows the names in full only with --show-secrets', async () => {
    const run = await runPubguard(['scan', 'dist', '-j', '0', '-f', 'json', '--show-secrets'], { cwd: dir });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { findings: Finding[] };
    expect(report.findings.map((f) => f.path)).toContain(`dist/creds/${DIR_TOKEN}`);
  });

  it('applies an allowlist glob written against the real path', async () => {
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ allowlist: { paths: [`dist/creds/${DIR_TOKEN}`, `package/${ENTRY_TOKEN}.json`, `package/cache/${ARCHIVE_DIR_TOKEN}`, `keys/${AWS_KEY}.txt`] } }));
    try {
      const run = await runPubguard(['scan', 'dist', '-j', '0', '-f', 'json'], { cwd: dir });
      expect((JSON.parse(run.stdout) as { findings: Finding[] }).findings).toEqual([]);
      // The corrupt file is still an error.
      expect(run.code).toBe(2);
    } finally {
      await rm(join(dir, 'pubguard.config.json'));
    }
  });
});
