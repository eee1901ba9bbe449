#!/usr/bin/env node
// CPU profile of one pubguard scan: runs the CLI under `node --cpu-prof` with --jobs 0 (all
// matching on the main thread, so it shows in one profile) and prints the top self-time
// functions and scripts. Usage: node benchmarks/profile.mjs [--top N] [--jobs N] [FILE]
// FILE defaults to typescript-5.9.3.tgz in benchmarks/.cache/packs (packed there if missing).
// It runs the CLI from dist/, not the bundle bin/pubguard.js runs, so functions keep their files.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summariseProfile } from './lib/cpuprofile.mjs';
import { ensurePacked } from './lib/inputs.mjs';
import { runOrThrow } from './lib/proc.mjs';
import { formatRows } from './lib/table.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' }, jobs: { type: 'string', default: '0' } } });
const target = positionals[0] ?? ensurePacked('typescript@5.9.3', join(HERE, '.cache', 'packs'));
const out = join(HERE, 'profiles');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const started = process.hrtime.bigint();
try {
  runOrThrow('node', ['--cpu-prof', '--cpu-prof-dir', out, join(HERE, 'lib', 'dist-bin.mjs'), 'scan', '-q', '--format', 'json', '--jobs', values.jobs, target]);
} catch (error) {
  // Exit 1 means findings: the profile is still good.
  if (!/exit 1\)/.test(error.message)) throw error;
}
const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
// With workers, each thread writes its own profile; the largest is the busiest thread.
const files = readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(out, f));
files.sort((a, b) => statSync(b).size - statSync(a).size);
const top = Number(values.top);
for (const file of files) {
  const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')));
  console.log(`\n${file.slice(ROOT.length + 1)}: ${summary.totalMs.toFixed(0)} ms sampled (process wall ${wallMs.toFixed(0)} ms)`);
  console.log(formatRows(summary.functions.slice(0, top).map((f) => ({ 'self ms': f.selfMs, share: `${(f.share * 100).toFixed(1)}%`, function: f.name.length > 72 ? `${f.name.slice(0, 71)}…` : f.name, where: f.url ? `${f.url}:${f.line}` : '' }))));
  console.log('\nBy category:');
  console.log(formatRows(summary.categories.map((c) => ({ 'self ms': c.selfMs, share: `${(c.share * 100).toFixed(1)}%`, category: c.category }))));
  console.log('\nBy script:');
  console.log(formatRows(summary.urls.slice(0, 12).map((u) => ({ 'self ms': u.selfMs, share: `${(u.share * 100).toFixed(1)}%`, script: u.url }))));
}
