import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { withFileLock } from './lock.js';

// Directories whose lock files cannot be created, as for a user who may write a file but not
// its directory (root, who runs the tests, may write anywhere).
const closed = vi.hoisted(() => ({ dirs: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (path: Parameters<typeof real.open>[0], ...rest: unknown[]) => {
    const p = String(path);
    if (p.endsWith('.lock') && closed.dirs.some((d) => p.startsWith(d))) {
      throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: p });
    }
    return (real.open as (...a: unknown[]) => ReturnType<typeof real.open>)(path, ...rest);
  }) as typeof real.open;
  return { ...real, open, default: { ...real, open } };
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

  it('takes the lock in the temp directory when the directory is closed, and keeps turns with those who can write it', async () => {
    const base = join(dir, `closed-${++n}`);
    mkdirSync(base);
    const path = join(base, 'log.jsonl');
    writeFileSync(path, '');
    closed.dirs.push(base);
    try {
      const seen = await withFileLock(path, async () => existsSync(hostLock(path)));
      expect(seen).toBe(true);
      expect(existsSync(hostLock(path))).toBe(false);
      // A holder that can write the directory also holds the temp directory's lock, so a
      // process that can take only that one waits for it (and the other way round).
      closed.dirs.pop();
      const writer = await hold(path);
      closed.dirs.push(base);
      try {
        await expect(withFileLock(path, async () => 'ran', { waitMs: 150 })).rejects.toThrow(new RegExp(`${hostLock(path)} is held by process`));
      } finally {
        await writer.release();
      }
      const reader = await hold(path);
      closed.dirs.pop();
      try {
        await expect(withFileLock(path, async () => 'ran', { waitMs: 150 })).rejects.toThrow(/is held by process/);
      } finally {
        await reader.release();
      }
    } finally {
      closed.dirs.length = 0;
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
