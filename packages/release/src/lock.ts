import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { access, type FileHandle, lstat, open, readlink, realpath, stat, unlink } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { describeFsError } from '@pubguard/engine';
import { ReleaseError } from './errors.js';

/** How long `withFileLock` waits, and when a lock left by a process that died may be taken over. */
export interface FileLockOptions {
  /** Give up after waiting this long for another holder (default 30 s). */
  waitMs?: number;
  /** A lock whose holder is gone is taken over only once it is this old (default 10 s). */
  staleMs?: number;
}

/** A file could not be locked: another process holds it, or the lock file cannot be made. */
export class FileLockError extends ReleaseError {
  override name = 'FileLockError';
}

interface Holder {
  pid: number;
  host: string;
  time: string;
  nonce: string;
}

const DEFAULT_WAIT_MS = 30_000;
const DEFAULT_STALE_MS = 10_000;

/**
 * Runs `work` while holding `<real path>.lock`, a file created with O_EXCL (`wx`), which is atomic
 * on local file systems on Linux and macOS and on NFSv3 and later. The lock is named after the
 * file's real path (symbolic links resolved, also in a name the file does not have yet), so two
 * names of one file take one lock. A lost race waits with a growing pause (5 ms up to 100 ms)
 * for at most `waitMs`, then fails: it never runs `work` unlocked. The lock is removed when
 * `work` ends, whether it succeeds or throws.
 *
 * A process that may write the file but not its directory (a shared log in a directory of
 * another user) takes `pubguard-<sha256 of the real path>.lock` in the temp directory instead,
 * which keeps only such processes of this host apart, not them and the ones that lock next to
 * the file: a shared /tmp name that anyone could plant is never taken by the others. Only when
 * neither lock can be created does it fail, saying which directory must be writable. The temp
 * directory is tried only after a refusal for want of permission (EACCES, EPERM) or on a
 * read-only file system (EROFS); any other failure to create the lock (a full disk) fails at once.
 *
 * A lock left behind by a process that was killed is taken over only when it names a process
 * of this host that no longer exists and is older than `staleMs`: a process id seen from
 * another host, or from another PID namespace with the same host name (two containers of one
 * pod), may look dead while it is alive, and the age keeps such a holder safe, since a lock is
 * held only for the milliseconds of a read and a write. A lock from another host is never taken over:
 * the error then names the file to remove by hand.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const real = await realPathOf(path);
  const nonce = randomBytes(8).toString('hex');
  const held = await acquireFor(real, nonce, options.waitMs ?? DEFAULT_WAIT_MS, options.staleMs ?? DEFAULT_STALE_MS);
  try {
    return await work();
  } finally {
    await release(held, nonce);
  }
}

/**
 * `withFileLock` for an exit hook, where nothing asynchronous runs any more: the same lock file
 * (next to the file, or in the temp directory when its directory is closed to this user),
 * waited for with the same pauses but for at most `waitMs` (default 1 s), and never taken
 * over, since telling a dead holder from a live one takes longer than an exit may. Throws
 * FileLockError when the lock is not had.
 */
export function withFileLockSync<T>(path: string, work: () => T, options: { waitMs?: number } = {}): T {
  const real = realPathOfSync(path);
  const nonce = randomBytes(8).toString('hex');
  const waitMs = options.waitMs ?? 1000;
  const lockPath = `${real}.lock`;
  let held = lockPath;
  try {
    acquireSync(lockPath, nonce, waitMs);
  } catch (error) {
    if (!(error instanceof LockCreateError && error.denied)) throw error;
    held = join(tmpdir(), `pubguard-${createHash('sha256').update(real).digest('hex')}.lock`);
    try {
      acquireSync(held, nonce, waitMs);
    } catch (fallback) {
      if (!(fallback instanceof LockCreateError)) throw fallback;
      throw new FileLockError(
        `${error.message}, nor ${fallback.message.replace(/^cannot create the lock file /, '')}; the directory ${dirname(lockPath)} (or the temp directory, TMPDIR) must be writable`,
      );
    }
  }
  try {
    return work();
  } finally {
    if (readHolderSync(held)?.nonce === nonce) {
      try {
        unlinkSync(held);
      } catch {
        // Gone already; a lock that cannot be removed is waited out by the next writer.
      }
    }
  }
}

/** `realPathOf` for `withFileLockSync`. */
function realPathOfSync(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    try {
      return realpathSync(current);
    } catch {
      // Missing, or a link to a missing file: resolved by hand below.
    }
    let link = false;
    try {
      link = lstatSync(current).isSymbolicLink();
    } catch {
      // Missing: its directory is resolved below.
    }
    if (!link) break;
    current = resolve(dirname(current), readlinkSync(current));
  }
  let directory = dirname(current);
  try {
    directory = realpathSync(directory);
  } catch {
    // Kept as given, as `realPathOf` does.
  }
  return join(directory, basename(current));
}

