import { constants } from 'node:fs';
import { copyFile, lstat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { brokenLinkOnPath, countOf, type Finding, type ScanError, type ScanOptions, describeFsError, scanAll } from '@pubguard/engine';
import { loadApprovalsIfPresent, verifyApprovals } from '../approvals.js';
import { type ArtifactVersion, compareArtifactVersions, readArtifactVersions, sha256File } from '../artifacts.js';
import { type AuditOutcome, AuditLog } from '../audit.js';
import { AuditError } from '../errors.js';
import { initiatorIsApprover, loadPolicyFile } from '../policy.js';
import { redactText, secretsFromEnv } from '../redact.js';
import { type ArtifactDigest, type ReleaseSubject, inferPackageName, normaliseArtifacts } from '../statement.js';
import { makeTempDir, removeTempDir } from '../tempdir.js';
import { checkVersionTag } from '../version.js';
import { type ClientResult, type CommandRunner, clientFailureSummary, killClientsNow, npmPublish, twineSkippedFiles, twineUpload } from './clients.js';
import { PublishError } from './errors.js';
import { type NpmPublishPlan, distTagProblem, planNpmPublish } from './npm-settings.js';
import { type IndexFileCheck, type SimpleIndexOptions, checkIndexFiles, simpleIndexFor, simpleIndexProblem } from './simple-index.js';
import { type NotifyOptions, type NotifyResult, type PublishApprovals, type PublishNotification, describeWebhook, sendNotification, webhookProblem } from './notify.js';
import { type Ecosystem, NPM_REGISTRY, PYPI_REPOSITORY, checkPublishToken, publicRegistry } from './tokens.js';
import { UPLOAD_START_STAGE } from './upload-trace.js';

// Findings and scan errors a refused scan's record lists; the rest are counted. About 200 bytes
// each, so a record stays far below the line an audit log reader holds (64 MiB).
const AUDIT_LIST_MAX = 1000;

/** The steps of a publish, in the order they run. */
export type PublishStep = 'version' | 'scan' | 'approvals' | 'token' | 'rehash' | 'upload' | 'notify';

/** What one step decided. */
export interface StepOutcome {
  step: PublishStep;
  outcome: Exclude<AuditOutcome, 'started'>;
  reason: string;
}

/**
 * How the scan step scans beyond the files themselves: the rules, the allowlist (`exclude`, which
 * sees each finding under the file names given to `publishRelease`), ignore globs and limits, as
 * `pubguard scan` takes them from a config file. Default: the built-in rules and limits.
 */
export type PublishScanSettings = Pick<ScanOptions, 'ruleset' | 'limits' | 'ignore' | 'exclude' | 'chunkSize'>;

/** Inputs of `publishRelease`. */
export interface PublishOptions {
  ecosystem: Ecosystem;
  /** The exact files to scan and upload: one npm tarball, or wheels and sdists. */
  files: readonly string[];
  /** npm registry or PyPI upload URL (default: the public one). */
  registry?: string;
  /** Release tag (`v1.2.3`, `refs/tags/v1.2.3`); default `GITHUB_REF` from `env`. */
  tag?: string;
  allowPrerelease?: boolean;
  /**
   * npm dist-tag. Default: the package.json's `publishConfig.tag` or `tag`, else `latest`; the
   * version step refuses a pre-release tagged `latest`, and a dist-tag given here that differs
   * from the package.json's. npm is handed it as `--tag`, except npm's own default `latest`.
   */
  distTag?: string;
  /** npm `--access` (`public` or `restricted`); the package.json's `publishConfig.access` must agree. */
  access?: string;
  /**
   * PyPI only: twine's `--skip-existing`, for re-running a release whose upload stopped partway.
   * Every check still covers all the files; the result names those skipped as already there.
   * When twine skipped any, every file is then looked up on the simple index (`indexUrl`) and
   * the release is refused unless each is listed there with its approved sha256.
   */
  skipExisting?: boolean;
  /**
   * PyPI only: the Simple Repository API index (PEP 503/691) that lists what `registry`
   * received, read without credentials. Default: https://pypi.org/simple/ for pypi.org's upload
   * URL, https://test.pypi.org/simple/ for test.pypi.org's; for any other repository none, and
   * files skipped with `skipExisting` are then not compared with the approved bytes.
   */
  indexUrl?: string;
  /** Timeout, retries and fetch of the simple index lookups. */
  indexRequest?: Omit<SimpleIndexOptions, 'signal'>;
  /** Run every check but do not upload. */
  dryRun?: boolean;
  /** Policy file; when absent, `.pubguard/policy.json` is used if it exists. */
  policyPath?: string;
  approvalsDir?: string;
  /**
   * Lower-case hex SHA-256 the policy file must have: any other policy, or none, refuses the
   * approvals step. Pins the trust root when the policy comes from the checkout being released.
   */
  policySha256?: string;
  /** Refuse when there is no policy instead of skipping the approvals step. */
  requireApprovals?: boolean;
  /** Who started the release (one name, or those of a run and its re-run); not counted as an approver unless the policy allows it. */
  initiator?: string | readonly string[];
  /**
   * Fingerprints of accepted findings: left out, as a scan leaves them out, and counted in the
   * scan step's record and reason.
   */
  baseline?: ReadonlySet<string>;
  /** The scan step's rules, allowlist and limits (see `PublishScanSettings`). */
  scan?: PublishScanSettings;
  /** The config file `scan` came from, named in the scan step's record; undefined for none. */
  configPath?: string;
  /** Environment variable holding the token (default NPM_TOKEN or PYPI_TOKEN). */
  tokenEnv?: string;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Audit log file; every step appends a record. */
  auditPath: string;
  actor: string;
  notifyUrl?: string;
  notifyOptions?: NotifyOptions;
  /** Scanner worker threads (default: the engine's). */
  jobs?: number;
  runner?: CommandRunner;
  npmCommand?: string;
  twineCommand?: string;
  /** Aborted on Ctrl-C: the publish stops before the next step and never starts the upload. */
  signal?: AbortSignal;
  /** Called with each warning as it arises (the initiator cannot be left out…; awaited). */
  onWarning?: (message: string) => void | Promise<void>;
  /** Called after each step is recorded (progress output; awaited). */
  onStep?: (step: StepOutcome) => void | Promise<void>;
  now?: () => Date;
}

/** The outcome of `publishRelease`. */
export interface PublishResult {
  status: 'published' | 'dry-run' | 'refused' | 'failed';
  /** The step that refused or failed. */
  step?: PublishStep;
  reason: string;
  steps: StepOutcome[];
  subject?: ReleaseSubject;
  /** Findings that refused the release (secrets redacted). */
  findings: Finding[];
  scanErrors: ScanError[];
  approvers: string[];
  /** The policy (path and sha256), initiator and counted keys of the approvals step, when a policy was read. */
  approvals?: PublishApprovals;
  /** What the run warned of without refusing (also handed to `onWarning`). */
  warnings: string[];
  /** npm only, once the version step passed: the dist-tag the version is (or, in a dry run, would be) published under. */
  distTag?: string;
  /** Output of npm or twine, token masked. */
  clientOutput?: string;
  /** With `skipExisting`, the files twine skipped as already on the index. */
  skipped?: string[];
  /**
   * With `skipExisting`, when twine skipped files and the simple index is known: what it lists
   * for each file of the release. Without it, the skipped files' bytes there were not compared
   * with the approved ones.
   */
  indexCheck?: { indexUrl: string; files: IndexFileCheck[] };
  notification?: NotifyResult;
  /**
   * Set when the package was uploaded but a later audit record could not be written: the
   * release is out (status `published`) yet unrecorded, which the command reports as a failure.
   */
  auditError?: string;
  /** SHA-256 of the audit log's last line after the run (empty if the log cannot be read): keep it to detect truncation. */
  auditHead: string;
}

class Stop extends Error {
  constructor(
    readonly kind: 'refused' | 'failed',
    readonly step: PublishStep,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const STAGE_PREFIX = 'publish.';

/**
 * Publishes exactly the given files: version gate, secret scan, approvals, token checks,
 * re-hash, upload, notify; stops at the first refusal and records every step in the audit log.
 * Never throws for a refusal or a failed upload: see `status`.
 */
export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const eco = options.ecosystem;
  const env = options.env;
  const registry = options.registry ?? (eco === 'npm' ? NPM_REGISTRY : PYPI_REPOSITORY);
  let registryUrl: URL;
  try {
    registryUrl = new URL(registry);
  } catch {
    throw new PublishError(`'${registry}' is not a URL`);
  }
  // Tokens are checked to be for these hosts, and would go out in cleartext over plain http.
  if (registryUrl.protocol === 'http:' && publicRegistry(registry) !== undefined) {
    throw new PublishError(`${registryUrl.host} over plain http would send the token unencrypted: use https://${registryUrl.host}${registryUrl.pathname}`);
  }
  // A notification that can never be sent is found out now, not after the upload.
  const hookProblem = options.notifyUrl === undefined ? undefined : webhookProblem(options.notifyUrl);
  if (hookProblem) throw new PublishError(hookProblem);
  if (options.policySha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.policySha256)) throw new PublishError('a pinned policy digest is a 64-digit hex SHA-256');
  if (options.files.length === 0) throw new PublishError('no files to publish');
  if (eco === 'npm' && options.files.length !== 1) throw new PublishError('npm publishes one tarball at a time: give exactly one .tgz');
  if (eco === 'npm' && options.skipExisting) throw new PublishError('skipping files already on the index is for PyPI uploads only: npm publishes one tarball');
  if (eco === 'npm' && options.indexUrl !== undefined) throw new PublishError('a simple index URL is for PyPI uploads only');
  if (eco === 'pypi' && (options.distTag !== undefined || options.access !== undefined)) throw new PublishError('a dist-tag and an access level are for npm only');
  const distTagIssue = options.distTag === undefined ? undefined : distTagProblem(options.distTag);
  if (distTagIssue !== undefined) throw new PublishError(`dist-tag ${JSON.stringify(options.distTag)}: ${distTagIssue}`);
  if (options.access !== undefined && options.access !== 'public' && options.access !== 'restricted') throw new PublishError(`the access is public or restricted, not ${JSON.stringify(options.access)}`);
  const indexUrl = eco === 'pypi' ? (options.indexUrl ?? simpleIndexFor(registry)) : undefined;
  const indexProblem = indexUrl === undefined ? undefined : simpleIndexProblem(indexUrl);
  if (indexProblem) throw new PublishError(indexProblem);
  const tokenEnv = options.tokenEnv ?? (eco === 'npm' ? 'NPM_TOKEN' : 'PYPI_TOKEN');
  const token = env[tokenEnv];
  const secrets = [...(token ? [token] : []), ...secretsFromEnv(env)];
  const log = new AuditLog(options.auditPath, secrets);
  const now = options.now ?? (() => new Date());
  const files = options.files.map((f) => resolve(options.cwd, f));

  const steps: StepOutcome[] = [];
  let digests: ArtifactDigest[] = [];
  let subject: ReleaseSubject | undefined;
  let npmPlan: NpmPublishPlan | undefined;
  let findings: Finding[] = [];
  let scanErrors: ScanError[] = [];
  let approvers: string[] = [];
  let approvalsInfo: PublishApprovals | undefined;
  const warnings: string[] = [];
  let clientOutput: string | undefined;
  let skipped: string[] | undefined;
  let unnamedSkips = 0;
  let indexCheck: PublishResult['indexCheck'];
  let uploaded = false;
  let auditFailure: string | undefined;
  // Set when the log could not take a record before anything was uploaded: the run stops there
  // and writes nothing more, but still ends as every run does, with its result and notification.
  let logBroken = false;

  const entry = (stage: string, outcome: AuditOutcome, reason: string, details: Record<string, unknown>, extra: { name: string }[] = []) => ({
    stage,
    outcome,
    actor: options.actor,
    subjects: [...extra, ...digests],
    reason,
    details: { ecosystem: eco, registry, ...(options.dryRun ? { dryRun: true } : {}), ...details },
  });
  const record = async (step: PublishStep, outcome: StepOutcome['outcome'], reason: string, details: Record<string, unknown> = {}, extra: { name: string }[] = []): Promise<void> => {
    const clean = redactText(reason, secrets);
    // After one record is lost, later ones are not written: a log that skips the upload
    // record but shows the notification would misstate what happened.
    if (auditFailure === undefined && !logBroken) {
      try {
        await log.append(entry(`${STAGE_PREFIX}${step}`, outcome, clean, details, extra), now());
      } catch (error) {
        if (!(error instanceof AuditError)) throw error;
        if (!uploaded) {
          // A release the log cannot show must not go out: the step fails, and the run stops.
          logBroken = true;
          const had = outcome === 'passed' ? '' : ` (the ${step} step ${outcome === 'refused' ? 'refused' : 'failed'}: ${clean})`;
          const failed = { step, outcome: 'error' as const, reason: redactText(`the audit record of the ${step} step could not be written: ${error.message}; the run stopped there and nothing was uploaded${had}`, secrets) };
          steps.push(failed);
          await options.onStep?.(failed);
          throw new Stop('failed', step, failed.reason);
        }
        // Once the package is on the registry, a lost record must not hide that it was published
        // (a re-run would only fail on "version already exists").
        auditFailure = `the audit record of the ${step} step could not be written: ${error.message}`;
      }
    }
    const s = { step, outcome, reason: clean };
    steps.push(s);
    await options.onStep?.(s);
  };

  const warn = async (message: string): Promise<void> => {
    const clean = redactText(message, secrets);
    warnings.push(clean);
    await options.onWarning?.(clean);
  };

  let stop: Stop | undefined;
  // Someone who presses Ctrl-C means "do not release": checked between steps so that a
  // release can never go out after it was interrupted.
  const stopIfInterrupted = (step: PublishStep): void => {
    if (options.signal?.aborted) throw new Stop('failed', step, `interrupted before the ${step} step finished: nothing was uploaded`);
  };
  // Every step reads a private copy (a directory only this process can write): a file swapped
  // in the build directory after it was hashed can never reach the registry, because what is
  // version-checked, scanned, approved and uploaded is this copy.
  let staging: string | undefined;
  const staged: string[] = [];
  try {
    // Digests are taken once, here; everything after refers to these bytes.
    try {
      if (new Set(files.map((f) => basename(f))).size !== files.length) throw new PublishError('two of the files have the same name; a release holds each file name once');
      staging = await makeTempDir('pubguard-publish-');
      for (const f of files) {
        const copy = join(staging, basename(f));
        try {
          await copyFile(f, copy, constants.COPYFILE_EXCL);
        } catch (error) {
          // Named by its own path: the private copy's would only confuse.
          throw new PublishError(`cannot read ${f}: ${describeFsError(error)}`);
        }
        staged.push(copy);
      }
      for (const f of staged) digests.push({ name: basename(f), sha256: await sha256File(f) });
      digests = normaliseArtifacts(digests);
    } catch (error) {
      throw new Stop('failed', 'version', (error as Error).message);
    }

    stopIfInterrupted('version');

    // 1. Version gate.
    const tagText = options.tag ?? env.GITHUB_REF;
    if (!tagText) throw new Stop('refused', 'version', 'no release tag: pass --tag-name vX.Y.Z or run from a tag (GITHUB_REF=refs/tags/vX.Y.Z)');
    const tag = checkVersionTag(tagText, { allowPrerelease: options.allowPrerelease === true });
    if (!tag.ok) throw new Stop('refused', 'version', `tag ${tagText}: ${tag.reason}`);
    let versions: ArtifactVersion[];
    try {
      versions = await readArtifactVersions(staged);
    } catch (error) {
      // Named by the paths the user gave: the private copies' would only confuse.
      const message = staged.reduce((text, copy, i) => text.split(copy).join(options.files[i] ?? copy), (error as Error).message);
      throw new Stop('refused', 'version', message);
    }
    const wrongKind = versions.filter((v) => (eco === 'npm' ? v.kind !== 'npm' : v.kind === 'npm'));
    if (wrongKind.length) {
      throw new Stop('refused', 'version', `${wrongKind.map((v) => basename(v.path)).join(', ')}: ${eco === 'npm' ? 'not an npm tarball' : 'an npm tarball, not a Python distribution'}`);
    }
    const mismatches = compareArtifactVersions(tag, versions);
    if (mismatches.length) {
      throw new Stop('refused', 'version', mismatches.map((m) => `${basename(m.path)}: ${m.where} says ${m.actual}, tag ${tag.tag} says ${m.expected}`).join('; '));
    }
    subject = { package: inferPackageName(versions), version: tag.semver, artifacts: digests };
    let planned = '';
    let decided: NpmPublishPlan | undefined;
    let planDetails: Record<string, unknown> = {};
    if (eco === 'npm') {
      // Decided here, from the command and the package.json npm would read, so that a dry run
      // refuses what the upload would, and the records say what npm is told.
      const plan = planNpmPublish({
        version: tag.semver,
        fields: versions[0]?.npm ?? {},
        ...(options.distTag === undefined ? {} : { distTag: options.distTag }),
        ...(options.access === undefined ? {} : { access: options.access }),
      });
      if (!plan.ok) throw new Stop('refused', 'version', `${basename(options.files[0] ?? '')}: ${plan.reason}`);
      const p = plan.plan;
      decided = p;
      planned = `; dist-tag ${p.distTag}${p.distTagFrom === 'package.json' ? ' (from package.json)' : ''}${p.access ? `, access ${p.access}` : ''}${p.provenance === undefined ? '' : `, ${p.provenance ? 'with' : 'without'} provenance`}`;
      planDetails = { distTag: p.distTag, ...(p.access ? { access: p.access } : {}), ...(p.provenance === undefined ? {} : { provenance: p.provenance }) };
    }
    await record('version', 'passed', `tag ${tag.tag} matches ${versions.length} artifact${versions.length === 1 ? '' : 's'} (${subject.package} ${tag.semver})${planned}`, { tag: tag.tag, package: subject.package, version: subject.version, ...planDetails }, [{ name: tag.tag }]);
    npmPlan = decided;

    // 2. Secret scan of exactly these files.
    stopIfInterrupted('scan');
    // Reported under the names the user gave, not the private copies'.
    const named = (path: string): string => {
      const i = staged.findIndex((c) => path === c || path.startsWith(`${c}!`));
      return i < 0 ? path : `${options.files[i]}${path.slice((staged[i] ?? '').length)}`;
    };
    const renamed = (f: Finding): Finding => ({ ...f, path: named(f.path), location: { ...f.location, artifact: named(f.location.artifact) } });
    const exclude = options.scan?.exclude;
    const result = await scanAll(staged, {
      ...options.scan,
      cwd: options.cwd,
      collectFreshBuffers: true,
      // An allowlist path names the file as given (dist/acme-1.2.3.tgz), never the private copy.
      ...(exclude ? { exclude: (f: Finding, secret: string, packagePath?: string) => exclude(renamed(f), secret, packagePath) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      // In the scan, so that what it accepts never counts against the findings an artifact may hold.
      ...(options.baseline ? { baseline: options.baseline } : {}),
    });
    // The scan's findings and errors name the copies with any secret it found shortened in them
    // (in a name, or a finding's secret that a file name holds), and so are the names given put
    // in their place.
    const shownCopies = staged.map((c) => result.mask(c));
    const shownFiles = options.files.map((f) => result.mask(f));
    const shown = (path: string): string => {
      const i = shownCopies.findIndex((c) => path === c || path.startsWith(`${c}!`));
      return i < 0 ? path : `${shownFiles[i]}${path.slice((shownCopies[i] ?? '').length)}`;
    };
    const shownFinding = (f: Finding): Finding => ({ ...f, path: shown(f.path), location: { ...f.location, artifact: shown(f.location.artifact) } });
    // The scan applied the baseline (a finding's fingerprint or its former one) and counted what
    // it took, so that the record can say so: a release gate that passes because of it should show that.
    const baseline = options.baseline;
    const baselined = result.stats.baselined ?? 0;
    findings = result.findings.map(shownFinding);
    stopIfInterrupted('scan');
    scanErrors = result.errors.map((e) => ({ ...e, path: shown(e.path) }));
    const scanDetails = {
      ...(options.configPath === undefined ? {} : { config: options.configPath }),
      ...(baseline ? { baseline: baseline.size, baselined } : {}),
    };
    if (findings.length || scanErrors.length) {
      const parts = [
        ...(findings.length ? [`${findings.length} finding${findings.length === 1 ? '' : 's'}: ${findings.slice(0, 5).map((f) => (f.in === 'name' ? `${f.ruleId} in the name ${f.path}` : `${f.ruleId} at ${f.path}:${f.location.line}`)).join(', ')}${findings.length > 5 ? ', …' : ''}`] : []),
        ...(scanErrors.length ? [`${scanErrors.length} part${scanErrors.length === 1 ? '' : 's'} could not be scanned: ${scanErrors.slice(0, 3).map((e) => `${e.path} (${e.kind})`).join(', ')}`] : []),
      ];
      await record('scan', 'refused', parts.join('; '), {
        // Listed up to a bound: a record is one line, which readers hold whole.
        findings: findings.slice(0, AUDIT_LIST_MAX).map((f) => ({ ruleId: f.ruleId, path: f.path, ...(f.in === 'name' ? { in: f.in } : { line: f.location.line }), fingerprint: f.fingerprint })),
        ...(findings.length > AUDIT_LIST_MAX ? { findingsNotListed: findings.length - AUDIT_LIST_MAX } : {}),
        errors: scanErrors.slice(0, AUDIT_LIST_MAX).map((e) => ({ path: e.path, kind: e.kind })),
        ...(scanErrors.length > AUDIT_LIST_MAX ? { errorsNotListed: scanErrors.length - AUDIT_LIST_MAX } : {}),
        ...scanDetails,
      });
      throw new Stop('refused', 'scan', parts.join('; '));
    }
    const accepted = baselined ? `; ${baselined} finding${baselined === 1 ? '' : 's'} accepted by the baseline` : '';
    const config = options.configPath === undefined ? '' : ` with ${options.configPath}`;
    await record('scan', 'passed', `no secrets in ${countOf(result.stats.files, 'file', 'files')} (${countOf(result.stats.bytes, 'byte', 'bytes')})${config}${accepted}`, { files: result.stats.files, bytes: result.stats.bytes, ...scanDetails });

    // 3. Approvals, when a policy exists or they are required.
    stopIfInterrupted('approvals');
    const pinned = options.policySha256?.toLowerCase();
    let policyPath = options.policyPath === undefined ? undefined : resolve(options.cwd, options.policyPath);
    if (policyPath === undefined) {
      const fallback = resolve(options.cwd, '.pubguard/policy.json');
      // Only a policy that is not there skips the approvals: one that cannot be read (no
      // permission, a link loop, a file on its path, a link to a file or a directory that is
      // missing, as a submodule not checked out leaves it) fails the step when it is loaded.
      const there = await lstat(fallback).then(
        () => true,
        async (error: NodeJS.ErrnoException) => error.code !== 'ENOENT' || (await brokenLinkOnPath(fallback, options.cwd)) !== undefined,
      );
      if (there) policyPath = fallback;
    }
    if (policyPath === undefined) {
      if (options.requireApprovals) throw new Stop('refused', 'approvals', 'approvals are required but there is no policy (.pubguard/policy.json or --policy FILE)');
      if (pinned !== undefined) throw new Stop('refused', 'approvals', `the policy is pinned to sha256 ${pinned} but there is no policy (.pubguard/policy.json or --policy FILE)`);
      await record('approvals', 'passed', 'skipped: no policy and approvals not required');
    } else {
      const { policy, sha256: policySha256 } = await loadPolicyFile(policyPath);
      const policyName = relativeToCwd(options.cwd, policyPath);
      const initiator = options.initiator === undefined ? undefined : typeof options.initiator === 'string' ? [options.initiator] : [...options.initiator];
      approvalsInfo = { policy: { path: policyName, sha256: policySha256 }, initiator: initiator ?? 'unknown', counted: [] };
      const underPolicy = `policy ${policyName} (sha256 ${policySha256})`;
      // The policy is read from the checkout being released: a pin made where the tagged commit
      // cannot change it is the only way to refuse a policy someone rewrote on that commit.
      if (pinned !== undefined && pinned !== policySha256) {
        const reason = `${underPolicy} is not the pinned policy (sha256 ${pinned}): it was changed, or the pin is out of date`;
        await record('approvals', 'refused', reason, { policy: approvalsInfo.policy, pinnedSha256: pinned, initiator: approvalsInfo.initiator });
        throw new Stop('refused', 'approvals', reason);
      }
      // "The initiator may not approve" can only leave out someone it can name: say so when
      // nobody is named, or when the name is nobody of the policy (a bot, a CI user spelled
      // otherwise), as \`approvals verify\` does, rather than let it pass in silence.
      let initiatorWarning: string | undefined;
      if (!policy.rule.initiatorMayApprove) {
        if (initiator === undefined) {
          initiatorWarning = 'the initiator of this release is unknown (no --initiator, and not run in GitHub Actions or GitLab CI), so an approval by whoever started it counts';
        } else if (!initiatorIsApprover(policy, initiator)) {
          const who = initiator.join(' and ');
          initiatorWarning = `the initiator of this release, ${who}, is ${initiator.length === 1 ? 'not an approver' : 'not an approver either'} in the policy (a bot, or a name the policy spells otherwise), so no approval is left out: whoever had ${initiator.length === 1 ? 'it' : 'them'} start the release may have approved it`;
        }
        if (initiatorWarning !== undefined) await warn(initiatorWarning);
      }
      const approvalsDir = resolve(options.cwd, options.approvalsDir ?? '.pubguard/approvals');
      // No directory yet simply means nobody has approved: a refusal, not a failure.
      const approvals = (await loadApprovalsIfPresent(approvalsDir)) ?? [];
      const verdict = verifyApprovals({ subject, policy, approvals, now: now(), ...(initiator ? { initiator } : {}) });
      approvers = verdict.counted.map((c) => c.person);
      approvalsInfo.counted = verdict.counted.map((c) => ({ person: c.person, ...(c.group ? { group: c.group } : {}), key: c.fingerprint }));
      const details = {
        policy: approvalsInfo.policy,
        initiator: approvalsInfo.initiator,
        ...(initiatorWarning === undefined ? {} : { initiatorWarning }),
        counted: approvalsInfo.counted,
        rejected: verdict.rejected.map((r) => ({ file: basename(r.file), reason: r.reason })),
      };
      if (!verdict.ok) {
        const why = [...verdict.unsatisfiable.map((u) => `policy can never be met: ${u}`), ...verdict.missing.map((m) => `missing ${m}`)];
        const rejected = verdict.rejected.map((r) => `${basename(r.file)}: ${r.reason}`);
        const reason = `${why.join('; ')}${rejected.length ? ` (not counted: ${rejected.join('; ')})` : ''}; under ${underPolicy}`;
        await record('approvals', 'refused', reason, details);
        throw new Stop('refused', 'approvals', reason);
      }
      const by = verdict.counted.map((c) => `${c.person}${c.group ? ` (${c.group})` : ''} with key ${c.fingerprint}`).join(', ');
      await record('approvals', 'passed', `approved by ${by}; under ${underPolicy}`, details);
    }

    // 4. Token checks.
    stopIfInterrupted('token');
    const check = checkPublishToken(token, { ecosystem: eco, registry, envName: tokenEnv, projects: [...new Set(versions.map((v) => v.name))], now: now() });
    if (!check.ok) {
      await record('token', 'refused', check.reason, { tokenEnv });
      throw new Stop('refused', 'token', check.reason);
    }
    await record('token', 'passed', [check.reason, ...check.notes].join('; '), { tokenEnv, ...(check.notes.length ? { notes: check.notes } : {}) });

    // 5. Re-hash right before the upload, the copy that goes out and the file it came from:
    // what goes out is what was scanned and approved, and a source that changed meanwhile
    // means someone is changing the release under our feet.
    stopIfInterrupted('rehash');
    const changed: string[] = [];
    for (const [i, f] of files.entries()) {
      const want = digests.find((d) => d.name === basename(f))!.sha256;
      for (const path of [staged[i]!, f]) {
        let got: string;
        try {
          got = await sha256File(path);
        } catch (error) {
          got = `unreadable (${(error as Error).message})`;
        }
        if (got !== want) {
          changed.push(`${basename(f)} changed since it was checked (sha256 ${want.slice(0, 12)}… → ${got.slice(0, 12)}…)`);
          break;
        }
      }
    }
    if (changed.length) {
      await record('rehash', 'refused', changed.join('; '));
      throw new Stop('refused', 'rehash', changed.join('; '));
    }
    await record('rehash', 'passed', 'every file still has the digest that was scanned and approved');

    // 6. Upload.
    stopIfInterrupted('upload');
    if (options.dryRun) {
      await record('upload', 'passed', `dry run: nothing uploaded to ${registry}`);
    } else {
      const client = eco === 'npm' ? 'npm publish' : 'twine upload';
      const sending = { package: subject.package, version: subject.version, ...(npmPlan ? { distTag: npmPlan.distTag } : {}), ...(options.skipExisting ? { skipExisting: true } : {}) };
      // Written before npm or twine starts, and the upload never starts without it: a run killed
      // during the upload (SIGKILL, out of memory, a runner cancelled hard) writes nothing after
      // it, and the log must still show that files may have gone out.
      try {
        await log.append(
          entry(
            UPLOAD_START_STAGE,
            'started',
            redactText(`${client} of ${subject.package} ${subject.version} to ${registry} starting; the upload record follows when it ends, and without one the run stopped during the upload: the files may or may not be on ${registry}`, secrets),
            sending,
          ),
          now(),
        );
      } catch (error) {
        if (!(error instanceof AuditError)) throw error;
        logBroken = true;
        throw new Stop('failed', 'upload', `${error.message}; ${client} was not started: nothing was uploaded`);
      }
      // A stop that came while the start record waited for the log's lock: npm or twine must not start.
      stopIfInterrupted('upload');
      // On exit during the upload (a second Ctrl-C, SIGTERM or SIGHUP ends the process at once),
      // the clients are killed and the upload's record written while the
      // process still can: synchronously, if the log's lock is free within a second.
      const atExit = (): void => {
        const killed = killClientsNow();
        const reason = `pubguard exited during ${client} (stopped a second time)${killed ? `; ${client} was killed` : ''}: the upload may or may not have reached ${registry}; look there before trying again`;
        try {
          log.appendSync(entry(`${STAGE_PREFIX}upload`, 'error', redactText(reason, secrets), { ...sending, exited: true, killed: killed > 0 }), now());
        } catch {
          // Nothing is left to report it with: the start record stands alone, which says as much.
        }
      };
      process.on('exit', atExit);
      let out: ClientResult;
      try {
        if (eco === 'npm') {
          out = await npmPublish(staged[0]!, {
            registry,
            token: token!,
            packageName: subject.package,
            env,
            cwd: options.cwd,
            // npm's own default is left to npm: its config is ours alone (private userconfig and
            // globalconfig, no npm_config_ variables, the tarball's settings checked above), and
            // npm 11 refuses to move `latest` down to a lower version only when no tag is given.
            ...(npmPlan!.distTagFrom === 'default' ? {} : { distTag: npmPlan!.distTag }),
            ...(npmPlan!.access ? { access: npmPlan!.access } : {}),
            ...(npmPlan!.provenance === undefined ? {} : { provenance: npmPlan!.provenance }),
            ...(options.runner ? { runner: options.runner } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.npmCommand ? { npmCommand: options.npmCommand } : {}),
          });
        } else {
          out = await twineUpload(staged, {
            repositoryUrl: registry,
            token: token!,
            env,
            cwd: options.cwd,
            ...(options.runner ? { runner: options.runner } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.twineCommand ? { twineCommand: options.twineCommand } : {}),
            ...(options.skipExisting ? { skipExisting: true } : {}),
          });
        }
      } finally {
        process.off('exit', atExit);
      }
      clientOutput = redactText(`${out.stdout}${out.stderr}`, secrets);
      if (out.code !== 0) {
        // Interrupted, the client's last words are its reaction to Ctrl-C (a Python traceback
        // from twine), not a reason; its whole output still goes to stderr.
        const why = clientFailureSummary(clientOutput);
        const reason = options.signal?.aborted
          ? `interrupted during ${client}: the upload may or may not have reached ${registry}; look there before trying again`
          : `${client} exited with ${out.code ?? 'a signal'}${why ? `: ${why}` : ''}${eco === 'pypi' && !options.skipExisting && ALREADY_THERE.test(clientOutput) ? ALREADY_THERE_HINT : ''}`;
        await record('upload', 'error', reason);
        throw new Stop('failed', 'upload', reason);
      }
      uploaded = true;
      if (options.skipExisting) {
        const names = digests.map((d) => d.name);
        const seen = twineSkippedFiles(clientOutput, names);
        skipped = seen.skipped;
        const sent = names.filter((n) => !seen.skipped.includes(n));
        unnamedSkips = seen.unnamed;
        const listing = { skipExisting: true, skipped, ...(unnamedSkips ? { unnamedSkips } : { uploaded: sent }) };
        // A twine that words its messages otherwise: say so rather than guess which files went out.
        const unnamedText = unnamedSkips ? `twine skipped ${unnamedSkips === 1 ? 'a file' : `${unnamedSkips} files`} as already there without naming ${unnamedSkips === 1 ? 'it' : 'them'} readably` : '';
        if ((skipped.length || unnamedSkips) && indexUrl !== undefined) {
          // twine skips a file by its name (pypi.org's JSON API) or on "already exists", which
          // PyPI answers only to other bytes: a skipped file may hold bytes nobody approved, and
          // only the index can tell. Every file is looked up, those uploaded now as well, so skips
          // twine did not name readably are covered too.
          const done = [
            ...(skipped.length ? [`skipped as already there: ${skipped.join(', ')}${unnamedSkips ? '' : `; uploaded: ${sent.length ? sent.join(', ') : 'none'}`}`] : []),
            ...(unnamedText ? [unnamedText] : []),
          ].join('; ');
          const projectOf = new Map(versions.map((v) => [basename(v.path), v.name]));
          let checked: IndexFileCheck[];
          try {
            checked = await checkIndexFiles(
              indexUrl,
              digests.map((d) => ({ name: d.name, sha256: d.sha256, project: projectOf.get(d.name) ?? subject!.package })),
              { ...options.indexRequest, ...(options.signal ? { signal: options.signal } : {}) },
            );
          } catch (error) {
            if (options.signal?.aborted) {
              const reason = `interrupted while looking up the files on ${indexUrl} after ${client} --skip-existing to ${registry} finished (${done}): the skipped files were not compared with the approved bytes; run the release again with --skip-existing to compare them`;
              await record('upload', 'error', reason, { ...listing, indexUrl });
              throw new Stop('failed', 'upload', reason);
            }
            if (!(error instanceof PublishError)) throw error;
            const reason = `${client} --skip-existing to ${registry} finished (${done}), but the files on the index cannot be shown to hold the approved bytes: ${error.message}. Run the release again with --skip-existing once ${indexUrl} answers, or compare the sha256 it lists for each file with the approved one`;
            await record('upload', 'refused', reason, { ...listing, indexUrl, indexError: error.message });
            throw new Stop('refused', 'upload', reason);
          }
          indexCheck = { indexUrl, files: checked };
          const details = { ...listing, indexUrl, index: checked.map((f) => ({ name: f.name, status: f.status, ...(f.onIndex ? { sha256: f.onIndex } : {}) })) };
          const bad = checked.filter((f) => f.status !== 'approved');
          if (bad.length) {
            const reason = `${client} --skip-existing to ${registry} finished (${done}), but ${indexProblems(bad, subject, indexUrl, registry)}`;
            await record('upload', 'refused', reason, details);
            throw new Stop('refused', 'upload', reason);
          }
          const verified = [
            ...(skipped.length ? [`already there with the approved bytes: ${skipped.join(', ')}${unnamedSkips ? '' : `; uploaded: ${sent.length ? sent.join(', ') : 'none'}`}`] : []),
            ...(unnamedText ? [unnamedText] : []),
          ];
          await record('upload', 'passed', `${client} --skip-existing to ${registry} succeeded; ${verified.join('; ')}; ${indexUrl} lists every file with its approved sha256`, details);
        } else {
          const what = [
            ...(skipped.length ? [`skipped as already there: ${skipped.join(', ')} (not compared with the approved bytes${indexUrl === undefined ? ': no simple index to compare with, give --index-url' : ''}); uploaded: ${sent.length ? sent.join(', ') : 'none'}`] : []),
            ...(unnamedText ? [`${unnamedText}: look at the index`] : []),
          ];
          await record('upload', 'passed', `${client} --skip-existing to ${registry} succeeded; ${what.length ? what.join('; ') : 'no file was already there'}`, listing);
        }
      } else {
        await record('upload', 'passed', `${client} to ${registry} succeeded${npmPlan ? ` (dist-tag ${npmPlan.distTag})` : ''}`, npmPlan ? { distTag: npmPlan.distTag } : {});
      }
    }
  } catch (error) {
    if (error instanceof Stop) stop = error;
    else if (error instanceof Error && error.name !== 'Error' && error.name !== 'TypeError' && error.name !== 'RangeError') {
      // A typed error (unreadable policy, approvals directory…) fails the publish but is still recorded and notified.
      stop = new Stop('failed', steps.length ? nextStep(steps.at(-1)!.step) : 'version', error.message);
    } else throw error;
    // Steps that refused with details have recorded themselves; every other stop is recorded here.
    if (!steps.some((s) => s.step === stop!.step)) {
      try {
        await record(stop.step, stop.kind === 'failed' ? 'error' : 'refused', stop.reason);
      } catch (error) {
        // The log could not take the stop's record: the stop now says that as well.
        if (!(error instanceof Stop)) throw error;
        stop = error;
      }
    }
  } finally {
    if (staging) await removeTempDir(staging);
  }

  let status: PublishResult['status'] = stop ? stop.kind : options.dryRun ? 'dry-run' : 'published';
  const auditError =
    auditFailure === undefined
      ? undefined
      : `${auditFailure}. ${subject!.package} ${subject!.version} IS published: do not publish it again (the registry refuses the same version); repair the log (\`pubguard audit verify ${options.auditPath}\`) and keep this output as the record of the upload`;
  let reason = stop
    ? stop.reason
    : options.dryRun
      ? `${subject!.package} ${subject!.version} passed every check; nothing uploaded${npmPlan ? ` (dist-tag ${npmPlan.distTag})` : ''}`
      : `${subject!.package} ${subject!.version} published to ${registry}${npmPlan ? ` with dist-tag ${npmPlan.distTag}` : ''}${skippedNote(skipped ?? [], unnamedSkips, indexCheck)}${auditError ? `, but ${auditError}` : ''}`;
  // A log that cannot be read after a lost record still leaves the run's result to report.
  const headNow = async (): Promise<string> => {
    try {
      return (await log.verify()).head;
    } catch (error) {
      if ((auditFailure !== undefined || logBroken) && error instanceof AuditError) return '';
      throw error;
    }
  };

  let notification: NotifyResult | undefined;
  if (options.notifyUrl) {
    const head = await headNow();
    const message: PublishNotification = {
      text: notificationText(status, eco, subject, reason, stop?.step, auditError, npmPlan?.distTag),
      event: status,
      ecosystem: eco,
      ...(subject ? { package: subject.package, version: subject.version } : {}),
      ...(npmPlan ? { distTag: npmPlan.distTag } : {}),
      registry,
      artifacts: digests,
      approvers,
      ...(approvalsInfo ? { approvals: approvalsInfo } : {}),
      ...(stop ? { step: stop.step } : {}),
      reason,
      ...(auditError ? { auditError } : {}),
      ...(head ? { auditHead: head } : {}),
      actor: options.actor,
    };
    notification = await sendNotification(options.notifyUrl, message, { ...options.notifyOptions, secrets });
    const where = describeWebhook(options.notifyUrl);
    try {
      await record(
        'notify',
        notification.ok ? 'passed' : 'error',
        `${notification.ok ? `notified ${where}` : `notification to ${where} failed after ${notification.attempts} attempt${notification.attempts === 1 ? '' : 's'}: ${notification.error ?? 'unknown error'} (the release outcome stands)`}${auditFailure !== undefined || logBroken ? '; not recorded: the audit log could not take an earlier record' : ''}`,
        { attempts: notification.attempts, ...(notification.status ? { status: notification.status } : {}) },
      );
    } catch (error) {
      // Nothing was uploaded and the log cannot take the notify record: the run fails, as it
      // would at any other step, though the notification already went out.
      if (!(error instanceof Stop)) throw error;
      stop = error;
      status = 'failed';
      reason = error.reason;
    }
  }
  return {
    status,
    ...(stop ? { step: stop.step } : {}),
    reason: redactText(reason, secrets),
    steps,
    ...(subject ? { subject } : {}),
    ...(npmPlan ? { distTag: npmPlan.distTag } : {}),
    findings,
    scanErrors,
    approvers,
    ...(approvalsInfo ? { approvals: approvalsInfo } : {}),
    warnings,
    ...(clientOutput === undefined ? {} : { clientOutput }),
    ...(skipped === undefined ? {} : { skipped }),
    ...(indexCheck ? { indexCheck } : {}),
    ...(notification ? { notification } : {}),
    ...(auditError ? { auditError: redactText(auditError, secrets) } : {}),
    auditHead: await headNow(),
  };
}

// What indexes answer a second upload of a file name with: PyPI's 400 "File already exists",
// pypiserver's 409 Conflict (as twine prints it), GitLab's "has already been taken".
const ALREADY_THERE = /already exists?\b|already been taken|\b409 Conflict\b/i;
const ALREADY_THERE_HINT =
  ' (the index already has a file of this name: if an earlier run of this release stopped partway, run it again with --skip-existing; on PyPI, which takes the same bytes again, it means the file there differs)';

function skippedNote(names: readonly string[], unnamed: number, check: PublishResult['indexCheck']): string {
  if (check) {
    if (unnamed > 0) return ` (some files were already there and skipped; ${check.indexUrl} lists every file with its approved sha256)`;
    return ` (${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} already there with the approved bytes, as ${check.indexUrl} lists, and skipped)`;
  }
  if (unnamed > 0) return ' (some files were already there and skipped: look at the index for which, and compare their sha256 with the approved ones)';
  if (names.length === 0) return '';
  return ` (${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} already there and skipped: ${names.length === 1 ? 'its' : 'their'} bytes on the index were not compared with the approved ones)`;
}

/** Why the files on the index are not shown to be the approved ones, and what to do about it. */
function indexProblems(bad: readonly IndexFileCheck[], subject: ReleaseSubject, indexUrl: string, registry: string): string {
  const short = (hex: string): string => `${hex.slice(0, 12)}…`;
  const problems = bad.map((f) => {
    if (f.status === 'different') return `${f.name} on the index holds other bytes (sha256 ${short(f.onIndex ?? '')} there, ${short(f.approved)} approved)`;
    if (f.status === 'no-digest') return `${f.name} is listed on ${f.url} without a sha256`;
    return `${f.name} is not listed on ${f.url}`;
  });
  const advice: string[] = [];
  if (bad.some((f) => f.status === 'different')) {
    const bytes = `${subject.package} ${subject.version} on the index holds bytes nobody approved`;
    // Only pypi.org and test.pypi.org are known never to take a file name again; another
    // repository may let a file be deleted and uploaded anew, but --skip-existing skips it.
    advice.push(
      publicRegistry(registry) === undefined
        ? `${bytes}: remove that version from the repository (or yank it, where the repository can) and release a new version; running again would skip that file again, not replace it`
        : `${bytes}: yank that version there and release a new version (PyPI never takes a file name twice, even after a delete, so running again cannot replace it)`,
    );
  }
  if (bad.some((f) => f.status === 'missing')) {
    advice.push(`If it was uploaded moments ago the index may not list it yet: run the release again with --skip-existing in a few minutes; if it stays missing, check that ${indexUrl} is the simple index of ${registry} (--index-url)`);
  }
  if (bad.some((f) => f.status === 'no-digest')) advice.push("Compare that file's sha256 on the index with the approved one by hand");
  return `${problems.join('; ')}. ${advice.join('. ')}`;
}

/** A file as records name it: relative to the working directory when inside it, so they read the same on every machine. */
export function relativeToCwd(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

const ORDER: PublishStep[] = ['version', 'scan', 'approvals', 'token', 'rehash', 'upload', 'notify'];

function nextStep(step: PublishStep): PublishStep {
  return ORDER[Math.min(ORDER.indexOf(step) + 1, ORDER.length - 1)]!;
}

function notificationText(status: PublishResult['status'], eco: Ecosystem, subject: ReleaseSubject | undefined, reason: string, step: PublishStep | undefined, auditError: string | undefined, distTag: string | undefined): string {
  const what = subject ? `${subject.package} ${subject.version}` : 'a release';
  const where = eco === 'npm' ? 'npm' : 'PyPI';
  const tagged = distTag === undefined ? '' : ` under dist-tag ${distTag}`;
  switch (status) {
    case 'published':
      return auditError ? `:warning: ${what} published to ${where}${tagged}, but ${auditError}` : `:white_check_mark: ${what} published to ${where}${tagged}`;
    case 'dry-run':
      return `:test_tube: ${what} passed every check for ${where}${tagged} (dry run, nothing uploaded)`;
    case 'refused':
      return `:no_entry: ${what} was refused at the ${step} step: ${reason}`;
    default:
      return `:x: publishing ${what} to ${where} failed at the ${step} step: ${reason}`;
  }
}
