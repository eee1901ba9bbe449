#!/usr/bin/env node
// Precision in the wild (issue #4): scans the 40 most popular npm packages and the Python
// wheels Debian ships (python3-pip-whl, python3-setuptools-whl) with pubguard, prints every
// finding, and fails unless each one is listed in wild-known.json with the reason it is
// reported. A canary tarball holding a freshly generated, checksum-valid GitHub token is
// scanned in the same run, so "no findings" cannot come from a scanner that finds nothing.
//
// Usage: node benchmarks/wild.mjs [--refresh] [--extended] [--list FILE] [--candidates] [--json FILE]
//   --refresh     pack the npm packages again even when they are cached
//   --extended    also scan 30 further packages: big bundles, SDKs of credential-handling
//                 services, docs shipped in packages (about 850 MB unpacked)
//   --list FILE   also scan the packages in FILE, one name@version a line (# comments);
//                 benchmarks/wild-wide.txt holds the ~300 packages of the wider run in WILD.md
//   --candidates  also read every file and list the regex matches that were not reported,
//                 by rule and reason (placeholder, checksum, entropy...), to review recall
//   --json FILE   write the scan's JSON report to FILE
// Exit codes: 0 every finding is known, 1 an unknown finding (or a known entry that no
// longer matches anything), 2 the inputs could not be prepared or the scan failed.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, enumerate } from '@pubguard/engine';
import { BASE62_ALPHABET, base62Encode, builtinRuleset, crc32, matchRule, ruleAppliesToPath } from '@pubguard/rules';
import picomatch from 'picomatch';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const CACHE = join(HERE, '.cache', 'wild');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'pubguard.js');
const KNOWN_FILE = join(HERE, 'wild-known.json');

/**
 * The 40 most downloaded npm packages (weekly downloads, npm's public download counts),
 * with the typescript 5 line instead of 7 because 5.9 is still the most installed one and
 * ships its compiler as large JavaScript bundles. Versions are pinned so runs compare.
 */
export const NPM_PACKAGES = [
  'semver@7.8.6', 'ansi-styles@6.2.3', 'debug@4.4.3', 'chalk@5.6.2', 'supports-color@10.2.2',
  'minimatch@11.0.9', 'ms@2.1.3', 'tslib@2.9.1', 'strip-ansi@7.2.0', 'has-flag@5.0.1',
  'ansi-regex@6.6.0', 'color-convert@3.1.3', 'lru-cache@11.5.3', 'commander@14.0.3', 'glob@14.0.6',
  'readable-stream@4.8.0', 'string-width@8.3.0', '@types/node@26.6.6', 'source-map@0.8.0', 'uuid@14.0.3',
  'yargs@18.2.0', 'react@19.3.1', 'lodash@4.18.1', 'typescript@5.9.3', 'axios@1.21.1',
  'express@5.3.0', 'ws@8.23.0', 'picomatch@4.0.7', 'postcss@8.5.33', 'cross-spawn@7.0.6',
  'js-yaml@5.5.0', 'fs-extra@11.4.1', 'ajv@8.20.0', '@babel/types@7.29.15', 'form-data@4.0.6',
  'mime-types@3.0.2', 'react-dom@19.3.1', 'webpack@5.113.0', 'eslint@10.15.0', '@babel/core@7.29.13',
];

/**
 * Further popular packages, chosen for where false positives and embedded keys hide: huge
 * bundles and source maps, cloud and payment SDKs full of credential-named fields, crypto
 * libraries and packages that ship their documentation.
 */
export const EXTENDED_PACKAGES = [
  'next@16.4.6', '@angular/core@21.2.26', 'vue@3.5.45', 'aws-sdk@2.1693.0', 'googleapis@178.0.0',
  'firebase@13.2.0', 'moment@2.31.0', 'jquery@4.0.0', 'rollup@4.68.8', 'vite@8.3.8',
  'sass@1.108.2', 'core-js@3.51.0', 'node-forge@1.4.3', 'jsonwebtoken@9.0.3', '@aws-sdk/client-s3@3.1175.0',
  'zod@4.6.7', 'rxjs@7.8.2', 'prettier@3.10.1', '@mui/material@9.5.0', 'monaco-editor@0.57.0',
  'pdfjs-dist@5.6.205', 'three@0.187.0', 'date-fns@4.4.0', '@babel/parser@7.29.15', 'bootstrap@5.3.9',
  'socket.io@4.8.4', 'openai@6.49.0', 'stripe@23.1.0', 'twilio@6.2.0', '@sentry/node@11.12.0',
];

