import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sshKey } from '../packages/release/src/testing/fixtures.js';
import { runPubguard } from './helpers.js';

// Gates of several CI jobs that share one workspace write one audit log; a disk that fills up
// during an append or an approval must not leave half a record, or half an approval.
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-audit-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const confirm = (log: string, actor: string) => runPubguard(['confirm', '--phrase', 'x', '--input', 'x', '--audit', log, '--actor', actor], { cwd });

describe('audit log writers', () => {
  it('ten gates appending at once leave one unbroken chain', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => confirm('shared.jsonl', `job-${i}`)));
    expect(results.map((r) => r.code)).toEqual(Array(10).fill(0));
    const verify = await runPubguard(['audit', 'verify', 'shared.jsonl'], { cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'shared.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(10);
  }, 60_000);

  it.skipIf(process.platform === 'win32')('an append that fails part-way leaves the log as it was, and the next gate appends', async () => {
    for (let i = 0; i < 3; i++) expect((await confirm('full.jsonl', `a${i}`)).code).toBe(0);
    const path = join(cwd, 'full.jsonl');
    const before = readFileSync(path);
    // Room for between 1 byte and 1 KiB more, and a record longer than that.
    const blocks = Math.floor(statSync(path).size / 1024) + 1;
    const r = await runPubguard(['confirm', '--phrase', 'x', '--input', 'x', '--audit', 'full.jsonl', '--actor', 'b'.repeat(1500)], { cwd, fileSizeLimitKiB: blocks });
    expect(r.code).toBe(2);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(r.stderr).toMatch(/cannot append to audit log .*full\.jsonl: file too large \(EFBIG\); the log was left as it was/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect((await confirm('full.jsonl', 'c')).code).toBe(0);
    expect((await runPubguard(['audit', 'verify', 'full.jsonl'], { cwd })).code).toBe(0);
  }, 60_000);
});

describe('approve on a full disk', () => {
  it.skipIf(process.platform === 'win32')('says it cannot write the approval and leaves no statement, signature or temp file', async () => {
    sshKey(cwd, 'id_alice');
    // Ten digests make a statement longer than the 1 KiB limit; its signature fits.
    const artifacts = Array.from({ length: 10 }, (_, i) => ({ name: `tool-2.0.0-part${i}.tgz`, sha256: `${i}`.repeat(64) }));
    writeFileSync(join(cwd, 'manifest.json'), JSON.stringify({ package: 'tool', version: '2.0.0', artifacts }));
    const r = await runPubguard(['approve', 'manifest.json', '--key', 'id_alice', '--approver', 'alice', '--out', 'appr', '--no-audit'], { cwd, fileSizeLimitKiB: 1 });
    expect(r.code).toBe(2);
    expect(readdirSync(join(cwd, 'appr'))).toEqual([]);
    expect(r.stderr).toMatch(/^pubguard approve: cannot write .*\.approval\.json: file too large \(EFBIG\)\n$/);
  }, 60_000);
});
