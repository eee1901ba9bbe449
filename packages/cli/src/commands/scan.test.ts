import { Buffer } from 'node:buffer';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { maxJobs } from '@pubguard/engine';
import { base62Encode } from '@pubguard/rules';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';
import { progressLine } from './scan.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-scan-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake GitHub token with a valid checksum, from a fixed body. */
function token(body: string): string {
  return `ghp_${body}${base62Encode(crc32(Buffer.from(body, 'latin1')))}`;
}

interface SarifLocation {
  physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } };
}

describe('pubguard scan --format sarif', () => {
  it('gives a file named by its absolute path below the working directory a repository-relative URI', async () => {
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist', 'config.js'), `const t = "${token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE')}";\n`);
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'sarif', join(dir, 'dist')], io)).exitCode).toBe(1);
    const log = JSON.parse(io.out()) as { runs: { results: { locations: SarifLocation[] }[] }[] };
    const location = log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation;
    expect(location).toEqual({ uri: 'dist/config.js', uriBaseId: '%SRCROOT%' });
  });
});

describe('pubguard scan --format sarif with more results than code scanning takes', () => {
  it('warns on stderr, writes every result, and says nothing at the limit', async () => {
    const line = `t = "${token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE')}";\n`;
    await mkdir(join(dir, 'many'));
    // 25 files of 1000 findings (the default per-file cap) are the limit itself; a 26th line goes over.
    for (let i = 0; i < 25; i++) await writeFile(join(dir, 'many', `f${i}.js`), line.repeat(1000));
    const at = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'sarif', '-o', 'at.sarif', 'many'], at)).exitCode).toBe(1);
    expect(at.err()).toBe('');
    await writeFile(join(dir, 'many', 'last.js'), line);
    const over = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'sarif', '-o', 'over.sarif', '--format', 'json', 'many'], over)).exitCode).toBe(1);
    expect(over.err()).toMatch(/^warning: the SARIF report holds 25001 results, and GitHub code scanning refuses an upload of more than 25000 in a run/);
    const log = JSON.parse(await readFile(join(dir, 'over.sarif'), 'utf8')) as { runs: { results: unknown[] }[] };
    expect(log.runs[0]?.results).toHaveLength(25_001);
  }, 60_000);
});

describe('pubguard scan --output', () => {
  it('writes a report holding secrets in full for the owner only', async () => {
    await writeFile(join(dir, 'config.js'), `const t = "${token('Z3kPq8LmW2vR7tYc5NbX9gJhD4sFe6')}";\n`);
    const io = memoryIO({ cwd: dir });
    const scan = (...args: string[]) => run(['scan', '-q', '-j', '0', '--format', 'json', ...args, 'config.js'], io);
    expect((await scan('-o', 'shown.json', '--show-secrets')).exitCode).toBe(1);
    expect((await stat(join(dir, 'shown.json'))).mode & 0o077).toBe(0);
    expect((await scan('-o', 'redacted.json')).exitCode).toBe(1);
    expect((await stat(join(dir, 'redacted.json'))).mode & 0o004).toBe(0o004);
  });
});

