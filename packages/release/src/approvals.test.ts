import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalVerdict, MAX_SIGNATURE_BYTES, MAX_STATEMENT_BYTES, loadApprovals, loadApprovalsIfPresent, verifyApprovals } from './approvals.js';
import { loadPrivateKey } from './keys.js';
import { type Policy, validatePolicy } from './policy.js';
import { MAX_DURATION_MS, type ReleaseSubject, approvalFileName, canonicalStatement, buildStatement, createApproval, describeRelease } from './statement.js';
import { npmTarball, sshKey, sshKeygenSign, wheel } from './testing/fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'pubguard-approvals-'));
const HOUR = 3_600_000;
const NOW = new Date('2030-01-01T12:00:00Z');

type Person = 'alice' | 'alice2' | 'bob' | 'carol' | 'dave';
const keys = {} as Record<Person, { path: string; pub: string }>;
let artifacts: string[];
let subject: ReleaseSubject;
let counter = 0;

function policyJson(rule: Record<string, unknown> = {}, groups?: Record<string, string[]>): unknown {
  return {
    version: 1,
    approvers: {
      alice: { keys: [keys.alice.pub, keys.alice2.pub] },
      bob: { keys: [keys.bob.pub] },
      carol: { keys: [keys.carol.pub] },
    },
    groups: groups ?? { 'security-team': ['alice', 'bob'], 'release-managers': ['carol'] },
    rule: { minApprovers: 2, groups: { 'security-team': 1, 'release-managers': 1 }, ...rule },
  };
}

let policy: Policy;

/** Signs `s` with a person's key into `dir`; returns the statement path. */
async function approve(dir: string, who: Person, s: ReleaseSubject = subject, opts: { approver?: string; validFor?: number; at?: Date } = {}): Promise<string> {
  const key = await loadPrivateKey(keys[who].path);
  const approver = opts.approver ?? who.replace(/2$/, '');
  const signed = createApproval(s, approver, key, { validForMs: opts.validFor ?? 72 * HOUR, now: opts.at ?? new Date(NOW.getTime() - HOUR) });
  const file = join(dir, approvalFileName(signed.statement, key.publicKey.fingerprint));
  writeFileSync(file, signed.text);
  writeFileSync(`${file}.sig`, signed.signature);
  return file;
}

function freshDir(): string {
  const dir = join(root, `approvals-${++counter}`);
  mkdirSync(dir);
  return dir;
}

async function verify(dir: string, extra: { subject?: ReleaseSubject; initiator?: string; now?: Date; policy?: Policy } = {}): Promise<ApprovalVerdict> {
  return verifyApprovals({
    subject: extra.subject ?? subject,
    policy: extra.policy ?? policy,
    approvals: await loadApprovals(dir),
    now: extra.now ?? NOW,
    ...(extra.initiator === undefined ? {} : { initiator: extra.initiator }),
  });
}

beforeAll(async () => {
  for (const p of ['alice', 'alice2', 'bob', 'carol', 'dave'] as const) keys[p] = sshKey(root, `id_${p}`);
  artifacts = [await npmTarball(root, 'tool', '1.4.0'), await wheel(root, 'tool', '1.4.0')];
  subject = await describeRelease(artifacts);
  policy = validatePolicy(policyJson());
});

