import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { withFileLock, withFileLockSync, withReadLock } from './lock.js';

// Directories whose lock files cannot be created, as for a user who may write a file but not
// its directory (root, who runs the tests, may write anywhere).
const closed = vi.hoisted(() => ({ dirs: [] as string[] }));
// Lock files whose removal fails, as another user's in a sticky directory.
const unremovable = vi.hoisted(() => ({ paths: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (path: Parameters<typeof real.open>[0], ...rest: unknown[]) => {
    const p = String(path);
    if (p.endsWith('.lock') && closed.dirs.some((d) => p.startsWith(d))) {
      throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: p });
    }
    return (real.open as (...a: unknown[]) => ReturnType<typeof real.open>)(path, ...rest);
  }) as typeof real.open;
  const unlink = (async (path: Parameters<typeof real.unlink>[0]) => {
    const p = String(path);
    if (unremovable.paths.includes(p)) throw Object.assign(new Error(`EPERM: operation not permitted, unlink '${p}'`), { code: 'EPERM', errno: -1, syscall: 'unlink', path: p });
    return real.unlink(path);
  }) as typeof real.unlink;
  return { ...real, open, unlink, default: { ...real, open, unlink } };
});
// The same for the synchronous lock taken at exit.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const openSync = ((path: Parameters<typeof real.openSync>[0], ...rest: unknown[]) => {
    const p = String(path);
    if (p.endsWith('.lock') && closed.dirs.some((d) => p.startsWith(d))) {
      throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: p });
    }
    return (real.openSync as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof real.openSync;
  return { ...real, openSync, default: { ...real, openSync } };
});

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pubguard-filelock-')));
let n = 0;

/** Holds the lock on `path` until the returned release is called. */
async function hold(path: string): Promise<{ release: () => Promise<void> }> {
  let entered!: () => void;
  let free!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const done = new Promise<void>((r) => (free = r));
  const running = withFileLock(path, async () => {
    entered();
    await done;
  });
  await inside;
  return {
    release: async () => {
      free();
      await running;
    },
  };
}

const hostLock = (realPath: string): string => join(tmpdir(), `pubguard-${createHash('sha256').update(realPath).digest('hex')}.lock`);

