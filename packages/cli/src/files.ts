import { constants, write } from 'node:fs';
import { lstat, open, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { describeFsError, makeDirectory, removeAtExit } from '@pubguard/engine';
import { basename, dirname, join, resolve } from 'node:path';
import { nodeCrypto } from './builtins.js';

/** A report or other output file that cannot be written. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** How `writeFileAtomic` writes. */
export interface WriteOptions {
  /** The text holds secrets in full: only the owner may read the file. */
  secret?: boolean;
}

/** Where a write to a path lands once its symbolic links are followed. */
type Target =
  /** A regular file, or nothing yet: written by a temp file and a rename. */
  | { kind: 'file'; path: string }
  /** A device, FIFO, a socket this process holds, or a descriptor's link under /proc: written into, never replaced. */
  | { kind: 'through'; path: string; fd: number | undefined };

// Linux allows 40 links on one path before ELOOP; following them one by one, so do we.
const MAX_LINKS = 40;

/**
 * Writes a file atomically (a temp file in the same directory, then a rename), creating the
 * directory, so a reader never sees half a report and a failure leaves the old file intact.
 * A file replaced keeps its permissions (a report made private stays private); a new one is
 * 0644, or 0600 for `secret` text. A symbolic link is followed, and the file it leads to is
 * the one replaced. A character device or FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is
 * written into as it is: renaming over one would put a regular file in its place. A socket is
 * written into only when it is one of this process's descriptors (`/dev/stdout` when standard
 * output is a socket); any other socket path is refused, as no file can be opened on it.
 */
export async function writeFileAtomic(path: string, text: string, options: WriteOptions = {}): Promise<void> {
  let target: Target;
  try {
    target = await resolveTarget(path);
  } catch (error) {
    if (error instanceof OutputError) throw error;
    throw new OutputError(`cannot write ${path}: ${describeFsError(error, { writing: true })}`);
  }
  if (target.kind === 'through') return writeThrough(path, target, text);

  const file = target.path;
  const temp = `${file}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`;
  // A second signal exits the process at once, before the catch below could remove it.
  const keptUntilExit = removeAtExit(temp);
  try {
    await makeDirectory(dirname(file));
    const existing = await stat(file).then(
      (s) => (s.isFile() ? s.mode & 0o777 : undefined),
      () => undefined,
    );
    const mode = (existing ?? 0o644) & (options.secret === true ? 0o600 : 0o777);
    // writeFile's mode only applies to a file it creates, through the umask, and the temp name is new.
    await writeFile(temp, text, { mode });
    await rename(temp, file);
  } catch (error) {
    // Under a path whose parent is a file (`-o notes.txt/out.json`) removing the temp file
    // fails too, with ENOTDIR: that must not take the place of why the write failed.
    await rm(temp, { force: true }).catch(() => undefined);
    throw new OutputError(`cannot write ${path}: ${describeFsError(error, { writing: true })}`);
  } finally {
    keptUntilExit();
  }
}

/**
 * What a write to `path` would land on, as a string equal for two paths only when they reach
 * the same file: an existing one by its device and inode (links, hard links and `./` spellings
 * alike), one yet to be made by the path its links lead to, in its directory's real path;
 * undefined for a device or FIFO, which every report is written into in turn.
 */
export async function outputIdentity(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  // A device or FIFO is written into, not replaced: two reports sent to /dev/null lose nothing.
  if (info !== undefined && (info.isCharacterDevice() || info.isFIFO())) return undefined;
  if (info !== undefined) return `inode ${info.dev}:${info.ino}`;
  const target = await resolveTarget(path).catch(() => undefined);
  const file = target?.kind === 'file' ? target.path : resolve(path);
  const directory = await realpath(dirname(file)).catch(() => dirname(file));
  return `path ${join(directory, basename(file))}`;
}

/**
 * Follows the symbolic links of `path` one at a time, so that a link whose target is missing
 * still names where the file is to be made. A link under /proc (`/dev/stdout` leads to
 * `/proc/self/fd/1`) names an open descriptor, not a place in a directory: whatever it leads
 * to is written into, as replacing the file a shell opened with `>>` would lose what it held.
 */
async function resolveTarget(path: string): Promise<Target> {
  const followed = await stat(path).catch((error: NodeJS.ErrnoException) => {
    // Missing, or below a file: the write that follows says why, worded for writing.
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (followed !== undefined && !followed.isFile() && !followed.isDirectory()) {
    const fd = await descriptorOf(path);
    // open() refuses a socket's path (ENXIO): a socket is reached only as a descriptor this
    // process already holds, and a bare errno would not say so.
    if (followed.isSocket() && fd === undefined) {
      throw new OutputError(`cannot write ${path}: is a socket: reports are written to files, FIFOs and devices, or to standard output`);
    }
    return { kind: 'through', path, fd };
  }
  let current = resolve(path);
  for (let links = 0; ; links++) {
    const info = await lstat(current).catch(() => undefined);
    if (info === undefined || !info.isSymbolicLink()) return { kind: 'file', path: current };
    if (links === MAX_LINKS) throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
    if (current.startsWith('/proc/')) return { kind: 'through', path, fd: await descriptorOf(path) };
    // A relative target counts from the link's real directory, as the kernel counts it.
    current = resolve(await realpath(dirname(current)), await readlink(current));
  }
}

/** The descriptor of this process that `path` names through /dev/fd or /proc/self/fd links, if any. */
async function descriptorOf(path: string): Promise<number | undefined> {
  let current = resolve(path);
  for (let links = 0; links < MAX_LINKS; links++) {
    const named = /^\/(?:proc\/(?:self|thread-self|(\d+))|dev)\/fd\/(\d+)$/.exec(current);
    if (named !== null && (named[1] === undefined || Number(named[1]) === process.pid)) return Number(named[2]);
    const info = await lstat(current).catch(() => undefined);
    if (info === undefined || !info.isSymbolicLink()) return undefined;
    current = resolve(await realpath(dirname(current)), await readlink(current));
  }
  return undefined;
}

/** Writes into a device, FIFO or descriptor as it is: no temp file, no rename, no chmod. */
async function writeThrough(path: string, target: Extract<Target, { kind: 'through' }>, text: string): Promise<void> {
  try {
    // Appending: through /proc a regular file opened by the shell may already hold this process's output.
    const handle = await open(target.path, constants.O_WRONLY | constants.O_APPEND).catch(async (error: NodeJS.ErrnoException) => {
      // A socket cannot be opened by name (ENXIO), only written through a descriptor this process holds.
      if (error.code === 'ENXIO' && target.fd !== undefined) return undefined;
      throw error;
    });
    if (handle === undefined) {
      if (target.fd !== undefined) await writeToDescriptor(target.fd, Buffer.from(text));
      return;
    }
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new OutputError(`cannot write ${path}: ${describeFsError(error, { writing: true })}`);
  }
}

/** Writes all of `bytes` to a descriptor that may be non-blocking (a socket Node's own stdout uses). */
async function writeToDescriptor(fd: number, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += await new Promise<number>((done, fail) => {
        write(fd, bytes, offset, bytes.length - offset, null, (error, written) => (error ? fail(error) : done(written)));
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await new Promise((wait) => setTimeout(wait, 5));
    }
  }
}

/**
 * Writes files that belong together (a statement and its signature) so that none is ever
 * seen half-written: all are written under temp names in their directories first, which is
 * where a full disk fails, then renamed over their paths in the order given. On a failure the
 * temp files are removed, and so are the files already renamed, so none is left without the
 * others. New files are 0644. Regular files only; the directories must exist.
 */
export async function writeFilesTogether(files: readonly { path: string; text: string }[]): Promise<void> {
  const temps = files.map((f) => `${f.path}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`);
  const renamed: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const [i, f] of files.entries()) {
      current = f.path;
      await writeFile(temps[i]!, f.text, { mode: 0o644 });
    }
    for (const [i, f] of files.entries()) {
      current = f.path;
      await rename(temps[i]!, f.path);
      renamed.push(f.path);
    }
  } catch (error) {
    for (const path of [...temps, ...renamed]) await rm(path, { force: true }).catch(() => undefined);
    throw new OutputError(`cannot write ${current}: ${describeFsError(error, { writing: true })}`);
  }
}