describe('verifyApprovals', () => {
  it('accepts a release when the rule is met and says who counted for which group', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol');
    const v = await verify(dir);
    expect(v.ok).toBe(true);
    expect(v.counted.map((c) => [c.person, c.group])).toEqual([
      ['alice', 'security-team'],
      ['carol', 'release-managers'],
    ]);
    expect(subject).toMatchObject({ package: 'tool', version: '1.4.0' });
  });

  it('says exactly what is missing', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.missing).toEqual(['1 more approval from group release-managers', '1 more distinct approver (1 of 2)']);
  });

  it('refuses a signature made over other bytes', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const carol = await approve(dir, 'carol');
    const other = await approve(freshDir(), 'carol', { ...subject, version: '1.4.1' });
    writeFileSync(`${carol}.sig`, readFileSync(`${other}.sig`));
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual([expect.objectContaining({ person: 'carol', reason: expect.stringMatching(/does not match the statement bytes/) })]);
  });

  it('refuses when an artifact changed after approval', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol');
    const changed = { ...subject, artifacts: subject.artifacts.map((a, i) => (i === 0 ? { ...a, sha256: 'f'.repeat(64) } : a)) };
    const v = await verify(dir, { subject: changed });
    expect(v.ok).toBe(false);
    expect(v.rejected).toHaveLength(2);
    expect(v.rejected[0]!.reason).toMatch(/has other bytes/);
  });

  it('refuses an extra artifact and a missing one', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol');
    const extra = { ...subject, artifacts: [...subject.artifacts, { name: 'zzz.tgz', sha256: 'a'.repeat(64) }] };
    const v1 = await verify(dir, { subject: extra });
    expect(v1.ok).toBe(false);
    expect(v1.rejected[0]!.reason).toMatch(/does not cover zzz\.tgz/);
    const fewer = { ...subject, artifacts: subject.artifacts.slice(1) };
    const v2 = await verify(dir, { subject: fewer });
    expect(v2.ok).toBe(false);
    expect(v2.rejected[0]!.reason).toMatch(/also approves .*not in this release/);
  });

  it('says in one clause that an approval is for other files of this version', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    // The Python distributions of the same version, approved beside the npm tarball.
    const other = { ...subject, artifacts: [{ name: 'acme_tool-2.1.0rc1-py3-none-any.whl', sha256: 'b'.repeat(64) }] };
    const v = await verify(dir, { subject: other });
    expect(v.ok).toBe(false);
    expect(v.rejected[0]!.reason).toBe(`statement approves other files of this version (${subject.artifacts.map((a) => a.name).sort().join(', ')}), none of these`);
  });

  it('refuses an approval of another version', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol', { ...subject, version: '1.4.1' });
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected[0]!.reason).toMatch(/approves version 1\.4\.1, not 1\.4\.0/);
  });

  it('refuses an expired approval', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol', subject, { validFor: HOUR / 2 });
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual([expect.objectContaining({ person: 'carol', reason: expect.stringMatching(/expired at/) })]);
  });

  it('refuses an approval valid for more than 100 years, as approve --expires does', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol', subject, { validFor: MAX_DURATION_MS + 1000 });
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual([expect.objectContaining({ person: 'carol', reason: expect.stringMatching(/^approval is valid for more than 100 years \(issued 2030-01-01T11:00:00\.000Z, expires 2130-/) })]);
    const longest = freshDir();
    await approve(longest, 'alice');
    await approve(longest, 'carol', subject, { validFor: MAX_DURATION_MS });
    expect((await verify(longest)).ok).toBe(true);
    // Signed by hand, the dates are whatever the signer writes.
    const hand = freshDir();
    await approve(hand, 'alice');
    const file = join(hand, 'carol-by-hand.approval.json');
    const statement = { ...buildStatement(subject, 'carol', HOUR), issuedAt: '1970-01-01T00:00:00.000Z', expires: '+275760-09-13T00:00:00.000Z' };
    writeFileSync(file, canonicalStatement(statement));
    sshKeygenSign(keys.carol.path, file);
    const v2 = await verify(hand);
    expect(v2.ok).toBe(false);
    expect(v2.rejected.map((r) => r.reason)).toEqual([
      'approval is valid for more than 100 years (issued 1970-01-01T00:00:00.000Z, expires +275760-09-13T00:00:00.000Z); approvals may last 100 years at most',
    ]);
  });

  it('refuses an approval dated more than 5 minutes in the future', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol', subject, { at: new Date(NOW.getTime() + 6 * 60_000) });
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual([
      expect.objectContaining({ person: 'carol', reason: 'approval is dated in the future (2030-01-01T12:06:00.000Z, more than 5 minutes after now, 2030-01-01T12:00:00.000Z)' }),
    ]);
    // A signer's clock a little ahead of CI's is no reason to refuse.
    const skew = freshDir();
    await approve(skew, 'alice');
    await approve(skew, 'carol', subject, { at: new Date(NOW.getTime() + 4 * 60_000) });
    expect((await verify(skew)).ok).toBe(true);
  });

  it('refuses a key that is not in the policy', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'dave', subject, { approver: 'carol' });
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected[0]!.reason).toMatch(/not in the policy/);
  });

  it('refuses a statement naming another approver than the key owner', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'bob', subject, { approver: 'carol' });
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected[0]!.reason).toMatch(/names approver 'carol' but the key belongs to 'bob'/);
  });

  it('counts the same person once, also across two of their keys', async () => {
    const flat = validatePolicy(policyJson({ groups: {} }));
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'alice2');
    const v = await verify(dir, { policy: flat });
    expect(v.ok).toBe(false);
    expect(v.counted.map((c) => c.person)).toEqual(['alice']);
    expect(v.rejected[0]!.reason).toMatch(/alice already approved/);
    // The same key twice (two statements) is also one person.
    const dir2 = freshDir();
    const first = await approve(dir2, 'alice');
    writeFileSync(first.replace('.approval.json', '.again.approval.json'), readFileSync(first));
    writeFileSync(first.replace('.approval.json', '.again.approval.json.sig'), readFileSync(`${first}.sig`));
    expect((await verify(dir2, { policy: flat })).ok).toBe(false);
    await approve(dir2, 'bob');
    expect((await verify(dir2, { policy: flat })).ok).toBe(true);
  });

  it('does not count the initiator unless the policy allows it', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'carol');
    const v = await verify(dir, { initiator: 'alice', policy: validatePolicy(policyJson({ groups: {} })) });
    expect(v.ok).toBe(false);
    expect(v.rejected[0]!.reason).toMatch(/alice started this release/);
    const allowed = validatePolicy(policyJson({ groups: {}, initiatorMayApprove: true }));
    expect((await verify(dir, { initiator: 'alice', policy: allowed })).ok).toBe(true);
  });

  it('knows the initiator whatever the case CI spells the user name in', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    // GitHub user names are case-insensitive; GITHUB_ACTOR spells one as the account does.
    const v = await verify(dir, { initiator: 'Alice', policy: validatePolicy(policyJson({ groups: {}, minApprovers: 1 })) });
    expect(v.ok).toBe(false);
    expect(v.rejected.map((r) => [r.person, r.reason])).toEqual([['alice', 'alice started this release and may not approve it']]);
  });

  it('refuses a tampered statement', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const carol = await approve(dir, 'carol', subject, { validFor: HOUR / 2 });
    // Extending one's own expiry by editing the signed file must not work.
    const text = readFileSync(carol, 'utf8');
    const s = JSON.parse(text);
    writeFileSync(carol, canonicalStatement({ ...s, expires: '2099-01-01T00:00:00.000Z' }));
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected[0]!.reason).toMatch(/does not match the statement bytes/);
  });

  it('refuses truncated and malformed signature files', async () => {
    for (const mangle of [(s: string) => s.slice(0, s.length / 2), (s: string) => s.replace(/[A-Za-z0-9+/]{70}/, 'not base64 !!'), () => '']) {
      const dir = freshDir();
      await approve(dir, 'alice');
      const carol = await approve(dir, 'carol');
      writeFileSync(`${carol}.sig`, mangle(readFileSync(`${carol}.sig`, 'utf8')));
      const v = await verify(dir);
      expect(v.ok).toBe(false);
      expect(v.rejected[0]!.reason).toMatch(/malformed signature/);
    }
    const dir = freshDir();
    await approve(dir, 'alice');
    const carol = await approve(dir, 'carol');
    unlinkSync(`${carol}.sig`);
    expect((await verify(dir)).rejected[0]).toMatchObject({ file: carol, reason: expect.stringMatching(/no signature file/) });
    const alone = freshDir();
    const bob = await approve(alone, 'bob');
    unlinkSync(bob);
    expect((await verify(alone)).rejected[0]).toMatchObject({ file: bob, reason: 'signature without its statement file' });
  });

  it('refuses a policy that can never be met', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    await approve(dir, 'bob');
    await approve(dir, 'carol');
    const tooMany = validatePolicy(policyJson({ minApprovers: 4 }));
    const v1 = await verify(dir, { policy: tooMany });
    expect(v1.ok).toBe(false);
    expect(v1.unsatisfiable).toEqual(['the rule needs 4 distinct approvers but only 3 can approve']);
    const quota = validatePolicy(policyJson({ minApprovers: 1, groups: { 'release-managers': 2 } }));
    expect((await verify(dir, { policy: quota })).unsatisfiable[0]).toMatch(/release-managers must give 2 approvals but has only 1 member/);
    const overlap = validatePolicy(
      policyJson({ minApprovers: 1, groups: { a: 1, b: 1 } }, { a: ['carol'], b: ['carol'] }),
    );
    expect((await verify(dir, { policy: overlap })).unsatisfiable[0]).toMatch(/overlap/);
    const withoutInitiator = await verify(dir, { policy: validatePolicy(policyJson({ minApprovers: 3 })), initiator: 'carol' });
    expect(withoutInitiator.unsatisfiable.join()).toMatch(/without the initiator carol/);
  });

  it('accepts an approval signed with plain ssh-keygen', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const statement = buildStatement(subject, 'carol', 72 * HOUR, new Date(NOW.getTime() - HOUR));
    const file = join(dir, 'carol-by-hand.approval.json');
    writeFileSync(file, canonicalStatement(statement));
    sshKeygenSign(keys.carol.path, file);
    const v = await verify(dir);
    expect(v.rejected).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('does not count a signed statement that writes a key twice, as it is not canonical', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const statement = buildStatement(subject, 'carol', 72 * HOUR, new Date(NOW.getTime() - HOUR));
    const file = join(dir, 'carol-by-hand.approval.json');
    // A reader sees another version first; JSON.parse keeps the last, the one released.
    writeFileSync(file, canonicalStatement(statement).replace('  "version": ', '  "version": "0.0.1-review",\n  "version": '));
    sshKeygenSign(keys.carol.path, file);
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual([expect.objectContaining({ reason: expect.stringContaining('not in canonical form') })]);
  });
});

