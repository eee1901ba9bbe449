import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

describe('writeFileAtomic failures', () => {
  it('says why, in words, when a part of the directory path is a file', async () => {
    await writeFile(join(dir, 'notes.txt'), 'a file');
    const path = join(dir, 'notes.txt', 'report.json');
    await expect(writeFileAtomic(path, 'text')).rejects.toThrow(new OutputError(`cannot write ${path}: a part of its path is a file, not a directory`));
  });
  it('says why, in words, when the path is a directory', async () => {
    await expect(writeFileAtomic(dir, 'text')).rejects.toThrow(new OutputError(`cannot write ${dir}: is a directory, not a file`));
  });
  // A directory that can never be made (below /proc) once made the command hang for ever.
  it.skipIf(!existsSync('/proc/self'))('gives up where a directory cannot be made', async () => {
    await expect(writeFileAtomic('/proc/no-such-dir/report.json', 'text')).rejects.toBeInstanceOf(OutputError);
  }, 5_000);
});
