import { describe, expect, it } from 'vitest';
import { UsageError } from '../io.js';
import { memoryIO } from '../testing.js';
import { rulesCheckCommand, rulesListCommand } from './rules.js';

describe('pubguard rules list', () => {
  it('lists every built-in rule with its severity', async () => {
    const io = memoryIO();
    expect((await rulesListCommand.run([], io)).exitCode).toBe(0);
    expect(io.out()).toMatch(/^github-classic-token\s+critical\s+GitHub token/m);
    expect(io.out()).toMatch(/^\d+ rules\n$/m);
  });
  it('puts each heading above its column', async () => {
    const io = memoryIO();
    await rulesListCommand.run([], io);
    const [head, row] = io.out().split('\n');
    for (const heading of ['SEVERITY', 'TITLE']) {
      const at = head!.indexOf(heading);
      expect(row![at - 1]).toBe(' ');
      expect(row![at]).not.toBe(' ');
    }
  });
  it('prints JSON with --format json', async () => {
    const io = memoryIO();
    expect((await rulesListCommand.run(['--format', 'json'], io)).exitCode).toBe(0);
    const rows = JSON.parse(io.out()) as Array<{ id: string; severity: string; title: string }>;
    expect(rows.find((r) => r.id === 'npm-access-token')).toMatchObject({ severity: 'critical', title: 'npm access token' });
  });
  it('refuses an unknown format or option as a usage error (exit 2)', async () => {
    await expect(rulesListCommand.run(['-f', 'xml'], memoryIO())).rejects.toThrow(UsageError);
    await expect(rulesListCommand.run(['-f', 'xml'], memoryIO())).rejects.toThrow("unknown format 'xml'");
    await expect(rulesCheckCommand.run(['--bogus'], memoryIO())).rejects.toThrow(UsageError);
  });
});

describe('pubguard rules check', () => {
  it('passes on the built-in rules', async () => {
    const io = memoryIO();
    expect((await rulesCheckCommand.run([], io)).exitCode).toBe(0);
    expect(io.out()).toMatch(/^rules check: \d+ rules, no problems\n$/);
  });
  it('has help', async () => {
    expect(rulesCheckCommand.name).toBe('rules check');
    expect(rulesCheckCommand.help).toContain('Usage: pubguard rules check');
    expect(rulesListCommand.help).toContain('Usage: pubguard rules list');
  });
});
