import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePyc, Prng, python3Available, zipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

const python = python3Available();

interface Report {
  findings: { ruleId: string; path: string; fingerprint: string; location: { byteOffset: number } }[];
  errors: unknown[];
}

let dir: string;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-pyc-'));
  if (!python) return;
  token = githubToken(new Prng(552));
  await mkdir(join(dir, 'pkg'), { recursive: true });
  await writeFile(join(dir, 'pkg', 'settings.py'), `TOKEN = "${token}"\n`);
  // What pip leaves next to an installed module, and what some wheels ship.
  await writeFile(join(dir, 'pkg', 'settings.pyc'), compilePyc(`TOKEN = "${token}"\n`));
  await writeFile(join(dir, 'pkg-1.0-py3-none-any.whl'), await zipBuffer([{ path: 'pkg/settings.pyc', content: await readFile(join(dir, 'pkg', 'settings.pyc')) }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!python)('pubguard scan of compiled Python', () => {
  it('reports the token of a .pyc, on disk and in a wheel, with the fingerprint of its source', async () => {
    const pyc = await readFile(join(dir, 'pkg', 'settings.pyc'));
    // marshal puts the next object's type code right after the string.
    expect(/[A-Za-z0-9]/.test(String.fromCharCode(pyc[pyc.indexOf(token) + token.length]!))).toBe(true);
    const result = await runPubguard(['scan', '--format', 'json', 'pkg', 'pkg-1.0-py3-none-any.whl'], { cwd: dir });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.errors).toEqual([]);
    const rows = report.findings.map((f) => [f.path, f.ruleId, f.location.byteOffset, f.fingerprint]).sort();
    const source = report.findings.find((f) => f.path === 'pkg/settings.py')!;
    expect(rows).toEqual(
      [
        ['pkg-1.0-py3-none-any.whl!pkg/settings.pyc', 'github-classic-token', pyc.indexOf(token), source.fingerprint],
        ['pkg/settings.py', 'github-classic-token', 'TOKEN = "'.length, source.fingerprint],
        ['pkg/settings.pyc', 'github-classic-token', pyc.indexOf(token), source.fingerprint],
      ].sort(),
    );
  });
});
