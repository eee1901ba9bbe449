import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-confirm-'));

describe('pubguard confirm', () => {
  it('passes only on the exact phrase', async () => {
    const ok = memoryIO({ cwd });
    expect((await run(['confirm', '--phrase', 'release', '--input', 'release'], ok)).exitCode).toBe(0);
    for (const input of ['Release', 'release ', ' release', '', 'releas']) {
      const io = memoryIO({ cwd });
      expect((await run(['confirm', '--phrase', 'release', '--input', input], io)).exitCode).toBe(1);
      expect(io.out()).toContain('refused');
    }
  });

  it('asks on a terminal when no input is given', async () => {
    const yes = memoryIO({ cwd, tty: true, answers: ['release'] });
    expect((await run(['confirm', '--phrase', 'release', '--no-audit'], yes)).exitCode).toBe(0);
    const no = memoryIO({ cwd, tty: true, answers: ['nope'] });
    expect((await run(['confirm', '--phrase', 'release', '--no-audit'], no)).exitCode).toBe(1);
  });

  it('fails without a terminal and without input', async () => {
    const io = memoryIO({ cwd });
    expect((await run(['confirm', '--phrase', 'release', '--no-audit'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('no --input given and no terminal');
  });

  it('prints JSON and never writes the input to the log', async () => {
    const token = `npm_${'x9Z'.repeat(12)}`;
    const io = memoryIO({ cwd, env: { USER: 'dev' } });
    expect((await run(['confirm', '--phrase', 'release', '--input', token, '-f', 'json'], io)).exitCode).toBe(1);
    expect(JSON.parse(io.out())).toEqual({ version: 1, stage: 'confirm', ok: false, reason: 'input did not match the phrase "release"' });
    expect(io.out()).not.toContain(token);
    expect(readFileSync(join(cwd, '.pubguard/audit.jsonl'), 'utf8')).not.toContain(token);
  });

  it('has --help and refuses a missing phrase', async () => {
    const h = memoryIO();
    expect((await run(['confirm', '-h'], h)).exitCode).toBe(0);
    expect(h.out()).toContain('--phrase PHRASE');
    // A workflow input written as ${{ }} inside `run:` becomes script text: help must never suggest it.
    expect(h.out()).not.toMatch(/--input "?\$\{\{/);
    expect(h.out()).toContain('--input "$CONFIRM"');
    const io = memoryIO({ cwd });
    expect((await run(['confirm', '--input', 'x'], io)).exitCode).toBe(2);
  });
});
