import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-e2e-stdin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `pubguard scan -` with standard input opened on `path` ('ignore': Node's /dev/null, as for a closed descriptor). */
function scanStdin(stdin: number | 'ignore'): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [PUBGUARD_BIN, 'scan', '-', '-f', 'json'], { cwd: dir, encoding: 'utf8', stdio: [stdin, 'pipe', 'pipe'] });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('scan - with a standard input that holds no stream', () => {
  it('reports a directory as unreadable, not as a clean empty file', () => {
    const fd = openSync(dir, 'r');
    const run = (() => {
      try {
        return scanStdin(fd);
      } finally {
        closeSync(fd);
      }
    })();
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout).errors).toEqual([{ path: '-', kind: 'unreadable', message: expect.stringMatching(/^standard input is a directory/) }]);
  });

  it.skipIf(process.platform === 'win32')('reports a closed standard input (read as /dev/null) as not-found', () => {
    const run = scanStdin('ignore');
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout).errors).toEqual([{ path: '-', kind: 'not-found', message: expect.stringMatching(/^no standard input/) }]);
  });
});
