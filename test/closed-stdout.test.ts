import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBGUARD_BIN, type ProcessResult, probe, writeAuditLog } from './helpers.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-epipe-'));

// `pubguard … | head -1`: the reader leaves before the command has written everything.
function runWithClosedStdout(args: string[]): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PUBGUARD_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: '', stderr }));
  });
}

describe('a closed standard output', () => {
  it('neither crashes the command nor changes its exit code', async () => {
    const refused = await runWithClosedStdout(['version', 'check', 'v1.2', '--no-audit']);
    expect(refused.stderr).not.toMatch(/EPIPE|at .*\(/);
    expect(refused.code).toBe(1);
    const plan = await runWithClosedStdout(['incident', 'npm', 'acme@1.2.3', '--audit', join(cwd, 'audit.jsonl')]);
    expect(plan.stderr).not.toMatch(/EPIPE|at .*\(/);
    expect(plan.code).toBe(0);
  });
});

describe('audit show into a reader that leaves after one line', () => {
  it('stops reading the log, quietly, with the exit code the log gives, and leaves no lock', async () => {
    const dir = join(cwd, 'show-head');
    const seen = probe(join(dir, 'probe'));
    const log = join(dir, 'audit.jsonl');
    // Far larger than what the command reads on after the reader has left, and than Node's own start.
    writeAuditLog(log, 6400, 10_000);
    const size = statSync(log).size;
    expect(size).toBeGreaterThan(64_000_000);
    const child = spawn(process.execPath, [...seen.nodeArgs, PUBGUARD_BIN, 'audit', 'show', log], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...seen.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // `| head -1`: one line read, then the pipe closed.
      let first = '';
      for await (const chunk of child.stdout.setEncoding('utf8')) {
        first += chunk as string;
        if (first.includes('\n')) break;
      }
      child.stdout.destroy();
      expect(first).toMatch(/^#1 2030-01-01T00:00:01\.000Z confirm PASSED by ann\n/);
      expect(await closed, stderr).toBe(0);
    } finally {
      // Gone already unless the test failed; an ended ChildProcess is not signalled again.
      child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
    // The log is read once whole, to find a line that is not JSON before anything is shown, and
    // then again to show it; a reader that left ends that second reading within a few pieces.
    const read = seen.bytesRead();
    expect(read).toBeGreaterThan(size);
    expect(read, `read ${read} bytes of a log of ${size}`).toBeLessThan(size * 1.25);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 60_000);
});
