import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, open, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeAtExitNow } from '@pubguard/engine';
import { OutputError, writeFileAtomic } from './files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('writeFileAtomic', () => {
  it('leaves no temp file when the process exits half-way through a write (a second Ctrl-C, SIGTERM)', async () => {
    const path = join(dir, 'report.sarif');
    const writing = writeFileAtomic(path, 'x'.repeat(64 * 1024 * 1024)).then(
      () => 'written',
      (error: unknown) => error,
    );
    const temps = (): string[] => readdirSync(dir).filter((name) => name.endsWith('.tmp'));
    for (let i = 0; i < 10_000 && temps().length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    const [temp] = temps();
    expect(temp).toBeDefined();
    // What the process's exit hook runs, where no catch or finally gets to.
    removeAtExitNow();
    expect(existsSync(join(dir, temp!))).toBe(false);
    expect(await writing).toBeInstanceOf(OutputError);
    expect(existsSync(path)).toBe(false);
  });
  it('lets only the owner read a new file holding secrets in full', async () => {
    const path = join(dir, 'out', 'report.json');
    await writeFileAtomic(path, 'secret', { secret: true });
    expect(await readFile(path, 'utf8')).toBe('secret');
    expect((await modeOf(path)) & 0o077).toBe(0);
  });
  it('keeps the permissions of the file it replaces', async () => {
    const path = join(dir, 'report.sarif');
    await writeFile(path, 'old');
    await chmod(path, 0o600);
    await writeFileAtomic(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await modeOf(path)).toBe(0o600);
  });
  it('makes a replaced file private when the new text holds secrets', async () => {
    const path = join(dir, 'report.txt');
    await writeFile(path, 'old');
    await chmod(path, 0o644);
    await writeFileAtomic(path, 'new', { secret: true });
    expect(await modeOf(path)).toBe(0o600);
  });
  it('leaves a new file without secrets readable by others', async () => {
    const path = join(dir, 'report.txt');
    await writeFileAtomic(path, 'text');
    expect((await modeOf(path)) & 0o004).toBe(0o004);
  });
});

describe('writeFileAtomic through symbolic links', () => {
  it('replaces the file a chain of links leads to, and leaves the links in place', async () => {
    const real = join(dir, 'real.json');
    await writeFile(real, 'old');
    await chmod(real, 0o600);
    await symlink('real.json', join(dir, 'middle.json'));
    await symlink(join(dir, 'middle.json'), join(dir, 'link.json'));
    await writeFileAtomic(join(dir, 'link.json'), 'new');
    expect((await lstat(join(dir, 'link.json'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(dir, 'middle.json'))).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('new');
    expect(await modeOf(real)).toBe(0o600);
  });
  it('makes the missing file a link leads to, relative to the link, private for secrets', async () => {
    await mkdir(join(dir, 'reports'));
    await symlink('reports/out.json', join(dir, 'link.json'));
    await writeFileAtomic(join(dir, 'link.json'), 'secret', { secret: true });
    expect(await readlink(join(dir, 'link.json'))).toBe('reports/out.json');
    expect(await readFile(join(dir, 'reports', 'out.json'), 'utf8')).toBe('secret');
    expect((await modeOf(join(dir, 'reports', 'out.json'))) & 0o077).toBe(0);
  });
  it('says so when links lead back to themselves', async () => {
    await symlink('b', join(dir, 'a'));
    await symlink('a', join(dir, 'b'));
    const path = join(dir, 'a');
    await expect(writeFileAtomic(path, 'text')).rejects.toThrow(new OutputError(`cannot write ${path}: too many symbolic links on its path (a link that leads back to itself?)`));
  });
});

describe('writeFileAtomic into what is not a regular file', () => {
  it.skipIf(spawnSync('mkfifo', ['--version']).status !== 0)('writes into a FIFO that a reader holds open, and leaves it a FIFO', async () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const read = new Promise<string>((done, fail) => {
      let text = '';
      createReadStream(fifo, 'utf8')
        .on('data', (d) => (text += String(d)))
        .on('end', () => done(text))
        .on('error', fail);
    });
    await writeFileAtomic(fifo, 'report through a pipe', { secret: true });
    expect(await read).toBe('report through a pipe');
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  }, 10_000);
  // Only root may make a device node; /dev/null's own numbers make one that is safe to write into.
  it.skipIf(process.getuid?.() !== 0 || spawnSync('mknod', ['--version']).status !== 0)('writes into a character device and neither replaces it nor changes its mode', async () => {
    const device = join(dir, 'null');
    expect(spawnSync('mknod', ['-m', '666', device, 'c', '1', '3']).status).toBe(0);
    await writeFileAtomic(device, 'discarded', { secret: true });
    const after = await lstat(device);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.mode & 0o777).toBe(0o666);
  });
  // `-o /dev/stdout` with stdout redirected to a file: /proc/self/fd/N names the open file.
  it.skipIf(!existsSync('/proc/self/fd'))('appends through a descriptor link to the file it has open, without replacing that file', async () => {
    const path = join(dir, 'stdout.log');
    const handle = await open(path, 'a');
    try {
      await handle.write('earlier output\n');
      const before = (await stat(path)).ino;
      await symlink(`/proc/self/fd/${handle.fd}`, join(dir, 'stdout'));
      await writeFileAtomic(join(dir, 'stdout'), 'report\n');
      expect((await stat(path)).ino).toBe(before);
      expect(await readFile(path, 'utf8')).toBe('earlier output\nreport\n');
    } finally {
      await handle.close();
    }
  });
});

describe('writeFileAtomic failures', () => {
  it('says why, in words, when a part of the directory path is a file', async () => {
    await writeFile(join(dir, 'notes.txt'), 'a file');
    const path = join(dir, 'notes.txt', 'report.json');
    await expect(writeFileAtomic(path, 'text')).rejects.toThrow(new OutputError(`cannot write ${path}: a part of its path is a file, not a directory`));
  });
  it('says why, in words, when the path is a directory', async () => {
    await expect(writeFileAtomic(dir, 'text')).rejects.toThrow(new OutputError(`cannot write ${dir}: is a directory, not a file`));
  });
  it('says a socket cannot be written to, not a bare errno, and leaves it in place', async () => {
    const path = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((done) => server.listen(path, done));
    try {
      await expect(writeFileAtomic(path, 'text')).rejects.toThrow(new OutputError(`cannot write ${path}: is a socket: reports are written to files, FIFOs and devices, or to standard output`));
      await symlink(path, join(dir, 'to-sock'));
      await expect(writeFileAtomic(join(dir, 'to-sock'), 'text')).rejects.toThrow(/to-sock: is a socket: /);
      expect((await lstat(path)).isSocket()).toBe(true);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
  // A directory that can never be made (below /proc) once made the command hang for ever.
  it.skipIf(!existsSync('/proc/self'))('gives up where a directory cannot be made', async () => {
    await expect(writeFileAtomic('/proc/no-such-dir/report.json', 'text')).rejects.toBeInstanceOf(OutputError);
  }, 5_000);
});
