import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, posix, win32 } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { describeFsError } from '@pubguard/engine';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { AmbiguousArtifactError, ArtifactError } from './errors.js';
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
  /** npm tarballs: what their package.json says of how to publish them, which npm acts on. */
  npm?: NpmPublishFields;
}

/**
 * The fields of an npm package.json that `npm publish` reads as settings, verbatim and only
 * when present: `publishConfig`, whose keys npm takes over its own config, and a top-level
 * `tag`, which npm makes the dist-tag even over `--tag`.
 */
export interface NpmPublishFields {
  publishConfig?: unknown;
  tag?: unknown;
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

/** Hex SHA-256 of a file, streamed; `signal` stops it with an ArtifactError saying it was interrupted. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    if (signal) await pipeline(createReadStream(path), hash, { signal });
    else await pipeline(createReadStream(path), hash);
  } catch (error) {
    if (signal?.aborted) throw new ArtifactError(`interrupted while hashing ${path}`);
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

/** Tar entry types that hold their own bytes; node-tar, Python's tarfile and pacote treat only these as files. */
const REGULAR_TYPES = new Set(['file', 'contiguous-file']);

const METADATA_VERSION = Buffer.from('Metadata-Version');

/** One archive member that a publishing tool may take its metadata from. */
interface MetadataMember {
  /** The member's name as the tool sees it. */
  name: string;
  /** The tar entry type (`file` for zip members). */
  type: string;
  /** The content, unless larger than MAX_MEMBER_BYTES. */
  text?: string;
  /** Whether the content holds `Metadata-Version` anywhere, the test twine (pkginfo) applies to each candidate. */
  hasMetadataVersion: boolean;
}

function readMember(stream: { on(event: string, listener: (chunk: unknown) => void): unknown }): Promise<Omit<MetadataMember, 'name' | 'type'>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let found = false;
    // The marker may straddle two chunks.
    let tail = Buffer.alloc(0);
    stream.on('data', (chunk: unknown) => {
      const c = chunk as Buffer;
      if (!found) {
        const joined = Buffer.concat([tail, c]);
        found = joined.includes(METADATA_VERSION);
        tail = joined.subarray(Math.max(0, joined.length - METADATA_VERSION.length + 1));
      }
      size += c.length;
      if (size <= MAX_MEMBER_BYTES) chunks.push(c);
    });
    stream.on('error', reject);
    stream.on('end', () =>
      resolve({ ...(size <= MAX_MEMBER_BYTES ? { text: Buffer.concat(chunks).toString('utf8') } : {}), hasMetadataVersion: found }),
    );
  });
}

const quote = (name: string): string => JSON.stringify(name);
const quoteAll = (members: readonly MetadataMember[]): string => members.map((m) => quote(m.name)).join(', ');

