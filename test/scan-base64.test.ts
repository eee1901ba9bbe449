import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base62Crc32, npmTarball, Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

interface Report {
  findings: { ruleId: string; path: string; secret: string; fingerprint: string; encoding?: string; location: { line: number; column: number; byteOffset: number } }[];
  errors: unknown[];
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

let dir: string;
let github: string;
let npm: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-base64-'));
  const rng = new Prng(2718);
  github = githubToken(rng);
  const body = rng.string('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 30);
  npm = `npm_${body}${base62Crc32(body)}`;
  // A bundle whose inline source map carries the original source, token included, and a chart
  // holding an encoded .npmrc: neither has the secret as plain bytes.
  const source = `import { Octokit } from '@octokit/rest';\n\nexport const client = new Octokit({ auth: "${github}" });\n`;
  const map = { version: 3, sources: ['../src/client.ts'], sourcesContent: [source], names: [], mappings: 'AAAA,SAAS,GAAG' };
  bundle = `"use strict";export const client=new Octokit({auth:process.env.GH});\n//# sourceMappingURL=data:application/json;base64,${b64(JSON.stringify(map))}\n`;
  const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry\ndata:\n  .npmrc: ${b64(`//registry.npmjs.org/:_authToken=${npm}\n`)}\n`;
  const tarball = await npmTarball('pkg', '1.0.0', [
    { path: 'dist/client.js', content: bundle },
    { path: 'chart/templates/secret.yaml', content: secret },
  ]);
  await writeFile(join(dir, 'pkg-1.0.0.tgz'), tarball);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan of base64 text', () => {
  it('finds a token in an inline source map and one in an encoded .npmrc, says they were decoded, and places them on the base64', async () => {
    const json = await runPubguard(['scan', '--format', 'json', 'pkg-1.0.0.tgz'], { cwd: dir });
    expect(json.code).toBe(1);
    const { findings, errors } = JSON.parse(json.stdout) as Report;
    expect(errors).toEqual([]);
    const decoded = findings.filter((f) => f.encoding === 'base64').map((f) => [f.ruleId, f.path]);
    expect(decoded).toEqual(
      expect.arrayContaining([
        ['github-classic-token', 'pkg-1.0.0.tgz!package/dist/client.js'],
        ['npm-access-token', 'pkg-1.0.0.tgz!package/chart/templates/secret.yaml'],
      ]),
    );
    const inMap = findings.find((f) => f.ruleId === 'github-classic-token');
    expect(inMap?.secret.startsWith(github.slice(0, 4))).toBe(true);
    expect(inMap?.location.line).toBe(2);
    // The column is that of the base64 characters encoding the token's first byte.
    const lineStart = bundle.indexOf('\n') + 1;
    expect(inMap?.location.byteOffset).toBe(lineStart + (inMap?.location.column ?? 0) - 1);
    const run = bundle.indexOf('base64,') + 7;
    const group = run + 4 * Math.floor(((inMap?.location.byteOffset ?? 0) - run) / 4);
    expect(Buffer.from(bundle.slice(group, group + 64), 'base64').toString('latin1')).toContain(github.slice(0, 12));

    const text = await runPubguard(['scan', 'pkg-1.0.0.tgz'], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/secret: ghp_\S+ \(decoded from base64\)/);
    const sarif = await runPubguard(['scan', '--format', 'sarif', 'pkg-1.0.0.tgz'], { cwd: dir });
    expect(sarif.stdout).toContain('"encoding": "base64"');
  });

  it('leaves a decoded secret out by a baseline of the plain one, and by an allowlist of its value', async () => {
    await writeFile(join(dir, 'plain.js'), `module.exports = { auth: "${github}", npm: "${npm}" };\n`);
    const plain = await runPubguard(['scan', '--format', 'json', 'plain.js'], { cwd: dir });
    await writeFile(join(dir, 'known.json'), plain.stdout);
    expect((JSON.parse(plain.stdout) as Report).findings.map((f) => f.ruleId).sort()).toEqual(['github-classic-token', 'npm-access-token']);
    const known = await runPubguard(['scan', '--format', 'json', '--baseline', 'known.json', 'pkg-1.0.0.tgz'], { cwd: dir });
    expect((JSON.parse(known.stdout) as Report).findings.filter((f) => f.encoding === 'base64')).toEqual([]);

    const work = await mkdtemp(join(dir, 'config-'));
    await writeFile(join(work, 'pkg-1.0.0.tgz'), await npmTarball('pkg', '1.0.0', [{ path: 'dist/client.js', content: bundle }]));
    const before = await runPubguard(['scan', '--format', 'json', 'pkg-1.0.0.tgz'], { cwd: work });
    expect((JSON.parse(before.stdout) as Report).findings.map((f) => [f.ruleId, f.encoding])).toEqual([['github-classic-token', 'base64']]);
    await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ allowlist: { regexes: [`^${github}$`] } }));
    const allowed = await runPubguard(['scan', '--format', 'json', 'pkg-1.0.0.tgz'], { cwd: work });
    expect((JSON.parse(allowed.stdout) as Report).findings).toEqual([]);
    expect(allowed.code).toBe(0);
  });
});
