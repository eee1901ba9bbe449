// Builds small real artifacts at test time; excluded from the published build.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';

/** Members of a tarball or zip: path -> content. */
export type Members = Record<string, string | Buffer>;

/** One tar member, in archive order; names may repeat, as tar allows. */
export interface TarEntry {
  name: string;
  content?: string | Buffer;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
  mtime?: Date;
}

/** A gzip tarball of the given members, in order, as bytes. */
export async function tarGzEntries(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, ...(e.mtime === undefined ? {} : { mtime: e.mtime }) };
    if (type === 'file') pack.entry(header, e.content ?? '');
    else pack.entry({ ...header, type, ...(e.linkname === undefined ? {} : { linkname: e.linkname }) });
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

/** A gzip tarball with the given members, as bytes. */
export async function tarGz(members: Members): Promise<Buffer> {
  return tarGzEntries(Object.entries(members).map(([name, content]) => ({ name, content })));
}

/** A zip with the given members, as bytes. */
export async function zip(members: Members): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of Object.entries(members)) {
    z.addBuffer(typeof content === 'string' ? Buffer.from(content) : content, name);
  }
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes an npm tarball `name-version.tgz` (override with `fileName`) with `package/package.json`. */
export async function npmTarball(dir: string, name: string, version: string, fileName?: string, extra: Members = {}): Promise<string> {
  const path = join(dir, fileName ?? `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
  await writeFile(
    path,
    await tarGz({ 'package/package.json': JSON.stringify({ name, version }, null, 2), 'package/index.js': '', ...extra }),
  );
  return path;
}

/** Writes a wheel whose METADATA says `metadataVersion` and whose file name says `version`. */
export async function wheel(dir: string, name: string, version: string, metadataVersion = version, fileName?: string): Promise<string> {
  const norm = name.replace(/[-_.]+/g, '_').toLowerCase();
  const path = join(dir, fileName ?? `${norm}-${version}-py3-none-any.whl`);
  await writeFile(
    path,
    await zip({
      [`${norm}/__init__.py`]: '',
      [`${norm}-${version}.dist-info/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${metadataVersion}\n\nLong description\nVersion: 9.9.9\n`,
      [`${norm}-${version}.dist-info/RECORD`]: '',
    }),
  );
  return path;
}

/** Writes an sdist `name-version.tar.gz` whose PKG-INFO says `metadataVersion`. */
export async function sdist(dir: string, name: string, version: string, metadataVersion = version, fileName?: string): Promise<string> {
  const norm = name.replace(/[-_.]+/g, '_').toLowerCase();
  const path = join(dir, fileName ?? `${norm}-${version}.tar.gz`);
  await writeFile(
    path,
    await tarGz({
      [`${norm}-${version}/pyproject.toml`]: '',
      [`${norm}-${version}/PKG-INFO`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${metadataVersion}\n`,
    }),
  );
  return path;
}

/** Generates an unencrypted SSH key with ssh-keygen; returns the private key path and the public key line. */
export function sshKey(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): { path: string; pub: string } {
  const path = join(dir, name);
  const bits = type === 'rsa' ? ['-b', '2048'] : type === 'ecdsa' ? ['-b', '256'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', `${name}@example.test`, '-f', path]);
  return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** Signs a file with `ssh-keygen -Y sign -n pubguard-approval`, writing FILE.sig as users would. */
export function sshKeygenSign(keyPath: string, file: string): void {
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'pubguard-approval', '-f', keyPath, file]);
}

/** A webhook on 127.0.0.1 that keeps the bodies it is sent. */
export async function startHook(): Promise<{ url: string; bodies: string[]; close(): void }> {
  const bodies: string[] = [];
  const hook = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      bodies.push(b);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`, bodies, close: () => hook.close() };
}
