import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

// The README's example must keep working: run it as written, against the built package.
describe('README example', () => {
  it('runs and reports a planted secret', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const work = join(root, '.readme-example');
    await rm(work, { recursive: true, force: true });
    await mkdir(join(work, 'dist'), { recursive: true });
    try {
      await writeFile(join(work, 'dist', 'config.js'), `module.exports = { key: "AKIA${'Q2WSX3EDC4RFV5TG'}" };\n`);
      await writeFile(join(work, 'example.mjs'), code ?? '');
      const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: work });
      expect(stdout).toMatch(/^aws-access-key-id dist\/config\.js:1:26 AKIA…/m);
      expect(stdout).toMatch(/1 files, \d+ bytes, 1 findings/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("of the repository's README runs too", async () => {
    const readme = await readFile(join(root, '..', '..', 'README.md'), 'utf8');
    const code = /## Library use[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const work = join(root, '.readme-example-root');
    await rm(work, { recursive: true, force: true });
    await mkdir(join(work, 'dist'), { recursive: true });
    try {
      await writeFile(join(work, 'dist', 'config.js'), `module.exports = { key: "AKIA${'Q2WSX3EDC4RFV5TG'}" };\n`);
      await writeFile(join(work, 'example.mjs'), code ?? '');
      const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: work });
      expect(stdout).toBe('aws-access-key-id dist/config.js\n');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
