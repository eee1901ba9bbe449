import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

interface Report {
  findings: { ruleId: string; path: string; fingerprint: string; secret: string; location: { line: number; column: number; byteOffset: number } }[];
  errors: unknown[];
}

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-utf16-'));
  // What Windows PowerShell 5 writes with `Out-File`: UTF-16LE with a byte-order mark, CRLF.
  // A long comment puts the token past the first chunk of the smallest size --chunk-size takes (64 KiB).
  script = `# Déploiement\r\n# ${'-'.repeat(70_000)}\r\n$headers = @{ Authorization = "token ${githubToken(new Prng(16))}" }\r\nInvoke-RestMethod -Headers $headers\r\n`;
  await mkdir(join(dir, 'utf16', 'tools'), { recursive: true });
  await mkdir(join(dir, 'utf8', 'tools'), { recursive: true });
  await writeFile(join(dir, 'utf16', 'tools', 'release.ps1'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(script, 'utf16le')]));
  await writeFile(join(dir, 'utf8', 'tools', 'release.ps1'), script);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan of a UTF-16 PowerShell script', () => {
  it('reports the token it holds as in the same script saved as UTF-8, from a directory and from stdin', async () => {
    const where = (r: Report) => r.findings.map((f) => [f.ruleId, f.path, f.secret, f.fingerprint, f.location.line, f.location.column, f.location.byteOffset]);
    const utf8 = await runPubguard(['scan', '--format', 'json', 'tools'], { cwd: join(dir, 'utf8') });
    const expected = where(JSON.parse(utf8.stdout) as Report);
    expect(expected).toHaveLength(1);
    expect(expected[0]?.slice(0, 2)).toEqual(['github-classic-token', 'tools/release.ps1']);

    const utf16 = await runPubguard(['scan', '--format', 'json', 'tools'], { cwd: join(dir, 'utf16') });
    expect(utf16.code).toBe(1);
    expect((JSON.parse(utf16.stdout) as Report).errors).toEqual([]);
    expect(where(JSON.parse(utf16.stdout) as Report)).toEqual(expected);

    const piped = await runPubguard(['scan', '--format', 'json', '--chunk-size', '64KiB', '-'], { input: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(script, 'utf16le')]) });
    expect(piped.code).toBe(1);
    expect(where(JSON.parse(piped.stdout) as Report)).toEqual(expected.map((f) => [f[0], '-', ...f.slice(2)]));
  });
});