/** Debian packages whose wheels (in /usr/share/python-wheels) are scanned. */
export const DEBIAN_WHEEL_PACKAGES = ['python3-pip-whl', 'python3-setuptools-whl'];
const WHEEL_DIR = '/usr/share/python-wheels';

class PrepareError extends Error {
  name = 'PrepareError';
}

for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`wild: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}

function usage(message) {
  console.error(`${message}\nusage: node benchmarks/wild.mjs [--refresh] [--extended] [--list FILE] [--candidates] [--json FILE]`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: { refresh: { type: 'boolean', default: false }, extended: { type: 'boolean', default: false }, candidates: { type: 'boolean', default: false }, list: { type: 'string' }, json: { type: 'string' } },
  }).values;
} catch (error) {
  usage(error.message);
}
const log = (message) => console.error(`wild: ${message}`);
if (!existsSync(join(ROOT, 'packages', 'cli', 'dist', 'bin.js'))) usage('pubguard is not built: run `corepack pnpm build` first');

// ---- inputs -----------------------------------------------------------------------------

/** The file name `npm pack` gives `spec` (`@scope/name@1.0.0` -> `scope-name-1.0.0.tgz`). */
function packFileName(spec) {
  const at = spec.lastIndexOf('@');
  return `${spec.slice(0, at).replace(/^@/, '').replace('/', '-')}-${spec.slice(at + 1)}.tgz`;
}

function run(command, argv, options = {}) {
  const r = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.error) throw new PrepareError(`cannot run ${command}: ${r.error.message}`);
  return r;
}

function ensurePacked(specs, refresh) {
  mkdirSync(CACHE, { recursive: true });
  const files = specs.map((spec) => join(CACHE, packFileName(spec)));
  const missing = specs.filter((_, i) => refresh || !existsSync(files[i]));
  if (missing.length > 0) {
    log(`npm pack ${missing.length} package(s) into ${relative(ROOT, CACHE)}/`);
    const r = run('npm', ['pack', ...missing, '--pack-destination', CACHE, '--loglevel=error'], { cwd: CACHE });
    if (r.status !== 0) throw new PrepareError(`npm pack failed (exit ${r.status}): ${r.stderr.trim()}`);
  }
  for (const file of files) if (!existsSync(file)) throw new PrepareError(`npm pack did not write ${file}`);
  return files;
}

function wheelsOf(pkg) {
  const r = run('dpkg', ['-L', pkg]);
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((line) => line.startsWith(`${WHEEL_DIR}/`) && line.endsWith('.whl') && existsSync(line));
}

function ensureWheels() {
  const found = [];
  for (const pkg of DEBIAN_WHEEL_PACKAGES) {
    let wheels = wheelsOf(pkg);
    if (wheels.length === 0) {
      log(`${pkg} is not installed: apt-get install -y ${pkg}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      if (run('apt-get', ['install', '-y', pkg], { env }).status !== 0) {
        // A fresh container often has no package lists yet.
        run('apt-get', ['update'], { env });
        const r = run('apt-get', ['install', '-y', pkg], { env });
        if (r.status !== 0) throw new PrepareError(`apt-get install ${pkg} failed: ${r.stderr.trim().split('\n').pop()}`);
      }
      wheels = wheelsOf(pkg);
    }
    if (wheels.length === 0) throw new PrepareError(`${pkg} installed no wheel in ${WHEEL_DIR}`);
    for (const wheel of wheels) found.push({ pkg, wheel });
  }
  return found;
}

/** A GitHub classic token with a valid checksum and random body, as a live one looks. */
function freshGithubToken() {
  let body = '';
  for (let i = 0; i < 30; i++) body += BASE62_ALPHABET[randomInt(62)];
  return `ghp_${body}${base62Encode(crc32(Buffer.from(body))).padStart(6, '0')}`;
}

