import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { describeFsError } from '@pubguard/engine';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { ArtifactError } from './errors.js';
import { type AcceptedTag, type VersionTagOptions, checkVersionTag, pep440ToSemver } from './version.js';

/** What kind of package an artifact is, told from its content. */
export type ArtifactKind = 'npm' | 'wheel' | 'sdist';

/** Name and version as an artifact declares them. */
export interface ArtifactVersion {
  path: string;
  kind: ArtifactKind;
  /** The package name inside the artifact (`name` in package.json, `Name:` in METADATA/PKG-INFO). */
  name: string;
  /** The version inside the artifact, verbatim. */
  version: string;
  /** Where `version` came from: `package.json`, `METADATA` or `PKG-INFO` (the member path). */
  source: string;
  /** The version in the file name (wheels and sdists), verbatim. */
  fileNameVersion?: string;
}

/** One disagreement between the tag and an artifact. */
export interface VersionMismatch {
  path: string;
  /** `package.json`, `METADATA`, `PKG-INFO` or `file name`. */
  where: string;
  expected: string;
  actual: string;
}

/** Largest metadata member read into memory; real ones are a few KiB. */
const MAX_MEMBER_BYTES = 4 * 1024 * 1024;

/** Hex SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), hash);
  } catch (error) {
    throw new ArtifactError(`cannot read ${path}: ${describeFsError(error)}`);
  }
  return hash.digest('hex');
}

async function magic(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ArtifactError(`cannot read ${path}: ${describeFsError(error)}`);
  }
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } catch (error) {
    throw new ArtifactError(`cannot read ${path}: ${describeFsError(error)}`);
  } finally {
    await handle.close();
  }
}

/** Reads the declared name and version of an npm tarball, wheel or sdist (kind told by content). */
export async function readArtifactVersion(path: string): Promise<ArtifactVersion> {
  const head = await magic(path);
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return readWheel(path);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return readTarGz(path);
  throw new ArtifactError(`${path} is neither a gzip tarball (npm package, sdist) nor a zip (wheel)`);
}

/** `readArtifactVersion` for several paths, in order. */
export async function readArtifactVersions(paths: readonly string[]): Promise<ArtifactVersion[]> {
  const out: ArtifactVersion[] = [];
  for (const p of paths) out.push(await readArtifactVersion(p));
  return out;
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const m = /^([A-Za-z0-9-]+):\s*(.*?)\s*$/.exec(line);
    if (m && !headers.has(m[1]!.toLowerCase())) headers.set(m[1]!.toLowerCase(), m[2]!);
  }
  return headers;
}

function fromCoreMetadata(path: string, kind: 'wheel' | 'sdist', member: string, text: string): ArtifactVersion {
  const h = parseHeaders(text);
  const name = h.get('name');
  const version = h.get('version');
  if (!name || !version) throw new ArtifactError(`${path}: ${member} has no Name or Version header`);
  return { path, kind, name, version, source: member, fileNameVersion: fileNameVersion(path, kind) };
}

/** The version in a wheel (PEP 427) or sdist file name, or undefined when the name has no such part. */
export function fileNameVersion(path: string, kind: 'wheel' | 'sdist'): string | undefined {
  const base = basename(path);
  if (kind === 'wheel') {
    if (!base.endsWith('.whl')) return undefined;
    const parts = base.slice(0, -4).split('-');
    return parts.length === 5 || parts.length === 6 ? parts[1] : undefined;
  }
  const m = /^(.+)-([^-]+)\.(tar\.gz|tgz|zip)$/.exec(base);
  return m?.[2];
}

async function readWheel(path: string): Promise<ArtifactVersion> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, z) => (err ? reject(err) : resolve(z))),
  ).catch((error: unknown) => {
    throw new ArtifactError(`${path} is not a readable zip: ${(error as Error).message}`);
  });
  const text = await new Promise<{ member: string; text: string } | undefined>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve(undefined));
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!/^[^/]+\.dist-info\/METADATA$/.test(entry.fileName)) {
        zip.readEntry();
        return;
      }
      if (entry.uncompressedSize > MAX_MEMBER_BYTES) {
        reject(new ArtifactError(`${path}: ${entry.fileName} is larger than ${MAX_MEMBER_BYTES} bytes`));
        return;
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => void chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          zip.close();
          resolve({ member: entry.fileName, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
    });
    zip.readEntry();
  }).catch((error: unknown) => {
    if (error instanceof ArtifactError) throw error;
    throw new ArtifactError(`${path} is a corrupt zip: ${(error as Error).message}`);
  });
  if (!text) throw new ArtifactError(`${path} is a zip without *.dist-info/METADATA, so not a wheel`);
  return fromCoreMetadata(path, 'wheel', text.member, text.text);
}

