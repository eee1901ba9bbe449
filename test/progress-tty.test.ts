import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

// Writes 24 MiB to stdout, 1 MiB every 40 ms: a scan of it lasts about a second on any
// machine, well past the first progress tick (250 ms), so a line that does not show is
// one that was not drawn, not one the scan outran.
const SLOW_WRITER = `const b=Buffer.alloc(1<<20,'const value = compute(alpha, beta) // ordinary text\\n');let n=0;const t=setInterval(()=>{process.stdout.write(b);if(++n===24){clearInterval(t);process.stdout.end();}},40);`;

/**
 * Runs `pubguard ARGS -` on the slow writer's output. On a terminal, `script` (util-linux,
 * essential on Debian) gives it a real pseudo-terminal and `out` is the screen; otherwise its
 * stdout and stderr are pipes, kept apart.
 */
function scanSlowInput(args: string[], terminal: boolean): Promise<{ code: number | null; out: string; err: string }> {
  const pipeline = `${quote(process.execPath)} -e ${quote(SLOW_WRITER)} | ${[process.execPath, PUBGUARD_BIN, 'scan', ...args, '-'].map(quote).join(' ')}`;
  const [file, argv] = terminal ? ['script', ['-qefc', pipeline, '/dev/null']] : ['sh', ['-c', pipeline]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end();
  });
}

describe('progress line', () => {
  it('shows on a terminal and is cleared before the summary', async () => {
    const { code, out } = await scanSlowInput(['--jobs', '1'], true);
    expect(code).toBe(0);
    expect(out).toMatch(/\rscanning|\r\x1b\[2Kscanning/);
    expect(out).toMatch(/scanning 1 artifacts?, \d+ files?, [\d.]+ [kMG]?B \(\d+ MB\/s\) -/);
    expect(out).toMatch(/\x1b\[2KScanned 1 artifact, 1 file, 25\.2 MB in [\d.]+ s: 0 findings, 0 errors/);
  });

  it('is absent when stderr is not a terminal, and with --quiet on one', async () => {
    const piped = await scanSlowInput(['--jobs', '1'], false);
    expect(piped.code).toBe(0);
    expect(piped.err).toBe('');
    expect(piped.out).not.toContain('scanning');
    expect(piped.out).toContain('Scanned 1 artifact, 1 file, 25.2 MB');
    const quiet = await scanSlowInput(['--quiet', '--jobs', '1'], true);
    expect(quiet.code).toBe(0);
    expect(quiet.out).not.toContain('scanning');
  });
});
