import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tgzBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPubguard } from './helpers.js';

interface SarifRule {
  id: string;
  shortDescription: { text: string };
  help: { text: string };
}
interface SarifLog {
  runs: { tool: { driver: { rules: SarifRule[] } }; results: { ruleId: string; message: { text: string } }[] }[];
}
interface JsonReport {
  findings: { ruleId: string; path: string }[];
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-structure-'));
  // Two links out of the package, as `tar` stores them: an absolute one and a relative one.
  const tgz = await tgzBuffer([
    { path: 'package/package.json', content: '{"name":"links","version":"1.0.0"}\n' },
    { path: 'package/passwd', type: 'symlink', linkname: '/etc/passwd' },
    { path: 'package/up', type: 'symlink', linkname: '../../outside' },
  ]);
  await writeFile(join(dir, 'links-1.0.0.tgz'), tgz);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('archive-structure findings', () => {
  it('are described in SARIF by their check, not by the first entry that was reported', async () => {
    const result = await runPubguard(['scan', '-q', '--format', 'sarif', 'links-1.0.0.tgz'], { cwd: dir });
    expect(result.code).toBe(1);
    const run = (JSON.parse(result.stdout) as SarifLog).runs[0]!;
    expect(run.results.map((r) => r.ruleId)).toEqual(['archive-link-outside', 'archive-link-outside']);
    // Each result still names its own entry.
    expect(run.results[0]!.message.text).toContain('"package/passwd" points to "/etc/passwd"');
    const rule = run.tool.driver.rules.find((r) => r.id === 'archive-link-outside')!;
    expect(rule.shortDescription.text).toBe('Archive link points outside the archive');
    expect(rule.help.text).not.toContain('package/passwd');
    expect(rule.help.text).toContain('Remediation: Remove it from the artifact and rebuild');
  });

  it('are described by their check in SARIF made by report merge', async () => {
    const scanned = await runPubguard(['scan', '-q', '--format', 'json', '--output', 'links.json', 'links-1.0.0.tgz'], { cwd: dir });
    expect(scanned.code).toBe(1);
    const merged = await runPubguard(['report', 'merge', '--format', 'sarif', 'links.json'], { cwd: dir });
    expect(merged.code).toBe(1);
    const rule = (JSON.parse(merged.stdout) as SarifLog).runs[0]!.tool.driver.rules.find((r) => r.id === 'archive-link-outside')!;
    expect(rule.shortDescription.text).toBe('Archive link points outside the archive');
  });

  it('can be allowlisted per check by entry path, as a rule can', async () => {
    const config = { allowlist: { rules: { 'archive-link-outside': { paths: ['package/passwd'] } } } };
    await writeFile(join(dir, 'allow.json'), JSON.stringify(config));
    const result = await runPubguard(['scan', '-q', '--format', 'json', '--config', 'allow.json', 'links-1.0.0.tgz'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.findings.map((f) => `${f.ruleId} ${f.path}`)).toEqual(['archive-link-outside links-1.0.0.tgz!package/up']);
  });

  it('cannot be disabled, and the refusal says what to do instead', async () => {
    await writeFile(join(dir, 'disable.json'), JSON.stringify({ rules: { disable: ['archive-link-outside'] } }));
    const result = await runPubguard(['scan', '-q', '--config', 'disable.json', 'links-1.0.0.tgz'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      `pubguard scan: ${join(dir, 'disable.json')}: rules.disable[0]: 'archive-link-outside' is an archive-structure check, which cannot be disabled; allow the entries it reports with allowlist.rules."archive-link-outside".paths, or with a baseline`,
    );
  });
});
