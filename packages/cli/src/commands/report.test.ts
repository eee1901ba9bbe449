import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Finding, ScanError } from '@pubguard/engine';
import { formatJson, parseJsonReport } from '@pubguard/report';
import { base62Encode } from '@pubguard/rules';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-merge-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function finding(path: string, fingerprint: string): Finding {
  return {
    ruleId: 'github-classic-token',
    title: 'GitHub personal access token',
    severity: 'critical',
    confidence: 'high',
    path,
    location: { artifact: path.split('!')[0] ?? path, entry: path.split('!').slice(1), line: 3, column: 7, byteOffset: 40 },
    secret: 'ghp_Ab…x9Q2',
    fingerprint,
  };
}

async function shard(name: string, findings: Finding[], errors: ScanError[] = [], files = 2, version = '0.1.0'): Promise<string> {
  const text = formatJson({ tool: { name: 'pubguard', version }, findings, errors, stats: { artifacts: 1, files, bytes: 100, durationMs: 5 } });
  await writeFile(join(dir, name), text);
  return name;
}

describe('pubguard report merge', () => {
  it('merges shard reports into one JSON report and exits 1 on findings', async () => {
    const a = await shard('shard-1.json', [finding('dist/a.tgz!package/x.js', 'sha256:aa')]);
    const b = await shard('shard-2.json', [finding('dist/b.tgz!package/y.js', 'sha256:bb')], [], 3);
    const c = await shard('shard-3.json', []);
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', a, b, c], io)).exitCode).toBe(1);
    const merged = parseJsonReport(io.out());
    expect(merged.findings.map((f) => f.path).sort()).toEqual(['dist/a.tgz!package/x.js', 'dist/b.tgz!package/y.js']);
    expect(merged.stats.files).toBe(7);
    expect(merged.stats.artifacts).toBe(3);
  });

  it('exits 0 when no shard found anything, and 2 when a shard reported errors', async () => {
    const clean = await shard('clean.json', []);
    expect((await run(['report', 'merge', clean], memoryIO({ cwd: dir }))).exitCode).toBe(0);
    const broken = await shard('broken.json', [], [{ path: 'dist/c.whl', kind: 'corrupt', message: 'not a zip' }]);
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', clean, broken], io)).exitCode).toBe(2);
    expect(parseJsonReport(io.out()).errors).toHaveLength(1);
  });

  it('writes another format to a file atomically', async () => {
    const a = await shard('s1.json', [finding('dist/a.tgz!package/x.js', 'sha256:aa')]);
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '--format', 'sarif', '--output', 'out/merged.sarif', a], io)).exitCode).toBe(1);
    expect(io.out()).toBe('');
    const sarif = JSON.parse(await readFile(join(dir, 'out', 'merged.sarif'), 'utf8')) as { version: string; runs: { results: unknown[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.results).toHaveLength(1);
    expect((await readdir(join(dir, 'out'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(io.err()).toContain('merged 1 report: 1 finding, 0 errors -> out/merged.sarif');
  });

  it('takes -o - for standard output, ./- for a file named -, and refuses an empty --output', async () => {
    const a = await shard('s-dash.json', [finding('dist/a.tgz!package/x.js', 'sha256:aa')]);
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '-o', '-', a], io)).exitCode).toBe(1);
    expect(parseJsonReport(io.out()).findings).toHaveLength(1);
    expect(await readdir(dir)).not.toContain('-');
    expect((await run(['report', 'merge', '-o', './-', a], memoryIO({ cwd: dir }))).exitCode).toBe(1);
    expect(parseJsonReport(await readFile(join(dir, '-'), 'utf8')).findings).toHaveLength(1);
    const empty = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '-o', '', a], empty)).exitCode).toBe(2);
    expect(empty.err()).toContain('--output needs a file name');
  });

  it('warns when some reports were scanned with a baseline and others without', async () => {
    const text = (baselined?: number) =>
      formatJson({ tool: { name: 'pubguard', version: '0.1.0' }, findings: [], errors: [], stats: { artifacts: 1, files: 1, bytes: 1, durationMs: 1, ...(baselined === undefined ? {} : { baselined }) } });
    await writeFile(join(dir, 'b1.json'), text(2));
    await writeFile(join(dir, 'b2.json'), text());
    await writeFile(join(dir, 'b3.json'), text(0));
    const mixed = memoryIO({ cwd: dir });
    await run(['report', 'merge', 'b1.json', 'b2.json'], mixed);
    expect(mixed.err()).toContain('warning: 1 of the 2 reports was scanned with a baseline and the other without:');
    const three = memoryIO({ cwd: dir });
    await run(['report', 'merge', 'b1.json', 'b2.json', 'b3.json'], three);
    expect(three.err()).toContain('warning: 2 of the 3 reports were scanned with a baseline and the other without:');
    const alike = memoryIO({ cwd: dir });
    await run(['report', 'merge', 'b1.json', 'b3.json'], alike);
    expect(alike.err()).not.toContain('warning');
  });

  it('warns of a SARIF report with more results than code scanning takes, and writes it whole', async () => {
    const many = (from: number) => Array.from({ length: 12_501 }, (_, i) => ({ ...finding(`dist/f${from + i}.js`, `sha256:${from + i}`) }));
    const a = await shard('s1.json', many(0));
    const b = await shard('s2.json', many(12_501));
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '--format', 'sarif', '--output', 'merged.sarif', a, b], io)).exitCode).toBe(1);
    expect(io.err()).toMatch(/^warning: the SARIF report holds 25002 results, and GitHub code scanning refuses/);
    const sarif = JSON.parse(await readFile(join(dir, 'merged.sarif'), 'utf8')) as { runs: { results: unknown[] }[] };
    expect(sarif.runs[0]?.results).toHaveLength(25_002);
    const json = memoryIO({ cwd: dir });
    await run(['report', 'merge', '--format', 'json', '--output', 'merged.json', a, b], json);
    expect(json.err()).not.toContain('warning');
  }, 60_000);

  it('writes the merged file readable by its owner only when an input is, or when it holds a secret in full', async () => {
    const umask = process.umask();
    const modeOf = async (name: string): Promise<number> => (await stat(join(dir, name))).mode & 0o777;
    const merge = async (output: string, ...inputs: string[]): Promise<number> => {
      expect((await run(['report', 'merge', '-o', output, ...inputs], memoryIO({ cwd: dir }))).exitCode).toBe(1);
      return modeOf(output);
    };
    const a = await shard('a.json', [finding('dist/a.tgz!package/x.js', 'sha256:aa')]);
    const b = await shard('b.json', [finding('dist/b.tgz!package/y.js', 'sha256:bb')]);
    expect(await merge('open.json', a, b)).toBe(0o644 & ~umask);
    // What `scan --show-secrets -o` writes: 0600.
    await chmod(join(dir, b), 0o600);
    expect(await merge('from-private.json', a, b)).toBe(0o600 & ~umask);
    await chmod(join(dir, b), 0o640);
    expect(await merge('from-group.json', a, b)).toBe(0o600 & ~umask);
    // A secret in full, made here, in a report anyone may read.
    const token = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'A').slice(0, 36)}`;
    const full = await shard('full.json', [{ ...finding('dist/c.tgz!package/z.js', 'sha256:cc'), secret: token }]);
    expect((await modeOf(full)) & 0o044).toBe(0o044 & ~umask);
    expect(await merge('full-merged.json', a, full)).toBe(0o600 & ~umask);
    expect(await readFile(join(dir, 'full-merged.json'), 'utf8')).toContain(token);
  });

  it('counts a report named twice once', async () => {
    const a = await shard('shard-1.json', [finding('dist/a.tgz!package/x.js', 'sha256:aa')], [], 4);
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', a, `./${a}`, 'shard-*.json'], io)).exitCode).toBe(1);
    expect(parseJsonReport(io.out(), 'merged').stats.files).toBe(4);
  });

  it('warns when the reports come from different versions', async () => {
    const a = await shard('old.json', [], [], 2, '0.1.0');
    const b = await shard('new.json', [], [], 2, '0.2.0');
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', a, b], io)).exitCode).toBe(0);
    expect(io.err()).toContain('warning: the reports come from pubguard 0.1.0, pubguard 0.2.0');
    const same = memoryIO({ cwd: dir });
    await run(['report', 'merge', a, a], same);
    expect(same.err()).toBe('');
  });

  it('expands a glob the shell left alone', async () => {
    await shard('shard-1.json', [finding('dist/a.tgz!package/x.js', 'sha256:aa')]);
    await shard('shard-2.json', [finding('dist/b.tgz!package/y.js', 'sha256:bb')]);
    const io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', 'shard-*.json'], io)).exitCode).toBe(1);
    expect(parseJsonReport(io.out()).findings).toHaveLength(2);
  });

  it('refuses the reports of a sharded scan unless they are every shard of it, each once', async () => {
    // Ten files, the token in one: whichever shard holds it, leaving that one out must not pass.
    await mkdir(join(dir, 'src'));
    for (let i = 0; i < 10; i++) await writeFile(join(dir, 'src', `f${i}.js`), `x = ${i}\n`);
    const body = randomBytes(30).toString('base64url').replace(/[-_]/g, 'A').slice(0, 30);
    const token = `ghp_${body}${base62Encode(crc32(Buffer.from(body, 'latin1')))}`;
    await writeFile(join(dir, 'src', 'f3.js'), `t = "${token}"\n`);
    const scan = async (...args: string[]): Promise<void> => {
      expect((await run(['scan', '-q', '-j', '0', '-f', 'json', ...args], memoryIO({ cwd: dir }))).exitCode).not.toBe(2);
    };
    await scan('--shard', '1/2', '-o', 'sh1.json', 'src');
    // Another spelling of the same path splits the files alike: the same scan.
    await scan('--shard', '2/2', '-o', 'sh2.json', './src/');
    // Files below an absolute path are reported, and split, by their absolute paths: another scan.
    await scan('--shard', '2/2', '-o', 'absolute.json', join(dir, 'src'));
    await scan('--shard', '2/2', '--ignore', 'f9.js', '-o', 'other.json', 'src');
    await scan('-o', 'whole.json', 'src');
    const sh1 = parseJsonReport(await readFile(join(dir, 'sh1.json'), 'utf8'), 'sh1.json');
    expect(sh1.shard).toMatchObject({ index: 1, count: 2 });
    expect(parseJsonReport(await readFile(join(dir, 'whole.json'), 'utf8'))).not.toHaveProperty('shard');

    const merge = async (...files: string[]): Promise<{ code: number; err: string; out: string }> => {
      const io = memoryIO({ cwd: dir });
      const { exitCode } = await run(['report', 'merge', ...files], io);
      return { code: exitCode, err: io.err(), out: io.out() };
    };
    const both = await merge('sh2.json', 'sh1.json');
    expect(both.code).toBe(1);
    expect(parseJsonReport(both.out).findings.map((f) => f.path)).toEqual(['src/f3.js']);
    expect(parseJsonReport(both.out)).not.toHaveProperty('shard');
    for (const [files, message] of [
      [['sh1.json'], 'shard 2/2 is missing'],
      [['sh2.json'], 'shard 1/2 is missing'],
      [['sh1.json', 'other.json'], 'sh1.json (shard 1/2) and other.json (shard 2/2) are shards of different scans'],
      [['sh1.json', 'absolute.json'], 'sh1.json (shard 1/2) and absolute.json (shard 2/2) are shards of different scans'],
      [['sh1.json', 'sh2.json', 'whole.json'], 'sh1.json is the report of shard 1/2 of a scan, whole.json of a scan without --shard'],
    ] as const) {
      const result = await merge(...files);
      expect(result.code, files.join(' ')).toBe(2);
      expect(result.err).toContain(`pubguard report merge: ${message}`);
      expect(result.out).toBe('');
    }
    await writeFile(join(dir, 'sh1-again.json'), await readFile(join(dir, 'sh1.json')));
    expect((await merge('sh1.json', 'sh2.json', 'sh1-again.json')).err).toContain('shard 1/2 is given more than once (sh1.json, sh1-again.json)');
  });

  it('exits 2 naming an unreadable or malformed input', async () => {
    const a = await shard('ok.json', []);
    let io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', a, 'missing.json'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('cannot read report missing.json: no such file');
    await writeFile(join(dir, 'bad.json'), '{"version": 1, "tool": ');
    io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', a, 'bad.json'], io)).exitCode).toBe(2);
    expect(io.err()).toMatch(/bad\.json: not valid JSON/);
    expect(io.err()).not.toContain('internal error');
    io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', 'none-*.json'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('no report matches none-*.json');
  });

  it('rejects bad usage', async () => {
    let io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('give the JSON reports to merge');
    io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '--format', 'xml', 'a.json'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("unknown format 'xml'");
    io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '--bogus', 'a.json'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("Unknown option '--bogus'");
    io = memoryIO({ cwd: dir });
    expect((await run(['report', 'merge', '--help'], io)).exitCode).toBe(0);
    expect(io.out()).toContain('Usage: pubguard report merge');
  });
});
