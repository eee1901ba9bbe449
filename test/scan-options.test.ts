import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkOverlap } from '@pubguard/engine';
import { Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../packages/cli/src/commands/scan.js';
import { githubToken, runPubguard } from './helpers.js';

let dir: string;
const token = githubToken(new Prng(808));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-scan-options-'));
  await mkdir(join(dir, 'd1'));
  await writeFile(join(dir, 'd1', 'x.js'), `const t = '${token}';\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What a usage error prints on stderr. */
const usage = (message: string) => `pubguard scan: ${message}\nRun \`pubguard scan --help\` for usage.\n`;

describe('pubguard scan --chunk-size', () => {
  it('takes no chunk smaller than the context a chunk is matched with on each side', () => {
    expect(MIN_CHUNK_SIZE).toBeGreaterThanOrEqual(chunkOverlap());
  });

  it.each(['0', '1', '65535', '64MiB1', '67108865', '1GiB', '5GiB'])('refuses %s before scanning, naming the range, exit 2', async (size) => {
    const run = await runPubguard(['scan', '--chunk-size', size, 'd1'], { cwd: dir });
    if (size === '64MiB1') {
      expect(run.stderr).toBe(usage("--chunk-size takes a size such as 1048576, 64KiB, 10MB or 2GiB; got '64MiB1'"));
    } else {
      expect(run.stderr).toBe(usage(`--chunk-size takes 64KiB to 64MiB (65536 to 67108864 bytes); got '${size}'`));
    }
    expect(run.stdout).toBe('');
    expect(run.code).toBe(2);
  });

  it.each(['64KiB', '65537', '1MiB', '64MiB'])('takes %s and finds what the default finds', async (size) => {
    const run = await runPubguard(['scan', '--quiet', '--format', 'json', '--chunk-size', size, 'd1'], { cwd: dir });
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
  });

  it('says the range in --help', async () => {
    const help = await runPubguard(['scan', '--help']);
    expect(help.stdout).toContain('--chunk-size SIZE    bytes per chunk of large files, 64KiB to 64MiB');
    expect(MAX_CHUNK_SIZE).toBe(64 * 1024 * 1024);
  });
});
