import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPubguard } from './helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-named-'));
  await mkdir(join(dir, 'dist'), { recursive: true });
  // What a failed download leaves under the wheel's name.
  await writeFile(join(dir, 'dist', 'fake-1.0.0-py3-none-any.whl'), '<html><body>404 Not Found</body></html>\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan of a file named like an archive that is not one', () => {
  it('exits 2 with a corrupt error when the file is given by name, and 0 when a directory walk finds it', async () => {
    const named = await runPubguard(['scan', '--format', 'json', 'dist/fake-1.0.0-py3-none-any.whl'], { cwd: dir });
    expect(named.code).toBe(2);
    const report = JSON.parse(named.stdout) as { errors: { path: string; kind: string; message: string }[]; stats: { files: number } };
    expect(report.errors).toEqual([
      {
        path: 'dist/fake-1.0.0-py3-none-any.whl',
        kind: 'corrupt',
        message: 'named like a wheel (zip) but it is no archive: its first bytes look like text/HTML (a web page or an error page saved under that name?); scanned as a plain file',
      },
    ]);
    expect(report.stats.files).toBe(1);
    const walked = await runPubguard(['scan', 'dist'], { cwd: dir });
    expect(walked.code).toBe(0);
  });
});
