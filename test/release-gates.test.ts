import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { npmTarball, sdist, sshKey, sshKeygenSign, wheel } from '../packages/release/src/testing/fixtures.js';
import { runPubguard } from './helpers.js';

// The whole release-gate flow, run as a real `pubguard` process the way CI would run it.
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-release-'));
const token = `npm_${'Qw7'.repeat(12)}`;
const env = { NPM_TOKEN: token, GITHUB_ACTOR: 'ci-bot' };
let keys: Record<'alice' | 'bob' | 'carol', { path: string; pub: string }>;
const artifacts = ['dist/acme-tool-2.1.0-rc.1.tgz', 'dist/acme_tool-2.1.0rc1-py3-none-any.whl', 'dist/acme_tool-2.1.0rc1.tar.gz'];

const pg = (...args: string[]) => runPubguard(args, { cwd, env });

beforeAll(async () => {
  mkdirSync(join(cwd, 'dist'));
  mkdirSync(join(cwd, '.pubguard'));
  await npmTarball(join(cwd, 'dist'), 'acme-tool', '2.1.0-rc.1');
  await wheel(join(cwd, 'dist'), 'acme-tool', '2.1.0rc1');
  await sdist(join(cwd, 'dist'), 'acme-tool', '2.1.0rc1');
  keys = { alice: sshKey(cwd, 'id_alice'), bob: sshKey(cwd, 'id_bob', 'rsa'), carol: sshKey(cwd, 'id_carol') };
  writeFileSync(
    join(cwd, '.pubguard/policy.json'),
    JSON.stringify({
      version: 1,
      approvers: { alice: { keys: [keys.alice.pub] }, bob: { keys: [keys.bob.pub] }, carol: { keys: [keys.carol.pub] } },
      groups: { 'security-team': ['alice', 'bob'], 'release-managers': ['carol'] },
      rule: { minApprovers: 2, groups: { 'security-team': 1, 'release-managers': 1 } },
    }),
  );
});

describe('release gates end to end', () => {
  let head = '';

  it('version check accepts the tag and all three artifacts', async () => {
    const r = await pg('version', 'check', 'refs/tags/v2.1.0-rc.1', '--allow-prerelease', ...artifacts, '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, semver: '2.1.0-rc.1', pep440: '2.1.0rc1' });
    const bad = await pg('version', 'check', 'v2.1.0-rc1', '--allow-prerelease', ...artifacts);
    expect(bad.code).toBe(1);
  });

  it('confirm passes on the phrase and fails without a terminal', async () => {
    expect((await pg('confirm', '--phrase', 'release acme-tool', '--input', 'release acme-tool')).code).toBe(0);
    expect((await pg('confirm', '--phrase', 'release acme-tool', '--input', token)).code).toBe(1);
    const noTty = await pg('confirm', '--phrase', 'release acme-tool');
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('no --input given and no terminal');
  });

  it('approvals: pubguard-signed verifies with ssh-keygen, ssh-keygen-signed verifies with pubguard', async () => {
    const a = await pg('approve', ...artifacts, '--key', 'id_alice', '--expires', '24h', '-f', 'json');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const files = JSON.parse(a.stdout).files as { statement: string; signature: string };
    writeFileSync(join(cwd, 'allowed_signers'), `alice ${keys.alice.pub}\n`);
    const sshOk = execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', join(cwd, 'allowed_signers'), '-I', 'alice', '-n', 'pubguard-approval', '-s', files.signature],
      { input: readFileSync(files.statement), encoding: 'utf8' },
    );
    expect(sshOk).toContain('Good "pubguard-approval" signature for alice');

    const partial = await pg('approvals', 'verify', ...artifacts);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain('1 more approval from group release-managers');

    // Carol signs by hand with plain ssh-keygen, from the statement pubguard wrote for her.
    const s = await pg('approve', ...artifacts, '--statement-only', '--approver', 'carol', '-f', 'json');
    expect(s.code).toBe(0);
    sshKeygenSign(keys.carol.path, JSON.parse(s.stdout).files.statement);

    const full = await pg('approvals', 'verify', ...artifacts, '-f', 'json');
    expect(full.stderr).toBe('');
    const verdict = JSON.parse(full.stdout);
    expect(verdict.rejected).toEqual([]);
    expect(verdict.counted.map((c: { person: string; group: string }) => [c.person, c.group])).toEqual([
      ['alice', 'security-team'],
      ['carol', 'release-managers'],
    ]);
    expect(full.code).toBe(0);

    // The initiator does not count by default.
    expect((await pg('approvals', 'verify', ...artifacts, '--initiator', 'carol')).code).toBe(1);
    // A missing artifact, or one rebuilt after approval, is refused.
    expect((await pg('approvals', 'verify', ...artifacts.slice(0, 2))).code).toBe(1);
    appendFileSync(join(cwd, artifacts[2]!), Buffer.from([0]));
    const changed = await pg('approvals', 'verify', ...artifacts);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('has other bytes');
  });

  it('the audit log holds every gate, verifies, and never the token', async () => {
    const show = await pg('audit', 'show');
    expect(show.code).toBe(0);
    const stages = show.stdout.split('\n').filter((l) => l.startsWith('#')).map((l) => l.split(' ').slice(2, 4).join(' '));
    expect(stages).toEqual([
      'version PASSED',
      'version REFUSED',
      'confirm PASSED',
      'confirm REFUSED',
      'approve PASSED',
      'approvals REFUSED',
      'approve PASSED',
      'approvals PASSED',
      'approvals REFUSED',
      'approvals REFUSED',
      'approvals REFUSED',
    ]);
    const v = await pg('audit', 'verify', '-f', 'json');
    expect(v.code).toBe(0);
    head = JSON.parse(v.stdout).head;
    // A tag that carries the token is refused, and the record of it is redacted.
    expect((await pg('version', 'check', `v1.0.0-${token}`)).code).toBe(1);
    const log = readFileSync(join(cwd, '.pubguard/audit.jsonl'), 'utf8');
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.slice(4));
    expect((await pg('audit', 'verify', '--head', head)).code).toBe(0);
    const lines = log.trimEnd().split('\n');
    writeFileSync(join(cwd, '.pubguard/audit.jsonl'), `${lines.slice(0, 5).join('\n')}\n`);
    const cut = await pg('audit', 'verify', '--head', head);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain('truncated or rewritten');
    expect(readdirSync(join(cwd, '.pubguard/approvals'))).toHaveLength(4);
  });
});
