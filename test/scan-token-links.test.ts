import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, tgzBuffer, zipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard, scanEveryFormat } from './helpers.js';

interface Finding {
  ruleId: string;
  path: string;
  location: { line: number; column: number; byteOffset: number };
  secret: string;
  in?: string;
}

/** Symbolic links named after tokens: to a file and to a directory inside, out of the directory, and to nothing. */
const TO_FILE = githubToken(new Prng(5101));
const TO_DIR = githubToken(new Prng(5102));
const TO_OUTSIDE = githubToken(new Prng(5103));
const TO_NOTHING = githubToken(new Prng(5104));
/** Links inside archives: a tar symlink, a tar hard link and a zip symlink. */
const TAR_SYMLINK = githubToken(new Prng(5105));
const TAR_HARDLINK = githubToken(new Prng(5106));
const ZIP_SYMLINK = githubToken(new Prng(5107));
const TOKENS = [TO_FILE, TO_DIR, TO_OUTSIDE, TO_NOTHING, TAR_SYMLINK, TAR_HARDLINK, ZIP_SYMLINK];
/** As reports shorten a secret of 40 characters. */
const short = (token: string): string => `${token.slice(0, 6)}…${token.slice(-4)}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-e2e-token-links-'));
  const pkg = join(dir, 'pkg');
  await mkdir(join(pkg, 'lib'), { recursive: true });
  await writeFile(join(pkg, 'real.txt'), 'nothing secret in here\n');
  await writeFile(join(pkg, 'lib', 'index.js'), 'module.exports = 1;\n');
  await writeFile(join(dir, 'outside.txt'), 'not the package\n');
  await symlink('real.txt', join(pkg, TO_FILE));
  await symlink('lib', join(pkg, TO_DIR));
  await symlink('../outside.txt', join(pkg, TO_OUTSIDE));
  await symlink('absent.txt', join(pkg, TO_NOTHING));
  await writeFile(
    join(pkg, 'bundle.tgz'),
    await tgzBuffer([
      { path: 'package/real.txt', content: 'x\n' },
      { path: `package/${TAR_SYMLINK}`, type: 'symlink', linkname: 'real.txt' },
      { path: `package/${TAR_HARDLINK}`, type: 'link', linkname: 'package/real.txt' },
    ]),
  );
  await writeFile(join(pkg, 'bundle.zip'), await zipBuffer([{ path: 'real.txt', content: 'x\n' }, { path: ZIP_SYMLINK, type: 'symlink', linkname: 'real.txt' }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan of a directory holding symbolic links named after a secret', () => {
  it('finds each link by its own name, wherever it leads, and prints none of them in full', async () => {
    const { run, outputs } = await scanEveryFormat('pkg', dir);
    expect(run.code).toBe(1);
    for (const [where, text] of Object.entries(outputs)) {
      for (const token of TOKENS) expect(text, `${where} holds ${short(token)}`).not.toContain(token);
    }

    const report = JSON.parse(outputs['report.json']!) as { findings: Finding[]; errors: { path: string; kind: string; message: string }[] };
    expect(report.findings.every((f) => f.in === 'name' && f.location.line === 1 && f.location.column === 1)).toBe(true);
    expect(report.findings.map((f) => f.path).sort()).toEqual(
      [
        `pkg/${short(TO_FILE)}`,
        `pkg/${short(TO_DIR)}`,
        `pkg/${short(TO_OUTSIDE)}`,
        `pkg/${short(TO_NOTHING)}`,
        `pkg/bundle.tgz!package/${short(TAR_SYMLINK)}`,
        `pkg/bundle.tgz!package/${short(TAR_HARDLINK)}`,
        `pkg/bundle.zip!${short(ZIP_SYMLINK)}`,
      ].sort(),
    );
    // The links out and to nothing are still reported as not followed, under their shortened names.
    expect(report.errors.map((e) => `${e.kind} ${e.path}`).sort()).toEqual([`unreadable pkg/${short(TO_NOTHING)}`, `unsupported pkg/${short(TO_OUTSIDE)}`]);
    expect(report.errors.every((e) => e.message.includes('not followed'))).toBe(true);

    const sarif = JSON.parse(outputs['report.sarif']!) as { runs: { results: { message: { text: string }; properties: { in?: string } }[] }[] };
    expect(sarif.runs[0]!.results.map((r) => r.properties.in)).toEqual(Array(7).fill('name'));
    expect(sarif.runs[0]!.results.map((r) => r.message.text).join('\n')).toContain(`in the name of pkg/${short(TO_FILE)}.`);
    expect(outputs['report.github.txt']).toContain(`::error file=pkg/${short(TO_DIR)},title=`);
    expect(outputs['report.xml']).toContain(`pkg/${short(TO_OUTSIDE)} (in the name)`);
    expect(run.stdout).toContain(`secret: ${short(TO_NOTHING)} (in the name)`);
  });

  it('finds a link out of the directory by its name when another path given reads its target, with no error', async () => {
    const run = await runPubguard(['scan', 'pkg', 'outside.txt', '-j', '0', '-f', 'json'], { cwd: dir });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { findings: Finding[]; errors: { path: string }[] };
    expect(report.findings.map((f) => f.path)).toContain(`pkg/${short(TO_OUTSIDE)}`);
    expect(report.errors.map((e) => e.path)).toEqual([`pkg/${short(TO_NOTHING)}`]);
  });

  it('shows the link names in full only with --show-secrets', async () => {
    const run = await runPubguard(['scan', 'pkg', '-j', '0', '-f', 'json', '--show-secrets'], { cwd: dir });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { findings: Finding[] };
    expect(report.findings.map((f) => f.path)).toEqual(expect.arrayContaining([`pkg/${TO_FILE}`, `pkg/${TO_DIR}`, `pkg/${TO_OUTSIDE}`, `pkg/${TO_NOTHING}`]));
  });
});
