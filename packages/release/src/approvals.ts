import { type Stats, constants } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describeFsError } from '@pubguard/engine';
import { ReleaseError, SignatureFormatError, StatementError } from './errors.js';
import { type Policy, assignQuotas, isInitiator, policyProblems } from './policy.js';
import { APPROVAL_NAMESPACE, parseSshsig, sshsigVerify } from './sshsig.js';
import { type ApprovalStatement, MAX_DURATION_MS, type ReleaseSubject, normaliseArtifacts, parseStatement } from './statement.js';

/** An approval as found on disk: the statement bytes and the armored signature text. */
export interface ApprovalFile {
  /** The statement file (its signature is this path + `.sig`). */
  file: string;
  statement: Buffer;
  /** Undefined when the `.sig` file is missing. */
  signature?: string;
  /** False when only the `.sig` file exists. */
  hasStatement?: boolean;
  /** Why the statement or its signature was not read (not a regular file, too large); such an approval is rejected. */
  problem?: string;
}

/** The largest statement file read; a canonical statement for hundreds of artifacts fits. */
export const MAX_STATEMENT_BYTES = 64 * 1024;

/** The largest signature file read; an SSHSIG of a 16384-bit RSA key is under 6 KiB. */
export const MAX_SIGNATURE_BYTES = 16 * 1024;

/** Reads every `*.json` statement in a directory with its `.sig` next to it (and lone `.sig` files too). */
export async function loadApprovals(dir: string): Promise<ApprovalFile[]> {
  return readApprovals(dir, await approvalNames(dir, false));
}

/**
 * Reads the approvals as `loadApprovals` does, or undefined when the directory does not exist:
 * nobody has approved yet. Any other failure (a file on its path, a symbolic-link loop, no
 * permission) is a ReleaseError, since approvals may be there and cannot be read.
 */
export async function loadApprovalsIfPresent(dir: string): Promise<ApprovalFile[] | undefined> {
  const names = await approvalNames(dir, true);
  return names === undefined ? undefined : readApprovals(dir, names);
}

async function approvalNames(dir: string, missingOk: false): Promise<string[]>;
async function approvalNames(dir: string, missingOk: boolean): Promise<string[] | undefined>;
async function approvalNames(dir: string, missingOk: boolean): Promise<string[] | undefined> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (missingOk && code === 'ENOENT') return undefined;
    // readdir words a path that is itself a file as it does a file above it: tell them apart.
    const self = code === 'ENOTDIR' ? await stat(dir).catch(() => undefined) : undefined;
    const why = self?.isFile() ? 'is a file, not a directory' : self !== undefined && !self.isDirectory() ? 'is not a directory' : describeFsError(error, { target: 'directory' });
    throw new ReleaseError(`cannot read approvals directory ${dir}: ${why}`);
  }
}

async function readApprovals(dir: string, names: string[]): Promise<ApprovalFile[]> {
  const statements = new Set(names.filter((n) => n.endsWith('.json')));
  for (const n of names) if (n.endsWith('.json.sig')) statements.add(n.slice(0, -4));
  const out: ApprovalFile[] = [];
  for (const name of [...statements].sort()) {
    const path = join(dir, name);
    const statement = await readCapped(path, MAX_STATEMENT_BYTES, 'statement');
    const signature = await readCapped(`${path}.sig`, MAX_SIGNATURE_BYTES, 'signature');
    const problem = [statement, signature].flatMap((r) => ('problem' in r ? [r.problem] : [])).join('; ');
    out.push({
      file: path,
      statement: 'bytes' in statement ? statement.bytes : Buffer.alloc(0),
      ...('missing' in statement ? { hasStatement: false } : {}),
      ...('bytes' in signature ? { signature: signature.bytes.toString('utf8') } : {}),
      ...(problem ? { problem } : {}),
    });
  }
  return out;
}

type CappedRead = { bytes: Buffer } | { missing: true } | { problem: string };