/** Python's order of `name.split('/')` lists: fewer parts first, then part by part in code point order. */
function pythonPathOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  if (pa.length !== pb.length) return pa.length - pb.length;
  for (let i = 0; i < pa.length; i++) {
    // UTF-8 byte order is code point order, which is how Python compares str.
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Picks a wheel's METADATA or an sdist's PKG-INFO and makes sure it is the member twine uploads
 * from. twine (through pkginfo for wheels and older sdists) takes every member whose path holds
 * the marker, sorts them by (number of parts, parts) and uses the first that holds
 * `Metadata-Version`, reading the last copy of a repeated name; newer twine takes
 * `<root>/PKG-INFO` of an sdist, a regular file. Anything that could make these differ from the
 * member checked here is refused, since the repository files the upload under twine's name and
 * version.
 */
function fromPythonMembers(path: string, kind: 'wheel' | 'sdist', members: readonly MetadataMember[]): ArtifactVersion {
  const marker = kind === 'wheel' ? 'METADATA' : 'PKG-INFO';
  const own = members.filter((m) => (kind === 'wheel' ? WHEEL_METADATA : SDIST_PKG_INFO).test(m.name));
  if (own.length === 0) {
    throw new ArtifactError(
      kind === 'wheel' ? `${path} is a zip without *.dist-info/METADATA, so not a wheel` : `${path} is a tarball without PKG-INFO at its top level`,
    );
  }
  if (own.length > 1) {
    throw new AmbiguousArtifactError(
      `${path}: ${own.length} ${kind === 'wheel' ? '*.dist-info/METADATA' : 'top-level PKG-INFO'} members (${quoteAll(own)}); ${kind === 'wheel' ? 'a wheel' : 'an sdist'} has one, and the one uploaded may not be the one checked: rebuild it`,
    );
  }
  const ownMember = own[0]!;
  const last = new Map<string, MetadataMember>();
  const repeated = new Set<string>();
  for (const m of members) {
    if (last.has(m.name)) repeated.add(m.name);
    last.set(m.name, m);
  }
  let pick: MetadataMember | undefined;
  for (const name of [...last.keys()].sort(pythonPathOrder)) {
    const m = last.get(name)!;
    if (repeated.has(name)) {
      throw new AmbiguousArtifactError(`${path}: ${quote(name)} appears more than once, and twine reads ${marker} from its last copy before ${quote(ownMember.name)}: rebuild it`);
    }
    if (!REGULAR_TYPES.has(m.type)) {
      throw new AmbiguousArtifactError(`${path}: ${quote(name)} is a ${m.type}, not a regular file, and twine would look for ${marker} in it before ${quote(ownMember.name)}: rebuild it`);
    }
    if (m.hasMetadataVersion) {
      pick = m;
      break;
    }
  }
  if (!pick) throw new ArtifactError(`${path}: ${quote(ownMember.name)} has no Metadata-Version header, so twine would not read it`);
  if (pick !== ownMember) {
    throw new AmbiguousArtifactError(
      `${path}: twine takes the metadata it uploads from ${quote(pick.name)}, not from ${quote(ownMember.name)}, which is the one checked here; remove ${quote(pick.name)} from the ${kind}`,
    );
  }
  if (ownMember.text === undefined) throw new ArtifactError(`${path}: ${ownMember.name} is larger than ${MAX_MEMBER_BYTES} bytes`);
  return fromCoreMetadata(path, kind, ownMember.name, ownMember.text);
}

const WHEEL_METADATA = /^[^/]+\.dist-info\/METADATA$/;
const SDIST_PKG_INFO = /^(?:\.\/)?[^/]+\/PKG-INFO$/;

async function readWheel(path: string): Promise<ArtifactVersion> {
  // strictFileNames: a backslash stays part of the name, as in Python's zipfile, and yauzl refuses it.
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true, strictFileNames: true }, (err, z) => (err ? reject(err) : resolve(z))),
  ).catch((error: unknown) => {
    throw new ArtifactError(`${path} is not a readable zip: ${(error as Error).message}`);
  });
  const members = await new Promise<MetadataMember[]>((resolve, reject) => {
    const out: MetadataMember[] = [];
    zip.on('error', reject);
    zip.on('end', () => resolve(out));
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = entry.fileName;
      // Python's zipfile cuts a name at NUL and ignores the Info-ZIP Unicode Path field on older
      // versions; yauzl does neither, so such names could sort differently for twine.
      const unicodePath = entry.extraFields.some((f) => f.id === 0x7075);
      if (name.includes('\0') || (unicodePath && (name.includes('METADATA') || entry.fileNameRaw.toString('latin1').includes('METADATA')))) {
        reject(new AmbiguousArtifactError(`${path}: member ${quote(name)} has a name Python's zipfile reads differently; refusing to guess which METADATA twine uploads`));
        return;
      }
      if (!name.includes('METADATA')) {
        zip.readEntry();
        return;
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        readMember(stream).then((c) => {
          out.push({ name, type: 'file', ...c });
          zip.readEntry();
        }, reject);
      });
    });
    zip.readEntry();
  }).catch((error: unknown) => {
    zip.close();
    if (error instanceof ArtifactError) throw error;
    throw new ArtifactError(`${path} is a corrupt zip: ${(error as Error).message}`);
  });
  return fromPythonMembers(path, 'wheel', members);
}

/** The ways of folding a name that case-insensitive file systems (macOS, Windows) treat as the same. */
const folds = (s: string): string[] => [s, s.toLowerCase(), s.toUpperCase().toLowerCase(), s.replace(/[. ]+$/, '').toLowerCase()];

/**
 * Whether npm, unpacking the tarball with node-tar's `strip: 1` before it reads `package.json`,
 * would write this member to the package's `package.json`: the first part goes whatever it is,
 * `..` makes node-tar skip the entry, leading roots are removed, `.` and empty parts vanish.
 * Backslashes and case-insensitive names count too, since npm on Windows and macOS reads them so.
 */
