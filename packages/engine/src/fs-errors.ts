import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** What a failed file-system call was after, so that its error is worded for that case. */
export interface FsErrorContext {
  /** What the path was meant to name, for ENOENT ("no such file"); default `file`. */
  target?: 'file' | 'directory' | 'file or directory';
  /** The call wrote: a missing path then means a directory above it, not the file itself. */
  writing?: boolean;
}

/**
 * Why a file-system call on a path failed, in words a user can act on, one wording per errno
 * code for every command and message: `no such file`, `permission denied: …`, `is a
 * directory, not a file`. Another code is given with Node's description of it
 * (`i/o error (EIO)`), and anything else thrown by its message. The caller names the path.
 */
export function describeFsError(error: unknown, context: FsErrorContext = {}): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  switch (code) {
    case 'ENOENT':
      return context.writing === true
        ? 'a directory on its path is missing (a broken symbolic link?)'
        : `no such ${context.target ?? 'file'}`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: check the permissions of the path and of the directories above it';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of its path is a file, not a directory';
    case 'EEXIST':
      return 'already exists';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'ELOOP':
      return 'too many symbolic links on its path (a link that leads back to itself?)';
    case 'ENAMETOOLONG':
      return 'the path, or a name in it, is too long for the file system';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many files open; raise the limit (`ulimit -n`)';
    default:
      break;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code !== 'string') return message;
  // Node words a system error `CODE: description, syscall 'path'`; the path is the caller's to name.
  const described = message.startsWith(`${code}: `) ? message.slice(code.length + 2).split(',')[0]?.trim() : undefined;
  return described ? `${described} (${code})` : code;
}

/** A symbolic link whose target does not exist: where it is, and what it points to. */
export interface BrokenLink {
  link: string;
  target: string;
}

/**
 * The symbolic link, at `path` or at a directory above it (below `stopAt`, when given), that
 * leads nowhere, or undefined: what makes a path "missing" although `ls` shows it, as a
 * submodule not checked out leaves its links. For a missing path only; it reads the file system.
 */
export async function brokenLinkOnPath(path: string, stopAt?: string): Promise<BrokenLink | undefined> {
  const last = stopAt === undefined ? undefined : resolve(stopAt);
  for (let at = resolve(path); at !== last; at = dirname(at)) {
    const info = await lstat(at).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      const missing = await stat(at).then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
      );
      if (missing) return { link: at, target: await readlink(at).catch(() => '?') };
    }
    if (dirname(at) === at) break;
  }
  return undefined;
}

/** Words for a broken link on a path (see `brokenLinkOnPath`), to follow the path's name. */
export function describeBrokenLink(path: string, broken: BrokenLink): string {
  const where = broken.link === resolve(path) ? 'is a symbolic link' : `${broken.link} on its path is a symbolic link`;
  return `${where} to ${broken.target}, which does not exist`;
}

/**
 * Thrown by a standard input that holds no stream to read: closed (the process then reads
 * /dev/null) or a directory, which Node reads as an empty file. `scan -` reports it as an
 * error of this kind instead of a clean scan of zero bytes.
 */
export class StdinUnavailable extends Error {
  override name = 'StdinUnavailable';
  /** `not-found` for no standard input at all, `unreadable` for one that is not a stream of bytes. */
  readonly kind: 'not-found' | 'unreadable';
  constructor(kind: 'not-found' | 'unreadable', message: string) {
    super(message);
    this.kind = kind;
  }
}