function makeCanary(dir) {
  const pkg = join(dir, 'package');
  mkdirSync(join(pkg, 'lib'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{ "name": "wild-canary", "version": "1.0.0" }\n');
  writeFileSync(join(pkg, 'lib', 'index.js'), `export const token = '${freshGithubToken()}';\n`);
  const file = join(dir, 'wild-canary-1.0.0.tgz');
  const r = run('tar', ['-czf', file, '-C', dir, 'package']);
  if (r.status !== 0) throw new PrepareError(`tar failed: ${r.stderr.trim()}`);
  return file;
}

// ---- known findings ---------------------------------------------------------------------

function loadKnown() {
  if (!existsSync(KNOWN_FILE)) return [];
  const data = JSON.parse(readFileSync(KNOWN_FILE, 'utf8'));
  if (!Array.isArray(data)) throw new PrepareError(`${KNOWN_FILE}: expected a JSON array of { ruleId, path, why }`);
  return data.map((entry, i) => {
    for (const key of ['ruleId', 'path', 'why']) {
      if (typeof entry[key] !== 'string' || entry[key] === '') throw new PrepareError(`${KNOWN_FILE}: entry ${i + 1} has no '${key}'`);
    }
    // The artifact part of the glob tells whether this run scanned what the entry speaks of.
    const artifact = entry.path.split('!')[0];
    return { ...entry, isMatch: picomatch(entry.path, { dot: true }), isArtifact: picomatch(artifact, { dot: true }), used: 0 };
  });
}

// A finding's path starts with the artifact as given; the known list speaks of the file name.
function displayPath(finding) {
  return finding.path.startsWith(`${CACHE}/`) ? finding.path.slice(CACHE.length + 1) : finding.path;
}

// ---- candidates (the --candidates review) ----------------------------------------------

function redactShort(secret) {
  if (secret.length <= 12) return `${secret.slice(0, 2)}…(${secret.length})`;
  return `${secret.slice(0, 4)}…${secret.slice(-2)} (${secret.length})`;
}

async function reviewCandidates(inputs) {
  const ruleset = builtinRuleset();
  const rules = ruleset.rules.filter((rule) => rule.source !== '');
  const byKey = new Map();
  let files = 0;
  for await (const item of enumerate(inputs, { limits: DEFAULT_LIMITS, ignore: [] })) {
    if (item.kind !== 'file') continue;
    const chunks = [];
    for await (const chunk of item.bytes) chunks.push(chunk);
    files++;
    const text = Buffer.concat(chunks).toString('latin1');
    const lower = text.toLowerCase();
    const entry = item.chain.at(-1) ?? '';
    for (const rule of rules) {
      if (!(rule.keywords ?? []).some((k) => lower.includes(k))) continue;
      if (rule.paths && !ruleAppliesToPath(rule, entry)) continue;
      for (const m of matchRule(rule, text)) {
        if (m.acceptance.ok) continue;
        const key = `${rule.id}\t${m.acceptance.reason}`;
        const slot = byKey.get(key) ?? { rule: rule.id, reason: m.acceptance.reason, count: 0, sample: '' };
        if (slot.count === 0) slot.sample = `${item.chain.map((p) => (p.startsWith(`${CACHE}/`) ? p.slice(CACHE.length + 1) : p)).join('!')} ${redactShort(m.secret)}`;
        slot.count++;
        byKey.set(key, slot);
      }
    }
  }
  const rows = [...byKey.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule));
  console.log(`\nMatches not reported (${files} files read): ${rows.reduce((n, r) => n + r.count, 0)}`);
  for (const r of rows) console.log(`  ${String(r.count).padStart(6)}  ${r.rule}  [${r.reason}]  e.g. ${r.sample}`);
}

// ---- main -------------------------------------------------------------------------------

/** The name@version lines of a --list file, without blank lines and # comments. */
function readList(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    usage(`--list: cannot read ${file}: ${error.message}`);
  }
  const specs = text.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
  const bad = specs.find((spec) => !/^(?:@[^/@\s]+\/)?[^/@\s]+@[^@\s]+$/.test(spec));
  if (bad) usage(`--list: ${file}: '${bad}' is not name@version`);
  return specs;
}