function unpacksAsPackageJson(name: string): boolean {
  return [name, name.replace(/\\/g, '/')].some((n) => {
    const parts = n.split('/');
    if (parts.length < 2) return false;
    const rest = parts.slice(1);
    if (rest.includes('..')) return false;
    let p = rest.join('/');
    // node-tar's stripAbsolutePath, which parses roots the win32 way on every platform.
    for (let parsed = win32.parse(p); win32.isAbsolute(p) || parsed.root; parsed = win32.parse(p)) {
      const root = p.charAt(0) === '/' && p.slice(0, 4) !== '//?/' ? '/' : parsed.root;
      if (root === '') break;
      p = p.slice(root.length);
    }
    const resolved = posix.resolve('/', p);
    if (resolved.lastIndexOf('/') !== 0) return false;
    return folds(resolved.slice(1)).includes('package.json');
  });
}

/**
 * Reads npm's manifest. npm unpacks the whole tarball and reads `package.json` afterwards, so the
 * last member that lands there wins; with more than one candidate the version checked and
 * approved here could differ from the one published, and that is refused rather than guessed.
 */
function fromNpmMembers(path: string, candidates: readonly MetadataMember[]): ArtifactVersion {
  if (candidates.length > 1) {
    throw new AmbiguousArtifactError(
      `${path}: ${candidates.length} members unpack as npm's package.json (${quoteAll(candidates)}); npm keeps the last one, so the package checked may not be the one published: rebuild it with npm pack`,
    );
  }
  const m = candidates[0]!;
  if (!REGULAR_TYPES.has(m.type)) {
    throw new AmbiguousArtifactError(`${path}: ${quote(m.name)} is a ${m.type}, not a regular file; npm reads package.json only from a regular file: rebuild it with npm pack`);
  }
  if (m.text === undefined) throw new ArtifactError(`${path}: ${m.name} is larger than ${MAX_MEMBER_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(m.text);
  } catch {
    throw new ArtifactError(`${path}: ${m.name} is not valid JSON`);
  }
  const obj = (parsed ?? {}) as { name?: unknown; version?: unknown; publishConfig?: unknown; tag?: unknown };
  if (typeof obj.name !== 'string' || typeof obj.version !== 'string') {
    throw new ArtifactError(`${path}: ${m.name} has no string "name" and "version"`);
  }
  const npm: NpmPublishFields = {
    ...(Object.hasOwn(obj, 'publishConfig') ? { publishConfig: obj.publishConfig } : {}),
    ...(Object.hasOwn(obj, 'tag') ? { tag: obj.tag } : {}),
  };
  return { path, kind: 'npm', name: obj.name, version: obj.version, source: m.name, npm };
}

async function readTarGz(path: string): Promise<ArtifactVersion> {
  // Every member is looked at: a later one can replace what an earlier one said.
  const npm: MetadataMember[] = [];
  const python: MetadataMember[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const type = header.type ?? 'unknown';
      const isNpm = unpacksAsPackageJson(header.name);
      // Python's tarfile drops a directory's trailing slash.
      const pyName = type === 'directory' ? header.name.replace(/\/+$/, '') : header.name;
      const isPython = pyName.includes('PKG-INFO');
      if (!isNpm && !isPython) {
        stream.on('end', next);
        stream.resume();
        return;
      }
      readMember(stream).then((c) => {
        if (isNpm) npm.push({ name: header.name, type, ...c });
        if (isPython) python.push({ name: pyName, type, ...c });
        next();
      }, reject);
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
    throw new ArtifactError(`${path} is a corrupt gzip tarball: ${(error as Error).message}`);
  } finally {
    source.destroy();
    gunzip.destroy();
    extract.destroy();
    await pumping;
  }
  const pkgInfo = python.filter((m) => SDIST_PKG_INFO.test(m.name));
  // An sdist is recognised by PKG-INFO; `package/package.json` is npm's own layout.
  if (npm.length > 0 && (pkgInfo.length === 0 || npm.some((m) => m.name.replace(/^\.\//, '').startsWith('package/')))) {
    return fromNpmMembers(path, npm);
  }
  if (pkgInfo.length > 0) return fromPythonMembers(path, 'sdist', python);
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
