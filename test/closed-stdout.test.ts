import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBGUARD_BIN, type ProcessResult } from './helpers.js';

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
