import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { base62Crc32, type Prng } from '@pubguard/corpus';

/** Path of the built `pubguard` executable (the test command builds before testing). */
export const PUBGUARD_BIN = fileURLToPath(new URL('../packages/cli/bin/pubguard.js', import.meta.url));

/** What a finished process left behind. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How `runNode` runs a script: working directory, variables added to the environment, stdin. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: Uint8Array;
  /** Runs it under a file size limit of this many KiB (`ulimit -f`), so its writes past it fail part-way. */
  fileSizeLimitKiB?: number;
}

// Who CI says started the run becomes the release initiator of approvals verify and publish:
// a test names the people in its policies itself, whatever CI runs it.
const CI_IDENTITY = ['GITHUB_ACTIONS', 'GITHUB_ACTOR', 'GITHUB_TRIGGERING_ACTOR', 'GITLAB_CI', 'GITLAB_USER_LOGIN'];

/** The environment without the variables that name who started a CI run. */
export function withoutCiIdentity(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !CI_IDENTITY.includes(k)));
}

/** Runs `pubguard` as a real process, the way a user or CI would. */
export function runPubguard(args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runNode(PUBGUARD_BIN, args, options);
}

/** Runs `pubguard scan TARGET -j 0` in `cwd` with every report format, and returns the run and each output's text (stdout, stderr and the four report files) by name. */
export async function scanEveryFormat(target: string, cwd: string): Promise<{ run: ProcessResult; outputs: Record<string, string> }> {
  const files = { json: 'report.json', sarif: 'report.sarif', github: 'report.github.txt', junit: 'report.xml' };
  const run = await runPubguard(['scan', target, '-j', '0', ...Object.entries(files).flatMap(([format, file]) => ['-f', format, '-o', file]), '-f', 'text'], { cwd });
  const outputs: Record<string, string> = { stdout: run.stdout, stderr: run.stderr };
  for (const file of Object.values(files)) outputs[file] = readFileSync(join(cwd, file), 'utf8');
  return { run, outputs };
}

/** Runs a Node script as a real process, and collects what it printed and its exit code. */
export function runNode(script: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const [command, argv] =
      options.fileSizeLimitKiB === undefined
        ? [process.execPath, [script, ...args]]
        : ['bash', ['-c', `ulimit -f ${options.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, script, ...args]];
    const child = spawn(command, argv, {
      cwd: options.cwd,
      env: { ...withoutCiIdentity(process.env), NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input);
  });
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fake GitHub classic token with a valid checksum (the rule rejects any other), from a seeded generator. */
export function githubToken(rng: Prng): string {
  let body = '';
  for (let i = 0; i < 30; i++) body += BASE62[rng.int(0, 61)];
  return `ghp_${body}${base62Crc32(body)}`;
}

/**
 * Writes an audit log of `count` chained records, each with a reason of about `reasonBytes`
 * bytes, as gates would have appended them (the key order and hashes of the release package),
 * without appending them one by one: a log of many megabytes in a fraction of a second.
 */
export function writeAuditLog(path: string, count: number, reasonBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    let prev = '0'.repeat(64);
    let pending: string[] = [];
    for (let seq = 1; seq <= count; seq++) {
      const record = { seq, time: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(), stage: 'confirm', outcome: 'passed', actor: 'ann', subjects: [], reason: `typed the phrase ${seq} ${'x'.repeat(reasonBytes)}`, prev };
      const line = JSON.stringify({ ...record, hash: sha256Hex(JSON.stringify(record)) });
      prev = sha256Hex(line);
      pending.push(line, '\n');
      if (pending.length >= 2000) {
        writeSync(fd, pending.join(''));
        pending = [];
      }
    }
    writeSync(fd, pending.join(''));
  } finally {
    closeSync(fd);
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// Loaded into a `pubguard` process with --require: it changes nothing the command does, and
// leaves in TEST_PROBE_DIR what a test must know of the process from outside.
const PROBE_SCRIPT = `'use strict';
const { appendFileSync, readFileSync, writeFileSync } = require('node:fs');
const dir = process.env.TEST_PROBE_DIR;
// "ready": the command's stop handlers are set, so a signal now stops the command instead of
// ending the process by Node's default action; the command runs from then on.
const timer = setInterval(() => {
  if (process.listenerCount('SIGINT') === 0) return;
  clearInterval(timer);
  writeFileSync(dir + '/ready', '');
}, 5);
timer.unref();
// "io": the kernel's count of bytes the process read (rchar), as it exits.
process.on('exit', () => writeFileSync(dir + '/io', readFileSync('/proc/self/io', 'utf8')));
// "stdin": a line per chunk of standard input as the command takes it, with its length.
if (process.env.TEST_PROBE_STDIN === '1') {
  const stdin = process.stdin;
  const iterate = stdin[Symbol.asyncIterator].bind(stdin);
  stdin[Symbol.asyncIterator] = () => {
    const it = iterate();
    return {
      async next() {
        const r = await it.next();
        if (!r.done) appendFileSync(dir + '/stdin', r.value.length + '\\n');
        return r;
      },
      return: (value) => it.return(value),
      throw: (error) => it.throw(error),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
}
`;

/** Node's arguments and environment that run `pubguard` with a probe, and what the probe saw. */
export interface Probe {
  /** Node's arguments before the script: `--require` of the probe. */
  nodeArgs: string[];
  /** Variables to add to the process's environment. */
  env: Record<string, string>;
  /** Whether the command runs, its stop handlers set. */
  ready: () => boolean;
  /** Bytes of standard input the command has taken so far (with `stdin`). */
  stdinBytes: () => number;
  /** Bytes the process read, by the kernel's count (rchar), once it has exited. */
  bytesRead: () => number;
}

/** A probe writing into the new directory `dir`; with `stdin`, it also counts what the command takes of standard input. */
export function probe(dir: string, options: { stdin?: boolean } = {}): Probe {
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'probe.cjs');
  writeFileSync(script, PROBE_SCRIPT);
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  return {
    nodeArgs: ['--require', script],
    env: { TEST_PROBE_DIR: dir, ...(options.stdin ? { TEST_PROBE_STDIN: '1' } : {}) },
    ready: () => read('ready') !== undefined,
    stdinBytes: () => (read('stdin') ?? '').split('\n').reduce((sum, n) => sum + Number(n || 0), 0),
    bytesRead: () => {
      const io = read('io');
      const rchar = io === undefined ? undefined : /^rchar: (\d+)$/m.exec(io)?.[1];
      if (rchar === undefined) throw new Error(`the probe in ${dir} saw no exit`);
      return Number(rchar);
    },
  };
}
