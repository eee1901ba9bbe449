import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { npmTarball } from '@pubguard/corpus';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';

// `pubguard publish npm` interrupted twice while npm runs: the second Ctrl-C exits at once,
// and the private copies and npm's userconfig directory must not outlive it.
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-interrupt-'));
const tmp = join(cwd, 'tmp');
const marker = join(cwd, 'npm.pid');
let npmPid: number | undefined;

afterAll(() => {
  // The stand-in npm ignores SIGINT, like a client busy uploading: stop it by its own pid.
  if (npmPid !== undefined) {
    try {
      process.kill(npmPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(cwd, { recursive: true, force: true });
});

describe('publish npm, Ctrl-C twice', () => {
  it('leaves no temporary directory behind', async () => {
    mkdirSync(tmp);
    mkdirSync(join(cwd, 'bin'));
    writeFileSync(join(cwd, 'acme-1.0.0.tgz'), await npmTarball('acme', '1.0.0', [{ path: 'index.js', content: 'module.exports = 1;\n' }]));
    // Something else's directory in the same TMPDIR must survive.
    mkdirSync(join(tmp, 'pubguard-not-ours'));
    writeFileSync(join(cwd, 'bin/npm'), `#!/bin/sh\ntrap '' INT\necho $$ > '${marker}'\nexec sleep 60\n`);
    chmodSync(join(cwd, 'bin/npm'), 0o755);
    const child = spawn(process.execPath, [PUBGUARD_BIN, 'publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--audit', 'audit.jsonl', '-j', '0'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp, NPM_TOKEN: 'loopback-registry-token-0123456789', PATH: `${join(cwd, 'bin')}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; i < 400 && !existsSync(marker); i++) await sleep(25);
    expect(existsSync(marker), stderr).toBe(true);
    npmPid = Number(readFileSync(marker, 'utf8').trim());
    expect(readdirSync(tmp).filter((d) => d.startsWith('pubguard-publish-') || d.startsWith('pubguard-npm-'))).toHaveLength(2);
    child.kill('SIGINT');
    await sleep(200);
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(readdirSync(tmp)).toEqual(['pubguard-not-ours']);
  }, 30_000);
});
