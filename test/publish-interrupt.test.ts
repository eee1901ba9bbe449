import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { npmTarball } from '@pubguard/corpus';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, killAll, until } from '../packages/release/src/testing/processes.js';
import { PUBGUARD_BIN, runPubguard, withoutCiIdentity } from './helpers.js';
import { auditRecords } from './publish-helpers.js';

// `pubguard publish npm` stopped twice, or killed, while npm runs. The stand-in npm ignores
// SIGINT and SIGTERM, like a client busy uploading. pubguard runs as the leader of a process
// group, as a terminal or a CI runner starts a job, so the test can stop the group.
const root = mkdtempSync(join(tmpdir(), 'pubguard-e2e-interrupt-'));
const strays: number[] = [];

afterAll(() => {
  // Whatever a failed test left running: stopped by their own pids.
  killAll(strays);
  rmSync(root, { recursive: true, force: true });
});

const alive = isRunning;

const pidIn = (path: string): number | undefined => {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return text.endsWith('\n') ? Number(text.trim()) : undefined;
};

/** Starts `publish npm` with the stand-in npm, and returns once npm runs. */
async function publishing(name: string): Promise<{ cwd: string; tmp: string; child: ChildProcess; closed: Promise<number | null>; npm: number; output: () => string }> {
  const cwd = join(root, name);
  const tmp = join(cwd, 'tmp');
  mkdirSync(join(cwd, 'bin'), { recursive: true });
  mkdirSync(tmp);
  writeFileSync(join(cwd, 'acme-1.0.0.tgz'), await npmTarball('acme', '1.0.0', [{ path: 'index.js', content: 'module.exports = 1;\n' }]));
  // Something else's directory in the same TMPDIR must survive.
  mkdirSync(join(tmp, 'pubguard-not-ours'));
  const npmMarker = join(cwd, 'npm.pid');
  // Ignored signals stay ignored across exec.
  writeFileSync(join(cwd, 'bin/npm'), `#!/bin/sh\ntrap '' INT TERM\necho $$ > '${npmMarker}'\nexec sleep 60\n`);
  chmodSync(join(cwd, 'bin/npm'), 0o755);
  const child = spawn(process.execPath, [PUBGUARD_BIN, 'publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--audit', 'audit.jsonl', '-j', '0'], {
    cwd,
    env: { ...withoutCiIdentity(process.env), NO_COLOR: '1', TMPDIR: tmp, NPM_TOKEN: 'loopback-registry-token-0123456789', PATH: `${join(cwd, 'bin')}:${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(await until(() => pidIn(npmMarker) !== undefined), output).toBe(true);
  const npm = pidIn(npmMarker)!;
  strays.push(npm);
  expect(readdirSync(tmp).filter((d) => d.startsWith('pubguard-publish-') || d.startsWith('pubguard-npm-'))).toHaveLength(2);
  return { cwd, tmp, child, closed, npm, output: () => output };
}

describe('publish npm, stopped twice while npm ignores the signals', () => {
  it('kills npm, records the upload as interrupted and leaves no temporary directory behind', async () => {
    const run = await publishing('twice');
    run.child.kill('SIGINT');
    await sleep(200);
    run.child.kill('SIGTERM');
    expect(await run.closed, run.output()).toBe(143);
    expect(readdirSync(run.tmp)).toEqual(['pubguard-not-ours']);
    expect(await until(() => !alive(run.npm)), 'npm outlived pubguard').toBe(true);
    const records = auditRecords(join(run.cwd, 'audit.jsonl'));
    expect(records.slice(-2).map((r) => `${r.stage}:${r.outcome}`)).toEqual(['publish.upload-start:started', 'publish.upload:error']);
    expect(records.at(-1)).toMatchObject({ reason: expect.stringContaining('npm publish was killed: the upload may or may not have reached'), details: { exited: true, killed: true } });
    expect((await runPubguard(['audit', 'verify', 'audit.jsonl'], { cwd: run.cwd })).code).toBe(0);
    const show = await runPubguard(['audit', 'show', 'audit.jsonl'], { cwd: run.cwd });
    expect(show.code).toBe(0);
    expect(show.stdout).not.toContain('no upload record after it');
  }, 30_000);
});

describe('publish npm, killed during the upload', () => {
  it('leaves the upload-start record, which audit show explains, and npm dies with its process group', async () => {
    const run = await publishing('killed');
    // As a CI runner cancelling a job, or `timeout -s KILL`, kills what it started: no handler runs.
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.closed;
    expect(await until(() => !alive(run.npm)), "npm outlived its process group's SIGKILL").toBe(true);
    const records = auditRecords(join(run.cwd, 'audit.jsonl'));
    expect(records.at(-1)).toMatchObject({ stage: 'publish.upload-start', outcome: 'started', details: { registry: 'http://127.0.0.1:9/' } });
    expect((await runPubguard(['audit', 'verify', 'audit.jsonl'], { cwd: run.cwd })).code).toBe(0);
    const show = await runPubguard(['audit', 'show', 'audit.jsonl'], { cwd: run.cwd });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(
      `#${records.length} publish.upload-start has no upload record after it: that upload is still running, or its run was killed during it, so the files may or may not be on http://127.0.0.1:9/; look there before publishing them again`,
    );
  }, 30_000);
});
