import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AcceptanceManifest, generateAcceptanceSet } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPubguard } from './helpers.js';

interface JsonFinding {
  ruleId: string;
  path: string;
  secret: string;
  location: { line: number; column: number; byteOffset: number };
}

const key = (f: { ruleId: string; path: string; line: number; column: number }) => `${f.ruleId} ${f.path}:${f.line}:${f.column}`;
const keys = (findings: JsonFinding[]) => findings.map((f) => key({ ruleId: f.ruleId, path: f.path, line: f.location.line, column: f.location.column })).sort();

describe('pubguard scan on the acceptance corpus', () => {
  let dir: string;
  let planted: AcceptanceManifest;
  let decoys: AcceptanceManifest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-accept-'));
    planted = await generateAcceptanceSet(join(dir, 'planted'), { secrets: true, seed: 7 });
    decoys = await generateAcceptanceSet(join(dir, 'decoys'), { secrets: false, seed: 7 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds every planted secret at the right path, line and column, and exits 1', async () => {
    const result = await runPubguard(['scan', '--format', 'json', ...planted.artifacts], { cwd: join(dir, 'planted') });
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    const report = JSON.parse(result.stdout) as { findings: JsonFinding[]; errors: unknown[] };
    expect(report.errors).toEqual([]);
    expect(keys(report.findings)).toEqual(planted.findings.map(key).sort());
    expect(result.code).toBe(1);
  });

  it('never prints a planted secret in full', async () => {
    const result = await runPubguard(['scan', ...planted.artifacts], { cwd: join(dir, 'planted') });
    expect(result.code).toBe(1);
    const json = await runPubguard(['scan', '--show-secrets', '--format', 'json', ...planted.artifacts], { cwd: join(dir, 'planted') });
    const secrets = (JSON.parse(json.stdout) as { findings: JsonFinding[] }).findings.map((f) => f.secret).filter((s) => s.length >= 12);
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(result.stdout).not.toContain(secret);
  });

  it.each([
    // The smallest chunks --chunk-size takes still cut the bundle (300 KB) and the log (68 KB).
    ['the smallest chunks, --jobs 0', ['--chunk-size', '64KiB', '--jobs', '0']],
    ['odd chunks, --jobs 1', ['--chunk-size', '65599', '--jobs', '1']],
    ['large chunks, --jobs 2', ['--chunk-size', '4MiB', '--jobs', '2']],
  ])('reports the same findings with %s', async (_name, flags) => {
    const result = await runPubguard(['scan', '--format', 'json', ...flags, ...planted.artifacts], { cwd: join(dir, 'planted') });
    const report = JSON.parse(result.stdout) as { findings: JsonFinding[] };
    expect(keys(report.findings)).toEqual(planted.findings.map(key).sort());
  });

  it('is silent on decoys: exit 0 and nothing but the summary', async () => {
    expect(decoys.findings).toEqual([]);
    const result = await runPubguard(['scan', ...decoys.artifacts], { cwd: join(dir, 'decoys') });
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(/^Scanned \d+ artifacts?/);
    expect(result.code).toBe(0);
  });

  it('scans the good artifacts when one is corrupt, and reports the broken one', async () => {
    const broken = join(dir, 'decoys', 'broken-1.0.0.tgz');
    const { gzipSync } = await import('node:zlib');
    const { randomBytes } = await import('node:crypto');
    // Incompressible content, so cutting the gzip stream really truncates it.
    await writeFile(broken, gzipSync(randomBytes(20_000)).subarray(0, 200));
    try {
      const before = await runPubguard(['scan', '--format', 'json', ...decoys.artifacts], { cwd: join(dir, 'decoys') });
      const artifactsBefore = (JSON.parse(before.stdout) as { stats: { artifacts: number } }).stats.artifacts;
      const clean = await runPubguard(['scan', '--format', 'json', ...decoys.artifacts, 'broken-1.0.0.tgz'], { cwd: join(dir, 'decoys') });
      const report = JSON.parse(clean.stdout) as { errors: Array<{ path: string; kind: string; message: string }>; stats: { artifacts: number } };
      expect(report.errors).toHaveLength(1);
      expect(report.errors[0]).toMatchObject({ path: 'broken-1.0.0.tgz', kind: 'corrupt' });
      expect(report.stats.artifacts).toBe(artifactsBefore + 1);
      expect(clean.code).toBe(2);

      const withFindings = await runPubguard(['scan', ...planted.artifacts, join('..', 'decoys', 'broken-1.0.0.tgz')], { cwd: join(dir, 'planted') });
      expect(withFindings.code).toBe(1);
      expect(withFindings.stdout).toContain('broken-1.0.0.tgz');
      expect(withFindings.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await rm(broken, { force: true });
    }
  });

  it('exits 2 with a clear message for a path that does not exist', async () => {
    const result = await runPubguard(['scan', 'no-such-file.tgz'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain('no-such-file.tgz');
  });
});
