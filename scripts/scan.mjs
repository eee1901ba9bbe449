#!/usr/bin/env node
// `pnpm scan [args]`: runs `pubguard scan` from the freshly built workspace. Given no path,
// it generates the bundled sample (fake secrets planted in an npm tarball, a wheel, an sdist,
// nested archives...) and scans that, so a first run shows what pubguard reports.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const hasPath = args.some((a, i) => (a === '-' || !a.startsWith('-')) && !isOptionValue(i));

function isOptionValue(i) {
  const prev = args[i - 1];
  // Every option of `pubguard scan` that takes a value (`--config x.json` names no path).
  return prev !== undefined && /^(-[fojc]|--(format|output|jobs|config|ignore|baseline|shard|chunk-size|max-[a-z-]+))$/.test(prev);
}

// pnpm runs scripts from the workspace root; INIT_CWD is where `pnpm scan` was typed, which
// relative paths (to scan, --config, --output) are relative to.
const cwd = process.env.INIT_CWD || process.cwd();

/** Runs a command; `toStderr` sends its standard output to ours, so a report on stdout stays whole. */
function run(cmd, cmdArgs, toStderr = false) {
  const r = spawnSync(cmd, cmdArgs, { stdio: ['inherit', toStderr ? 2 : 'inherit', 'inherit'], cwd });
  if (r.error) {
    console.error(`pnpm scan: cannot run ${cmd}: ${r.error.message}`);
    process.exit(2);
  }
  return r.status ?? 2;
}

/** Whether `file` is missing or older than any of `sources` that exist. */
function isStale(file, sources) {
  if (!existsSync(file)) return true;
  const made = statSync(file).mtimeMs;
  return sources.some((source) => existsSync(source) && statSync(source).mtimeMs > made);
}

let scanArgs = args;
if (!hasPath) {
  const sample = join(root, '.cache', 'sample');
  // Made again when the generator or the rules (whose examples it plants) were rebuilt since.
  if (isStale(join(sample, 'manifest.json'), [join(root, 'corpus', 'dist', 'cli.js'), join(root, 'packages', 'rules', 'generated', 'builtin.json')])) {
    const status = run(process.execPath, [join(root, 'corpus', 'dist', 'cli.js'), 'generate', sample, '--clean'], true);
    if (status !== 0) process.exit(status);
  }
  console.error(`pnpm scan: no path given, scanning the bundled sample in ${sample}`);
  scanArgs = [...args, sample];
}
process.exit(run(process.execPath, [join(root, 'packages', 'cli', 'bin', 'pubguard.js'), 'scan', ...scanArgs]));
