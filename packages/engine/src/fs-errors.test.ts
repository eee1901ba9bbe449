import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenLinkOnPath, describeBrokenLink, describeFsError } from './fs-errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-fs-errors-'));
  await writeFile(join(dir, 'file.txt'), 'x');
  await symlink('loop', join(dir, 'loop'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error a file-system call throws. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: unknown) => error,
  );
}

/** A system error as Node words it, for the codes a test machine cannot be made to give. */
function systemError(code: string, description: string): Error {
  return Object.assign(new Error(`${code}: ${description}, write '/somewhere/out.json'`), { code, syscall: 'write', path: '/somewhere/out.json' });
}

describe('describeFsError', () => {
  it('words a missing path by what it was meant to be, and by whether the call wrote', async () => {
    const missing = await failure(readFile(join(dir, 'nope.json')));
    expect(describeFsError(missing)).toBe('no such file');
    expect(describeFsError(await failure(readdir(join(dir, 'nope'))), { target: 'directory' })).toBe('no such directory');
    expect(describeFsError(missing, { target: 'file or directory' })).toBe('no such file or directory');
    expect(describeFsError(await failure(writeFile(join(dir, 'nope', 'out.json'), 'x')), { writing: true })).toBe(
      'a directory on its path is missing (a broken symbolic link?)',
    );
  });

  it('words the errors the file system gives here, without the path or the code', async () => {
    expect(describeFsError(await failure(readFile(dir)))).toBe('is a directory, not a file');
    expect(describeFsError(await failure(readFile(join(dir, 'file.txt', 'inner.json'))))).toBe('a part of its path is a file, not a directory');
    expect(describeFsError(await failure(readFile(join(dir, 'loop'))))).toBe('too many symbolic links on its path (a link that leads back to itself?)');
    expect(describeFsError(await failure(readFile(join(dir, 'n'.repeat(300)))))).toBe('the path, or a name in it, is too long for the file system');
    expect(describeFsError(await failure(writeFile(join(dir, 'file.txt'), 'x', { flag: 'wx' })))).toBe('already exists');
  });

  it('gives one wording per code, whatever the call', () => {
    const permission = 'permission denied: check the permissions of the path and of the directories above it';
    expect(describeFsError(systemError('EACCES', 'permission denied'))).toBe(permission);
    expect(describeFsError(systemError('EPERM', 'operation not permitted'), { writing: true })).toBe(permission);
    expect(describeFsError(systemError('ENOSPC', 'no space left on device'))).toBe('no space left on the device');
    expect(describeFsError(systemError('EROFS', 'read-only file system'))).toBe('read-only file system');
    expect(describeFsError(systemError('EMFILE', 'too many open files'))).toBe('too many files open; raise the limit (`ulimit -n`)');
    expect(describeFsError(systemError('ENFILE', 'file table overflow'))).toBe('too many files open; raise the limit (`ulimit -n`)');
  });

  it("gives another code with Node's description of it, and anything else by its message", () => {
    expect(describeFsError(systemError('EIO', 'i/o error'))).toBe('i/o error (EIO)');
    expect(describeFsError(Object.assign(new Error('it broke'), { code: 'EWEIRD' }))).toBe('EWEIRD');
    expect(describeFsError(new Error('stream destroyed'))).toBe('stream destroyed');
    expect(describeFsError('a string')).toBe('a string');
  });
});

describe('brokenLinkOnPath', () => {
  it('finds a link that leads nowhere at the path or above it, below stopAt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubguard-links-'));
    try {
      await symlink('missing.json', join(dir, 'policy.json'));
      await symlink('missing-dir', join(dir, 'conf'));
      await mkdir(join(dir, 'real'));
      await symlink('real', join(dir, 'ok'));
      expect(await brokenLinkOnPath(join(dir, 'policy.json'))).toEqual({ link: join(dir, 'policy.json'), target: 'missing.json' });
      const above = await brokenLinkOnPath(join(dir, 'conf', 'policy.json'));
      expect(above).toEqual({ link: join(dir, 'conf'), target: 'missing-dir' });
      expect(above && describeBrokenLink(join(dir, 'conf', 'policy.json'), above)).toBe(`${join(dir, 'conf')} on its path is a symbolic link to missing-dir, which does not exist`);
      expect(await brokenLinkOnPath(join(dir, 'conf', 'policy.json'), join(dir, 'conf'))).toBeUndefined();
      expect(await brokenLinkOnPath(join(dir, 'ok', 'nothing.json'))).toBeUndefined();
      expect(await brokenLinkOnPath(join(dir, 'nothing.json'))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
