import { resolve } from 'node:path';
import { type Ecosystem, type PublishResult, type StepOutcome, distTagProblem, publishRelease, redactValue, relativeToCwd } from '@pubguard/release';
import { visible } from '@pubguard/report';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';
import { jobsSetting, type OptionSpecs, parseCommandArgs } from '../args.js';
import { configuredScan, loadScanConfig, printConfigWarnings } from '../config.js';
import { checkIndexUrl, checkTokenUrl } from '../token-url.js';
import { DEFAULT_AUDIT_PATH, actorOf, initiatorOf, outputFormat, writeJson } from './audit.js';

const commonHelp = (tokenVar: string): string => `Release gate (each step is an audit record; the first refusal stops the run):
      --tag-name TAG        the release tag, e.g. v1.2.3 (default: $GITHUB_REF, which must
                            then be refs/tags/v…)
      --allow-prerelease    accept -alpha.N, -beta.N, -rc.N, -dev.N tags
  -c, --config FILE         settings file (default: the nearest pubguard.config.json in this
                            directory or above; options given here win over it): the scan
                            step runs its rules, allowlist, limits and baseline, as
                            \`pubguard scan\` would from here
      --baseline FILE       accepted findings (a JSON report or a baseline file), instead
                            of the config's; the scan step's record counts those accepted
      --policy FILE         approval policy (default .pubguard/policy.json when it exists);
                            the approvals line and record name it with its sha256 and the
                            key each counted approver signed with
      --policy-sha256 HEX   refuse unless the policy file has this sha256 (and refuse
                            when there is none): pin the policy from somewhere the
                            released commit cannot change, e.g. a protected variable
      --approvals DIR       signed approvals (default .pubguard/approvals)
      --require-approvals   refuse when there is no policy instead of skipping approvals
      --initiator NAME      who started the release; not counted as an approver
                            (default: $GITHUB_ACTOR in GitHub Actions, and
                            $GITHUB_TRIGGERING_ACTOR when someone else re-ran the
                            workflow; $GITLAB_USER_LOGIN in GitLab CI). With
                            "initiatorMayApprove": false, a warning when it is unknown
                            or nobody of the policy (a bot): then nobody is left out;
                            the approvals record names it, or "unknown"
      --dry-run             run every check, upload nothing
      --token-env NAME      variable holding the token (default ${tokenVar})
      --notify URL          POST a JSON message (Slack-compatible "text") after the run;
                            default $PUBGUARD_NOTIFY_URL; an http(s) URL without a user
                            or password, on a port fetch connects to (not 6000, 6667...),
                            checked before anything runs; a failed notification is
                            recorded and does not change the outcome
      --audit FILE          audit log (default ${DEFAULT_AUDIT_PATH})
      --actor NAME          who runs it (default: $GITHUB_ACTOR, else $USER)
  -j, --jobs N              scanner worker threads (at most 4 per CPU, at least 4)
  -f, --format FMT          text (default) or json`;

