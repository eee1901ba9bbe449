import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, PUBGUARD_BIN, withoutCiIdentity } from './helpers.js';

// Root reads anything, so as root the scan runs without the capabilities that bypass file
// permissions (setpriv, util-linux), as in the test of unreadable inputs.
const asRoot = process.getuid?.() === 0;
const prefix = asRoot ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] : [];

let dir: string;
const token = githubToken(new Prng(707));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-config-found-'));
});
afterAll(async () => {
  await chmod(join(dir, 'unreadable', 'packages', 'a', 'pubguard.config.json'), 0o644).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A monorepo whose root config allows everything, and a package `packages/a` with a token in lib/. */
async function monorepo(name: string): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'packages', 'a', 'lib'), { recursive: true });
  await writeFile(join(root, 'pubguard.config.json'), JSON.stringify({ allowlist: { paths: ['**'] } }));
  await writeFile(join(root, 'packages', 'a', 'lib', 'x.js'), `const t = '${token}';\n`);
  return join(root, 'packages', 'a');
}

function scanLib(cwd: string): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = [...prefix, process.execPath, PUBGUARD_BIN, 'scan', 'lib'];
  const run = spawnSync(cmd as string, args, { cwd, encoding: 'utf8', env: { ...withoutCiIdentity(process.env), NO_COLOR: '1' } });
  expect(run.error).toBeUndefined();
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('pubguard scan with a pubguard.config.json it finds but cannot use', () => {
  it('uses the config further up only where there is nothing at all', async () => {
    const pkg = await monorepo('nothing');
    const run = scanLib(pkg);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it.each([
    ['a symbolic link that leads nowhere', 'dangling', (path: string) => symlink('nowhere.json', path), 'is a symbolic link to nowhere.json, which does not exist'],
    ['a directory', 'directory', (path: string) => mkdir(path), 'is a directory, not a file'],
    [
      'a file it may not read',
      'unreadable',
      async (path: string) => {
        await writeFile(path, '{}');
        await chmod(path, 0o000);
      },
      'permission denied',
    ],
    // Read, it would wait for a writer for good.
    ['a FIFO', 'fifo', async (path: string) => expect(spawnSync('mkfifo', [path]).status).toBe(0), 'is not a regular file'],
  ])('refuses %s instead of taking the one further up, exit 2', async (_what, name, make, why) => {
    const pkg = await monorepo(name);
    const config = join(pkg, 'pubguard.config.json');
    await make(config);
    const run = scanLib(pkg);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `pubguard scan: ${config}: cannot read the config file: ${why}${why === 'permission denied' ? ': check the permissions of the path and of the directories above it' : ''}; it is the nearest pubguard.config.json, so none further up is used in its place: fix or remove it, or name the config to use with --config\n`,
    );
    expect(run.status).toBe(2);
  });
});
