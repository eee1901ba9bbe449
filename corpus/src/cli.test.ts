import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './cli.js';

const root = await mkdtemp(join(tmpdir(), 'pubguard-corpus-cli-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s));
  return { code, out, err };
}

describe('corpus cli', () => {
  it('explains usage mistakes with exit 2 and no stack trace', async () => {
    for (const argv of [[], ['make', 'x'], ['generate'], ['generate', 'a', 'b'], ['generate', 'x', '--seed', '-1'], ['generate', 'x', '--bogus']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/^corpus: [\s\S]+\n\nUsage:/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect((await run('--help')).code).toBe(0);
  });

  it('refuses to delete a directory it did not write, even with --clean', async () => {
    const dir = join(root, 'precious');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    const r = await run('generate', dir, '--clean');
    expect(r.code).toBe(2);
    expect(r.err).toContain('refusing to delete');
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('generates decoys, then replaces them with --clean only', async () => {
    const dir = join(root, 'set');
    const first = await run('generate', dir, '--decoys', '--seed', '3');
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain('decoys:');
    expect((await run('generate', dir, '--decoys')).code).toBe(2);
    await writeFile(join(dir, 'stale.txt'), 'old');
    expect((await run('generate', dir, '--decoys', '--clean')).code).toBe(0);
    expect(existsSync(join(dir, 'stale.txt'))).toBe(false);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { seed: number; findings: unknown[] };
    expect(manifest.seed).toBe(1);
    expect(manifest.findings).toEqual([]);
  });
});
