import { Buffer } from 'node:buffer';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import yazl from 'yazl';
import { CorpusError } from './errors.js';

/** One member of an archive to write. */
export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated; directories may end with `/`. */
  path: string;
  /** File content; ignored for links and directories. */
  content?: string | Uint8Array;
  /** Unix permission bits; default 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  mode?: number;
  /** Default `file`. */
  type?: 'file' | 'symlink' | 'link' | 'dir';
  /** Target of a symlink or hard link. */
  linkname?: string;
}

/** Fixed timestamp written into every archive, so the same input gives the same bytes. */
export const FIXED_MTIME = new Date(Date.UTC(2024, 0, 2, 3, 4, 6));

function toBytes(content: string | Uint8Array | undefined): Buffer {
  if (content === undefined) return Buffer.alloc(0);
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

function linkTarget(entry: ArchiveEntry): string {
  if (entry.linkname === undefined || entry.linkname === '') {
    throw new CorpusError(`archive entry '${entry.path}' is a ${entry.type} but has no linkname`);
  }
  return entry.linkname;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) {
    if (typeof part === 'string') parts.push(Buffer.from(part, 'utf8'));
    else if (part instanceof Uint8Array) parts.push(Buffer.from(part));
    else throw new CorpusError('archive writer produced a chunk that is neither bytes nor text');
  }
  return Buffer.concat(parts);
}

/** Writes a ustar/pax tar archive of `entries`, in order. */
export async function tarBuffer(entries: readonly ArchiveEntry[]): Promise<Uint8Array> {
  const tar = pack();
  const done = collect(tar);
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const base = { name: entry.path, mtime: FIXED_MTIME, uid: 0, gid: 0, uname: '', gname: '' };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      switch (type) {
        case 'file':
          tar.entry({ ...base, type: 'file', mode: entry.mode ?? 0o644 }, toBytes(entry.content), cb);
          break;
        case 'dir':
          tar.entry({ ...base, type: 'directory', mode: entry.mode ?? 0o755 }, cb);
          break;
        case 'symlink':
          tar.entry({ ...base, type: 'symlink', mode: entry.mode ?? 0o777, linkname: linkTarget(entry) }, cb);
          break;
        case 'link':
          tar.entry({ ...base, type: 'link', mode: entry.mode ?? 0o644, linkname: linkTarget(entry) }, cb);
          break;
      }
    });
  }
  tar.finalize();
  return done;
}

/** Writes a gzip-compressed tar archive (`.tgz`, `.tar.gz`). */
export async function tgzBuffer(entries: readonly ArchiveEntry[]): Promise<Uint8Array> {
  // gzipSync writes mtime 0 and no file name, so the output is deterministic.
  return gzipSync(await tarBuffer(entries));
}

/** Writes a zip archive (yazl); hard links have no zip form and are refused. */
export async function zipBuffer(entries: readonly ArchiveEntry[]): Promise<Uint8Array> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    switch (type) {
      case 'file':
        zip.addBuffer(toBytes(entry.content), entry.path, { mtime: FIXED_MTIME, mode: 0o100000 | (entry.mode ?? 0o644) });
        break;
      case 'dir':
        zip.addEmptyDirectory(entry.path, { mtime: FIXED_MTIME, mode: 0o040000 | (entry.mode ?? 0o755) });
        break;
      case 'symlink':
        // Zip stores a symlink as an entry whose mode says S_IFLNK and whose content is the target.
        zip.addBuffer(Buffer.from(linkTarget(entry), 'utf8'), entry.path, {
          mtime: FIXED_MTIME,
          mode: 0o120000 | (entry.mode ?? 0o777),
          compress: false,
        });
        break;
      case 'link':
        throw new CorpusError(`zip has no hard links: cannot write entry '${entry.path}' as type 'link'`);
    }
  }
  zip.end();
  return collect(zip.outputStream);
}

/**
 * Gzips `bytes` as a single-member `.gz` file. With `name`, the header carries it in the
 * FNAME field (what `gzip` itself writes); zlib's gzip writer cannot, so the member is
 * framed here around a raw deflate stream.
 */
export function gzipBuffer(bytes: string | Uint8Array, name?: string): Uint8Array {
  const data = toBytes(bytes);
  if (name === undefined) return gzipSync(data);
  if (name.includes('\0')) throw new CorpusError('a gzip FNAME cannot contain a NUL byte');
  const mtime = Math.floor(FIXED_MTIME.getTime() / 1000);
  const header = Buffer.alloc(10);
  header[0] = 0x1f;
  header[1] = 0x8b;
  header[2] = 8; // deflate
  header[3] = 0x08; // FNAME
  header.writeUInt32LE(mtime, 4);
  header[8] = 0; // XFL
  header[9] = 3; // OS: Unix
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([header, Buffer.from(name, 'latin1'), Buffer.from([0]), deflateRawSync(data), trailer]);
}