describe('pubguard scan paths and report files', () => {
  it('refuses a report file whose extension names another format than the one it would get', async () => {
    await writeFile(join(dir, 'a.js'), 'nothing\n');
    for (const args of [['-o', 'out.sarif', '-f', 'sarif'], ['-f', 'json', '-o', 'out.xml']]) {
      const io = memoryIO({ cwd: dir });
      expect((await run(['scan', '-q', ...args, 'a.js'], io)).exitCode).toBe(2);
      expect(io.err()).toMatch(/out\.(sarif|xml) would get the (text|json) report: put --format (sarif|junit) before --output/);
    }
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-f', 'sarif', '-o', 'out.sarif', '-f', 'junit', '-o', 'out.xml', '-f', 'json', '-o', 'out.json', 'a.js'], io)).exitCode).toBe(0);
  });
  it('scans and reports a path given twice once', async () => {
    await writeFile(join(dir, 'config.js'), `const t = "${token('Z3kPq8LmW2vR7tYc5NbX9gJhD4sFe6')}";\n`);
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'json', 'config.js', './config.js', join(dir, 'config.js')], io)).exitCode).toBe(1);
    const report = JSON.parse(io.out()) as { findings: { path: string }[]; stats: { artifacts: number } };
    expect(report.findings.map((f) => f.path)).toEqual(['config.js']);
    expect(report.stats.artifacts).toBe(1);
  });
  it('applies path rules below a directory named with ..', async () => {
    await mkdir(join(dir, 'pkg', 'lib'), { recursive: true });
    await writeFile(join(dir, 'pkg', '.env'), 'NODE_ENV=production\nSESSION_SECRET=46gjQRyJxi*BLP9w\n');
    const io = memoryIO({ cwd: join(dir, 'pkg', 'lib') });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'json', '..'], io)).exitCode).toBe(1);
    const report = JSON.parse(io.out()) as { findings: { ruleId: string; path: string }[] };
    expect(report.findings.map((f) => `${f.ruleId} ${f.path}`).sort()).toEqual(['dotenv-file ../.env', 'dotenv-secret ../.env']);
  });
});

describe('pubguard scan with inputs inside one another', () => {
  interface Report {
    findings: { ruleId: string; path: string; fingerprint: string }[];
    stats: { artifacts: number; files: number };
  }
  const json = async (...args: string[]): Promise<Report> => {
    const io = memoryIO({ cwd: dir });
    await run(['scan', '-q', '-j', '0', '--format', 'json', ...args], io);
    return JSON.parse(io.out()) as Report;
  };
  const sorted = (findings: Report['findings']) => [...findings].sort((a, b) => `${a.path} ${a.ruleId}`.localeCompare(`${b.path} ${b.ruleId}`));

  it('reports a file below several inputs once, as the innermost input alone reports it, in every shard', async () => {
    await mkdir(join(dir, 'dist', 'lib'), { recursive: true });
    await writeFile(join(dir, 'index.js'), `const t = "${token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE')}";\n`);
    await writeFile(join(dir, 'dist', '.env'), 'NODE_ENV=production\nSESSION_SECRET=46gjQRyJxi*BLP9w\n');
    await writeFile(join(dir, 'dist', 'lib', 'config.js'), `const t = "${token('Z3kPq8LmW2vR7tYc5NbX9gJhD4sFe6')}";\n`);
    const alone = await json('dist');
    const both = await json('.', 'dist/lib/config.js', './dist/');
    expect(sorted(both.findings.filter((f) => f.path.startsWith('dist/')))).toEqual(sorted(alone.findings));
    expect(both.findings.filter((f) => !f.path.startsWith('dist/')).map((f) => f.path)).toEqual(['index.js']);
    expect(both.stats).toMatchObject({ artifacts: 3, files: 3 });
    for (const shard of ['1/3', '2/3', '3/3']) {
      const part = await json('--shard', shard, 'dist', '.');
      const partAlone = await json('--shard', shard, 'dist');
      expect(sorted(part.findings.filter((f) => f.path.startsWith('dist/'))), shard).toEqual(sorted(partAlone.findings));
    }
  });
});

describe('pubguard scan with allowlist paths in the config', () => {
  it('allows the same files from the config directory, from below it and by absolute path', async () => {
    await mkdir(join(dir, 'docs'));
    await mkdir(join(dir, 'src', 'deep'), { recursive: true });
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ allowlist: { paths: ['docs/**'] } }));
    await writeFile(join(dir, 'docs', 'a.js'), `const t = "${token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE')}";\n`);
    await writeFile(join(dir, 'src', 'b.js'), `const t = "${token('Z3kPq8LmW2vR7tYc5NbX9gJhD4sFe6')}";\n`);
    for (const [cwd, target] of [[dir, '.'], [join(dir, 'src', 'deep'), '../..'], [join(dir, 'src'), dir]] as const) {
      const io = memoryIO({ cwd });
      expect((await run(['scan', '-q', '-j', '0', '--format', 'json', target], io)).exitCode).toBe(1);
      const report = JSON.parse(io.out()) as { findings: { path: string }[] };
      expect(report.findings.map((f) => f.path.replace(/^.*(?=src\/b\.js$)/, '')), `${cwd} ${target}`).toEqual(['src/b.js']);
    }
  });
});