describe('withFileLock', () => {
  it('takes one lock per file, whatever name reaches it', async () => {
    const base = join(dir, `names-${++n}`);
    mkdirSync(join(base, 'real'), { recursive: true });
    writeFileSync(join(base, 'real', 'log.jsonl'), '');
    symlinkSync(join(base, 'real', 'log.jsonl'), join(base, 'link.jsonl'));
    symlinkSync('real', join(base, 'dirlink'));
    // A link to a file not made yet, and a file not made yet in a linked directory.
    symlinkSync(join(base, 'real', 'new.jsonl'), join(base, 'dangling.jsonl'));
    const cases: [string, string][] = [
      [join(base, 'real', 'log.jsonl'), join(base, 'link.jsonl')],
      [join(base, 'real', 'log.jsonl'), join(base, 'dirlink', 'log.jsonl')],
      [join(base, 'real', 'new.jsonl'), join(base, 'dangling.jsonl')],
      [join(base, 'real', 'other.jsonl'), join(base, 'dirlink', '..', 'real', 'other.jsonl')],
      [join(base, 'dirlink', 'later.jsonl'), join(base, 'real', 'later.jsonl')],
    ];
    for (const [first, second] of cases) {
      const held = await hold(first);
      try {
        await expect(withFileLock(second, async () => 'ran', { waitMs: 150 })).rejects.toThrow(/is held by process/);
      } finally {
        await held.release();
      }
      await expect(withFileLock(second, async () => 'ran')).resolves.toBe('ran');
    }
    expect(existsSync(join(base, 'link.jsonl.lock'))).toBe(false);
    expect(existsSync(join(base, 'real', 'log.jsonl.lock'))).toBe(false);
  });

  it('takes the lock in the temp directory when the directory is closed, and only then', async () => {
    const base = join(dir, `closed-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    writeFileSync(path, '');
    closed.dirs.push(base);
    try {
      const seen = await withFileLock(path, async () => existsSync(hostLock(path)));
      expect(seen).toBe(true);
      expect(existsSync(hostLock(path))).toBe(false);
      // Two that can take only that one keep turns there.
      const first = await hold(path);
      try {
        await expect(withFileLock(path, async () => 'ran', { waitMs: 150 })).rejects.toThrow(new RegExp(`${hostLock(path)} is held by process`));
      } finally {
        await first.release();
      }
      // One that can write the directory never takes the shared temp directory's name, which
      // anyone could plant there.
      closed.dirs.pop();
      const seenByWriter = await withFileLock(path, async () => existsSync(hostLock(path)));
      expect(seenByWriter).toBe(false);
    } finally {
      closed.dirs.length = 0;
    }
  });

  it('waits within its bound for a stale lock it cannot remove, and reads no FIFO planted as a lock', async () => {
    const base = join(dir, `planted-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    writeFileSync(path, '');
    // A FIFO at the lock's name: reading it would block for good.
    execFileSync('mkfifo', [`${path}.lock`]);
    const started = Date.now();
    await expect(withFileLock(path, async () => 'ran', { waitMs: 300, staleMs: 60_000 })).rejects.toThrow(/is held by another process; waited/);
    expect(Date.now() - started).toBeLessThan(5000);
    // A stale lock whose removal fails (another user's, in a sticky directory) is waited for, within the bound.
    rmSync(`${path}.lock`);
    writeFileSync(`${path}.lock`, 'not a lock of ours\n');
    utimesSync(`${path}.lock`, new Date(0), new Date(0));
    unremovable.paths.push(`${path}.lock`);
    try {
      const since = Date.now();
      await expect(withFileLock(path, async () => 'ran', { waitMs: 300, staleMs: 10 })).rejects.toThrow(/is held by another process; waited/);
      expect(Date.now() - since).toBeLessThan(5000);
    } finally {
      unremovable.paths.length = 0;
    }
  });

  it('needs no temp directory when the lock next to the file can be made', async () => {
    const base = join(dir, `no-tmp-${++n}`);
    mkdirSync(base);
    const before = process.env.TMPDIR;
    process.env.TMPDIR = join(base, 'missing');
    try {
      await expect(withFileLock(join(base, 'log.jsonl'), async () => 'ran')).resolves.toBe('ran');
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });

  it("gives a reader the lock next to the file, or none where it cannot be made, never the temp directory's", async () => {
    const base = join(dir, `reader-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    writeFileSync(path, '');
    expect(await withReadLock(path, async (locked) => [locked, existsSync(`${path}.lock`)])).toEqual([true, true]);
    expect(existsSync(`${path}.lock`)).toBe(false);
    // Held by another: waited for within the bound, as a writer waits.
    const held = await hold(path);
    try {
      await expect(withReadLock(path, async () => 'ran', { waitMs: 150 })).rejects.toThrow(new RegExp(`${path}\\.lock is held by process ${process.pid} `));
    } finally {
      await held.release();
    }
    // Or until its signal is aborted, without running the work.
    const stopped = await hold(path);
    try {
      const controller = new AbortController();
      let ran = false;
      const waiting = withReadLock(path, async () => (ran = true), { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      await expect(waiting).rejects.toThrow(new RegExp(`^interrupted while waiting for ${path}\\.lock$`));
      expect(ran).toBe(false);
      expect(existsSync(`${path}.lock`)).toBe(true);
    } finally {
      await stopped.release();
    }
    closed.dirs.push(base);
    try {
      expect(await withReadLock(path, async (locked) => [locked, existsSync(`${path}.lock`) || existsSync(hostLock(path))])).toEqual([false, false]);
    } finally {
      closed.dirs.length = 0;
    }
  });

  it('refuses, naming the directories to open, when neither lock can be created', async () => {
    const base = join(dir, `shut-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    closed.dirs.push(base, tmpdir());
    try {
      const work = vi.fn(async () => 'ran');
      await expect(withFileLock(path, work)).rejects.toThrow(
        new RegExp(`cannot create the lock file ${path}\\.lock: permission denied.*, nor .*pubguard-[0-9a-f]{64}\\.lock: permission denied.*; the directory ${base} \\(or the temp directory, TMPDIR\\) must be writable`),
      );
      expect(work).not.toHaveBeenCalled();
    } finally {
      closed.dirs.length = 0;
    }
  });
});

describe('withFileLockSync', () => {
  it('takes the lock withFileLock takes, whatever name reaches the file, and waits at most its bound', async () => {
    const base = join(dir, `sync-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    writeFileSync(path, '');
    symlinkSync(path, join(base, 'link.jsonl'));
    const first = await hold(path);
    try {
      const started = Date.now();
      expect(() => withFileLockSync(join(base, 'link.jsonl'), () => 'ran', { waitMs: 150 })).toThrow(new RegExp(`${path}\\.lock is held by process ${process.pid} .*waited 150 ms`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await first.release();
    }
    expect(withFileLockSync(join(base, 'link.jsonl'), () => existsSync(`${path}.lock`))).toBe(true);
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(existsSync(join(base, 'link.jsonl.lock'))).toBe(false);
  });

  it('takes the lock in the temp directory when the directory is closed, as withFileLock does', async () => {
    const base = join(dir, `sync-closed-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    writeFileSync(path, '');
    closed.dirs.push(base);
    try {
      expect(withFileLockSync(path, () => existsSync(hostLock(path)))).toBe(true);
      expect(existsSync(hostLock(path))).toBe(false);
      const first = await hold(path);
      try {
        expect(() => withFileLockSync(path, () => 'ran', { waitMs: 100 })).toThrow(new RegExp(`${hostLock(path)} is held by process`));
      } finally {
        await first.release();
      }
    } finally {
      closed.dirs.length = 0;
    }
  });
});
