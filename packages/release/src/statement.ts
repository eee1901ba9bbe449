import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { findDuplicateJsonKey } from '@pubguard/engine';
import { type ArtifactVersion, artifactSemver, readArtifactVersion, sha256File } from './artifacts.js';
import { AmbiguousArtifactError, ArtifactError, StatementError } from './errors.js';
import { type SshPrivateKey } from './keys.js';
import { normaliseProject } from './publish/tokens.js';
import { APPROVAL_NAMESPACE, sshsigSign } from './sshsig.js';
import { checkVersionTag } from './version.js';

/** The `type` of every approval statement this version writes and reads. */
export const STATEMENT_TYPE = 'pubguard-release-approval/v1';

/** One artifact as a statement names it: file name and hex SHA-256 of its bytes. */
export interface ArtifactDigest {
  name: string;
  sha256: string;
}

/** What a release is, as approvals bind it: package, version, exact artifact bytes. */
export interface ReleaseSubject {
  package: string;
  /** The semver version (PEP 440 artifacts are translated). */
  version: string;
  /** Sorted by name. */
  artifacts: ArtifactDigest[];
}

/** The signed approval statement. */
export interface ApprovalStatement extends ReleaseSubject {
  type: typeof STATEMENT_TYPE;
  approver: string;
  /** ISO 8601 UTC. */
  issuedAt: string;
  /** ISO 8601 UTC; the approval is void from this instant. */
  expires: string;
}