describe('pubguard scan --ignore', () => {
  it('refuses a negated glob, which would skip the files it names', async () => {
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'a.js'), `const t = "${token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE')}";\n`);
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--ignore', '!src/**', '.'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('--ignore !src/**: a negated glob cannot bring back what another --ignore skips');
    const baseline = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '--ignore', '!src/**', '.'], baseline)).exitCode).toBe(2);
  });
});

describe('progressLine', () => {
  it('shows control characters of the current path escaped, never raw', () => {
    const line = progressLine({ artifacts: 1, files: 2, bytes: 2048, durationMs: 1000 }, 'pkg.tgz!package/\u001b]0;owned\u0007x\u202e.js');
    expect(line).toBe('scanning 1 artifact, 2 files, 2.0 kB (0 MB/s) pkg.tgz!package/\\x1b]0;owned\\x07x\\u{202e}.js');
    expect(line).not.toMatch(/[\u0000-\u001f\u202e]/);
  });
});

describe('pubguard scan --jobs', () => {
  const cpus = availableParallelism();
  const capped = (source: string, jobs: number): string =>
    `warning: ${source} ${jobs} is more worker threads than help on ${cpus === 1 ? '1 CPU' : `${cpus} CPUs`}: running ${maxJobs()} (at most 4 per CPU, at least 4)\n`;

  it('runs at most four workers per CPU and says so once when asked for more', async () => {
    await writeFile(join(dir, 'a.js'), 'module.exports = 1;\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '100000', 'a.js'], io)).exitCode).toBe(0);
    expect(io.err()).toBe(capped('--jobs', 100000));
  });
  it('says which config file asked for too many', async () => {
    await writeFile(join(dir, 'a.js'), 'module.exports = 1;\n');
    await writeFile(join(dir, 'pubguard.config.json'), '{"jobs": 5000}');
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', 'a.js'], io)).exitCode).toBe(0);
    expect(io.err()).toBe(capped(`"jobs" in ${join(dir, 'pubguard.config.json')}`, 5000));
  });
  it('says nothing up to the cap', async () => {
    await writeFile(join(dir, 'a.js'), 'module.exports = 1;\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', String(maxJobs()), 'a.js'], io)).exitCode).toBe(0);
    expect(io.err()).toBe('');
  });
});

describe('pubguard scan --max-findings', () => {
  /** One file with 5 distinct secrets. */
  async function five(): Promise<string> {
    const bodies = ['Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE', 'W2nLr8NcTq5ZyH3mKp7XdB4sFg9JaE', 'E3vLr2McTw5ZyH3mKp7XdB4sFg9JaQ', 'R4vLr2NcTw5ZyH3mKq7XdB4sFg9JaE', 'T5vLr2NcTw5ZyH3mKp7XdB4sFg9JbE'];
    await writeFile(join(dir, 'many.js'), bodies.map((b, i) => `t${i} = "${token(b)}";\n`).join(''));
    return join(dir, 'many.js');
  }

  it('keeps the first N findings of a file, reports the rest as a limit, and exits 1', async () => {
    const file = await five();
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'json', '--max-findings', '2', file], io)).exitCode).toBe(1);
    const report = JSON.parse(io.out()) as { findings: unknown[]; errors: { kind: string; limit?: string; message: string }[] };
    expect(report.findings).toHaveLength(2);
    expect(report.errors).toMatchObject([{ kind: 'limit', limit: 'maxFindingsPerFile', message: expect.stringMatching(/^file has more than 2 findings; the first 2 were kept, 3 more were counted/) }]);
  });

  it('takes limits.maxFindingsPerFile from the config file, and the flag over it', async () => {
    const file = await five();
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ limits: { maxFindingsPerFile: 3 } }));
    const fromConfig = memoryIO({ cwd: dir });
    await run(['scan', '-q', '-j', '0', '--format', 'json', file], fromConfig);
    expect((JSON.parse(fromConfig.out()) as { findings: unknown[] }).findings).toHaveLength(3);
    const fromFlag = memoryIO({ cwd: dir });
    await run(['scan', '-q', '-j', '0', '--format', 'json', '--max-findings', '4', file], fromFlag);
    expect((JSON.parse(fromFlag.out()) as { findings: unknown[] }).findings).toHaveLength(4);
  });

  it('refuses 0', async () => {
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '--max-findings', '0', dir], io)).exitCode).toBe(2);
    expect(io.err()).toContain('--max-findings takes a whole number ≥ 1');
  });

  it('keeps the first N findings of an artifact with --max-artifact-findings, reports the rest as one limit, and exits 1', async () => {
    const file = await five();
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'json', '--max-artifact-findings', '2', file], io)).exitCode).toBe(1);
    const report = JSON.parse(io.out()) as { findings: unknown[]; errors: { path: string; kind: string; limit?: string; message: string }[] };
    expect(report.findings).toHaveLength(2);
    expect(report.errors).toMatchObject([{ path: file, kind: 'limit', limit: 'maxFindingsPerArtifact', message: expect.stringMatching(/^artifact has more than 2 findings; the first 2 were kept, 3 more were counted/) }]);
  });

  it('takes limits.maxFindingsPerArtifact from the config file, and the flag over it; refuses 0', async () => {
    const file = await five();
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ limits: { maxFindingsPerArtifact: 3 } }));
    const fromConfig = memoryIO({ cwd: dir });
    await run(['scan', '-q', '-j', '0', '--format', 'json', file], fromConfig);
    expect((JSON.parse(fromConfig.out()) as { findings: unknown[] }).findings).toHaveLength(3);
    const fromFlag = memoryIO({ cwd: dir });
    await run(['scan', '-q', '-j', '0', '--format', 'json', '--max-artifact-findings', '4', file], fromFlag);
    expect((JSON.parse(fromFlag.out()) as { findings: unknown[] }).findings).toHaveLength(4);
    const zero = memoryIO({ cwd: dir });
    expect((await run(['scan', '--max-artifact-findings', '0', file], zero)).exitCode).toBe(2);
    expect(zero.err()).toContain('--max-artifact-findings takes a whole number ≥ 1');
  });

  it('takes --max-artifact-seconds in fractions of a second, and refuses what is not a number of seconds', async () => {
    const file = await five();
    const half = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', '--format', 'json', '--max-artifact-seconds', '0.5', file], half)).exitCode).toBe(1);
    expect((JSON.parse(half.out()) as { findings: unknown[] }).findings).toHaveLength(5);
    for (const bad of ['abc', '1e3', '0.0001', '.5']) {
      const io = memoryIO({ cwd: dir });
      expect((await run(['scan', '--max-artifact-seconds', bad, file], io)).exitCode, bad).toBe(2);
      expect(io.err()).toContain(`--max-artifact-seconds takes a number of seconds ≥ 0.001, such as 30 or 0.5 (0: no limit); got '${bad}'`);
    }
  });
});

describe('pubguard scan -o', () => {
  it('writes every other report and the summary when one output cannot be written, then exits 2', async () => {
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist', 'config.js'), `const t = "${token('Hd7TpW2qLx9RbN4cVz6MkS3fJy8GaE')}";\n`);
    await mkdir(join(dir, 'taken'));
    const io = memoryIO({ cwd: dir });
    const args = ['scan', '-j', '0', 'dist', '-f', 'json', '-o', 'taken', '-f', 'sarif', '-o', 'good.sarif', '-f', 'text'];
    expect((await run(args, io)).exitCode).toBe(2);
    expect(JSON.parse(await readFile(join(dir, 'good.sarif'), 'utf8'))).toMatchObject({ runs: [{ results: [{ ruleId: 'github-classic-token' }] }] });
    expect(io.out()).toMatch(/1 finding/);
    expect(io.err()).toMatch(/^pubguard scan: cannot write .*taken: is a directory/m);
  });
});