describe('loadApprovalsIfPresent', () => {
  it('takes only a missing directory for no approvals yet, and words every other failure', async () => {
    const dir = freshDir();
    expect(await loadApprovalsIfPresent(join(dir, 'none', 'yet'))).toBeUndefined();
    await expect(loadApprovals(join(dir, 'none'))).rejects.toThrow(`cannot read approvals directory ${join(dir, 'none')}: no such directory`);
    writeFileSync(join(dir, 'afile'), 'x');
    symlinkSync('loopb', join(dir, 'loopa'));
    symlinkSync('loopa', join(dir, 'loopb'));
    for (const load of [loadApprovals, loadApprovalsIfPresent]) {
      await expect(load(join(dir, 'afile', 'x'))).rejects.toThrow(`cannot read approvals directory ${join(dir, 'afile', 'x')}: a part of its path is a file, not a directory`);
      await expect(load(join(dir, 'afile'))).rejects.toThrow(`cannot read approvals directory ${join(dir, 'afile')}: is a file, not a directory`);
      await expect(load(join(dir, 'loopa'))).rejects.toThrow(`cannot read approvals directory ${join(dir, 'loopa')}: too many symbolic links on its path`);
    }
    expect(await loadApprovalsIfPresent(dir)).toEqual([]);
  });
});

