#!/usr/bin/env node
// Bundles the built CLI (dist/) and the engine's worker into packages/cli/bundle/, which
// bin/pubguard.js runs, and makes the bundle's V8 code cache. Loading ~180 small modules (ours,
// fast-glob's and picomatch's) took about 40 ms of every run, most of a small package's scan;
// one CommonJS file per entry loads in one read, and, unlike ES modules, can be compiled from
// a code cache (bin/load.js).
// Runs after `tsc -b` (the root build script does both) so it bundles fresh JavaScript, and the
// corpus generator it builds makes the sample the code cache is made from.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Flat, so every `new URL('../…', import.meta.url)` in the bundled code (the config schema,
    // package.json, the built-in rules, the worker) resolves the same from either file.
    entryNames: '[name]',
    metafile: true,
    logLevel: 'warning',
    define: { 'import.meta.url': '__pubguardModuleUrl' },
    banner: { js: "const __pubguardModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
} catch (error) {
  rmSync(tmpDir, { recursive: true, force: true });
  fatal(error instanceof Error ? error.message : String(error));
}

for (const name of Object.keys(entryPoints)) {
  const file = join(tmpDir, `${name}.js`);
  writeFileSync(file, asciiOnly(readFileSync(file, 'utf8'), file));
}
writeFileSync(join(tmpDir, 'THIRD-PARTY-NOTICES.txt'), notices(result.metafile));
// The package is an ES module package; these files are CommonJS.
writeFileSync(join(tmpDir, 'package.json'), '{\n  "type": "commonjs"\n}\n');
rmSync(outDir, { recursive: true, force: true });
renameSync(tmpDir, outDir);

// The rules package reads `../generated/builtin.json` (and `builtin-definitions.json`) next to
// its code; in the bundle that code lives in bundle/, so the files go to packages/cli/generated/.
mkdirSync(join(pkgDir, 'generated'), { recursive: true });
for (const name of ['builtin.json', 'builtin-definitions.json']) {
  const from = join(dirname(rulesIndex), '..', 'generated', name);
  try {
    cpSync(from, join(pkgDir, 'generated', name));
  } catch {
    fatal(`${from} is missing; build the rules first (node packages/rules/scripts/build.mjs)`);
  }
}

// The code cache holds what one scan of the corpus sample compiled: a source tree, npm
// tarballs, wheels, sdists and nested archives, with findings to report.
const corpusCli = fileURLToPath(new URL('../../../corpus/dist/cli.js', import.meta.url));
const sampleDir = mkdtempSync(join(tmpdir(), 'pubguard-code-cache-'));
let cacheFailure;
try {
  const sample = join(sampleDir, 'sample');
  const generated = spawnSync(process.execPath, [corpusCli, 'generate', sample], { encoding: 'utf8' });
  if (generated.status !== 0) {
    cacheFailure = `generating the sample for the code cache failed (build the corpus first with \`tsc -b\`): ${generated.stderr || generated.error?.message}`;
  } else {
    const produce = `require(${JSON.stringify(join(pkgDir, 'bin', 'load.js'))}).produceCodeCache(${JSON.stringify(['scan', sample, '--format', 'text'])}).then(() => { process.exitCode = 0; });`;
    // V8 only accepts a cache made under the same V8 flags: those of a plain `node`.
    const made = spawnSync(process.execPath, ['-e', produce], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    if (made.status !== 0) cacheFailure = `making the code cache failed: ${made.stderr || made.error?.message}`;
  }
} finally {
  rmSync(sampleDir, { recursive: true, force: true });
}
if (cacheFailure) fatal(cacheFailure);

/**
 * `code` with every non-ASCII character written as a `\\uXXXX` escape. V8 holds a source
 * with even one such character as a two-byte string, which took 1.2-2.5 ms more to decode
 * at every start than the same bundle in ASCII. esbuild escapes them in strings but leaves
 * comments and regex literals as written; in both an escape means the same, except after a
 * backslash, which is refused.
 */
function asciiOnly(code, file) {
  return code.replace(/\\?[^\x00-\x7f]/g, (found, at) => {
    if (found.length === 2) fatal(`${file}: a backslash before the non-ASCII character at offset ${at} cannot be escaped here; escape it in the source instead`);
    return `\\u${found.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
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