function fileKind(s: Stats): string {
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a named pipe';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Reads a file of the approvals directory, which anyone who can push to it controls: only a
 * regular file (no link to /dev/zero, no FIFO that blocks), and never more than `max` bytes.
 */
async function readCapped(path: string, max: number, what: 'statement' | 'signature'): Promise<CappedRead> {
  const label = `${what} file ${basename(path)}`;
  const notRegular = (s: Stats): CappedRead => ({ problem: `${label} is ${fileKind(s)}, not a regular file; not read` });
  const tooLarge = (): CappedRead => ({ problem: `${label} is larger than ${max / 1024} KiB; not read` });
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { problem: `cannot read ${label}: ${describeFsError(error)}` };
  }
  if (!info.isFile()) return notRegular(info);
  if (info.size > max) return tooLarge();
  // The file may be swapped between lstat and open: no following a link, no waiting on a FIFO,
  // and the opened file checked again.
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return { problem: `${label} is a symbolic link, not a regular file; not read` };
    return { problem: `cannot read ${label}: ${describeFsError(error)}` };
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) return notRegular(opened);
    const buf = Buffer.alloc(max + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > max ? tooLarge() : { bytes: buf.subarray(0, length) };
  } catch (error) {
    return { problem: `cannot read ${label}: ${describeFsError(error)}` };
  } finally {
    await handle.close();
  }
}

/** How far in the future an approval's `issuedAt` may lie: the signer's clock may run ahead of CI's. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** An approval that counted. */
export interface CountedApproval {
  person: string;
  /** The group quota this person filled, or undefined when they count only towards minApprovers. */
  group?: string;
  file: string;
  fingerprint: string;
  expires: string;
}

/** An approval that did not count, and why. */
export interface RejectedApproval {
  file: string;
  person?: string;
  reason: string;
}

/** The outcome of `verifyApprovals`. */
export interface ApprovalVerdict {
  ok: boolean;
  subject: ReleaseSubject;
  counted: CountedApproval[];
  rejected: RejectedApproval[];
  /** What is still needed, one line each (empty when ok). */
  missing: string[];
  /** Set when the policy can never be met (for this initiator). */
  unsatisfiable: string[];
}

/** Inputs of `verifyApprovals`. */
export interface VerifyApprovalsOptions {
  subject: ReleaseSubject;
  policy: Policy;
  approvals: readonly ApprovalFile[];
  /**
   * Who started the release (or the people who did: a CI run re-run by someone else); their
   * approvals do not count unless the policy allows it.
   */
  initiator?: string | readonly string[];
  now?: Date;
}

function compareSubject(s: ApprovalStatement, subject: ReleaseSubject): string | undefined {
  if (s.version !== subject.version) return `approves version ${s.version}, not ${subject.version}`;
  if (s.package !== subject.package) return `approves package ${s.package}, not ${subject.package}`;
  const want = new Map(normaliseArtifacts(subject.artifacts).map((a) => [a.name, a.sha256]));
  const got = new Map(s.artifacts.map((a) => [a.name, a.sha256]));
  // The approval of another publish of this version (the wheels beside the npm tarball):
  // say so once instead of listing every file as missing or extra.
  if (![...got.keys()].some((name) => want.has(name))) return `approves other files of this version (${[...got.keys()].join(', ')}), none of these`;
  const problems: string[] = [];
  for (const [name, sha] of want) {
    const g = got.get(name);
    if (g === undefined) problems.push(`does not cover ${name}`);
    else if (g !== sha) problems.push(`${name} has other bytes (approved sha256 ${g.slice(0, 12)}…, artifact ${sha.slice(0, 12)}…)`);
  }
  for (const name of got.keys()) if (!want.has(name)) problems.push(`also approves ${name}, which is not in this release`);
  return problems.length ? problems.join('; ') : undefined;
}

