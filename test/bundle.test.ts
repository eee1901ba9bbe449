import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';

const run = promisify(execFile);
const CLI_DIR = dirname(dirname(PUBGUARD_BIN));

/** Runs a copy of the command and returns its exit code and output, whatever the code. */
async function runCopy(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the bundle bin/pubguard.js runs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-bundle-test-'));
    // A copy of the package layout the command needs: bin/, bundle/, generated/, package.json.
    for (const part of ['bin', 'bundle', 'generated', 'package.json']) await cp(join(CLI_DIR, part), join(dir, part), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs from its own files: a copy of the package works without the workspace', async () => {
    const result = await runCopy(join(dir, 'bin', 'pubguard.js'), ['rules', 'list']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/github-classic-token/);
  });

  it('says to build when a chunk of the bundle is missing, without a stack trace', async () => {
    const scanChunk = (await readdir(join(dir, 'bundle'))).find((f) => /^scan-.*\.js$/.test(f));
    expect(scanChunk).toBeDefined();
    await rm(join(dir, 'bundle', scanChunk as string));
    const result = await runCopy(join(dir, 'bin', 'pubguard.js'), ['scan', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('pubguard: packages/cli/bundle/ is missing or incomplete; build it with `corepack pnpm build`\n');
  });

  it('says to build when there is no bundle at all', async () => {
    await rm(join(dir, 'bundle'), { recursive: true, force: true });
    const result = await runCopy(join(dir, 'bin', 'pubguard.js'), ['--version']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bundle\/ is missing or incomplete; build it with `corepack pnpm build`/);
  });
});
