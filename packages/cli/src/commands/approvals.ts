import { resolve } from 'node:path';
import { initiatorIsApprover, loadApprovalsIfPresent, loadPolicyFile, relativeToCwd, verifyApprovals } from '@pubguard/release';
import { visible } from '@pubguard/report';
import { type CliResult, type Command, stopIfInterrupted, UsageError } from '../io.js';
import { DEFAULT_APPROVALS_DIR, DEFAULT_POLICY_PATH, subjectFromArgs } from './approve.js';
import { parseCommandArgs } from '../args.js';
import { gateHelp, GATE_OPTIONS, actorOf, initiatorOf, outputFormat, recordGate, writeJson } from './audit.js';

const HELP = `Usage: pubguard approvals verify <artifact...|manifest.json> [options]

Succeeds only when the policy's rule is met by valid, unexpired approvals whose statement
names exactly these artifacts (same set, same SHA-256, same version). Prints who approved
and which group each counted for, every approval that did not count and why, and what
is still missing. One person counts once, whichever of their keys signed. An approval
valid for more than 100 years, or dated more than 5 minutes ahead, does not count; only
regular files of the approvals directory are read (a link, FIFO or directory is listed
as not counted), a statement up to 64 KiB and a signature up to 16 KiB.

Options:
      --policy FILE       the policy (default ${DEFAULT_POLICY_PATH})
      --approvals DIR     the approvals (default ${DEFAULT_APPROVALS_DIR})
      --initiator NAME    who started the release; not counted unless the policy says
                          "initiatorMayApprove": true (default: $GITHUB_ACTOR in GitHub
                          Actions, and $GITHUB_TRIGGERING_ACTOR when someone else re-ran
                          the workflow; $GITLAB_USER_LOGIN in GitLab CI)
      --package NAME      package name (default: read from the artifacts)
      --version VERSION   semver version (default: read from the artifacts)
${gateHelp(26)}

Exit codes: 0 approved, 1 refused (including a policy that can never be met), 2 usage
error, an unreadable artifact or an invalid policy, or interrupted (Ctrl-C, SIGTERM,
SIGHUP: no verdict is recorded).
`;

/** `pubguard approvals verify`. */
export const approvalsVerifyCommand: Command = {
  name: 'approvals verify',
  help: HELP,
  async run(argv, io): Promise<CliResult> {
    const { values, positionals } = parseCommandArgs(argv, {
      ...GATE_OPTIONS,
      policy: { type: 'string' },
      approvals: { type: 'string' },
      initiator: { type: 'string' },
      package: { type: 'string' },
      version: { type: 'string' },
    });
    const format = outputFormat(values.format);
    if (values.initiator === '') throw new UsageError('--initiator may not be empty');
    const policyPath = resolve(io.cwd, values.policy ?? DEFAULT_POLICY_PATH);
    // The digest of the policy that judged, recorded as publish records it.
    const { policy, sha256: policySha256 } = await loadPolicyFile(policyPath);
    const subject = await subjectFromArgs(io, positionals, values);
    const approvalsDir = resolve(io.cwd, values.approvals ?? DEFAULT_APPROVALS_DIR);
    // No directory yet means nobody has approved: a refusal, as publish has it, not a failure.
    const found = await loadApprovalsIfPresent(approvalsDir);
    const haveDir = found !== undefined;
    const approvals = found ?? [];
    const initiator = initiatorOf(io, values.initiator);
    const verdict = verifyApprovals({
      subject,
      policy,
      approvals,
      ...(initiator === undefined ? {} : { initiator: initiator.names }),
    });
    // Hashing the artifacts takes a while: a verdict reached after Ctrl-C is not recorded.
    stopIfInterrupted(io, 'no verdict was recorded');
    const counted = verdict.counted.map((c) => `${c.person}${c.group ? ` (${c.group})` : ''}`).join(', ') || 'nobody';
    const reason = verdict.ok
      ? `approved by ${counted}`
      : [...verdict.unsatisfiable.map((u) => `policy can never be met: ${u}`), ...verdict.missing.map((m) => `missing ${m}`)].join('; ');
    await recordGate(io, values, {
      stage: 'approvals',
      outcome: verdict.ok ? 'passed' : 'refused',
      actor: actorOf(io, values.actor),
      subjects: subject.artifacts,
      reason,
      details: {
        package: subject.package,
        version: subject.version,
        counted: verdict.counted.map((c) => ({ person: c.person, ...(c.group ? { group: c.group } : {}), key: c.fingerprint })),
        rejected: verdict.rejected.length,
        policy: { path: relativeToCwd(io.cwd, policyPath), sha256: policySha256 },
        ...(initiator === undefined ? {} : { initiator: initiator.names.join(', ') }),
      },
    });
    if (format === 'json') {
      writeJson(io, { version: 1, stage: 'approvals', ...verdict });
      return { exitCode: verdict.ok ? 0 : 1 };
    }
    // File names and names in statements come from whoever could write to the approvals
    // directory: escapes there must not redraw the verdict on a terminal.
    const w = (s: string): void => io.stdout.write(`${visible(s)}\n`);
    w(`${subject.package} ${subject.version}, ${subject.artifacts.length} artifact${subject.artifacts.length === 1 ? '' : 's'}: ${verdict.ok ? 'APPROVED' : 'REFUSED'}`);
    if (!haveDir) w(`No approvals: ${approvalsDir} does not exist (yet)`);
    if (verdict.counted.length) {
      w('Counted:');
      for (const c of verdict.counted) w(`  ${c.person} — ${c.group ? `for ${c.group}` : 'towards the total'} (key ${c.fingerprint}, expires ${c.expires})`);
    }
    if (verdict.rejected.length) {
      w('Not counted:');
      for (const r of verdict.rejected) w(`  ${r.file}${r.person ? ` (${r.person})` : ''}: ${r.reason}`);
    }
    if (verdict.unsatisfiable.length) {
      w('The policy can never be met:');
      for (const u of verdict.unsatisfiable) w(`  ${u}`);
    }
    if (verdict.missing.length) {
      w('Missing:');
      for (const m of verdict.missing) w(`  ${m}`);
    }
    if (!policy.rule.initiatorMayApprove) {
      // A name CI spells otherwise than the policy leaves nobody out: say so rather than let it pass.
      const from = initiator?.from === undefined ? '' : ` (from ${initiator.from})`;
      const who = initiator?.names.join(' and ') ?? '';
      const one = initiator?.names.length === 1;
      if (initiator === undefined) w('Initiator: unknown (no --initiator, and not run in GitHub Actions or GitLab CI), so an approval by whoever started this release counts');
      else if (!initiatorIsApprover(policy, initiator.names)) {
        w(`Initiator: ${who}${from}, ${one ? 'who is not an approver' : 'neither of them an approver'} in the policy, so no approval is left out; name approvers by their CI user names`);
      } else if (initiator.from !== undefined) w(`Initiator: ${who}${from}, whose approval${one ? ' does' : 's do'} not count`);
    }
    return { exitCode: verdict.ok ? 0 : 1 };
  },
};