function acquireSync(lockPath: string, nonce: string, waitMs: number): void {
  const started = Date.now();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    const body = `${JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), nonce } satisfies Holder)}\n`;
    let fd: number | undefined;
    try {
      fd = openSync(lockPath, 'wx', 0o644);
      writeSync(fd, body);
      closeSync(fd);
      return;
    } catch (error) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // Removed below all the same.
        }
        try {
          unlinkSync(lockPath);
        } catch {
          // Nothing more to do about it at exit.
        }
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (fd !== undefined || code !== 'EEXIST') {
        const message = `cannot create the lock file ${lockPath}: ${describeFsError(error, { writing: true })}`;
        throw new LockCreateError(message, fd === undefined && code !== undefined && DENIED.has(code));
      }
    }
    if (Date.now() - started >= waitMs) {
      const holder = readHolderSync(lockPath);
      const who = holder === undefined ? 'another process' : `process ${holder.pid} on ${holder.host} since ${holder.time}`;
      throw new FileLockError(`${lockPath} is held by ${who}; waited ${waitMs} ms`);
    }
    // The only way to pause without an event loop.
    Atomics.wait(pause, 0, 0, Math.min(100, 5 * 2 ** Math.min(attempt, 5)));
  }
}

function readHolderSync(lockPath: string): Holder | undefined {
  try {
    const fd = openSync(lockPath, constants.O_RDONLY | constants.O_NONBLOCK);
    let text: string;
    try {
      if (!fstatSync(fd).isFile()) return undefined;
      const buffer = Buffer.alloc(1024);
      text = buffer.toString('utf8', 0, readSync(fd, buffer, 0, 1024, 0));
    } finally {
      closeSync(fd);
    }
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.nonce === 'string') {
      return { pid: parsed.pid, host: parsed.host, time: String(parsed.time), nonce: parsed.nonce };
    }
  } catch {
    // Missing, being written, or not ours: no holder to name.
  }
  return undefined;
}

/** How `withReadLock` waits: `withFileLock`'s bounds, and a signal that ends the wait. */
export interface ReadLockOptions extends FileLockOptions {
  /** Ends the wait for another holder at once (Ctrl-C) with a FileLockError saying so; `work` is not run. */
  signal?: AbortSignal;
}

/**
 * Runs `work(true)` holding the lock `withFileLock` takes next to the file, with the same
 * bounded wait and the same error when another process holds it too long, so that a reader
 * never meets a write half done. Where that lock file cannot be created (a directory this user
 * may not write, a read-only or full file system) it runs `work(false)` without a lock instead:
 * reading needs no write access, and `work` must then allow for a write in progress. A reader
 * never takes the temp directory's lock: it would keep out only the writers that take it too,
 * and a name planted there would stop every read. An abort of `signal` ends the wait.
 */
