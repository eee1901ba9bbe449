#!/usr/bin/env node
// Bundles the built CLI (dist/) and the engine's worker into packages/cli/bundle/, which
// bin/pubguard.js runs. Loading ~180 small modules (ours, fast-glob's and picomatch's) took
// about 40 ms of every run, most of a small package's scan; a bundle split into one chunk per
// command keeps the lazy loading of commands and loads a handful of files instead.
// Runs after `tsc -b` (the root build script does both) so it bundles fresh JavaScript.
import { cpSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(pkgDir, 'bundle');
const tmpDir = join(pkgDir, `.bundle-${process.pid}`);

function fatal(message) {
  process.stderr.write(`cli bundle: ${message}\n`);
  process.exit(1);
}

const engineIndex = fileURLToPath(import.meta.resolve('@pubguard/engine'));
const rulesIndex = fileURLToPath(import.meta.resolve('@pubguard/rules'));
const entryPoints = {
  bin: join(pkgDir, 'dist', 'bin.js'),
  // The pool starts `new URL('./worker.js', import.meta.url)`: the worker entry sits next to it.
  worker: join(dirname(engineIndex), 'pool', 'worker.js'),
};

rmSync(tmpDir, { recursive: true, force: true });
let result;
try {
  result = await build({
    entryPoints,
    outdir: tmpDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Flat, so every `new URL('../…', import.meta.url)` in the bundled code (the config schema,
    // package.json, the built-in rules) resolves the same from every chunk.
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    // fast-glob and its dependencies are CommonJS and call require() for Node's own modules.
    banner: { js: "import { createRequire as __pubguardCreateRequire } from 'node:module'; const require = __pubguardCreateRequire(import.meta.url);" },
  });
} catch (error) {
  rmSync(tmpDir, { recursive: true, force: true });
  fatal(error instanceof Error ? error.message : String(error));
}

writeFileSync(join(tmpDir, 'THIRD-PARTY-NOTICES.txt'), notices(result.metafile));
rmSync(outDir, { recursive: true, force: true });
renameSync(tmpDir, outDir);

// The rules package reads `../generated/builtin.json` next to its code; in the bundle that code
// lives in bundle/, so the file goes to packages/cli/generated/.
const builtin = join(dirname(rulesIndex), '..', 'generated', 'builtin.json');
mkdirSync(join(pkgDir, 'generated'), { recursive: true });
try {
  cpSync(builtin, join(pkgDir, 'generated', 'builtin.json'));
} catch {
  fatal(`${builtin} is missing; build the rules first (node packages/rules/scripts/build.mjs)`);
}

/** The licence text of every third-party package the bundle contains, which MIT and ISC ask to keep with copies. */
function notices(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const parts = input.split(/[\\/]/);
    const at = parts.lastIndexOf('node_modules');
    if (at < 0) continue;
    const nameParts = parts[at + 1]?.startsWith('@') ? 2 : 1;
    const dir = join(process.cwd(), ...parts.slice(0, at + 1 + nameParts));
    if (packages.has(dir)) continue;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const licenceFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenceFile ? readFileSync(join(dir, licenceFile), 'utf8').trim() : `License: ${manifest.license ?? 'see package'}`;
    packages.set(dir, `${manifest.name}@${manifest.version}\n\n${text}\n`);
  }
  const sorted = [...packages.values()].sort();
  const header = 'Third-party code bundled in this directory, and its licences.\n';
  return [header, ...sorted].join(`\n${'-'.repeat(72)}\n\n`);
}
