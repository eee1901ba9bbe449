import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { type ArchiveEntry, tgzBuffer, zipBuffer } from './archive.js';

/** A file to put in a package: a path relative to the package root and its content. */
export interface PackageFile {
  path: string;
  content: string | Uint8Array;
  mode?: number;
}

function bytesOf(content: string | Uint8Array): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
}

function hasFile(files: readonly PackageFile[], path: string): boolean {
  return files.some((f) => f.path === path);
}

/** The directory-safe form of a Python distribution name, as wheel and sdist file names use it. */
export function pythonDistName(name: string): string {
  return name.replace(/[-_.]+/g, '_');
}

/** An npm tarball as `npm pack` lays it out: everything under `package/`, with a package.json. */
export async function npmTarball(name: string, version: string, files: readonly PackageFile[]): Promise<Uint8Array> {
  const entries: ArchiveEntry[] = [];
  if (!hasFile(files, 'package.json')) {
    const manifest = { name, version, description: `${name} fixture`, main: 'index.js', license: 'MIT' };
    entries.push({ path: 'package/package.json', content: `${JSON.stringify(manifest, null, 2)}\n` });
  }
  for (const file of files) entries.push({ path: `package/${file.path}`, content: file.content, mode: file.mode });
  return tgzBuffer(entries);
}

/** The file name a pure-Python wheel of `name` `version` gets. */
export function wheelFileName(name: string, version: string): string {
  return `${pythonDistName(name)}-${version}-py3-none-any.whl`;
}

/** A pure-Python wheel: `files` plus `{name}-{version}.dist-info/` with METADATA, WHEEL and RECORD. */
export async function wheel(name: string, version: string, files: readonly PackageFile[]): Promise<Uint8Array> {
  const distInfo = `${pythonDistName(name)}-${version}.dist-info`;
  const all: PackageFile[] = [
    ...files,
    { path: `${distInfo}/METADATA`, content: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: ${name} fixture\n` },
    {
      path: `${distInfo}/WHEEL`,
      content: 'Wheel-Version: 1.0\nGenerator: pubguard-corpus\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    },
  ];
  const record = all.map((f) => {
    const bytes = bytesOf(f.content);
    const digest = createHash('sha256').update(bytes).digest('base64url');
    return `${f.path},sha256=${digest},${bytes.length}`;
  });
  record.push(`${distInfo}/RECORD,,`);
  all.push({ path: `${distInfo}/RECORD`, content: `${record.join('\n')}\n` });
  return zipBuffer(all.map((f) => ({ path: f.path, content: f.content, mode: f.mode })));
}

/** The file name an sdist of `name` `version` gets. */
export function sdistFileName(name: string, version: string): string {
  return `${pythonDistName(name)}-${version}.tar.gz`;
}

/** A source distribution: a `.tar.gz` with everything under `{name}-{version}/`, including PKG-INFO. */
export async function sdist(name: string, version: string, files: readonly PackageFile[]): Promise<Uint8Array> {
  const root = `${pythonDistName(name)}-${version}`;
  const entries: ArchiveEntry[] = [{ path: `${root}/`, type: 'dir' }];
  entries.push({
    path: `${root}/PKG-INFO`,
    content: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: ${name} fixture\n`,
  });
  if (!hasFile(files, 'pyproject.toml')) {
    entries.push({
      path: `${root}/pyproject.toml`,
      content: `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${name}"\nversion = "${version}"\n`,
    });
  }
  for (const file of files) entries.push({ path: `${root}/${file.path}`, content: file.content, mode: file.mode });
  return tgzBuffer(entries);
}
