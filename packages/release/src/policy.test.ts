import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from './errors.js';
import { loadPolicy, loadPolicyFile, policyProblems, validatePolicy } from './policy.js';
import { sshKey } from './testing/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-policy-'));
const a = sshKey(dir, 'a');
const b = sshKey(dir, 'b', 'rsa');
const c = sshKey(dir, 'c');

const base = () => ({
  version: 1,
  approvers: { alice: { keys: [a.pub] }, bob: { keys: [b.pub] } },
  groups: { sec: ['alice'], rel: ['bob'] },
  rule: { minApprovers: 2, groups: { sec: 1, rel: 1 } },
});

describe('validatePolicy', () => {
  it('reads people, keys, groups and the rule (initiator excluded by default)', () => {
    const p = validatePolicy(base());
    expect([...p.approvers.keys()]).toEqual(['alice', 'bob']);
    expect(p.keyOwner.size).toBe(2);
    expect(p.rule).toEqual({ minApprovers: 2, groups: { sec: 1, rel: 1 }, initiatorMayApprove: false });
    expect(policyProblems(p)).toEqual([]);
  });

  it.each([
    [(p: any) => (p.extra = 1), /unknown key "extra"/],
    [(p: any) => (p.version = 2), /"version" must be 1/],
    [(p: any) => (p.approvers = {}), /"approvers" must be an object with at least one person/],
    [(p: any) => (p.approvers.alice.keys = []), /"approvers\.alice\.keys" must be a non-empty array/],
    [(p: any) => (p.approvers.alice.keys = ['ssh-dss AAAA']), /"approvers\.alice\.keys\[0\]": unsupported key type 'ssh-dss'/],
    [(p: any) => (p.approvers.alice.keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA']), /"approvers\.alice\.keys\[0\]": public key is truncated/],
    [(p: any) => (p.approvers.alice.email = 'x'), /unknown key "approvers\.alice\.email"/],
    [(p: any) => (p.approvers.bob.keys = [a.pub]), /"approvers\.bob\.keys\[0\]" is also a key of "alice"/],
    [(p: any) => (p.groups.sec = ['mallory']), /"groups\.sec\[0\]" \("mallory"\) is not a name in "approvers"/],
    [(p: any) => (p.rule.minApprovers = 0), /"rule\.minApprovers" must be at least 1/],
    [(p: any) => (p.rule.minApprovers = '2'), /"rule\.minApprovers" must be a whole number/],
    [(p: any) => (p.rule.groups.ops = 1), /"rule\.groups\.ops" names a group not defined/],
    [(p: any) => (p.rule.groups.sec = 1.5), /"rule\.groups\.sec" must be a whole number/],
    [(p: any) => (p.rule.initiatorMayApprove = 'yes'), /"rule\.initiatorMayApprove" must be true or false/],
    [(p: any) => (p.rule.quorum = 2), /unknown key "rule\.quorum"/],
  ])('names the offending key (%#)', (mutate, message) => {
    const p = base();
    mutate(p);
    expect(() => validatePolicy(p, 'policy.json')).toThrow(PolicyError);
    expect(() => validatePolicy(p, 'policy.json')).toThrow(message);
  });

  it('reports unreadable and non-JSON files', async () => {
    await expect(loadPolicy(join(dir, 'nope.json'))).rejects.toThrow(/cannot read policy .*no such file/);
    writeFileSync(join(dir, 'bad.json'), '{');
    await expect(loadPolicy(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
  });
});

describe('loadPolicyFile', () => {
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const text = (): string => JSON.stringify(base(), null, 2);
  // Each edit appends a second key after the first, as a line added at the end of an object would.
  const cases: [string, (t: string) => string, RegExp][] = [
    ['rule', (t) => t.replace(/\n\}$/, ',\n  "rule": {"minApprovers": 1}\n}'), /:30:3: key "rule" is written twice \(first on line 23\)/],
    ['rule.minApprovers', (t) => t.replace('"minApprovers": 2,', '"minApprovers": 2, "minApprovers": 1,'), /:24:24: key "rule\.minApprovers" is written twice \(first on line 24\)/],
    ['approvers.alice', (t) => t.replace('"bob": {', `"alice": {"keys": [${JSON.stringify(c.pub)}]},\n    "bob": {`), /key "approvers\.alice" is written twice/],
    ['groups', (t) => t.replace('"rule": {', '"groups": {"sec": ["bob"], "rel": ["bob"]},\n  "rule": {'), /key "groups" is written twice/],
    ['an escaped spelling', (t) => t.replace('"rule": {', '"\\u0072ule": {"minApprovers": 1},\n  "rule": {'), /key "rule" is written twice/],
  ];
  it.each(cases)('refuses a policy with %s written twice, naming the key and its lines', async (_what, edit, message) => {
    const edited = edit(text());
    expect(edited).not.toBe(text());
    // JSON.parse takes it and keeps the last one, which validates.
    expect(() => validatePolicy(JSON.parse(edited))).not.toThrow();
    const file = write('twice.json', edited);
    await expect(loadPolicyFile(file)).rejects.toThrow(PolicyError);
    await expect(loadPolicyFile(file)).rejects.toThrow(message);
    await expect(loadPolicyFile(file)).rejects.toThrow(/only the last would count, whichever one a reader takes for it: keep one$/);
  });

  it('reads a policy whose keys repeat only in different objects', async () => {
    const file = write('apart.json', text());
    expect((await loadPolicyFile(file)).policy.rule.minApprovers).toBe(2);
  });
});

describe('policy.schema.json', () => {
  it('describes the same keys the validator accepts', async () => {
    const { readFileSync } = await import('node:fs');
    const schema = JSON.parse(readFileSync(new URL('../schemas/policy.schema.json', import.meta.url), 'utf8'));
    expect(Object.keys(schema.properties).sort()).toEqual(['$schema', 'approvers', 'groups', 'rule', 'version']);
    expect(Object.keys(schema.properties.rule.properties).sort()).toEqual(['groups', 'initiatorMayApprove', 'minApprovers']);
    expect(Object.keys(schema.properties.approvers.additionalProperties.properties)).toEqual(['keys']);
    const keyPattern = new RegExp(schema.properties.approvers.additionalProperties.properties.keys.items.pattern);
    expect(keyPattern.test(a.pub)).toBe(true);
    expect(keyPattern.test(b.pub)).toBe(true);
    // Every key the schema allows is one the validator takes.
    expect(() => validatePolicy({ $schema: schema.$id, ...base(), rule: { ...base().rule, initiatorMayApprove: true } })).not.toThrow();
  });
});

describe('policyProblems', () => {
  it('detects rules that can never be met', () => {
    const p = base();
    p.rule.minApprovers = 3;
    expect(policyProblems(validatePolicy(p))).toEqual(['the rule needs 3 distinct approvers but only 2 can approve']);
    const q = base();
    q.rule.groups.sec = 2;
    expect(policyProblems(validatePolicy(q))).toEqual(['group sec must give 2 approvals but has only 1 member']);
    const r = base();
    r.groups = { sec: ['alice'], rel: ['alice'] };
    expect(policyProblems(validatePolicy(r))[0]).toMatch(/need 2 different people/);
  });

  it('leaves the initiator out when they may not approve', () => {
    const p = validatePolicy(base());
    expect(policyProblems(p, { initiator: 'bob' })).toEqual([
      'the rule needs 2 distinct approvers but only 1 can approve without the initiator bob',
      'group rel must give 1 approval but has only 0 members without the initiator bob',
    ]);
  });

  it('leaves the initiator out whatever the case of their user name', () => {
    expect(policyProblems(validatePolicy(base()), { initiator: 'Bob' })).toEqual([
      'the rule needs 2 distinct approvers but only 1 can approve without the initiator bob',
      'group rel must give 1 approval but has only 0 members without the initiator bob',
    ]);
  });

  it('leaves out every initiator of a run that someone else re-ran', () => {
    expect(policyProblems(validatePolicy(base()), { initiator: ['Alice', 'bob'] })).toEqual([
      'the rule needs 2 distinct approvers but only 0 can approve without the initiators alice and bob',
      'group sec must give 1 approval but has only 0 members without the initiators alice and bob',
      'group rel must give 1 approval but has only 0 members without the initiators alice and bob',
    ]);
  });

  it('counts one approver or approval in the singular', () => {
    const p = base();
    p.approvers = { alice: { keys: [a.pub] } } as typeof p.approvers;
    p.groups = { sec: ['alice'] } as typeof p.groups;
    p.rule = { minApprovers: 1, groups: { sec: 1 } } as typeof p.rule;
    expect(policyProblems(validatePolicy(p), { initiator: 'alice' })).toEqual([
      'the rule needs 1 distinct approver but only 0 can approve without the initiator alice',
      'group sec must give 1 approval but has only 0 members without the initiator alice',
    ]);
  });
});
