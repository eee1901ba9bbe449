import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-e2e-full-'));
mkdirSync(join(dir, 'clean'));
writeFileSync(join(dir, 'clean', 'a.js'), 'module.exports = 1;\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs pubguard with standard output or error on /dev/full, a disk that is always full. */
function onFullDisk(args: string[], which: 'stdout' | 'stderr'): { status: number | null; stdout: string; stderr: string } {
  const full = openSync('/dev/full', 'w');
  try {
    const stdio = which === 'stdout' ? (['ignore', full, 'pipe'] as const) : (['ignore', 'pipe', full] as const);
    const run = spawnSync(process.execPath, [PUBGUARD_BIN, ...args], { cwd: dir, encoding: 'utf8', stdio: [...stdio], env: { ...process.env, NO_COLOR: '1' } });
    return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
  } finally {
    closeSync(full);
  }
}

describe.skipIf(!existsSync('/dev/full'))('standard output or error on a full disk', () => {
  it('fails a clean scan with exit 2 and one line, no stack trace', () => {
    const run = onFullDisk(['scan', 'clean'], 'stdout');
    expect(run.stderr).toBe('pubguard: cannot write standard output: no space left on the device; the command itself finished with exit code 0, but its output is incomplete\n');
    expect(run.status).toBe(2);
  });

  it('exits 2 when only the summary on standard error is lost', () => {
    const run = onFullDisk(['scan', 'clean', '-f', 'json'], 'stderr');
    expect(JSON.parse(run.stdout)).toMatchObject({ findings: [], errors: [] });
    expect(run.status).toBe(2);
  });

  it('lets a gate finish and record its outcome, and says what it came to', () => {
    const audit = join(dir, 'audit.jsonl');
    const run = onFullDisk(['confirm', '--phrase', 'x', '--input', 'x', '--audit', audit], 'stdout');
    expect(run.stderr).toMatch(/^pubguard: cannot write standard output: no space left on the device; the command itself finished with exit code 0/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
    expect(readFileSync(audit, 'utf8')).toMatch(/"passed"/);
  });
});
