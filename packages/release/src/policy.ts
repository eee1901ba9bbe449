import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { brokenLinkOnPath, describeBrokenLink, describeFsError, findDuplicateJsonKey } from '@pubguard/engine';
import { PolicyError } from './errors.js';
import { type SshPublicKey, parsePublicKeyLine } from './keys.js';

/** The counting rule of a policy. */
export interface ApprovalRule {
  /** Distinct people who must approve, whatever their group. */
  minApprovers: number;
  /** Per group, how many distinct people of that group must approve; one person fills one group's quota only. */
  groups: Record<string, number>;
  /** Whether the person who started the release may approve it (default false). */
  initiatorMayApprove: boolean;
}

/** A validated policy. */
export interface Policy {
  /** Person -> their public keys. */
  approvers: Map<string, SshPublicKey[]>;
  /** Group -> member names. */
  groups: Map<string, string[]>;
  rule: ApprovalRule;
  /** Key fingerprint (`SHA256:…`) -> person. */
  keyOwner: Map<string, string>;
}

const TOP_KEYS = ['$schema', 'version', 'approvers', 'groups', 'rule'];
const RULE_KEYS = ['minApprovers', 'groups', 'initiatorMayApprove'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new PolicyError(`${where} must be a whole number >= 0`);
  return v;
}

/** Validates parsed policy JSON against the rules of schemas/policy.schema.json; errors name the key. */
export function validatePolicy(data: unknown, source = 'policy'): Policy {
  const fail = (msg: string): never => {
    throw new PolicyError(`${source}: ${msg}`);
  };
  if (!isObject(data)) fail('must be a JSON object');
  const d = data as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!TOP_KEYS.includes(k)) fail(`unknown key "${k}" (allowed: ${TOP_KEYS.join(', ')})`);
  if (d.version !== 1) fail('"version" must be 1');
  if (!isObject(d.approvers) || Object.keys(d.approvers).length === 0) fail('"approvers" must be an object with at least one person');
  const approvers = new Map<string, SshPublicKey[]>();
  const keyOwner = new Map<string, string>();
  for (const [person, entry] of Object.entries(d.approvers as Record<string, unknown>)) {
    const where = `approvers.${person}`;
    if (!NAME.test(person)) fail(`"${where}": a name may hold letters, digits and . _ @ - only`);
    if (!isObject(entry)) fail(`"${where}" must be an object with "keys"`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (k !== 'keys') fail(`unknown key "${where}.${k}" (allowed: keys)`);
    if (!Array.isArray(e.keys) || e.keys.length === 0) fail(`"${where}.keys" must be a non-empty array of public key lines`);
    const keys: SshPublicKey[] = [];
    (e.keys as unknown[]).forEach((line, i) => {
      if (typeof line !== 'string') fail(`"${where}.keys[${i}]" must be a string`);
      let key: SshPublicKey | undefined;
      try {
        key = parsePublicKeyLine(line as string);
      } catch (error) {
        fail(`"${where}.keys[${i}]": ${(error as Error).message}`);
      }
      const owner = keyOwner.get(key!.fingerprint);
      if (owner !== undefined && owner !== person) fail(`"${where}.keys[${i}]" is also a key of "${owner}"; a key belongs to one person`);
      keyOwner.set(key!.fingerprint, person);
      keys.push(key!);
    });
    approvers.set(person, keys);
  }
  const groups = new Map<string, string[]>();
  if (d.groups !== undefined) {
    if (!isObject(d.groups)) fail('"groups" must be an object of group name -> member names');
    for (const [group, members] of Object.entries(d.groups as Record<string, unknown>)) {
      const where = `groups.${group}`;
      if (!NAME.test(group)) fail(`"${where}": a group name may hold letters, digits and . _ @ - only`);
      if (!Array.isArray(members)) fail(`"${where}" must be an array of names from "approvers"`);
      const list: string[] = [];
      (members as unknown[]).forEach((m, i) => {
        if (typeof m !== 'string' || !approvers.has(m)) fail(`"${where}[${i}]" (${JSON.stringify(m)}) is not a name in "approvers"`);
        if (list.includes(m as string)) fail(`"${where}" lists "${m}" twice`);
        list.push(m as string);
      });
      groups.set(group, list);
    }
  }
  if (!isObject(d.rule)) fail('"rule" must be an object');
  const r = d.rule as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!RULE_KEYS.includes(k)) fail(`unknown key "rule.${k}" (allowed: ${RULE_KEYS.join(', ')})`);
  const minApprovers = count(r.minApprovers, `${source}: "rule.minApprovers"`);
  if (minApprovers < 1) fail('"rule.minApprovers" must be at least 1');
  const quotas: Record<string, number> = {};
  if (r.groups !== undefined) {
    if (!isObject(r.groups)) fail('"rule.groups" must be an object of group name -> count');
    for (const [group, n] of Object.entries(r.groups as Record<string, unknown>)) {
      if (!groups.has(group)) fail(`"rule.groups.${group}" names a group not defined in "groups"`);
      quotas[group] = count(n, `${source}: "rule.groups.${group}"`);
    }
  }
  if (r.initiatorMayApprove !== undefined && typeof r.initiatorMayApprove !== 'boolean') fail('"rule.initiatorMayApprove" must be true or false');
  return {
    approvers,
    groups,
    keyOwner,
    rule: { minApprovers, groups: quotas, initiatorMayApprove: r.initiatorMayApprove === true },
  };
}

