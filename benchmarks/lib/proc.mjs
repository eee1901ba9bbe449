// Running the measured commands: wall time from process.hrtime around the child, peak RSS
// and CPU time from GNU time (%M is the child's ru_maxrss, which covers all of its threads;
// %U + %S its user and system CPU seconds, all threads together).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** True when `name` is a command on PATH. */
export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure `command` exists, installing Debian package `pkg` with apt-get when it is
 * missing and apt-get is there. Returns whether the command is available afterwards.
 */
export function ensureCommand(command, pkg, log) {
  const present = () => (command.startsWith('/') ? existsSync(command) : hasCommand(command));
  if (present()) return true;
  if (!hasCommand('apt-get')) {
    log(`${command} is missing and apt-get is not available: install the '${pkg}' package yourself`);
    return false;
  }
  log(`${command} is missing: apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', pkg], { stdio: 'ignore', env }).status === 0;
  if (!install()) {
    // A fresh container often has no package lists yet.
    spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
    install();
  }
  if (!present()) log(`could not install ${pkg} (need root?)`);
  return present();
}

/** Whether peak RSS can be measured (GNU time present). */
export function canMeasureRss() {
  return existsSync(GNU_TIME);
}

/**
 * Runs `command args` once and measures it. `stdout` is 'capture' (returned as a Buffer),
 * 'ignore', or a file path to write it to. Resolves to { wallS, cpuS, peakMB, code, stdout,
 * stderr }; cpuS and peakMB are NaN when GNU time is not installed.
 */
export async function measure(command, args, { cwd, stdout = 'ignore', env } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pubguard-bench-'));
  const rssFile = join(dir, 'rss');
  const timed = canMeasureRss();
  const argv = timed ? ['-f', '%M %U %S', '-o', rssFile, command, ...args] : args;
  const exe = timed ? GNU_TIME : command;
  const fd = stdout !== 'capture' && stdout !== 'ignore' ? openSync(stdout, 'w') : undefined;
  const out = [];
  const err = [];
  try {
    const started = process.hrtime.bigint();
    const child = spawn(exe, argv, { cwd, env: env ?? process.env, stdio: ['ignore', fd ?? (stdout === 'capture' ? 'pipe' : 'ignore'), 'pipe'] });
    child.stdout?.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const code = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : -1)));
    });
    const wallS = Number(process.hrtime.bigint() - started) / 1e9;
    await new Promise((resolve) => (child.stdout && !child.stdout.closed ? child.stdout.on('close', resolve) : resolve()));
    let peakMB = Number.NaN;
    let cpuS = Number.NaN;
    if (timed && existsSync(rssFile)) {
      // GNU time writes "Command exited with non-zero status N" before the numbers when N ≠ 0.
      const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
      const [kb, user, sys] = last.split(' ').map(Number);
      if (Number.isFinite(kb)) peakMB = (kb * 1024) / 1e6;
      if (Number.isFinite(user) && Number.isFinite(sys)) cpuS = user + sys;
    }
    return { wallS, cpuS, peakMB, code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a command to completion for its side effects; throws with its stderr when it fails. */
export function runOrThrow(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw new Error(`${command} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}