describe('loadApprovals', () => {
  it('reads only regular files and reports any other kind as a rejected approval, unread', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const carol = await approve(dir, 'carol');
    const target = join(root, 'elsewhere.json');
    writeFileSync(target, readFileSync(carol));
    // A link to a statement that would count, a link to an endless device, a FIFO that blocks any reader, a directory.
    symlinkSync(target, join(dir, 'a-link.approval.json'));
    writeFileSync(join(dir, 'a-link.approval.json.sig'), readFileSync(`${carol}.sig`));
    symlinkSync('/dev/zero', join(dir, 'b-zero.approval.json'));
    execFileSync('mkfifo', [join(dir, 'c-fifo.approval.json')]);
    mkdirSync(join(dir, 'd-dir.approval.json'));
    symlinkSync('/dev/zero', join(dir, 'e-sig.approval.json.sig'));
    const loaded = await loadApprovals(dir);
    const reasons = Object.fromEntries(loaded.filter((a) => a.problem !== undefined).map((a) => [basename(a.file), a.problem]));
    expect(reasons).toEqual({
      'a-link.approval.json': 'statement file a-link.approval.json is a symbolic link, not a regular file; not read',
      'b-zero.approval.json': 'statement file b-zero.approval.json is a symbolic link, not a regular file; not read',
      'c-fifo.approval.json': 'statement file c-fifo.approval.json is a named pipe, not a regular file; not read',
      'd-dir.approval.json': 'statement file d-dir.approval.json is a directory, not a regular file; not read',
      'e-sig.approval.json': 'signature file e-sig.approval.json.sig is a symbolic link, not a regular file; not read',
    });
    const v = verifyApprovals({ subject, policy, approvals: loaded, now: NOW });
    expect(v.counted.map((c) => c.person)).toEqual(['alice', 'carol']);
    expect(v.rejected.map((r) => [basename(r.file), r.reason])).toEqual(Object.entries(reasons));
  });

  it('does not read a statement or signature past its size limit', async () => {
    const dir = freshDir();
    await approve(dir, 'alice');
    const carol = await approve(dir, 'carol');
    const big = join(dir, 'big.approval.json');
    writeFileSync(big, Buffer.alloc(MAX_STATEMENT_BYTES + 1, 0x20));
    writeFileSync(`${big}.sig`, readFileSync(`${carol}.sig`));
    writeFileSync(`${carol}.sig`, `${readFileSync(`${carol}.sig`, 'utf8')}${' '.repeat(MAX_SIGNATURE_BYTES)}`);
    const v = verifyApprovals({ subject, policy, approvals: await loadApprovals(dir), now: NOW });
    expect(v.counted.map((c) => c.person)).toEqual(['alice']);
    expect(v.rejected.map((r) => [basename(r.file), r.reason])).toEqual([
      ['big.approval.json', 'statement file big.approval.json is larger than 64 KiB; not read'],
      [basename(carol), `signature file ${basename(carol)}.sig is larger than 16 KiB; not read`],
    ]);
    // At the limit a file is read as before.
    writeFileSync(`${carol}.sig`, readFileSync(`${carol}.sig`, 'utf8').slice(0, MAX_SIGNATURE_BYTES));
    expect((await verify(dir)).counted.map((c) => c.person)).toEqual(['alice', 'carol']);
  });
});
