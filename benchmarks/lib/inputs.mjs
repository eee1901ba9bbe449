// The inputs: real npm packages packed from the registry, and generated artifacts of fixed
// sizes, all kept in benchmarks/.cache (git-ignored) so a second run downloads nothing.
import { Buffer } from 'node:buffer';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOrThrow } from './proc.mjs';
import { checksummedToken, minifiedJs, randomBinary, sourceFile } from './text.mjs';

/**
 * Real packages, versions pinned so runs compare over time. Chosen to mix huge minified
 * bundles, many small files and binaries.
 */
export const PACKAGES = [
  { spec: 'typescript@5.9.3', kind: 'huge bundles (tsc.js, typescript.js)' },
  { spec: 'monaco-editor@0.57.0', kind: 'bundles + ~1900 files' },
  { spec: 'pdfjs-dist@6.5.438', kind: 'bundles, source maps, binary cmaps' },
  { spec: 'date-fns@4.4.0', kind: '~5100 small files' },
  { spec: 'three@0.187.0', kind: 'large bundles + ~1300 modules' },
  { spec: '@img/sharp-libvips-linux-x64@1.3.4', kind: 'native shared library' },
  { spec: '@mui/material@9.5.0', kind: '~2700 small files' },
  { spec: 'esbuild-wasm@0.28.2', kind: 'wasm binary + JS' },
  { spec: 'prettier@3.10.1', kind: 'bundled plugins' },
  { spec: 'rxjs@7.8.2', kind: '~2300 small files' },
  { spec: '@esbuild/linux-x64@0.28.2', kind: 'native executable' },
  { spec: 'lodash@4.18.1', kind: '~1000 small files' },
  { spec: '@babel/parser@8.1.3', kind: 'one minified parser' },
];

/** The file name `npm pack` gives `spec` (`@scope/name@1.0.0` -> `scope-name-1.0.0.tgz`). */
export function packFileName(spec) {
  const at = spec.lastIndexOf('@');
  const name = spec.slice(0, at).replace(/^@/, '').replace('/', '-');
  return `${name}-${spec.slice(at + 1)}.tgz`;
}

/** Packs `spec` into `dir` with `npm pack` unless it is already there; returns the tarball path. */
export function ensurePacked(spec, dir) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, packFileName(spec));
  if (!existsSync(file)) runOrThrow('npm', ['pack', spec, '--pack-destination', dir, '--loglevel=error']);
  if (!existsSync(file)) throw new Error(`npm pack ${spec} did not write ${file}`);
  return file;
}

/** Total size of the regular files below `dir` (what both tools read). */
export function treeBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

/**
 * Unpacks `tgz` into `dir` once (a `dir.json` next to it records completion and the tree's
 * size) and returns { dir, bytes }.
 */
export function ensureUnpacked(tgz, dir) {
  const marker = `${dir}.json`;
  if (existsSync(marker) && existsSync(dir)) return { dir, ...JSON.parse(readFileSync(marker, 'utf8')) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  runOrThrow('tar', ['-xzf', tgz, '-C', dir]);
  const bytes = treeBytes(dir);
  writeFileSync(marker, JSON.stringify({ bytes }));
  return { dir, bytes };
}

/** Sizes of the generated artifacts (uncompressed bytes of their files). */
export const GENERATED = [
  { label: 'gen-10MB', bytes: 10e6 },
  { label: 'gen-100MB', bytes: 100e6 },
  { label: 'gen-1GB', bytes: 1000e6 },
];

/** Bodies the generated files are cut from: source-like JS, one-line bundles, binary blobs. */
function bodyPool() {
  const pool = [];
  for (let i = 0; i < 24; i++) pool.push({ body: Buffer.from(sourceFile(16_000 + i * 6_000, 100 + i), 'latin1'), binary: false });
  for (let i = 0; i < 12; i++) pool.push({ body: Buffer.from(minifiedJs(64_000 + i * 16_000, 200 + i), 'latin1'), binary: false });
  for (let i = 0; i < 4; i++) pool.push({ body: Buffer.from(randomBinary(48_000 + i * 8_000, 300 + i), 'latin1'), binary: true });
  return pool;
}

/**
 * Generates an npm-like tarball of about `bytes` of files (source, minified bundles, binary
 * blobs) with three planted fake tokens that have valid checksums (in the first, a middle
 * and the last file), once. Returns { tgz, dir, bytes, planted }.
 */
export function ensureGenerated(label, bytes, cacheDir, log) {
  const base = join(cacheDir, 'gen');
  const dir = join(base, label);
  const tgz = join(base, `${label}.tgz`);
  const marker = join(base, `${label}.json`);
  if (existsSync(marker) && existsSync(tgz) && existsSync(dir)) return { tgz, dir, ...JSON.parse(readFileSync(marker, 'utf8')) };
  log(`generating ${label} (${Math.round(bytes / 1e6)} MB of files, then tar + gzip)`);
  rmSync(dir, { recursive: true, force: true });
  const pool = bodyPool();
  const tokens = [checksummedToken('ghp_', 11), checksummedToken('npm_', 12), checksummedToken('ghp_', 13)];
  const average = pool.reduce((a, p) => a + p.body.length, 0) / pool.length;
  const middle = Math.floor(bytes / average / 2);
  let written = 0;
  let planted = 0;
  for (let i = 0; ; i++) {
    const { body, binary } = pool[i % pool.length];
    const last = i >= 2 && written + body.length >= bytes;
    const token = i === 0 ? tokens[0] : i === middle && !last ? tokens[1] : last ? tokens[2] : undefined;
    const sub = join(dir, 'package', binary ? 'assets' : 'lib', String(Math.floor(i / 500)));
    mkdirSync(sub, { recursive: true });
    const parts = binary ? [body] : [Buffer.from(`// module ${i}\n`), body];
    if (token && binary) parts.push(Buffer.from(`\u0000token=${token}\u0000`));
    else if (token) parts.push(Buffer.from(`\nexport const registryToken${i} = "${token}";\n`));
    if (token) planted++;
    const content = Buffer.concat(parts);
    writeFileSync(join(sub, `m${i}.${binary ? 'bin' : 'js'}`), content);
    written += content.length;
    if (last) break;
  }
  writeFileSync(join(dir, 'package', 'package.json'), JSON.stringify({ name: label, version: '1.0.0' }, null, 2));
  // gzip -1: generating 1 GB stays quick; inflating costs about the same at any level.
  runOrThrow('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-I', 'gzip -1', '-cf', tgz, '-C', dir, 'package']);
  const info = { bytes: treeBytes(dir), planted };
  writeFileSync(marker, JSON.stringify(info));
  return { tgz, dir, ...info };
}
