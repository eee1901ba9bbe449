import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { npmTarball, Prng } from '@pubguard/corpus';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../packages/release/src/testing/processes.js';
import { githubToken, PUBGUARD_BIN, probe, withoutCiIdentity, writeAuditLog } from './helpers.js';

// SIGTERM (docker stop, a cancelled CI job) and SIGHUP (a closed terminal) must stop pubguard
// as Ctrl-C does, and a second signal must not leave temp files behind.
const root = mkdtempSync(join(tmpdir(), 'pubguard-e2e-signals-'));
const strays: number[] = [];

// Every pubguard started: one a failed test left running is killed (a ChildProcess that has
// ended is not signalled again, so no other process can be hit).
const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  killAll(strays);
  rmSync(root, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  closed: Promise<number | null>;
  /** Standard output and error as they came. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  stdoutBytes: () => number;
}

function start(cwd: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Started {
  const child = spawn(process.execPath, [...nodeArgs, PUBGUARD_BIN, ...args], {
    cwd,
    env: { ...withoutCiIdentity(process.env), NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  let stdout = '';
  let stderr = '';
  let stdoutBytes = 0;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    // A whole audit log may come this way: only its length is kept past the first megabyte.
    stdoutBytes += Buffer.byteLength(d);
    if (stdout.length < 1_000_000) {
      stdout += d;
      output += d;
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    stderr += d;
  });
  child.stdin!.on('error', () => undefined);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, closed, output: () => output, stdout: () => stdout, stderr: () => stderr, stdoutBytes: () => stdoutBytes };
}

async function until(what: () => boolean): Promise<boolean> {
  for (let i = 0; i < 800 && !what(); i++) await sleep(25);
  return what();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(['SIGTERM', 'SIGHUP'] as const)('publish npm stopped by %s', (signal) => {
  it('stops npm, records the upload as interrupted and removes its temp files, exit 2', async () => {
    const cwd = join(root, `publish-${signal}`);
    const tmp = join(cwd, 'tmp');
    const marker = join(cwd, 'npm.pid');
    mkdirSync(join(cwd, 'bin'), { recursive: true });
    mkdirSync(tmp);
    writeFileSync(join(cwd, 'acme-1.0.0.tgz'), await npmTarball('acme', '1.0.0', [{ path: 'index.js', content: 'module.exports = 1;\n' }]));
    // An npm that would take a minute to upload, and stops on Ctrl-C as the real one does.
    writeFileSync(join(cwd, 'bin/npm'), `#!/bin/sh\necho $$ > '${marker}'\nexec sleep 60\n`);
    chmodSync(join(cwd, 'bin/npm'), 0o755);
    const run = start(cwd, ['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--audit', 'audit.jsonl', '-j', '0'], {
      TMPDIR: tmp,
      NPM_TOKEN: 'loopback-registry-token-0123456789',
      PATH: `${join(cwd, 'bin')}:${process.env.PATH ?? ''}`,
    });
    run.child.stdin!.end();
    expect(await until(() => existsSync(marker) && readFileSync(marker, 'utf8').endsWith('\n')), run.output()).toBe(true);
    const npmPid = Number(readFileSync(marker, 'utf8').trim());
    strays.push(npmPid);
    expect(readdirSync(tmp)).toHaveLength(2);
    run.child.kill(signal);
    expect(await run.closed, run.output()).toBe(2);
    expect(run.output()).toContain('interrupted');
    expect(readdirSync(tmp)).toEqual([]);
    expect(await until(() => !alive(npmPid))).toBe(true);
    const records = readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; outcome: string; reason: string });
    expect(records.at(-1)).toMatchObject({ stage: 'publish.upload', outcome: 'error', reason: expect.stringMatching(/interrupted/) });
  }, 30_000);
});

describe('scan --jobs 0 with a custom rule that runs away', () => {
  it('matches the rule on a worker: the main thread takes signals, and a second one ends the process at once', async () => {
    const cwd = join(root, 'runaway-jobs-0');
    mkdirSync(join(cwd, 't'), { recursive: true });
    // Backtracks for longer than any test runs, on one line of 200 letters.
    const evil = { id: 'evil', title: 'E', severity: 'high', keywords: ['aaa'], pattern: '((a+)+)b' };
    writeFileSync(join(cwd, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [evil] } }));
    writeFileSync(join(cwd, 't', 'f.txt'), 'a'.repeat(200));
    const seen = probe(join(cwd, 'probe'));
    const run = start(cwd, ['scan', 't', '-j', '0', '-v', '--max-artifact-seconds', '2'], seen.env, seen.nodeArgs);
    run.child.stdin!.end();
    if (run.child.pid !== undefined) strays.push(run.child.pid);
    expect(await until(seen.ready), run.output()).toBe(true);
    // Well into the rule's backtracking: reading a file of 200 bytes takes far less.
    await sleep(1500);
    run.child.kill('SIGINT');
    await sleep(500);
    run.child.kill('SIGINT');
    const code = await Promise.race([run.closed, sleep(10_000).then(() => 'still running')]);
    expect(code, run.output()).toBe(130);
    expect(run.stderr()).toMatch(/note: jobs 0 still starts one worker thread, for the custom rules of \S+pubguard\.config\.json: a rule that runs away there is stopped after 30 s/);
  }, 30_000);
});

// A zip on standard input larger than the 64 MiB kept in memory is spilled to a temp file.
const SPILLING = 65 * 1024 * 1024;

describe.each([
  ['SIGTERM', ['SIGTERM']],
  ['SIGHUP', ['SIGHUP']],
  // Two Ctrl-C sent at once may arrive as one; a different second signal always arrives, and
  // before the first has had time to remove anything.
  ['Ctrl-C, then SIGTERM at once', ['SIGINT', 'SIGTERM']],
] as const)('scan - of a spilling zip stopped by %s', (_name, signals) => {
  it('removes the spill file', async () => {
    const cwd = join(root, `spill-${signals.join('-')}`);
    const tmp = join(cwd, 'tmp');
    mkdirSync(tmp, { recursive: true });
    // Something else's directory in the same TMPDIR must survive.
    mkdirSync(join(tmp, 'pubguard-not-ours'));
    const run = start(cwd, ['scan', '-', '-j', '0'], { TMPDIR: tmp });
    const head = Buffer.alloc(1024 * 1024);
    head.write('PK\x03\x04', 'latin1');
    run.child.stdin!.write(head);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let sent = head.length; sent <= SPILLING; sent += zeros.length) run.child.stdin!.write(zeros);
    // Standard input stays open: the scan is still reading when the signal comes.
    const spills = (): string[] => readdirSync(tmp).filter((d) => d !== 'pubguard-not-ours');
    expect(await until(() => spills().some((d) => existsSync(join(tmp, d, 'nested.zip')))), run.output()).toBe(true);
    for (const s of signals) run.child.kill(s);
    const code = await Promise.race([run.closed, sleep(15_000).then(() => 'hung')]);
    run.child.stdin!.destroy();
    // A second signal leaves at once, with 128 plus the number of the one handled second.
    if (signals.length > 1) expect([130, 143], run.output()).toContain(code);
    else expect(code, run.output()).toBe(2);
    expect(readdirSync(tmp)).toEqual(['pubguard-not-ours']);
  }, 30_000);
});

describe('scan - stopped while its writer is silent', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s ends it at once, reporting the interruption, exit 2', async (signal) => {
    const cwd = join(root, `stdin-${signal}`);
    mkdirSync(cwd);
    // The pipe stays open with nothing more to read, as `producer | pubguard scan -` while the producer thinks.
    const run = start(cwd, ['scan', '--jobs', '0', '-'], {});
    run.child.stdin!.write('some text\n');
    if (run.child.pid !== undefined) strays.push(run.child.pid);
    // Loaded and reading: the scan's own start-up (some 50 ms, far more on a loaded runner) is
    // done before the signal comes, or Node's default action would end it before its handler is set.
    await sleep(2500);
    run.child.kill(signal);
    const code = await Promise.race([run.closed, sleep(5000).then(() => 'still running')]);
    expect(code).toBe(2);
    expect(run.output()).toContain('interrupted');
    run.child.stdin!.end();
  });
});

describe('scan - stopped with a line on its standard input not ended yet', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: the token in what arrived is reported with the interruption, exit 1', async (signal) => {
    const cwd = join(root, `stdin-partial-${signal}`);
    mkdirSync(cwd);
    const seen = probe(join(cwd, 'probe'), { stdin: true });
    const token = githubToken(new Prng(11));
    // Shorter than the first bytes that tell what the input is, and without its newline: the
    // writer is still in the middle of the line when the stop comes.
    const text = `export GITHUB_TOKEN=${token}`;
    const run = start(cwd, ['scan', '--jobs', '0', '--format', 'json', '-'], seen.env, seen.nodeArgs);
    run.child.stdin!.write(text);
    // The command has taken the text from the pipe, so it arrived before the signal.
    expect(await until(() => seen.ready() && seen.stdinBytes() === text.length), run.output()).toBe(true);
    run.child.kill(signal);
    const code = await Promise.race([run.closed, sleep(10_000).then(() => 'still running')]);
    run.child.stdin!.end();
    expect(code, run.output()).toBe(1);
    const report = JSON.parse(run.stdout()) as { findings: { ruleId: string; secret: string; location: { line: number; column: number } }[]; errors: { kind: string }[]; stats: { bytes: number } };
    expect(report.findings.map((f) => [f.ruleId, f.location.line, f.location.column])).toEqual([['github-classic-token', 1, 21]]);
    expect(report.findings[0]?.secret).not.toContain(token);
    expect(report.errors.map((e) => e.kind)).toEqual(['interrupted']);
    expect(report.stats.bytes).toBe(text.length);
  }, 30_000);
});

describe('audit commands stopped by Ctrl-C', () => {
  it('audit show stops reading and printing at the first one, exit 2, leaving no lock', async () => {
    const cwd = join(root, 'audit-show-int');
    mkdirSync(cwd);
    const log = join(cwd, 'audit.jsonl');
    writeAuditLog(log, 2000, 10_000);
    const size = statSync(log).size;
    const run = start(cwd, ['audit', 'show', log], {});
    run.child.stdin!.end();
    // A reader that stops reading once the first lines have come (a pager the user has not
    // scrolled): the command, early in the log, waits for it to take what was printed.
    const printing = new Promise<void>((resolve) =>
      run.child.stdout!.once('data', () => {
        run.child.stdout!.pause();
        resolve();
      }),
    );
    await printing;
    run.child.kill('SIGINT');
    // The reader reads on, so that a command that went on would print the whole log and end.
    run.child.stdout!.resume();
    expect(await Promise.race([run.closed, sleep(20_000).then(() => 'still running')]), run.stderr()).toBe(2);
    expect(run.stderr()).toMatch(/^pubguard audit show: interrupted before \S+audit\.jsonl was read to its end: the \d+ records? shown are not all of them\n$/);
    // What was printed before the stop, and what was waiting for the reader: nothing like the log.
    expect(run.stdoutBytes(), `${run.stdoutBytes()} bytes printed of a log of ${size}`).toBeLessThan(size / 4);
    expect(readdirSync(cwd).filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 60_000);

  it('audit verify stops waiting for the log lock at the first one, exit 2, and leaves the lock to its holder', async () => {
    const cwd = join(root, 'audit-verify-int');
    mkdirSync(cwd);
    const seen = probe(join(cwd, 'probe'));
    const log = join(cwd, 'audit.jsonl');
    writeAuditLog(log, 3, 10);
    // A gate of this host, alive (this process), holds the log's lock: a reader waits up to 30 s.
    const held = `${JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), nonce: 'held-by-the-test' })}\n`;
    writeFileSync(`${log}.lock`, held);
    const run = start(cwd, ['audit', 'verify', log], seen.env, seen.nodeArgs);
    run.child.stdin!.end();
    expect(await until(seen.ready), run.output()).toBe(true);
    run.child.kill('SIGINT');
    const code = await Promise.race([run.closed, sleep(10_000).then(() => 'still waiting')]);
    expect(code, run.output()).toBe(2);
    expect(run.output()).toMatch(/^pubguard audit verify: interrupted before \S+audit\.jsonl was read to its end: it was not verified\n$/);
    expect(readFileSync(`${log}.lock`, 'utf8')).toBe(held);
    expect(readdirSync(cwd).filter((f) => f.includes('.lock'))).toEqual(['audit.jsonl.lock']);
  }, 30_000);
});
