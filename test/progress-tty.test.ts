import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN, runPubguard } from './helpers.js';

// `script` (util-linux, essential on Debian) gives the command a real pseudo-terminal.
function runOnTerminal(args: string[], cwd: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, PUBGUARD_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd, env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' } });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
    child.stdin.end();
  });
}

describe('progress line', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-tty-'));
    // Enough bytes that the scan outlasts the first progress tick on any machine.
    const line = 'const value = computeSomething(alpha, beta, gamma) // ordinary source text\n';
    await writeFile(join(dir, 'big.js'), line.repeat(Math.ceil(120_000_000 / line.length)));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows on a terminal and is cleared before the summary', async () => {
    const { code, screen } = await runOnTerminal(['scan', '--jobs', '1', 'big.js'], dir);
    expect(code).toBe(0);
    expect(screen).toMatch(/\rscanning|\r\x1b\[2Kscanning/);
    expect(screen).toMatch(/scanning 1 artifacts?, \d+ files?, [\d.]+ [kMG]?B \(\d+ MB\/s\) big\.js/);
    expect(screen).toMatch(/Scanned 1 artifact, 1 file, 12\d\.\d MB in [\d.]+ s: 0 findings, 0 errors/);
  });

  it('is absent when stderr is not a terminal, and with --quiet on one', async () => {
    const piped = await runPubguard(['scan', '--jobs', '1', 'big.js'], { cwd: dir });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).not.toContain('scanning');
    const quiet = await runOnTerminal(['scan', '--quiet', '--jobs', '1', 'big.js'], dir);
    expect(quiet.screen).not.toContain('scanning');
  });
});