/** Checks approvals against a policy for exactly this release; never throws for a bad approval, it is rejected instead. */
export function verifyApprovals(options: VerifyApprovalsOptions): ApprovalVerdict {
  const { subject, policy, initiator } = options;
  const now = options.now ?? new Date();
  const rejected: RejectedApproval[] = [];
  const valid: CountedApproval[] = [];
  for (const a of options.approvals) {
    const reject = (reason: string, person?: string): void => {
      rejected.push({ file: a.file, reason, ...(person === undefined ? {} : { person }) });
    };
    if (a.problem !== undefined) {
      reject(a.problem);
      continue;
    }
    if (a.hasStatement === false) {
      reject('signature without its statement file');
      continue;
    }
    if (a.signature === undefined) {
      reject('no signature file (.sig) next to the statement');
      continue;
    }
    let sig;
    try {
      sig = parseSshsig(a.signature);
    } catch (error) {
      if (error instanceof SignatureFormatError) {
        reject(`malformed signature: ${error.message}`);
        continue;
      }
      throw error;
    }
    const person = policy.keyOwner.get(sig.publicKey.fingerprint);
    if (person === undefined) {
      reject(`signed by ${sig.publicKey.type} key ${sig.publicKey.fingerprint}, which is not in the policy`);
      continue;
    }
    if (sig.namespace !== APPROVAL_NAMESPACE) {
      reject(`signature namespace is '${sig.namespace}', not '${APPROVAL_NAMESPACE}'`, person);
      continue;
    }
    if (!sshsigVerify(sig, a.statement)) {
      reject('signature does not match the statement bytes (statement altered, or signature made over other bytes)', person);
      continue;
    }
    let statement: ApprovalStatement;
    try {
      statement = parseStatement(a.statement);
    } catch (error) {
      if (error instanceof StatementError) {
        reject(`signed statement is unusable: ${error.message}`, person);
        continue;
      }
      throw error;
    }
    if (statement.approver !== person) {
      reject(`statement names approver '${statement.approver}' but the key belongs to '${person}'`, person);
      continue;
    }
    const mismatch = compareSubject(statement, subject);
    if (mismatch) {
      reject(`statement ${mismatch}`, person);
      continue;
    }
    // Whoever signs with ssh-keygen writes the dates: hold them to what `approve --expires` allows.
    if (Date.parse(statement.expires) - Date.parse(statement.issuedAt) > MAX_DURATION_MS) {
      reject(`approval is valid for more than 100 years (issued ${statement.issuedAt}, expires ${statement.expires}); approvals may last 100 years at most`, person);
      continue;
    }
    if (Date.parse(statement.expires) <= now.getTime()) {
      reject(`approval expired at ${statement.expires}`, person);
      continue;
    }
    if (Date.parse(statement.issuedAt) > now.getTime() + CLOCK_SKEW_MS) {
      reject(`approval is dated in the future (${statement.issuedAt}, more than 5 minutes after now, ${now.toISOString()})`, person);
      continue;
    }
    if (initiator !== undefined && isInitiator(person, initiator) && !policy.rule.initiatorMayApprove) {
      reject(`${person} started this release and may not approve it`, person);
      continue;
    }
    if (valid.some((v) => v.person === person)) {
      reject(`${person} already approved; one person counts once, whichever key they use`, person);
      continue;
    }
    valid.push({ person, file: a.file, fingerprint: sig.publicKey.fingerprint, expires: statement.expires });
  }
  const unsatisfiable = policyProblems(policy, initiator === undefined ? {} : { initiator });
  const { assigned, unfilled } = assignQuotas(
    policy,
    valid.map((v) => v.person),
  );
  const counted = valid.map((v) => {
    const group = assigned.get(v.person);
    return group === undefined ? v : { ...v, group };
  });
  const missing: string[] = [];
  for (const [group, n] of unfilled) missing.push(`${n} more approval${n > 1 ? 's' : ''} from group ${group}`);
  const short = policy.rule.minApprovers - counted.length;
  if (short > 0) missing.push(`${short} more distinct approver${short > 1 ? 's' : ''} (${counted.length} of ${policy.rule.minApprovers})`);
  return { ok: missing.length === 0 && unsatisfiable.length === 0, subject, counted, rejected, missing, unsatisfiable };
}