const NPM_HELP = `Usage: pubguard publish npm <package.tgz> [options]

Publishes exactly this tarball with \`npm publish <tarball>\` after: version gate → secret
scan of the tarball → approvals → token checks → re-hash (the bytes must still be the ones
checked) → upload → notify. The token is read from $NPM_TOKEN (or the variable named by
--token-env), never from the command line, and is handed to npm through a temporary
userconfig (mode 0600, removed afterwards) that refers to \${NPM_TOKEN} and pins a scoped
package's scope to --registry; npm runs outside the project with an empty global config,
so no project, global or built-in npmrc redirects the package's scope or its credentials.
npm also takes settings from the tarball's package.json: a publishConfig that sets the
registry, an @scope:registry, the scope, credentials (_auth, _authToken, //host/:…,
username, password, otp, cert, key…) or a proxy or TLS setting is refused at the version
step (dry runs too), naming the key; its tag, access and provenance are passed to npm as
flags (--tag, --access, --provenance or --no-provenance), which outrank it.
GitHub tokens are refused; on registry.npmjs.org the token must be an npm_ token with a
valid checksum, and such a token is never sent to any other registry.

Options:
      --registry URL        npm registry (default https://registry.npmjs.org/); plain http
                            is refused for registry.npmjs.org, and warned of for any
                            other host that is not this machine (the token is unencrypted)
      --tag DIST_TAG        npm dist-tag, e.g. next (default: the tarball's
                            publishConfig.tag or "tag", else latest; refused when they
                            differ). A pre-release (--allow-prerelease) needs one other
                            than latest, or the version step refuses it. The default
                            latest is left to npm, so npm 11 still refuses to move
                            latest down to a lower version (npm 10 does not check).
                            Not one that reads as a version or range (1.2, v2, ~1, x),
                            nor one with a space or a character other than letters,
                            digits, - _ . ! ~ * ' ( )
      --access LEVEL        public or restricted (scoped packages); the tarball's
                            publishConfig.access must agree
${commonHelp('NPM_TOKEN')}

Exit codes: 0 published (or dry run passed), 1 refused, 2 usage error or failure (npm
missing, upload rejected by the registry, unreadable file, interrupted by Ctrl-C, SIGTERM
or SIGHUP, which stops the run before its next step and interrupts npm; a second one exits
at once, killing npm and the processes it started, recording the upload as interrupted
when the audit log's lock is free within a second, and still removing the private copies
and npm's temporary userconfig), or published but its audit record could not be written:
the result says PUBLISHED with the reason, the notification is sent saying the same, and
the version must not be published again.

The audit log holds publish.upload-start before npm starts: a start without a
publish.upload record after it (\`pubguard audit show\` names it) is an upload whose run was
killed, and the package may or may not be on the registry: look there before publishing.

Example:
  NPM_TOKEN=… pubguard publish npm dist/acme-1.2.3.tgz --tag-name v1.2.3 --require-approvals
`;

const PYPI_HELP = `Usage: pubguard publish pypi <dist files...> [options]

Uploads exactly these wheels and sdists with \`twine upload\` after: version gate → secret
scan → approvals → token checks → re-hash → upload → notify. The token is read from
$PYPI_TOKEN (or the variable named by --token-env), never from the command line, and handed
to twine as TWINE_USERNAME=__token__ / TWINE_PASSWORD in its environment. GitHub tokens
are refused; on pypi.org and test.pypi.org the token must be a pypi- macaroon for that
index, not scoped to other projects, and a token of pypi.org or test.pypi.org is never
sent to any other repository URL.

Options:
      --repository-url URL  upload endpoint (default https://upload.pypi.org/legacy/); plain
                            http is refused for upload.pypi.org and test.pypi.org, and
                            warned of for any other host that is not this machine
      --skip-existing       to re-run a release whose upload stopped partway: files the
                            index already holds under their names are skipped (twine
                            --skip-existing) and named in the result and the audit record;
                            every check, approvals included, still covers all the files
                            given. When twine skipped any, every file is looked up on the
                            simple index: the release is refused (exit 1) unless each is
                            listed there with its approved sha256, or if the index cannot
                            be read
      --index-url URL       the repository's simple index (PEP 503/691), read without
                            credentials to compare the files after a skip; default
                            https://pypi.org/simple/ for pypi.org and
                            https://test.pypi.org/simple/ for test.pypi.org. For another
                            repository without it, skipped files are not compared with
                            the approved bytes: check their sha256 there. Used only with
                            --skip-existing
${commonHelp('PYPI_TOKEN')}

Exit codes: 0 uploaded (or dry run passed), 1 refused (also after a --skip-existing
upload when a file on the index is not the approved one or the index cannot be read:
the message names the file and what to do), 2 usage error or failure (twine
missing, upload rejected, unreadable file, interrupted by Ctrl-C, SIGTERM or SIGHUP,
which stops the run before its next step and interrupts twine; a second one exits at
once, killing twine and the processes it started, recording the upload as interrupted
when the audit log's lock is free within a second, and still removing the private
copies), or uploaded but its audit record could not be written: the result says
PUBLISHED with the reason, the notification is sent saying the same, and the files must
not be uploaded again.

The audit log holds publish.upload-start before twine starts: a start without a
publish.upload record after it (\`pubguard audit show\` names it) is an upload whose run was
killed, and the files may or may not be on the index: look there before uploading again.

Example:
  PYPI_TOKEN=… pubguard publish pypi dist/*.whl dist/*.tar.gz --tag-name v1.2.3
`;

