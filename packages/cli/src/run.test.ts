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
    expect(io.err()).toContain('Run `pubguard --help`');
  });

  it('suggests the command a typo was meant to be, and names only what was typed of it', async () => {
    const typo = memoryIO();
    expect((await run(['scna', 'AKIA-argument'], typo)).exitCode).toBe(2);
    expect(typo.err()).toBe("pubguard: unknown command 'scna'. Did you mean pubguard scan?\n");
    const second = memoryIO();
    expect((await run(['publish', 'nmp', 'pkg.tgz'], second)).exitCode).toBe(2);
    expect(second.err()).toBe("pubguard: unknown command 'publish nmp'. Did you mean pubguard publish npm?\n");
    const group = memoryIO();
    expect((await run(['rules'], group)).exitCode).toBe(2);
    expect(group.err()).toBe("pubguard: unknown command 'rules'. Did you mean one of: pubguard rules list, pubguard rules check?\n");
  });

  it('suggests the option a typo was meant to be', async () => {
    const io = memoryIO();
    expect((await run(['scan', '--fromat', 'json', '.'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("Unknown option '--fromat'. Did you mean '--format'?");
    const far = memoryIO();
    expect((await run(['scan', '--frobnicate', '.'], far)).exitCode).toBe(2);
    expect(far.err()).toContain("Unknown option '--frobnicate'\n");
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
