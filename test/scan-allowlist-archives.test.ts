import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsModule, npmTarball, Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

let dir: string;
const secret = githubToken(new Prng(7331));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-allowlist-archives-'));
  const fixture = jsModule([secret], { seed: 11 }).content;
  await mkdir(join(dir, 'fixtures'));
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'fixtures', 'key.js'), fixture);
  await writeFile(join(dir, 'dist', 'pkg-1.0.0.tgz'), await npmTarball('pkg', '1.0.0', [{ path: 'fixtures/key.js', content: fixture }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (paths: string[]) => writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ allowlist: { paths } }));

interface Report {
  findings: { path: string }[];
}

describe('allowlist paths and an archive found in a scanned directory', () => {
  it('match its entries by their whole entry path, and a note says which glob would allow what a glob below the top directory did not', async () => {
    await config(['fixtures/**']);
    const walked = await runPubguard(['scan', '--format', 'json', '.'], { cwd: dir });
    expect(walked.code).toBe(1);
    expect((JSON.parse(walked.stdout) as Report).findings.map((f) => f.path)).toEqual(['dist/pkg-1.0.0.tgz!package/fixtures/key.js']);
    expect(walked.stderr).toContain(
      'pubguard scan: note: allowlist path "fixtures/**" (allowlist.paths in pubguard.config.json) did not leave out dist/pkg-1.0.0.tgz!package/fixtures/key.js: in an archive found in a scanned directory, which may be another package this one ships, an allowlist path is matched against the whole entry path (package/fixtures/key.js), not the path below the archive\'s top directory; to allow it there too, add "package/fixtures/**" to allowlist.paths, or write "**/fixtures/**" instead\n',
    );
    expect(walked.stderr).not.toContain(secret.slice(4, 20));
    expect((await runPubguard(['scan', '--quiet', '.'], { cwd: dir })).stderr).toBe('');

    // Named on the command line, the archive is the package scanned: the glob applies below its top directory.
    const named = await runPubguard(['scan', 'dist/pkg-1.0.0.tgz'], { cwd: dir });
    expect(named.code).toBe(0);
    expect(named.stderr).not.toContain('note:');
  });

  it('allow the entries with either glob the note suggests, and say nothing more', async () => {
    for (const paths of [['fixtures/**', 'package/fixtures/**'], ['**/fixtures/**']]) {
      await config(paths);
      const walked = await runPubguard(['scan', '.'], { cwd: dir });
      expect(walked.code, paths.join(' ')).toBe(0);
      expect(walked.stderr, paths.join(' ')).toBe('');
    }
  });
});