const OPTIONS = {
  'tag-name': { type: 'string' },
  'allow-prerelease': { type: 'boolean' },
  baseline: { type: 'string' },
  config: { type: 'string', short: 'c' },
  policy: { type: 'string' },
  'policy-sha256': { type: 'string' },
  approvals: { type: 'string' },
  'require-approvals': { type: 'boolean' },
  initiator: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'token-env': { type: 'string' },
  notify: { type: 'string' },
  audit: { type: 'string' },
  actor: { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  format: { type: 'string', short: 'f' },
} as const;

const MARK: Record<StepOutcome['outcome'], string> = { passed: 'ok', refused: 'REFUSED', error: 'ERROR' };

async function runPublish(ecosystem: Ecosystem, argv: string[], io: CliIO): Promise<CliResult> {
  const extra: OptionSpecs =
    ecosystem === 'npm' ? { registry: { type: 'string' }, tag: { type: 'string' }, access: { type: 'string' } } : { 'repository-url': { type: 'string' }, 'skip-existing': { type: 'boolean' }, 'index-url': { type: 'string' } };
  // Said here rather than left to "Unknown option": someone re-running a release may well try it.
  if (ecosystem === 'npm' && argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).some((a) => /^--skip-existing(?:=|$)/.test(a))) {
    throw new UsageError('--skip-existing is for publish pypi only: npm publishes one tarball, and a version already on the registry cannot be published again');
  }
  const { values, positionals } = parseCommandArgs(argv, { ...OPTIONS, ...extra });
  const v = values as Record<string, string | boolean | undefined>;
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const format = outputFormat(str('format'));
  if (positionals.length === 0) throw new UsageError(ecosystem === 'npm' ? 'give the package tarball to publish' : 'give the wheels and sdists to upload');
  if (ecosystem === 'npm' && positionals.length > 1) throw new UsageError('npm publishes one tarball at a time');
  const tokenEnv = str('token-env');
  if (tokenEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) throw new UsageError('--token-env takes an environment variable name');
  const registry = ecosystem === 'npm' ? str('registry') : str('repository-url');
  if (registry !== undefined) checkTokenUrl(registry, ecosystem === 'npm' ? '--registry' : '--repository-url', io);
  const indexUrl = str('index-url');
  if (indexUrl !== undefined) checkIndexUrl(indexUrl, '--index-url', io);
  // Accepted all the same: a workflow may pass it always and --skip-existing only on a re-run.
  if (indexUrl !== undefined && v['skip-existing'] !== true) io.stderr.write('warning: --index-url is used only after --skip-existing skips files: without --skip-existing it has no effect\n');
  const access = str('access');
  if (access !== undefined && access !== 'public' && access !== 'restricted') throw new UsageError(`--access takes public or restricted, not '${access}'`);
  const distTag = str('tag');
  const tagProblem = distTag === undefined ? undefined : distTagProblem(distTag);
  if (distTag !== undefined && tagProblem !== undefined) throw new UsageError(`--tag '${visible(distTag)}': ${tagProblem}`);
  if (str('initiator') === '') throw new UsageError('--initiator may not be empty');
  const initiator = initiatorOf(io, str('initiator'));
  const policySha256 = str('policy-sha256');
  if (policySha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(policySha256)) throw new UsageError('--policy-sha256 takes a 64-digit hex SHA-256 (sha256sum .pubguard/policy.json)');
  // The scan `pubguard scan` would run from here, config and baseline included: a release must
  // not pass a scan that the same project's own scan fails, nor the other way round. A config
  // or baseline that cannot be used stops the run before any step.
  const configText = str('config');
  const config = await loadScanConfig(io.cwd, configText === undefined ? undefined : resolve(io.cwd, configText));
  printConfigWarnings(config, io);
  const baselineText = str('baseline');
  const jobs = jobsSetting(str('jobs'), config, io);
  const { options: scan } = await configuredScan(config, io.cwd, {
    ...(jobs === undefined ? {} : { jobs }),
    ...(baselineText === undefined ? {} : { baseline: baselineText }),
  });
  const notifyUrl = str('notify') ?? (io.env.PUBGUARD_NOTIFY_URL || undefined);

  const onStep = (s: StepOutcome): void => {
    // Reasons quote file names, approval files and registry replies: escapes are shown, not obeyed.
    if (format === 'text') io.stdout.write(`${MARK[s.outcome].padEnd(7)} ${s.step.padEnd(9)} ${visible(s.reason)}\n`);
  };
  const result: PublishResult = await publishRelease({
    ecosystem,
    files: positionals,
    ...(registry === undefined ? {} : { registry }),
    ...(str('tag-name') === undefined ? {} : { tag: str('tag-name')! }),
    allowPrerelease: v['allow-prerelease'] === true,
    ...(distTag === undefined ? {} : { distTag }),
    ...(str('access') === undefined ? {} : { access: str('access')! }),
    dryRun: v['dry-run'] === true,
    ...(v['skip-existing'] === true ? { skipExisting: true } : {}),
    ...(indexUrl === undefined ? {} : { indexUrl }),
    ...(str('policy') === undefined ? {} : { policyPath: str('policy')! }),
    ...(policySha256 === undefined ? {} : { policySha256: policySha256.toLowerCase() }),
    ...(str('approvals') === undefined ? {} : { approvalsDir: str('approvals')! }),
    requireApprovals: v['require-approvals'] === true,
    ...(initiator === undefined ? {} : { initiator: initiator.names }),
    ...(scan.baseline ? { baseline: scan.baseline } : {}),
    scan: { ruleset: scan.ruleset, limits: scan.limits, ignore: scan.ignore, ...(scan.exclude ? { exclude: scan.exclude } : {}) },
    ...(config.loaded ? { configPath: relativeToCwd(io.cwd, config.loaded.path) } : {}),
    ...(tokenEnv ? { tokenEnv } : {}),
    env: io.env,
    cwd: io.cwd,
    auditPath: resolve(io.cwd, str('audit') ?? DEFAULT_AUDIT_PATH),
    actor: actorOf(io, str('actor')),
    ...(notifyUrl ? { notifyUrl } : {}),
    ...(scan.jobs === undefined ? {} : { jobs: scan.jobs }),
    ...(io.signal ? { signal: io.signal } : {}),
    onStep,
    onWarning: (message) => {
      io.stderr.write(`warning: ${visible(message)}\n`);
    },
  });
  if (result.clientOutput) io.stderr.write(result.clientOutput.endsWith('\n') ? result.clientOutput : `${result.clientOutput}\n`);
  if (format === 'json') {
    // The result names the artifacts as given, for the approvals signed for them; shown here,
    // a secret in a file's name is shortened as everywhere else.
    writeJson(io, redactValue({ version: 1, stage: 'publish', ecosystem, ...result }));
  } else {
    for (const f of result.findings) io.stdout.write(`  ${f.ruleId} ${visible(`${f.in === 'name' ? `${f.path} ${f.secret} (in the name)` : `${f.path}:${f.location.line}:${f.location.column} ${f.secret}`}`)}\n`);
    for (const e of result.scanErrors) io.stdout.write(`  ${visible(`${e.path}: ${e.kind}: ${e.message}`)}\n`);
    const word = { published: 'PUBLISHED', 'dry-run': 'DRY RUN OK', refused: 'REFUSED', failed: 'FAILED' }[result.status];
    io.stdout.write(`${word}: ${visible(result.reason)}\n`);
    if (result.notification && !result.notification.ok) io.stderr.write(`warning: notification failed: ${result.notification.error ?? 'unknown error'}\n`);
    // No head to keep when the log could not be read after a record was lost.
    if (result.auditHead) io.stdout.write(`audit head ${result.auditHead}\n`);
  }
  // A release that went out unrecorded is a fatal problem for whoever relies on the log.
  return { exitCode: result.status === 'refused' ? 1 : result.status === 'failed' || result.auditError !== undefined ? 2 : 0 };
}

/** `pubguard publish npm`. */
export const publishNpmCommand: Command = {
  name: 'publish npm',
  help: NPM_HELP,
  run: (argv, io) => runPublish('npm', argv, io),
};

/** `pubguard publish pypi`. */
export const publishPypiCommand: Command = {
  name: 'publish pypi',
  help: PYPI_HELP,
  run: (argv, io) => runPublish('pypi', argv, io),
};
