import { describe, expect, it } from 'vitest';
import { run } from './run.js';
import { memoryIO } from './testing.js';

describe('run', () => {
  it('prints the version', async () => {
    const io = memoryIO();
    expect((await run(['--version'], io)).exitCode).toBe(0);
    expect(io.out()).toMatch(/^pubguard \d+\.\d+\.\d+\n$/);
  });

  it('treats a missing command as a usage error', async () => {
    const io = memoryIO();
    expect((await run([], io)).exitCode).toBe(2);
    expect(io.out()).toContain('Usage: pubguard <command>');
  });

  it('names an unknown command and exits 2', async () => {
    const io = memoryIO();
    expect((await run(['frobnicate'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("unknown command 'frobnicate'");
  });
});

describe('fatal errors', () => {
  it('never echo a password embedded in a URL', async () => {
    const io = memoryIO({ env: { NPM_TOKEN: 'x' } });
    const result = await run(['publish', 'npm', 'pkg.tgz', '--registry', 'https://bob:hunter2secret@bad host/', '--tag-name', 'v1.0.0', '--dry-run'], io);
    expect(result.exitCode).toBe(2);
    expect(io.err()).toContain('https://bob:***@bad host/');
    expect(io.err()).not.toContain('hunter2secret');
  });
});
