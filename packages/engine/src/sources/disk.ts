import { type Dirent, readdirSync, statSync } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import { basename, join, posix, sep } from 'node:path';
import type { SourceItem } from './types.js';
import type { ArtifactCtx } from './context.js';
import { type ContentKind, detectKind, EOCD_SEARCH_BYTES, embeddedZipStart, mayEndWithZip, stubbedZipStart } from './detect.js';
import { errorMessage, fsStop, joinChain, problem } from './errors.js';
import { namedKindMismatch } from './named.js';
import { openEmbeddedZip, openEntry, reportStop } from './open.js';
import { noteFreshBytes } from './collect.js';
import { BufferPool } from './stream.js';
import { readZipFd } from './zip.js';

/** Size of each read from a file on disk: large reads keep the per-chunk overhead negligible. */
export const READ_BYTES = 1024 * 1024;

/**
 * Size of the first read, made ahead of time for the next few files of a directory: files up to
 * this size, most of any package, are then read whole before the scan reaches them (64 KiB left
 * a 1 GB tree of 100 KB files waiting on I/O for 40% of a single-threaded scan).
 */
export const FIRST_READ_BYTES = 256 * 1024;

/** Buffers for reading files on disk, shared by the files of one enumeration. */
export interface DiskBuffers {
  /** For first reads; enough for the files opened ahead of time and the one being read. */
  heads: BufferPool;
  /** For the reads after the first: the one being filled and the one being consumed. */
  reads: BufferPool;
}

/** Fresh pools for `DiskBuffers`. */
export function diskBuffers(aheadFiles: number): DiskBuffers {
  return { heads: new BufferPool(FIRST_READ_BYTES, aheadFiles + 2), reads: new BufferPool(READ_BYTES, 2) };
}

/** A file opened and its first bytes read, or the error that stopped it. */
export type OpenedFile = { handle: FileHandle; head: Buffer; eof: boolean } | { error: unknown };

/**
 * Opens a file and reads its first bytes into a buffer from `heads`. Directory walks start
 * this for the next few files ahead of time, so the I/O latency of small files overlaps with
 * the consumer's work.
 */
export async function openDiskFile(abs: string | Buffer, heads: BufferPool): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(abs, 'r');
  } catch (error) {
    return { error };
  }
  const first = heads.take();
  try {
    const { bytesRead } = await handle.read(first, 0, FIRST_READ_BYTES, 0);
    return { handle, head: first.subarray(0, bytesRead), eof: bytesRead < FIRST_READ_BYTES };
  } catch (error) {
    heads.give(first);
    await handle.close().catch(() => undefined);
    return { error };
  }
}

/** Closes a prefetched file that will not be read (a second close is harmless). */
export async function discardOpened(opened: Promise<OpenedFile>): Promise<void> {
  const o = await opened;
  if ('handle' in o) await o.handle.close().catch(() => undefined);
}

/**
 * Reads one file on disk as a top-level artifact (depth 0), by content kind. With `checkName`
 * (a file named as an input), a name that says archive over content that is not that kind is
 * reported as `corrupt` first.
 */