/** Reads and validates a policy file. */
export async function loadPolicy(path: string): Promise<Policy> {
  return (await loadPolicyFile(path)).policy;
}

/** A policy with the SHA-256 of the exact bytes it was read from. */
export interface LoadedPolicy {
  policy: Policy;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
}

/**
 * Reads and validates a policy file, and hashes the bytes that were validated: the digest names
 * the policy that judged a release, and hashing the same read leaves no window for another file.
 */
export async function loadPolicyFile(path: string): Promise<LoadedPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const broken = (error as NodeJS.ErrnoException).code === 'ENOENT' ? await brokenLinkOnPath(path) : undefined;
    throw new PolicyError(`cannot read policy ${path}: ${broken ? describeBrokenLink(path, broken) : describeFsError(error)}`);
  }
  const text = bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`policy ${path} is not valid JSON: ${(error as Error).message}`);
  }
  // JSON.parse keeps the last of two equal keys: a "rule" appended after the one a reviewer
  // reads would lower the bar unseen.
  const twice = findDuplicateJsonKey(text);
  if (twice) {
    throw new PolicyError(
      `policy ${path}:${twice.line}:${twice.column}: key "${twice.path}" is written twice (first on line ${twice.firstLine}); only the last would count, whichever one a reader takes for it: keep one`,
    );
  }
  return { policy: validatePolicy(data, path), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The result of matching people onto group quotas. */
export interface QuotaAssignment {
  /** Person -> the group whose quota they fill (people filling no quota are absent). */
  assigned: Map<string, string>;
  /** Group -> how many of its quota are still unfilled. */
  unfilled: Map<string, number>;
}

/** Assigns people to group quota slots so that as many slots as possible are filled (bipartite matching). */
export function assignQuotas(policy: Policy, people: readonly string[]): QuotaAssignment {
  const slots: string[] = [];
  for (const [group, n] of Object.entries(policy.rule.groups)) for (let i = 0; i < n; i++) slots.push(group);
  const slotOwner: (string | undefined)[] = slots.map(() => undefined);
  const memberOf = (person: string, group: string): boolean => policy.groups.get(group)?.includes(person) ?? false;
  const tryAssign = (person: string, seen: Set<number>): boolean => {
    for (let s = 0; s < slots.length; s++) {
      if (seen.has(s) || !memberOf(person, slots[s]!)) continue;
      seen.add(s);
      const current = slotOwner[s];
      if (current === undefined || tryAssign(current, seen)) {
        slotOwner[s] = person;
        return true;
      }
    }
    return false;
  };
  for (const person of [...people].sort()) tryAssign(person, new Set());
  const assigned = new Map<string, string>();
  const unfilled = new Map<string, number>();
  slots.forEach((group, s) => {
    const owner = slotOwner[s];
    if (owner === undefined) unfilled.set(group, (unfilled.get(group) ?? 0) + 1);
    else assigned.set(owner, group);
  });
  return { assigned, unfilled };
}

/**
 * Whether the approver `person` of a policy is the release initiator, or one of them (a CI run
 * started by one user and re-run by another has two). Case is ignored: GitHub and GitLab user
 * names are case-insensitive, and CI names the user as the account spells it
 * (`GITHUB_ACTOR=Alice` for a policy's "alice").
 */
export function isInitiator(person: string, initiator: string | readonly string[]): boolean {
  const name = person.toLowerCase();
  return typeof initiator === 'string' ? name === initiator.toLowerCase() : initiator.some((i) => name === i.toLowerCase());
}

/** Whether any of the initiator's names is a person of the policy, whose approval "the initiator may not approve" can leave out. */
export function initiatorIsApprover(policy: Policy, initiator: string | readonly string[]): boolean {
  return [...policy.approvers.keys()].some((p) => isInitiator(p, initiator));
}

/** Why a policy can never be met (empty when it can), optionally with the release initiator(s) left out. */
export function policyProblems(policy: Policy, options: { initiator?: string | readonly string[] } = {}): string[] {
  const excluded = options.initiator !== undefined && !policy.rule.initiatorMayApprove ? options.initiator : undefined;
  const kept = (p: string): boolean => excluded === undefined || !isInitiator(p, excluded);
  const people = [...policy.approvers.keys()].filter(kept);
  const gone = [...policy.approvers.keys()].filter((p) => !kept(p));
  const without = gone.length === 0 ? '' : ` without the initiator${gone.length === 1 ? '' : 's'} ${gone.join(' and ')}`;
  const problems: string[] = [];
  if (people.length < policy.rule.minApprovers) {
    const n = policy.rule.minApprovers;
    problems.push(`the rule needs ${n} distinct approver${n === 1 ? '' : 's'} but only ${people.length} can approve${without}`);
  }
  for (const [group, n] of Object.entries(policy.rule.groups)) {
    const members = (policy.groups.get(group) ?? []).filter(kept);
    if (n > members.length) problems.push(`group ${group} must give ${n} approval${n === 1 ? '' : 's'} but has only ${members.length} member${members.length === 1 ? '' : 's'}${without}`);
  }
  const total = Object.values(policy.rule.groups).reduce((a, b) => a + b, 0);
  if (problems.length === 0 && total > 0) {
    const { unfilled } = assignQuotas(policy, people);
    if (unfilled.size > 0) {
      const short = [...unfilled].map(([g, n]) => `${g} (${n})`).join(', ');
      problems.push(`group quotas need ${total} different people but their members overlap too much: ${short} cannot be filled${without}`);
    }
  }
  return problems;
}