/** Options for `describeRelease`. */
export interface DescribeReleaseOptions {
  /** Package name to use instead of the names read from the artifacts. */
  package?: string;
  /** Version to use instead of the versions read from the artifacts (semver, no `v`). */
  version?: string;
  /** Stops hashing when aborted (Ctrl-C): an ArtifactError says so. */
  signal?: AbortSignal;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Sorts artifact digests by name and refuses two artifacts with the same file name. */
export function normaliseArtifacts(list: readonly ArtifactDigest[]): ArtifactDigest[] {
  const sorted = [...list].map((a) => ({ name: a.name, sha256: a.sha256.toLowerCase() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.name === sorted[i - 1]!.name) throw new StatementError(`two artifacts are named '${sorted[i]!.name}'`);
  }
  return sorted;
}

/** Package name used when none is given: the distinct names in the artifacts (PyPI names normalised), joined. */
export function inferPackageName(artifacts: readonly ArtifactVersion[]): string {
  const names = new Set(artifacts.map((a) => (a.kind === 'npm' ? a.name : normaliseProject(a.name))));
  return [...names].sort().join(', ');
}

/** Refuses a version that is not one semver version without a `v`; `what` says where it was given. */
function requireSemver(version: string, what: string): void {
  const t = checkVersionTag(version, { requireV: false, allowPrerelease: true });
  if (!t.ok || version.startsWith('v')) throw new ArtifactError(`${what} '${version}' is not a semver version such as 1.2.3`);
}

/** Hashes the artifacts and reads their package name and version (or takes them from options). */
export async function describeRelease(paths: readonly string[], options: DescribeReleaseOptions = {}): Promise<ReleaseSubject> {
  if (paths.length === 0) throw new ArtifactError('no artifacts given');
  const digests: ArtifactDigest[] = [];
  for (const p of paths) digests.push({ name: basename(p), sha256: await sha256File(p, options.signal) });
  let version = options.version;
  if (version !== undefined) requireSemver(version, '--version');
  let pkg = options.package;
  if (version === undefined || pkg === undefined) {
    const versions: ArtifactVersion[] = [];
    for (const p of paths) {
      try {
        versions.push(await readArtifactVersion(p));
      } catch (error) {
        // No --package or --version makes an ambiguous artifact one to approve.
        if (!(error instanceof ArtifactError) || error instanceof AmbiguousArtifactError) throw error;
        throw new ArtifactError(`${error.message}; pass --package and --version to approve artifacts without a readable version`);
      }
    }
    if (version === undefined) {
      const seen = new Map<string, string[]>();
      for (const a of versions) {
        const v = artifactSemver(a) ?? `${a.version} (no semver spelling)`;
        seen.set(v, [...(seen.get(v) ?? []), basename(a.path)]);
      }
      if (seen.size !== 1) {
        const detail = [...seen].map(([v, files]) => `${v} in ${files.join(', ')}`).join('; ');
        throw new ArtifactError(`the artifacts disagree on the version: ${detail}`);
      }
      version = [...seen.keys()][0]!;
      if (version.includes(' ')) throw new ArtifactError(`cannot use version ${version}: pass --version`);
    }
    pkg ??= inferPackageName(versions);
  }
  return { package: pkg, version, artifacts: normaliseArtifacts(digests) };
}

/** A release manifest: `{"package"?, "version"?, "artifacts": [path | {name, sha256}]}`, paths relative to the file. */
export interface ReleaseManifest {
  package?: string;
  version?: string;
  artifacts: (string | ArtifactDigest)[];
}

/** Reads a manifest file and describes the release it lists (files are hashed; digests are taken as given). */
export async function describeManifest(path: string, options: DescribeReleaseOptions = {}): Promise<ReleaseSubject> {
  let data: unknown;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
    data = JSON.parse(text);
  } catch (error) {
    throw new StatementError(`cannot read manifest ${path}: ${(error as Error).message}`);
  }
  // JSON.parse keeps the last of two equal keys: the approver would sign digests other than
  // the ones they read in the file.
  const twice = findDuplicateJsonKey(text);
  if (twice) {
    throw new StatementError(`manifest ${path}:${twice.line}:${twice.column}: key "${twice.path}" is written twice (first on line ${twice.firstLine}); only the last would count, whichever one a reader takes for it: keep one`);
  }
  const m = data as Partial<ReleaseManifest> | null;
  if (!m || typeof m !== 'object' || !Array.isArray(m.artifacts) || m.artifacts.length === 0) {
    throw new StatementError(`manifest ${path}: "artifacts" must be a non-empty array`);
  }
  const files: string[] = [];
  const given: ArtifactDigest[] = [];
  m.artifacts.forEach((a, i) => {
    if (typeof a === 'string') files.push(resolve(dirname(path), a));
    else if (a && typeof a === 'object' && typeof a.name === 'string' && typeof a.sha256 === 'string' && HEX64.test(a.sha256.toLowerCase())) {
      given.push({ name: a.name, sha256: a.sha256 });
    } else throw new StatementError(`manifest ${path}: artifacts[${i}] must be a path or {"name", "sha256" (64 hex)}`);
  });
  for (const field of ['package', 'version'] as const) {
    if (m[field] !== undefined && typeof m[field] !== 'string') throw new StatementError(`manifest ${path}: "${field}" must be a string`);
  }
  // Checked here as --version is: an approval of "v1.2.3" would never match a release.
  if (options.version === undefined && m.version !== undefined) requireSemver(m.version, `manifest ${path}: "version"`);
  const pkg = options.package ?? m.package;
  const version = options.version ?? m.version;
  if (files.length === 0 && (pkg === undefined || version === undefined)) {
    throw new StatementError(`manifest ${path}: with digests only, "package" and "version" are required`);
  }
  const fromFiles = files.length
    ? await describeRelease(files, { ...(pkg === undefined ? {} : { package: pkg }), ...(version === undefined ? {} : { version }), ...(options.signal ? { signal: options.signal } : {}) })
    : undefined;
  return {
    package: fromFiles?.package ?? pkg!,
    version: fromFiles?.version ?? version!,
    artifacts: normaliseArtifacts([...(fromFiles?.artifacts ?? []), ...given]),
  };
}

/** The canonical text of a statement: fixed key order, sorted artifacts, two-space indent, final newline. */
export function canonicalStatement(s: ApprovalStatement): string {
  const ordered = {
    type: s.type,
    package: s.package,
    version: s.version,
    artifacts: normaliseArtifacts(s.artifacts).map((a) => ({ name: a.name, sha256: a.sha256 })),
    approver: s.approver,
    issuedAt: s.issuedAt,
    expires: s.expires,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Parses statement bytes; only the canonical form is accepted, so what was signed is what is read. */
export function parseStatement(bytes: Buffer | string): ApprovalStatement {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new StatementError('statement is not valid JSON');
  }
  const d = (data ?? {}) as Record<string, unknown>;
  if (d.type !== STATEMENT_TYPE) throw new StatementError(`statement type is not '${STATEMENT_TYPE}'`);
  for (const k of ['package', 'version', 'approver', 'issuedAt', 'expires'] as const) {
    if (typeof d[k] !== 'string' || d[k] === '') throw new StatementError(`statement field "${k}" must be a non-empty string`);
  }
  if (!Array.isArray(d.artifacts) || d.artifacts.length === 0) throw new StatementError('statement field "artifacts" must be a non-empty array');
  for (const a of d.artifacts as unknown[]) {
    const x = a as Record<string, unknown> | null;
    if (!x || typeof x.name !== 'string' || typeof x.sha256 !== 'string' || !HEX64.test(x.sha256)) {
      throw new StatementError('each statement artifact needs "name" and a lowercase hex "sha256"');
    }
  }
  for (const k of ['issuedAt', 'expires'] as const) {
    if (Number.isNaN(Date.parse(d[k] as string))) throw new StatementError(`statement field "${k}" is not a date`);
  }
  const statement = d as unknown as ApprovalStatement;
  if (canonicalStatement(statement) !== text) {
    throw new StatementError('statement is not in canonical form (write it with `pubguard approve --statement-only`)');
  }
  return statement;
}

/** Parses `90m`, `72h`, `7d`, `2w` into milliseconds. */
export function parseDuration(text: string): number {
  // An approval valid for seconds would expire before the publish it is for could check it.
  if (/^\d+s$/.test(text)) throw new StatementError(`'${text}': give minutes, hours, days or weeks (90m, 72h, 7d, 2w), not seconds`);
  const m = /^([1-9]\d*)(m|h|d|w)$/.exec(text);
  if (!m) throw new StatementError(`'${text}' is not a duration such as 90m, 72h, 7d or 2w`);
  const unit = { m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit;
  // Past this the expiry date could not even be written.
  if (ms > MAX_DURATION_MS) throw new StatementError(`'${text}' is longer than 100 years`);
  return ms;
}

/** The longest duration `parseDuration` accepts: 100 years of 365.25 days. */
export const MAX_DURATION_MS = 100 * 365.25 * 864e5;

/** Builds the statement an approver signs. */
export function buildStatement(subject: ReleaseSubject, approver: string, validForMs: number, now: Date = new Date()): ApprovalStatement {
  if (!approver) throw new StatementError('approver name is empty');
  return {
    type: STATEMENT_TYPE,
    package: subject.package,
    version: subject.version,
    artifacts: normaliseArtifacts(subject.artifacts),
    approver,
    issuedAt: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
    expires: new Date(Math.floor((now.getTime() + validForMs) / 1000) * 1000).toISOString(),
  };
}

/** A signed approval ready to write: the canonical statement text and its armored SSHSIG. */
export interface SignedApproval {
  statement: ApprovalStatement;
  text: string;
  signature: string;
}

/** Builds and signs an approval statement with an SSH key (namespace `pubguard-approval`). */
export function createApproval(
  subject: ReleaseSubject,
  approver: string,
  key: SshPrivateKey,
  options: { validForMs: number; now?: Date },
): SignedApproval {
  const statement = buildStatement(subject, approver, options.validForMs, options.now);
  const text = canonicalStatement(statement);
  return { statement, text, signature: sshsigSign(key, Buffer.from(text, 'utf8'), APPROVAL_NAMESPACE) };
}

/**
 * The file name an approval is stored under (its signature goes next to it with `.sig` appended):
 * `PKG-VERSION.APPROVER[.KEYFP].ARTIFACTS.approval.json`, ARTIFACTS being 8 hex digits of the
 * artifact list's SHA-256.
 */
export function approvalFileName(s: ApprovalStatement, keyFingerprint?: string): string {
  const safe = (x: string): string => x.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  const fp = keyFingerprint ? `.${safe(keyFingerprint.replace(/^SHA256:/, '')).slice(0, 8)}` : '';
  // The npm tarball and the Python distributions of one release are approved apart (each
  // publish checks its own files), often under the same name: they must not overwrite each other.
  const artifacts = createHash('sha256')
    .update(normaliseArtifacts(s.artifacts).map((a) => `${a.sha256}  ${a.name}\n`).join(''))
    .digest('hex')
    .slice(0, 8);
  return `${safe(s.package)}-${safe(s.version)}.${safe(s.approver)}${fp}.${artifacts}.approval.json`;
}