export async function* readDiskFile(
  ctx: ArtifactCtx,
  display: string,
  abs: string | Buffer,
  prefetched?: Promise<OpenedFile>,
  checkName = false,
): AsyncGenerator<SourceItem, void, undefined> {
  const chain = [display];
  // A file given by a name that promises an archive but holding none (a failed download's
  // error page) is reported, then scanned as it is: a release gate must not pass it.
  const mismatch = function* (kind: ContentKind, head: Uint8Array, endsWithZip: boolean): Generator<SourceItem, void, undefined> {
    const message = checkName ? namedKindMismatch(basename(typeof abs === 'string' ? abs : abs.toString('latin1')), head, kind, endsWithZip) : undefined;
    if (message !== undefined) yield { kind: 'error', error: { path: joinChain(chain), kind: 'corrupt', message } };
  };
  const { heads, reads } = ctx.shared.disk;
  const opened = await (prefetched ?? openDiskFile(abs, heads));
  if ('error' in opened) {
    throw fsStop(chain, opened.error, 'artifact') ?? problem(chain, 'unreadable', `cannot read: ${errorMessage(opened.error)}`, 'artifact');
  }
  const { handle, head, eof } = opened;
  try {
    const kind = detectKind(head);
    if (kind === 'zip') {
      heads.give(head);
      try {
        const size = (await handle.stat()).size;
        yield* readZipFd(ctx, chain, 0, handle.fd, size);
      } catch (err) {
        yield* reportStop(err);
      }
      return;
    }
    let size = head.length;
    if (!eof) {
      try {
        size = (await handle.stat()).size;
      } catch (err) {
        throw fsStop(chain, err, 'artifact') ?? problem(chain, 'unreadable', `cannot read: ${errorMessage(err)}`, 'artifact');
      }
    }
    // A file not recognised by its first bytes may end with a zip (a self-extracting archive):
    // the file is scanned as it is, then the zip is read from the file.
    const zipAt = kind !== 'plain' ? undefined : eof ? stubbedZipStart(head) : mayEndWithZip(head) ? await tailZipStart(handle, size) : undefined;
    if (kind === 'plain') yield* mismatch(kind, head, zipAt !== undefined);
    // Either pool takes back its own buffers and ignores the other's.
    const recycle = (chunk: Uint8Array) => {
      reads.give(chunk);
      heads.give(chunk);
    };
    yield* openEntry(ctx, { chain, size, raw: diskChunks(handle, head, eof, chain, reads, size), sequential: false, recycle, endZipOpened: true }, 0);
    if (zipAt !== undefined) yield* openEmbeddedZip(ctx, chain, 0, () => readZipFd(ctx, chain, 0, handle.fd, size, zipAt));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Where the zip starts that a large file ends with, from one read of its last bytes (the only
 * ones where that zip's end record can be), or undefined. A failed read says nothing: reading
 * the file reports it.
 */
async function tailZipStart(handle: FileHandle, size: number): Promise<number | undefined> {
  const n = Math.min(size, EOCD_SEARCH_BYTES);
  const tail = Buffer.allocUnsafe(n);
  try {
    const { bytesRead } = await handle.read(tail, 0, n, size - n);
    return embeddedZipStart(tail.subarray(0, bytesRead), size - n);
  } catch {
    return undefined;
  }
}

/**
 * The chunks of an open file, starting with the already-read head. Full-size reads fill a
 * buffer from `pool`: a fresh one unless the consumer gave one back (it may still hold the
 * others). The tail that `size` (from stat) announces, and then one byte to see that the file
 * ended, take buffers of just that size instead of a whole read buffer per file; a file that
 * grew since is read on in full-size reads.
 */
export async function* diskChunks(
  handle: FileHandle,
  head: Buffer,
  eof: boolean,
  chain: string[],
  pool: BufferPool,
  size: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  let pos = head.length;
  if (head.length > 0) yield head;
  if (eof) return;
  for (;;) {
    const left = size - pos;
    let buf: Buffer;
    if (left >= pool.size || left < 0) {
      buf = pool.take();
    } else {
      buf = Buffer.allocUnsafe(left + 1);
      noteFreshBytes(buf.length);
    }
    let n: number;
    try {
      n = (await handle.read(buf, 0, buf.length, pos)).bytesRead;
    } catch (err) {
      throw fsStop(chain, err, 'artifact') ?? problem(chain, 'unreadable', `cannot read: ${errorMessage(err)}`, 'artifact');
    }
    if (n === 0) {
      pool.give(buf);
      return;
    }
    pos += n;
    yield n === buf.length ? buf : buf.subarray(0, n);
  }
}

/** Files whose sizes `estimateBytes` looks at. */
const SIZE_SAMPLE = 64;

/**
 * The total size of `files`, estimated from up to SIZE_SAMPLE of them spread evenly over the
 * list: their median size times their count. A package's few large files (bundles,
 * changelogs) made a mean overshoot several times; the median errs low instead. Files that
 * cannot be statted are left out here and reported when they are read.
 */
export function estimateBytes(files: readonly { abs: string; raw?: Buffer }[]): number {
  const n = files.length;
  const m = Math.min(SIZE_SAMPLE, n);
  const sizes: number[] = [];
  for (let k = 0; k < m; k++) {
    const file = files[Math.floor((k * n) / m)];
    try {
      const info = file ? statSync(file.raw ?? file.abs, { throwIfNoEntry: false }) : undefined;
      if (info?.isFile()) sizes.push(info.size);
    } catch {
      // left out of the sample
    }
  }
  if (sizes.length === 0) return 0;
  sizes.sort((a, b) => a - b);
  return (sizes[sizes.length >> 1] as number) * n;
}

/** What the directory walk found, in path order. */
export type WalkItem =
  | {
      type: 'file';
      rel: string;
      display: string;
      abs: string;
      /** The path's bytes, for a path that is not valid UTF-8 (`abs` then shows it as latin1 and names no file). */
      raw?: Buffer;
    }
  | {
      /**
       * A symbolic link, whatever becomes of it (one into the directory is read where it points
       * to, others are reported as errors too): named so that its own name is matched.
       */
      type: 'link';
      rel: string;
      display: string;
    }
  | {
      type: 'error';
      rel: string;
      display: string;
      kind: 'unreadable' | 'unsupported';
      message: string;
      /** For a symbolic link not followed because it leaves the directory: the real path it points to. */
      target?: string;
    };

/** Ignore globs as the walk applies them: `test/` means the directory, as in .gitignore. */
export function walkIgnoreGlobs(ignoreGlobs: readonly string[]): string[] {
  // fast-glob would match a glob ending in `/` against nothing.
  return ignoreGlobs.map((glob) => glob.replace(/(.)\/+$/, '$1'));
}

/** How a walk of the directory input `input` shows the path `rel` below it (`''`: the directory itself). */
export function walkDisplay(input: string): (rel: string) => string {
  const base = input.replace(/\\/g, '/');
  // fast-glob's paths are normalised and relative, so joining is concatenating to the
  // normalised base: path.join per file cost about 25 ms of a 10 000-file walk.
  const under = posix.join(base, '_').slice(0, -1);
  return (rel) => (rel === '' ? base : under + rel);
}

/**
 * Lists the files under a directory (dotfiles included, symlinks not followed), minus the
 * ignored ones, sorted so reports are stable. Every symlink is listed as a link item, so that
 * its own name is matched whether or not what it points to is read; unreadable directories and
 * symlinks leaving the directory, broken or looping also become error items. The walk goes on.
 */
export async function walkDirectory(input: string, abs: string, ignoreGlobs: readonly string[]): Promise<WalkItem[]> {
  const ignore = walkIgnoreGlobs(ignoreGlobs);
  const display = walkDisplay(input);
  const absUnder = join(abs, '_').slice(0, -1);
  const absOf = sep === '/' ? (rel: string): string => absUnder + rel : (rel: string): string => absUnder + rel.replace(/\//g, sep);
  const root = await realpath(abs);
  const failed: { rel: string; err: unknown }[] = [];
  const broken: { path: string; dirent: Dirent }[] = [];
  // The bytes of the paths (by relative path) that a string cannot hold: see `rawNames`.
  const raw = new Map<string, Buffer>();
  // fast-glob drops unreadable directories silently when suppressErrors is set; this
  // wrapper records them so each becomes an event. It also keeps the entries whose path
  // holds a line break, which fast-glob's matcher never matches (see `lineBreakEntries`).
  const fsAdapter = {
    readdirSync: ((path: string, options: unknown): Dirent[] => {
      let entries: Dirent[];
      const rawDir = raw.size > 0 ? raw.get(relative(abs, path)) : undefined;
      try {
        entries = rawDir === undefined ? readdirSync(path, options as { withFileTypes: true }) : [];
        if (rawDir !== undefined || entries.some((e) => e.name.includes('\uFFFD'))) entries = rawNames(abs, path, rawDir, raw);
      } catch (err) {
        failed.push({ rel: relative(abs, path), err });
        throw err;
      }
      lineBreakEntries(abs, path, entries, broken);
      return entries;
    }) as unknown as typeof readdirSync,
  };
  // fast-glob and its 60-odd modules load on the first directory, not for every scan. Its
  // `ignore` is the only filter: it also keeps ignored directories from being read at all.
  const { default: fg } = await import('fast-glob');
  // Synchronous: reading each directory through libuv's thread pool cost a round trip, and
  // walking date-fns's 202 directories took 43-63 ms instead of 28-37 (a pnpm store, 2.5
  // times as long). The event loop waits meanwhile, so a Ctrl-C takes effect once the walk
  // ends: a fraction of a second for a package. With one pattern there are no duplicates to
  // drop, so `unique` only cost a set of every path.
  const found = fg.sync('**', {
    unique: false,
    cwd: abs,
    dot: true,
    followSymbolicLinks: false,
    onlyFiles: false,
    objectMode: true,
    suppressErrors: true,
    ignore: [...ignore],
    fs: fsAdapter,
  });
  const items: WalkItem[] = [];
  for (const f of failed) {
    const reason = fsStop([display(f.rel)], f.err, 'entry');
    items.push({
      rel: f.rel,
      type: 'error',
      display: display(f.rel),
      kind: 'unreadable',
      message: `directory not read: ${reason ? reason.event.message : errorMessage(f.err)}`,
    });
  }
  const ignored = broken.length > 0 && ignore.length > 0 ? await ignoreMatcher(ignore) : () => false;
  // Should a later fast-glob match some of these names itself, each is still listed once.
  const listed = broken.length > 0 ? new Set(found.map((e) => e.path)) : undefined;
  for (const e of [...found, ...broken.filter((b) => !ignored(b.path) && !listed?.has(b.path))]) {
    const rel = e.path;
    const d = e.dirent;
    const entryAbs = absOf(rel);
    const entryRaw = raw.size > 0 ? raw.get(rel) : undefined;
    if (d.isFile()) {
      items.push({ rel, type: 'file', display: display(rel), abs: entryAbs, ...(entryRaw ? { raw: entryRaw } : {}) });
    } else if (d.isSymbolicLink()) {
      // Listed before what is said of it: the items are sorted by path, and the sort keeps the order of equal ones.
      items.push({ rel, type: 'link', display: display(rel) });
      let target: string;
      try {
        target = await realpath(entryRaw ?? entryAbs);
      } catch (err) {
        // A loop of links is no missing target: saying so points at the links to mend.
        const why =
          (err as NodeJS.ErrnoException).code === 'ELOOP'
            ? 'symbolic link that leads back to itself (a loop of links); not followed'
            : 'symbolic link whose target does not exist; not followed';
        items.push({ rel, type: 'error', display: display(rel), kind: 'unreadable', message: why });
        continue;
      }
      // A link into the directory is read where it points to, so it is not read twice.
      if (target === root || target.startsWith(root + sep)) continue;
      items.push({
        rel,
        type: 'error',
        display: display(rel),
        kind: 'unsupported',
        message: `symbolic link to ${target} points outside the scanned directory; not followed (scan the target itself if it belongs to the package)`,
        target,
      });
    } else if (!d.isDirectory()) {
      items.push({ rel, type: 'error', display: display(rel), kind: 'unsupported', message: 'not a regular file (device, FIFO or socket); skipped' });
    }
  }
  items.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return items;
}

/**
 * The listing of directory `path` (below the walk's `root`; at the bytes `rawDir` when its own
 * path is not valid UTF-8) with names read as bytes: a name that is not valid UTF-8 is given as
 * latin1, as archive entry names are, since the UTF-8 string Node reads (with U+FFFD for each
 * bad byte) names no file and two such names can read the same. The bytes of each path that a
 * string cannot name, the entries of such a directory included, go to `raw` by relative path.
 */
function rawNames(root: string, path: string, rawDir: Buffer | undefined, raw: Map<string, Buffer>): Dirent[] {
  const dir = rawDir ?? Buffer.from(path);
  const entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  const rel = relative(root, path);
  const slash = Buffer.from(sep);
  const out: Dirent[] = [];
  for (const entry of entries) {
    const bytes = entry.name;
    const utf8 = bytes.toString('utf8');
    const valid = Buffer.from(utf8).equals(bytes);
    const name = valid ? utf8 : bytes.toString('latin1');
    if (!valid || rawDir !== undefined) raw.set(rel === '' ? name : `${rel}/${name}`, Buffer.concat([dir, slash, bytes]));
    // The walk takes the name from the entry, and its type; nothing else of it.
    (entry as unknown as { name: string }).name = name;
    out.push(entry as unknown as Dirent);
  }
  return out;
}

// picomatch turns `*` into `.`-based regexes, and `.` stops at these: fast-glob leaves out
// every path holding one, silently, and a whole directory's contents when its name does.
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * Adds to `out` the entries of the listing of directory `path` (below the walk's `root`) that
 * fast-glob would leave out. The relative name is worked out only for such entries, as this
 * runs for every directory of the walk.
 */
function lineBreakEntries(root: string, path: string, entries: readonly Dirent[], out: { path: string; dirent: Dirent }[]): void {
  let dir: string | undefined;
  const inBroken = LINE_BREAK.test(path) && LINE_BREAK.test((dir = relative(root, path)));
  for (const dirent of entries) {
    if (typeof dirent === 'string') continue;
    if (!inBroken && !LINE_BREAK.test(dirent.name)) continue;
    dir ??= relative(root, path);
    out.push({ path: dir === '' ? dirent.name : `${dir}/${dirent.name}`, dirent });
  }
}

/**
 * Whether a path, or a directory above it, matches an ignore glob (as `walkIgnoreGlobs` gives
 * them): fast-glob's ignore for the paths it cannot match itself, with `.` matching line breaks too.
 */
export async function ignoreMatcher(ignore: readonly string[]): Promise<(path: string) => boolean> {
  // Loaded only for such names, like fast-glob on the first directory.
  const { default: picomatch } = await import('picomatch');
  const regexes = ignore.map((glob) => {
    const re = picomatch.makeRe(glob, { dot: true });
    return new RegExp(re.source, `${re.flags}s`);
  });
  return (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (regexes.some((re) => re.test(prefix) || re.test(`${prefix}/`))) return true;
    }
    return false;
  };
}

/** `path` relative to `root`, with forward slashes. */
function relative(root: string, path: string): string {
  return posix.relative(root.replace(/\\/g, '/'), path.replace(/\\/g, '/'));
}