const specs = [...(args.extended ? [...NPM_PACKAGES, ...EXTENDED_PACKAGES] : NPM_PACKAGES), ...(args.list ? readList(args.list) : [])];
const npmFiles = ensurePacked(specs, args.refresh);
const wheels = ensureWheels();
const known = loadKnown();
const scratch = mkdtempSync(join(tmpdir(), 'pubguard-wild-'));
let exitCode = 0;
try {
  const canary = makeCanary(scratch);
  const inputs = [...npmFiles, ...wheels.map((w) => w.wheel)];
  log(`scanning ${npmFiles.length} npm packages and ${wheels.length} wheels (${wheels.map((w) => relative(WHEEL_DIR, w.wheel)).join(', ')})`);
  const started = process.hrtime.bigint();
  const r = run(process.execPath, [CLI, 'scan', '--format', 'json', '-q', ...inputs, canary], { cwd: ROOT });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new PrepareError(`pubguard scan exited ${r.status}: ${r.stderr.trim()}`);
  const report = JSON.parse(r.stdout);
  if (args.json) writeFileSync(args.json, r.stdout);
  if (report.errors.length > 0) {
    for (const e of report.errors) log(`scan error: ${e.path}: ${e.kind}: ${e.message}`);
    throw new PrepareError(`${report.errors.length} scan error(s): every input must be read for the numbers to mean anything`);
  }
  const canaryFound = report.findings.filter((f) => f.location.artifact === canary);
  if (!canaryFound.some((f) => f.ruleId === 'github-classic-token')) {
    throw new PrepareError('the canary token was not found: the scanner is not finding anything, so the count below would be meaningless');
  }
  const findings = report.findings.filter((f) => f.location.artifact !== canary);

  console.log(`Findings in ${inputs.length} artifacts (${report.stats.files} files, ${(report.stats.bytes / 1e6).toFixed(1)} MB):`);
  let unknown = 0;
  for (const f of findings) {
    const path = displayPath(f);
    const entry = known.find((k) => k.ruleId === f.ruleId && k.isMatch(path));
    if (entry) entry.used++;
    else unknown++;
    console.log(`  ${entry ? `known#${known.indexOf(entry) + 1}` : 'UNKNOWN'} ${f.ruleId}  ${path}:${f.location.line}:${f.location.column}  ${f.secret}`);
  }
  if (findings.length === 0) console.log('  (none)');
  for (const [i, k] of known.entries()) if (k.used > 0) console.log(`  known#${i + 1}: ${k.used} × ${k.ruleId} in ${k.path}: ${k.why}`);
  const scannedNames = inputs.map((file) => (file.startsWith(`${CACHE}/`) ? file.slice(CACHE.length + 1) : file));
  const stale = known.filter((k) => k.used === 0 && scannedNames.some((name) => k.isArtifact(name)));
  for (const k of stale) console.log(`  STALE   wild-known.json entry ${k.ruleId} ${k.path} matched nothing: remove it`);

  console.log(`\nSummary: ${npmFiles.length} npm packages + ${wheels.length} wheels, ${report.stats.files} files, ${(report.stats.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s (pubguard: ${(report.stats.durationMs / 1000).toFixed(1)} s)`);
  console.log(`  findings: ${findings.length} (known ${findings.length - unknown}, unknown ${unknown}); stale known entries: ${stale.length}; canary found: yes`);
  const byRule = new Map();
  for (const f of findings) byRule.set(f.ruleId, (byRule.get(f.ruleId) ?? 0) + 1);
  for (const [rule, n] of [...byRule].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${rule}`);
  const byArtifact = new Map();
  for (const f of findings) byArtifact.set(displayPath(f).split('!')[0], (byArtifact.get(displayPath(f).split('!')[0]) ?? 0) + 1);
  for (const [artifact, n] of [...byArtifact].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  in ${artifact}`);
  exitCode = unknown > 0 || stale.length > 0 ? 1 : 0;

  if (args.candidates) await reviewCandidates(inputs);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
