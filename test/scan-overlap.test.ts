import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsModule, npmTarball, Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

interface Report {
  findings: { ruleId: string; path: string; fingerprint: string; location: { line: number; column: number } }[];
  errors: unknown[];
  stats: { artifacts: number; files: number };
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-overlap-'));
  const rng = new Prng(977);
  await mkdir(join(dir, 'project', 'dist'), { recursive: true });
  const tarball = await npmTarball('pkg', '1.0.0', [{ path: 'lib/config.js', content: jsModule([githubToken(rng)], { seed: 5 }).content }]);
  await writeFile(join(dir, 'project', 'dist', 'pkg-1.0.0.tgz'), tarball);
  await writeFile(join(dir, 'project', 'dist', '.env'), 'NODE_ENV=production\nSESSION_SECRET=46gjQRyJxi*BLP9w\n');
  await writeFile(join(dir, 'project', 'README.md'), '# pkg\n');
  await symlink(join(dir, 'project', 'dist'), join(dir, 'dist-link'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan of paths inside one another', () => {
  it('scans each file once, under the innermost path, and counts it once', async () => {
    const cwd = join(dir, 'project');
    const alone = await runPubguard(['scan', '--format', 'json', 'dist'], { cwd });
    const { findings: expected, stats } = JSON.parse(alone.stdout) as Report;
    expect(expected.map((f) => f.ruleId).sort()).toEqual(['dotenv-file', 'dotenv-secret', 'github-classic-token']);

    // The same directory named four ways and a file in it: README.md is the only file added.
    const text = await runPubguard(['scan', '.', 'dist/pkg-1.0.0.tgz', 'dist', '../dist-link/', join(cwd, 'dist/')], { cwd });
    expect(text.code).toBe(1);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain(`Scanned ${stats.artifacts + 1} artifacts, ${stats.files + 1} files`);
    for (const f of expected) {
      const at = `${f.path}:${f.location.line}:${f.location.column}`;
      expect(text.stdout.split(at).length - 1, at).toBe(1);
    }

    const json = await runPubguard(['scan', '--format', 'json', '.', 'dist/pkg-1.0.0.tgz', 'dist'], { cwd });
    const report = JSON.parse(json.stdout) as Report;
    const key = (f: Report['findings'][number]) => `${f.ruleId} ${f.path} ${f.fingerprint}`;
    expect(report.findings.map(key).sort()).toEqual(expected.map(key).sort());
    expect(report.errors).toEqual([]);

    // A baseline made of the inner path alone covers the same files scanned with the outer one.
    await writeFile(join(cwd, 'known.json'), alone.stdout);
    const known = await runPubguard(['scan', '--baseline', 'known.json', '--format', 'json', '.', 'dist'], { cwd });
    expect((JSON.parse(known.stdout) as Report).findings).toEqual([]);
    expect(known.code).toBe(0);
  });
});
