import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

// Linux file names are bytes: one that is not valid UTF-8 has no exact JavaScript string.
describe.skipIf(process.platform !== 'linux')('scan of a directory holding a file name that is not valid UTF-8', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-e2e-names-'));
    await writeFile(Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xff, 0xfe]), Buffer.from('.js')]), `a = '${githubToken(new Prng(54))}';\n`);
    // Enough other files for the workers' bulk reads to take part.
    for (let i = 0; i < 40; i++) await writeFile(join(dir, `f${i}.js`), `x${i}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const jobs of ['0', '2']) {
    it(`scans the file and shows its name as latin1 (--jobs ${jobs})`, async () => {
      const run = await runPubguard(['scan', '.', '-q', '-f', 'json', '--jobs', jobs], { cwd: dir });
      const report = JSON.parse(run.stdout) as { findings: { path: string }[]; errors: unknown[] };
      expect(report.errors).toEqual([]);
      expect(report.findings.map((f) => f.path)).toEqual(['bad\u00ff\u00fe.js']);
      expect(run.code).toBe(1);
    });
  }
});
