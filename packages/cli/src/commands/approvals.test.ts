import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { npmTarball, sshKey } from '../../../release/src/testing/fixtures.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-approvals-'));

beforeAll(async () => {
  const keys = { alice: sshKey(cwd, 'id_alice'), bob: sshKey(cwd, 'id_bob', 'ecdsa'), carol: sshKey(cwd, 'id_carol', 'rsa') };
  await npmTarball(cwd, 'tool', '3.0.0');
  writeFileSync(
    join(cwd, 'policy.json'),
    JSON.stringify({
      version: 1,
      approvers: Object.fromEntries(Object.entries(keys).map(([n, k]) => [n, { keys: [k.pub] }])),
      groups: { security: ['alice', 'bob'], release: ['carol'] },
      rule: { minApprovers: 2, groups: { security: 1, release: 1 } },
    }),
  );
});

const verify = async (...extra: string[]) => {
  const io = memoryIO({ cwd });
  const r = await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', 'appr', '--no-audit', ...extra], io);
  return { code: r.exitCode, out: io.out(), err: io.err() };
};

describe('pubguard approvals verify', () => {
  it('says what is missing, then who approved for which group', async () => {
    const approve = (who: string) => run(['approve', 'tool-3.0.0.tgz', '--key', `id_${who}`, '--policy', 'policy.json', '--out', 'appr', '--no-audit'], memoryIO({ cwd }));
    expect((await approve('bob')).exitCode).toBe(0);
    const partial = await verify();
    expect(partial.code).toBe(1);
    expect(partial.out).toContain('tool 3.0.0, 1 artifact: REFUSED');
    expect(partial.out).toContain('Missing:\n  1 more approval from group release\n  1 more distinct approver (1 of 2)');
    expect((await approve('carol')).exitCode).toBe(0);
    const done = await verify();
    expect(done.code).toBe(0);
    expect(done.out).toMatch(/APPROVED\nCounted:\n  bob — for security .*\n  carol — for release /);
    const json = JSON.parse((await verify('-f', 'json')).out);
    expect(json).toMatchObject({ version: 1, stage: 'approvals', ok: true, missing: [], rejected: [] });
    expect(json.counted.map((c: { person: string; group: string }) => `${c.person}:${c.group}`)).toEqual(['bob:security', 'carol:release']);
    const initiator = await verify('--initiator', 'carol');
    expect(initiator.code).toBe(1);
    expect(initiator.out).toContain('carol started this release and may not approve it');
    expect(initiator.out).toContain('The policy can never be met:\n  group release must give 1 approval but has only 0 members without the initiator carol');
  });

  it('takes the initiator from the CI run when --initiator is not given, and says so', async () => {
    const inCi = async (env: Record<string, string>, ...extra: string[]) => {
      const io = memoryIO({ cwd, env });
      const r = await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', 'appr', '--no-audit', ...extra], io);
      return { code: r.exitCode, out: io.out() };
    };
    // bob and carol have approved (above): carol started the run, so hers does not count.
    const github = await inCi({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'carol' });
    expect(github.code).toBe(1);
    expect(github.out).toContain('Initiator: carol (from GITHUB_ACTOR), whose approval does not count');
    expect(github.out).toContain('carol started this release and may not approve it');
    // dave started the workflow, carol re-ran it: neither counts.
    const rerun = await inCi({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'dave', GITHUB_TRIGGERING_ACTOR: 'carol' });
    expect(rerun.code).toBe(1);
    expect(rerun.out).toContain('carol started this release and may not approve it');
    expect(rerun.out).toContain('Initiator: dave and carol (from GITHUB_ACTOR and GITHUB_TRIGGERING_ACTOR), whose approvals do not count');
    expect((await inCi({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'dave', GITHUB_TRIGGERING_ACTOR: 'dave' })).code).toBe(0);
    const gitlab = await inCi({ GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'carol' });
    expect(gitlab.code).toBe(1);
    expect(gitlab.out).toContain('Initiator: carol (from GITLAB_USER_LOGIN)');
    // --initiator wins; outside CI the initiator is unknown, and the output says what that means.
    const dave = await inCi({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'carol' }, '--initiator', 'dave');
    expect(dave.code).toBe(0);
    expect(dave.out).toContain('Initiator: dave, who is not an approver in the policy, so no approval is left out');
    // A CI user name the policy spells otherwise: nobody's approval is left out, and the output says it.
    const other = await inCi({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'carol-gh' });
    expect(other.code).toBe(0);
    expect(other.out).toContain('Initiator: carol-gh (from GITHUB_ACTOR), who is not an approver in the policy, so no approval is left out; name approvers by their CI user names');
    expect(other.out).not.toContain('whose approval does not count');
    const local = await inCi({ GITHUB_ACTOR: 'carol' });
    expect(local.code).toBe(0);
    expect(local.out).toContain('Initiator: unknown (no --initiator, and not run in GitHub Actions or GitLab CI)');
  });

  it('records the policy that judged, by path and sha256, as publish does', async () => {
    const io = memoryIO({ cwd });
    const audit = join(cwd, 'approvals-audit.jsonl');
    await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', 'appr', '--audit', audit], io);
    const record = JSON.parse(readFileSync(audit, 'utf8').trim().split('\n').at(-1) ?? '{}') as { details?: { policy?: unknown } };
    expect(record.details?.policy).toEqual({ path: 'policy.json', sha256: createHash('sha256').update(readFileSync(join(cwd, 'policy.json'))).digest('hex') });
  });

  it('exits 2 on an invalid policy, naming the key', async () => {
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ version: 1, approvers: { x: { keys: [] } }, rule: { minApprovers: 1 } }));
    const r = await verify('--policy', 'bad.json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('"approvers.x.keys" must be a non-empty array');
  });

  it('exits 2 on a policy that writes a key twice, which JSON.parse would read as the last one', async () => {
    expect((await run(['approve', 'tool-3.0.0.tgz', '--key', 'id_bob', '--policy', 'policy.json', '--out', 'appr-bob', '--no-audit'], memoryIO({ cwd }))).exitCode).toBe(0);
    const policy = readFileSync(join(cwd, 'policy.json'), 'utf8');
    writeFileSync(join(cwd, 'twice.json'), policy.replace(/\}$/, ', "rule": {"minApprovers": 1}}'));
    const twice = await verify('--policy', 'twice.json', '--approvals', 'appr-bob');
    expect(twice.code).toBe(2);
    expect(twice.out).not.toContain('APPROVED');
    expect(twice.err).toMatch(/twice\.json:1:\d+: key "rule" is written twice \(first on line 1\)/);
    // As written first, the rule wants two approvers: bob alone is not enough.
    expect((await verify('--approvals', 'appr-bob')).code).toBe(1);
  });

  it('refuses, as publish does, when nobody has approved yet and the directory does not exist', async () => {
    const io = memoryIO({ cwd });
    const r = await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', 'no-approvals-yet', '--no-audit'], io);
    expect(r.exitCode).toBe(1);
    expect(io.out()).toContain(`tool 3.0.0, 1 artifact: REFUSED\nNo approvals: ${join(cwd, 'no-approvals-yet')} does not exist (yet)\nMissing:\n`);
  });

  it('exits 2 when the approvals directory cannot be read for another reason than not being there', async () => {
    writeFileSync(join(cwd, 'afile'), 'x');
    symlinkSync('loopb', join(cwd, 'loopa'));
    symlinkSync('loopa', join(cwd, 'loopb'));
    for (const [dir, why] of [
      ['afile/x', 'a part of its path is a file, not a directory'],
      ['afile', 'is a file, not a directory'],
      ['loopa', 'too many symbolic links on its path'],
    ] as const) {
      const io = memoryIO({ cwd });
      const r = await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', dir, '--no-audit'], io);
      expect(r.exitCode).toBe(2);
      expect(io.err()).toContain(`pubguard approvals verify: cannot read approvals directory ${join(cwd, dir)}: ${why}`);
      expect(io.out()).not.toContain('does not exist');
    }
  });

  it('shows control characters in the names of approval files escaped', async () => {
    mkdirSync(join(cwd, 'appr-escapes'));
    writeFileSync(join(cwd, 'appr-escapes', 'x\x1b[1A\x1b[2Ktool 3.0.0, 1 artifact: APPROVED\n.approval.json'), '{}');
    const io = memoryIO({ cwd });
    const r = await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', 'appr-escapes', '--no-audit'], io);
    expect(r.exitCode).toBe(1);
    expect(io.out()).not.toContain('\x1b');
    expect(io.out()).toContain('x\\x1b[1A\\x1b[2Ktool 3.0.0, 1 artifact: APPROVED\\x0a.approval.json');
  });

  it('has --help', async () => {
    const io = memoryIO();
    expect((await run(['approvals', 'verify', '--help'], io)).exitCode).toBe(0);
    expect(io.out()).toContain('--initiator NAME');
  });

  it('records no verdict once Ctrl-C, SIGTERM or SIGHUP has stopped it, exit 2', async () => {
    const io = memoryIO({ cwd, signal: AbortSignal.abort() });
    const r = await run(['approvals', 'verify', 'tool-3.0.0.tgz', '--policy', 'policy.json', '--approvals', 'appr', '--audit', 'halt.jsonl'], io);
    expect(r.exitCode).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toMatch(/^pubguard approvals verify: interrupted/);
    expect(existsSync(join(cwd, 'halt.jsonl'))).toBe(false);
  });
});
