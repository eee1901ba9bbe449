import { cp, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProcessResult, runNode } from './helpers.js';
import { checksummedToken } from './publish-helpers.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(REPO, 'scripts', 'scan.mjs');

/** Runs `pnpm scan`'s script (what `corepack pnpm scan ARGS` runs after the build). */
function runScript(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runNode(SCRIPT, args, { env });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-scan-script-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pnpm scan', () => {
  it('scans the bundled sample when only options are given, --config and --shard included', async () => {
    const config = join(dir, 'pubguard.config.json');
    await writeFile(config, '{}\n');
    const result = await runScript(['--config', config, '--shard', '1/1', '-q', '-j', '0', '--format', 'json']);
    expect(result.stderr).toContain('no path given, scanning the bundled sample');
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as { findings: unknown[] }).findings.length).toBeGreaterThan(0);
  });

  it('scans only the path given after options that take values', async () => {
    const config = join(dir, 'pubguard.config.json');
    await writeFile(config, '{}\n');
    await writeFile(join(dir, 'clean.txt'), 'nothing here\n');
    const result = await runScript(['-c', config, '-q', join(dir, 'clean.txt')]);
    expect(result.stderr).not.toContain('bundled sample');
    expect(result.code).toBe(0);
  });

  it('takes relative paths from the directory pnpm was run in', async () => {
    await writeFile(join(dir, 'pubguard.config.json'), '{}\n');
    await writeFile(join(dir, 'leak.env'), `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    const result = await runScript(['-c', 'pubguard.config.json', '-q', '-f', 'json', 'leak.env'], { INIT_CWD: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as { findings: { path: string }[] }).findings.map((f) => f.path)).toEqual(['leak.env']);
  });

  it("keeps the sample generator's messages off standard output, where the report goes", async () => {
    const sample = join(dir, 'root');
    await cp(join(REPO, 'scripts'), join(sample, 'scripts'), { recursive: true });
    await symlink(join(REPO, 'corpus'), join(sample, 'corpus'));
    await symlink(join(REPO, 'packages'), join(sample, 'packages'));
    const result = await runNode(join(sample, 'scripts', 'scan.mjs'), ['-q', '-j', '0', '-f', 'json'], { cwd: sample, env: { INIT_CWD: '' } });
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as { findings: unknown[] }).findings.length).toBeGreaterThan(0);
  });

  it('makes the sample again once the rules or the generator were rebuilt after it', async () => {
    const root = join(dir, 'root');
    await cp(join(REPO, 'scripts'), join(root, 'scripts'), { recursive: true });
    await symlink(join(REPO, 'corpus'), join(root, 'corpus'));
    await mkdir(join(root, 'packages', 'rules', 'generated'), { recursive: true });
    await symlink(join(REPO, 'packages', 'cli'), join(root, 'packages', 'cli'));
    const rules = join(root, 'packages', 'rules', 'generated', 'builtin.json');
    await cp(join(REPO, 'packages', 'rules', 'generated', 'builtin.json'), rules);
    const scan = async (): Promise<string[]> => {
      const result = await runNode(join(root, 'scripts', 'scan.mjs'), ['-q', '-j', '0', '-f', 'json'], { cwd: root, env: { INIT_CWD: '' } });
      expect(result.code).toBe(1);
      return (JSON.parse(result.stdout) as { findings: { path: string }[] }).findings.map((f) => f.path);
    };
    await scan();
    // A file the generator never writes: it stays while the sample is kept, and goes when it is made again.
    const marker = join(root, '.cache', 'sample', 'marker.env');
    await writeFile(marker, `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    expect((await scan()).some((p) => p.endsWith('marker.env'))).toBe(true);
    const later = new Date(Date.now() + 60_000);
    await utimes(rules, later, later);
    expect((await scan()).some((p) => p.endsWith('marker.env'))).toBe(false);
  });
}, 60_000);