export async function withReadLock<T>(path: string, work: (locked: boolean) => Promise<T>, options: ReadLockOptions = {}): Promise<T> {
  const lockPath = `${await realPathOf(path)}.lock`;
  // Without write access to the directory the lock can never be had, not even once its holder
  // is gone: a lock left there (from before the directory was closed) must not be waited for.
  const writable = await access(dirname(lockPath), constants.W_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return work(false);
  const nonce = randomBytes(8).toString('hex');
  try {
    await acquire(lockPath, nonce, options.waitMs ?? DEFAULT_WAIT_MS, options.staleMs ?? DEFAULT_STALE_MS, options.signal);
  } catch (error) {
    if (error instanceof LockCreateError) return work(false);
    throw error;
  }
  try {
    return await work(true);
  } finally {
    await release(lockPath, nonce);
  }
}

/** Removes the lock file `held` if it is still the one this holder (`nonce`) made. */
async function release(held: string, nonce: string): Promise<void> {
  // Only our own lock: had it been taken over as stale, the file now belongs to another process.
  const holder = await readHolder(held);
  if (holder?.nonce === nonce) await unlink(held).catch(() => undefined);
}

/** Takes the lock of the file at `real` (see `withFileLock`) and returns the lock file's path. */
async function acquireFor(real: string, nonce: string, waitMs: number, staleMs: number): Promise<string> {
  const lockPath = `${real}.lock`;
  try {
    await acquire(lockPath, nonce, waitMs, staleMs);
    return lockPath;
  } catch (error) {
    if (!(error instanceof LockCreateError && error.denied)) throw error;
    // The directory is closed to this user: the temp directory's lock keeps the turns, on this host.
    const hostLockPath = join(tmpdir(), `pubguard-${createHash('sha256').update(real).digest('hex')}.lock`);
    try {
      await acquire(hostLockPath, nonce, waitMs, staleMs);
    } catch (fallback) {
      if (!(fallback instanceof LockCreateError)) throw fallback;
      throw new FileLockError(
        `${error.message}, nor ${fallback.message.replace(/^cannot create the lock file /, '')}; the directory ${dirname(lockPath)} (or the temp directory, TMPDIR) must be writable`,
      );
    }
    return hostLockPath;
  }
}

/** The lock file could not be created at all (not: it is held by another process); `denied` when for want of permission. */
class LockCreateError extends FileLockError {
  constructor(
    message: string,
    readonly denied: boolean,
  ) {
    super(message);
  }
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * The path with every symbolic link resolved; for a file that does not exist yet, its
 * directory's real path and its name, following a link that points to the missing file.
 */
async function realPathOf(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    try {
      return await realpath(current);
    } catch {
      // Missing, or a link to a missing file: resolved by hand below.
    }
    const link = await lstat(current).then(
      (info) => info.isSymbolicLink(),
      () => false,
    );
    if (!link) break;
    current = resolve(dirname(current), await readlink(current));
  }
  const directory = await realpath(dirname(current)).catch(() => dirname(current));
  return join(directory, basename(current));
}

async function acquire(lockPath: string, nonce: string, waitMs: number, staleMs: number, signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new FileLockError(`interrupted while waiting for ${lockPath}`);
    // Stamped at each attempt: a lock taken after a long wait must not look old at once.
    const body = `${JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), nonce } satisfies Holder)}\n`;
    let handle: FileHandle | undefined;
    try {
      handle = await open(lockPath, 'wx', 0o644);
      await handle.writeFile(body);
      await handle.close();
      return;
    } catch (error) {
      if (handle !== undefined) {
        // Made by us and not written whole (a full disk): removed, so that it holds up no one.
        await handle.close().catch(() => undefined);
        await unlink(lockPath).catch(() => undefined);
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (handle !== undefined || code !== 'EEXIST') {
        const message = `cannot create the lock file ${lockPath}: ${describeFsError(error, { writing: true })}`;
        throw new LockCreateError(message, handle === undefined && code !== undefined && DENIED.has(code));
      }
    }
    if (Date.now() - started < waitMs && (await takeOverStale(lockPath, staleMs))) continue;
    if (Date.now() - started >= waitMs) {
      const holder = await readHolder(lockPath);
      const who = holder === undefined ? 'another process' : `process ${holder.pid} on ${holder.host} since ${holder.time}`;
      // A breaker killed inside its few microseconds leaves the break lock: named, as it stops every later take-over.
      const files = (await stat(`${lockPath}.break`).then(() => true, () => false)) ? `${lockPath} and ${lockPath}.break` : lockPath;
      throw new FileLockError(
        `${lockPath} is held by ${who}; waited ${Math.round(waitMs / 1000)} s. If no pubguard is running there, remove ${files} and run the command again`,
      );
    }
    await pause(Math.min(100, 5 * 2 ** Math.min(attempt, 5)) + Math.random() * 5, signal);
  }
}

/** Waits `ms`, or less when `signal` is aborted meanwhile: the caller looks at it next. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((wake) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      wake();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Removes a stale lock under a second lock (`<lock>.break`), so that two waiters that both
 * judged it stale cannot both remove it, the second one then removing the first one's fresh
 * lock. True when the lock was removed (or was already gone).
 */
async function takeOverStale(lockPath: string, staleMs: number): Promise<boolean> {
  if (!(await isStale(lockPath, staleMs))) return false;
  const breakPath = `${lockPath}.break`;
  try {
    // Empty: only its existence counts, so no write can fail half-way.
    await (await open(breakPath, 'wx', 0o644)).close();
  } catch {
    return false;
  }
  try {
    // Judged again under the break lock: another waiter may have replaced it in the meantime.
    if (!(await isStale(lockPath, staleMs))) return false;
    // A lock that cannot be removed (another user's, in a sticky directory) is not taken over:
    // the waiter goes on waiting, within its bound.
    return await unlink(lockPath).then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    );
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  const holder = await readHolder(lockPath);
  if (holder === undefined) {
    // Created but never written (its maker died between the two calls), or just being written:
    // the file's own age tells them apart. Stat after the read, so a fresh lock is judged by its own time.
    const info = await stat(lockPath).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs >= staleMs;
  }
  const since = Date.parse(holder.time);
  if (!(Date.now() - since >= staleMs)) return false;
  if (holder.host !== hostname()) return false;
  return !processExists(holder.pid);
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    // A FIFO or a device planted at the name would block a read (or never end): only a regular
    // file is read, opened without waiting, and only its first few hundred bytes.
    const handle = await open(lockPath, constants.O_RDONLY | constants.O_NONBLOCK);
    let text: string;
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(1024), 0, 1024, 0);
      text = buffer.toString('utf8', 0, bytesRead);
    } finally {
      await handle.close();
    }
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.nonce === 'string') {
      return { pid: parsed.pid, host: parsed.host, time: String(parsed.time), nonce: parsed.nonce };
    }
  } catch {
    // Missing, being written, or not ours: no holder to name.
  }
  return undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
