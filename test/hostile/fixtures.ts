import { createWriteStream } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gzipSync } from 'node:zlib';
import { base62Crc32, Prng, tarBuffer, zipBuffer } from '@pubguard/corpus';

/** A GitHub classic token with a valid checksum, generated from a seed so no real-looking secret is committed. */
export function githubToken(seed: number): string {
  const body = new Prng(seed).string('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 30);
  return `ghp_${body}${base62Crc32(body)}`;
}

/** Fields of a tar header to overwrite. */
export interface HeaderPatch {
  name?: string;
  size?: number;
  /** Typeflag character: '0' file, '2' symlink, '3' char device, '4' block device, '6' FIFO. */
  type?: string;
  mode?: number;
  linkname?: string;
}

function field(block: Buffer, offset: number, length: number, text: string): void {
  block.fill(0, offset, offset + length);
  block.write(text, offset, length, 'latin1');
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  field(block, offset, length, value.toString(8).padStart(length - 1, '0'));
}

/**
 * Returns a copy of a 512-byte ustar header with fields changed and its checksum fixed.
 * Hostile archives need headers no well-behaved writer produces (device entries, names
 * that escape), so the fixtures start from a real header and edit it.
 */
export function patchHeader(header: Uint8Array, patch: HeaderPatch): Buffer {
  const block = Buffer.from(header.subarray(0, 512));
  if (patch.name !== undefined) field(block, 0, 100, patch.name);
  if (patch.mode !== undefined) octal(block, 100, 8, patch.mode);
  if (patch.size !== undefined) octal(block, 124, 12, patch.size);
  if (patch.type !== undefined) field(block, 156, 1, patch.type);
  if (patch.linkname !== undefined) field(block, 157, 100, patch.linkname);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  field(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** A ustar header for an empty regular file, as tar-stream writes it, to patch. */
export async function templateHeader(): Promise<Buffer> {
  const tar = await tarBuffer([{ path: 'template', content: '' }]);
  return Buffer.from(tar.subarray(0, 512));
}

/** Zero padding after `size` bytes of entry data, up to the next 512-byte block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** Writes chunks to a file through gzip, honouring backpressure, and returns the file's size. */
export async function writeGzipped(path: string, chunks: Iterable<Uint8Array>, level = 6): Promise<number> {
  const gzip = createGzip({ level });
  const file = createWriteStream(path);
  gzip.pipe(file);
  for (const chunk of chunks) {
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  }
  gzip.end();
  await once(file, 'close');
  return file.bytesWritten;
}

/**
 * A gzip of a gzip of `inflated` zero bytes: the outer layer holds a highly repetitive
 * inner gzip, so about a kilobyte expands to the full size in two steps, as real bombs do.
 */
export async function doubleGzipBomb(inflated: number): Promise<Uint8Array> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (d: Buffer) => parts.push(d));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = inflated; left > 0; left -= zeros.length) {
    if (!gzip.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) await once(gzip, 'drain');
  }
  gzip.end();
  await once(gzip, 'end');
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/**
 * A 42.zip-style bomb: `levels` levels of zips, each holding `copies` copies of the level
 * below (compressed, so the repetitive inner zips shrink again), the bottom holding one
 * file of `bottomBytes` zeros. Built in memory; it stays small.
 */
export async function nestedZipBomb(levels: number, copies: number, bottomBytes: number): Promise<Uint8Array> {
  let current = await zipBuffer([{ path: 'zeros.bin', content: new Uint8Array(bottomBytes) }]);
  for (let level = 1; level < levels; level++) {
    const inner = current;
    current = await zipBuffer(Array.from({ length: copies }, (_, i) => ({ path: `l${level}-${i}.zip`, content: inner })));
  }
  return current;
}

/**
 * A zip of `entries` files, each holding `secret` on `copies` lines: a few hundred KB that every
 * line of which is a finding. Built in memory; the zip stays small.
 */
export async function repeatedSecretZip(entries: number, copies: number, secret: string): Promise<Uint8Array> {
  const content = `t = "${secret}";\n`.repeat(copies);
  return zipBuffer(Array.from({ length: entries }, (_, i) => ({ path: `pkg/f${i}.js`, content })));
}

/** A tgz with `count` entries of one byte each, streamed to disk. */
export async function manyEntriesTgz(path: string, count: number): Promise<number> {
  const template = await templateHeader();
  function* blocks(): Generator<Uint8Array> {
    const batch: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      batch.push(patchHeader(template, { name: `package/f/${String(i).padStart(6, '0')}.txt`, size: 1 }), Buffer.from('x'), padding(1));
      if (batch.length >= 3000) yield Buffer.concat(batch.splice(0));
    }
    batch.push(Buffer.alloc(1024));
    yield Buffer.concat(batch);
  }
  return writeGzipped(path, blocks(), 1);
}

/**
 * A tgz with one file of `size` random bytes and `secret` on its own line near the end,
 * streamed to disk (never held in memory). Random content does not compress, so the tgz
 * is about `size` bytes on disk too.
 */
export async function largeTgz(path: string, size: number, secret: string): Promise<number> {
  const template = await templateHeader();
  const tail = Buffer.from(`\nconst token = "${secret}";\n`);
  const randomBytes = size - tail.length;
  function* blocks(): Generator<Uint8Array> {
    yield patchHeader(template, { name: 'package/data.bin', size });
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    for (let left = randomBytes; left > 0; left -= chunk.length) {
      randomFillSync(chunk);
      // Fresh copies: the gzip stream may still hold the previous chunk.
      yield Buffer.from(left >= chunk.length ? chunk : chunk.subarray(0, left));
    }
    yield tail;
    yield padding(size);
    yield Buffer.alloc(1024);
  }
  return writeGzipped(path, blocks(), 1);
}
