import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs a README's example as written, in a fresh folder holding one planted AWS key, and returns what it printed. */
async function runExample(code: string | undefined, folder: string): Promise<string> {
  expect(code).toBeDefined();
  const work = join(root, folder);
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'dist'), { recursive: true });
  try {
    await writeFile(join(work, 'dist', 'config.js'), `module.exports = { key: "AKIA${'Q2WSX3EDC4RFV5TG'}" };\n`);
    await writeFile(join(work, 'example.mjs'), code ?? '');
    return (await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: work })).stdout;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// The README's example must keep working: run it as written, against the built package.
describe('README example', () => {
  it('runs and reports a planted secret', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const stdout = await runExample(/```js\n([\s\S]*?)```/.exec(readme)?.[1], '.readme-example');
    expect(stdout).toMatch(/^aws-access-key-id dist\/config\.js:1:26 AKIA…/m);
    expect(stdout).toMatch(/1 files, \d+ bytes, 1 findings/);
  });

  it("of the repository's README runs too", async () => {
    const readme = await readFile(join(root, '..', '..', 'README.md'), 'utf8');
    const stdout = await runExample(/## Library use[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1], '.readme-example-root');
    expect(stdout).toBe('aws-access-key-id dist/config.js\n');
  });
});