async function readTarGz(path: string): Promise<ArtifactVersion> {
  const found = new Map<'package.json' | 'PKG-INFO', { member: string; text: string }>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const m = /^(?:\.\/)?([^/]+)\/(package\.json|PKG-INFO)$/.exec(header.name);
      const which = m?.[2] as 'package.json' | 'PKG-INFO' | undefined;
      if (!m || !which || found.has(which) || header.type !== 'file') {
        stream.on('end', next);
        stream.resume();
        return;
      }
      if ((header.size ?? 0) > MAX_MEMBER_BYTES) {
        reject(new ArtifactError(`${path}: ${header.name} is larger than ${MAX_MEMBER_BYTES} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
      stream.on('end', () => {
        found.set(which, { member: header.name, text: Buffer.concat(chunks).toString('utf8') });
        // An sdist is recognised by PKG-INFO; `package/package.json` is npm's own layout.
        if (which === 'PKG-INFO' || m[1] === 'package') resolve();
        else next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  const source = createReadStream(path);
  const gunzip = createGunzip();
  const pumping = pipeline(source, gunzip, extract).catch(() => undefined);
  try {
    await done;
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    throw new ArtifactError(`${path} is a corrupt gzip tarball: ${(error as Error).message}`);
  } finally {
    source.destroy();
    gunzip.destroy();
    extract.destroy();
    await pumping;
  }
  const pkgInfo = found.get('PKG-INFO');
  const pkgJson = found.get('package.json');
  if (pkgJson && (!pkgInfo || pkgJson.member.replace(/^\.\//, '').startsWith('package/'))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(pkgJson.text);
    } catch {
      throw new ArtifactError(`${path}: ${pkgJson.member} is not valid JSON`);
    }
    const obj = (parsed ?? {}) as { name?: unknown; version?: unknown };
    if (typeof obj.name !== 'string' || typeof obj.version !== 'string') {
      throw new ArtifactError(`${path}: ${pkgJson.member} has no string "name" and "version"`);
    }
    return { path, kind: 'npm', name: obj.name, version: obj.version, source: pkgJson.member };
  }
  if (pkgInfo) return fromCoreMetadata(path, 'sdist', pkgInfo.member, pkgInfo.text);
  throw new ArtifactError(`${path} is a tarball without package/package.json or PKG-INFO at its top level`);
}

/** The semver an artifact declares, translating PEP 440 normal forms back; undefined if it has no semver spelling. */
export function artifactSemver(a: ArtifactVersion): string | undefined {
  return a.kind === 'npm' ? a.version : pep440ToSemver(a.version);
}

/** Compares every artifact's declared version (and file-name version) with the accepted tag. */
export function compareArtifactVersions(tag: AcceptedTag, artifacts: readonly ArtifactVersion[]): VersionMismatch[] {
  const mismatches: VersionMismatch[] = [];
  for (const a of artifacts) {
    const expected = a.kind === 'npm' ? tag.semver : tag.pep440;
    const where = a.kind === 'npm' ? 'package.json' : basename(a.source);
    if (a.version !== expected) mismatches.push({ path: a.path, where, expected, actual: a.version });
    if (a.kind !== 'npm') {
      if (a.fileNameVersion === undefined) {
        mismatches.push({ path: a.path, where: 'file name', expected, actual: `(no version in '${basename(a.path)}')` });
      } else if (a.fileNameVersion !== expected) {
        mismatches.push({ path: a.path, where: 'file name', expected, actual: a.fileNameVersion });
      }
    }
  }
  return mismatches;
}

/** The outcome of `checkArtifactVersions`. */
export type ArtifactVersionCheck =
  | { ok: true; tag: AcceptedTag; artifacts: ArtifactVersion[] }
  | { ok: false; reason: string; tag?: AcceptedTag; artifacts: ArtifactVersion[]; mismatches: VersionMismatch[] };

/** Checks a tag and then that every artifact carries exactly its version. */
export async function checkArtifactVersions(
  tag: string,
  paths: readonly string[],
  options: VersionTagOptions = {},
): Promise<ArtifactVersionCheck> {
  const t = checkVersionTag(tag, options);
  if (!t.ok) return { ok: false, reason: t.reason, artifacts: [], mismatches: [] };
  const artifacts = await readArtifactVersions(paths);
  const mismatches = compareArtifactVersions(t, artifacts);
  if (mismatches.length === 0) return { ok: true, tag: t, artifacts };
  const reason = mismatches
    .map((m) => `${m.path}: ${m.where} says ${m.actual}, tag ${t.tag} says ${m.expected}`)
    .join('; ');
  return { ok: false, reason, tag: t, artifacts, mismatches };
}
