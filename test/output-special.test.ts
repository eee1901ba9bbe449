import { spawnSync } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN, runPubguard } from './helpers.js';

// The links point at /proc/self/fd/1 and /dev/null from a scratch directory: a build that
// replaced what -o names then replaces only the link, never the system's own files.
describe('scan -o into standard output and /dev/null', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-output-'));
    await mkdir(join(dir, 'clean'));
    await writeFile(join(dir, 'clean', 'a.js'), 'module.exports = 1;\n');
    // Another user writes here too (the unprivileged run below).
    await chmod(dir, 0o777);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Node gives a child a socket for stdout, which cannot be opened by name: the report goes to the descriptor.
  it.skipIf(!existsSync('/proc/self/fd'))('writes the report to standard output as /dev/stdout names it, through a socket', async () => {
    await symlink('/proc/self/fd/1', join(dir, 'stdout'));
    const run = await runPubguard(['scan', 'clean', '-q', '-f', 'json', '-o', 'stdout'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ version: 1, findings: [] });
    expect((await lstat(join(dir, 'stdout'))).isSymbolicLink()).toBe(true);
  });

  // Root could make a temp file in /dev; another user cannot, and was refused before.
  const asRoot = process.getuid?.() === 0;
  const setpriv = spawnSync('setpriv', ['--version']).status === 0;
  it.skipIf(asRoot && !setpriv)('writes into /dev/null as a user who may not write in /dev', async () => {
    await symlink('/dev/null', join(dir, 'null'));
    const prefix = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    // The checkout may sit where that user cannot read (a private temp directory): it runs a
    // copy of the built command from the scratch directory, which anyone may read.
    let bin = PUBGUARD_BIN;
    if (asRoot) {
      const cli = dirname(dirname(PUBGUARD_BIN));
      for (const part of ['bin', 'bundle', 'generated', 'schemas', 'package.json']) await cp(join(cli, part), join(dir, 'cli', part), { recursive: true });
      await chmodTree(join(dir, 'cli'));
      bin = join(dir, 'cli', 'bin', 'pubguard.js');
    }
    const [cmd, ...args] = [...prefix, process.execPath, bin, 'scan', 'clean', '-q', '-f', 'json', '-o', 'null'];
    const run = spawnSync(cmd as string, args, { cwd: dir, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect((await lstat(join(dir, 'null'))).isSymbolicLink()).toBe(true);
  });
});

/** Makes a tree readable by anyone, as a copy made by root under a umask may not be. */
async function chmodTree(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  await chmod(path, info.isDirectory() ? 0o755 : 0o644);
  if (info.isDirectory()) for (const name of await readdir(path)) await chmodTree(join(path, name));
}
