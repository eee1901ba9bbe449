import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

describe('pubguard scan --output', () => {
  it('refuses two reports to one file, however it is spelt, before scanning, exit 2', async () => {
    const cwd = join(dir, 'same');
    await mkdir(cwd);
    await writeFile(join(cwd, 'kept'), 'old');
    await symlink('kept', join(cwd, 'link'));
    const cases: [string[], string][] = [
      [['-f', 'json', '-o', 'r1', '-f', 'sarif', '-o', './r1'], '--output r1 and --output ./r1'],
      [['-f', 'json', '-o', 'r1', '-f', 'sarif', '-o', join(cwd, 'sub', '..', 'r1')], `--output r1 and --output ${join(cwd, 'sub', '..', 'r1')}`],
      [['-f', 'json', '-o', 'kept', '-f', 'sarif', '-o', 'link'], '--output kept and --output link'],
    ];
    for (const [flags, named] of cases) {
      const run = await runPubguard(['scan', ...flags, '../d1'], { cwd });
      expect(run.stderr).toBe(usage(`${named} are the same file: give each report a file of its own`));
      expect(run.code).toBe(2);
    }
    expect((await readdir(cwd)).sort()).toEqual(['kept', 'link']);
    expect(await readFile(join(cwd, 'kept'), 'utf8')).toBe('old');
    // Two files of their own are written both.
    const both = await runPubguard(['scan', '--quiet', '-f', 'json', '-o', 'r1', '-f', 'sarif', '-o', 'r2', '../d1'], { cwd });
    expect(both.code).toBe(1);
    expect(JSON.parse(await readFile(join(cwd, 'r1'), 'utf8'))).toMatchObject({ version: 1 });
    expect(JSON.parse(await readFile(join(cwd, 'r2'), 'utf8'))).toMatchObject({ version: '2.1.0' });
  });

  it('sends any number of reports to /dev/null, which is written into, not replaced', async () => {
    const run = await runPubguard(['scan', '--quiet', '-f', 'json', '-o', '/dev/null', '-f', 'sarif', '-o', '/dev/null', 'd1'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
  });

  it('takes - for standard output, as - among the paths is standard input, and writes no file named -', async () => {
    const cwd = join(dir, 'dash');
    await mkdir(cwd);
    const run = await runPubguard(['scan', '--quiet', '-f', 'json', '-o', '-', '-f', 'sarif', '-o', 'r.sarif', '../d1'], { cwd });
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as { findings: unknown[] }).findings).toHaveLength(1);
    expect((await readdir(cwd)).sort()).toEqual(['r.sarif']);
    // With no --format before it, the format of the config or text.
    const text = await runPubguard(['scan', '-o', '-', '../d1'], { cwd });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/github-classic-token[\s\S]*Scanned 1 artifact/);
    expect(existsSync(join(cwd, '-'))).toBe(false);
    // Still only one report on standard output.
    const two = await runPubguard(['scan', '-f', 'json', '-o', '-', '-f', 'sarif', '../d1'], { cwd });
    expect(two.stderr).toBe(usage('only one report can go to stdout: give the others an --output FILE'));
    expect(two.code).toBe(2);
    // A file named - is ./-.
    const named = await runPubguard(['scan', '--quiet', '-f', 'json', '-o', './-', '../d1'], { cwd });
    expect(named.code).toBe(1);
    expect(named.stdout).toBe('');
    expect(JSON.parse(await readFile(join(cwd, '-'), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('refuses an empty --output before scanning, exit 2', async () => {
    const run = await runPubguard(['scan', '-f', 'json', '-o', '', 'd1'], { cwd: dir });
    expect(run.stderr).toBe(usage('--output takes a file name, or - for standard output; got an empty one'));
    expect(run.stdout).toBe('');
    expect(run.code).toBe(2);
  });
});
