import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';

// Root reads anything, so as root the scan runs without the capabilities that bypass file
// permissions (setpriv, util-linux); the test then runs in root CI as well.
const asRoot = process.getuid?.() === 0;
const prefix = asRoot ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] : [];

describe('unreadable files and directories', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-perm-'));
    await mkdir(join(dir, 'tree', 'closed'), { recursive: true });
    await writeFile(join(dir, 'tree', 'closed', 'x.txt'), 'x');
    await writeFile(join(dir, 'tree', 'a.txt'), 'a');
    await writeFile(join(dir, 'tree', 'ok.txt'), 'ok');
    await chmod(join(dir, 'tree', 'closed'), 0o000);
    await chmod(join(dir, 'tree', 'a.txt'), 0o000);
  });
  afterAll(async () => {
    await chmod(join(dir, 'tree', 'closed'), 0o755);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports each with an actionable message, scans the rest and exits 2', () => {
    const [cmd, ...args] = [...prefix, process.execPath, PUBGUARD_BIN, 'scan', '--format', 'json', 'tree'];
    const run = spawnSync(cmd as string, args, { cwd: dir, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    const report = JSON.parse(run.stdout) as { errors: Array<{ path: string; kind: string; message: string }>; stats: { files: number } };
    expect(report.errors.map((e) => [e.path, e.kind])).toEqual([
      ['tree/a.txt', 'unreadable'],
      ['tree/closed', 'unreadable'],
    ]);
    for (const e of report.errors) expect(e.message).toMatch(/permission denied: check the permissions of the path and of the directories above it/);
    expect(report.stats.files).toBe(1);
    expect(run.status).toBe(2);
  });
});
