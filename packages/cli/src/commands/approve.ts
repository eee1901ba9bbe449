import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { makeDirectory, maskNames } from '@pubguard/engine';
import { join, resolve } from 'node:path';
import {
  type ReleaseSubject,
  approvalFileName,
  buildStatement,
  canonicalStatement,
  createApproval,
  describeManifest,
  describeRelease,
  EncryptedKeyError,
  FileLockError,
  KeyError,
  loadPolicy,
  loadPrivateKey,
  loadPublicKey,
  type SshPrivateKey,
  type SshPublicKey,
  parseDuration,
  StatementError,
  withFileLock,
} from '@pubguard/release';
import { type CliIO, type CliResult, type Command, stopIfInterrupted, UsageError } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { OutputError, writeFilesTogether } from '../files.js';
import { gateHelp, GATE_OPTIONS, outputFormat, recordGate, writeJson } from './audit.js';

/** Where approvals are written and read unless told otherwise. */
export const DEFAULT_APPROVALS_DIR = '.pubguard/approvals';
/** The policy file read unless `--policy` names another. */
export const DEFAULT_POLICY_PATH = '.pubguard/policy.json';

/** Describes the release named on the command line: artifact files, or one manifest JSON file. */
export async function subjectFromArgs(
  io: CliIO,
  positionals: string[],
  overrides: { package?: string | undefined; version?: string | undefined },
): Promise<ReleaseSubject> {
  if (positionals.length === 0) throw new UsageError('give the artifacts (or one manifest.json) of the release');
  const options = {
    ...(overrides.package === undefined ? {} : { package: overrides.package }),
    ...(overrides.version === undefined ? {} : { version: overrides.version }),
    ...(io.signal ? { signal: io.signal } : {}),
  };
  const paths = positionals.map((p) => resolve(io.cwd, p));
  if (paths.length === 1 && (await isManifest(paths[0]!))) return describeManifest(paths[0]!, options);
  return describeRelease(paths, options);
}

async function isManifest(path: string): Promise<boolean> {
  // Told by content: artifacts are archives, a manifest is a JSON object.
  const head = await readFile(path).then((b) => b.subarray(0, 64).toString('utf8'), () => '');
  return head.trimStart().startsWith('{');
}

const HELP = `Usage: pubguard approve <artifact...|manifest.json> --key KEY [options]

Signs an approval of exactly these bytes: a statement naming the package, the version and
the SHA-256 of every artifact, signed with your SSH key in the SSHSIG format of
\`ssh-keygen -Y sign\` (namespace pubguard-approval). Writes NAME.approval.json and
NAME.approval.json.sig into the approvals directory; commit or upload both.

A manifest is a JSON file {"package"?, "version"?, "artifacts": [...]} whose artifacts are
paths (relative to it) or {"name", "sha256"} pairs, to approve digests without the files.

Options:
  -k, --key FILE          your OpenSSH private key (ed25519, rsa or ecdsa nistp256),
                          unencrypted; with --statement-only only its public part is
                          read, so it may be passphrase-protected, or be its .pub file
      --expires DURATION  how long the approval is valid, in minutes, hours, days or
                          weeks: 90m, 72h (default), 7d, 2w
      --approver NAME     your name as in the policy (default: looked up by key in --policy;
                          refused when the policy gives the key to someone else)
      --policy FILE       policy used to look up your name (default ${DEFAULT_POLICY_PATH})
      --package NAME      package name (default: read from the artifacts)
      --version VERSION   semver version (default: read from the artifacts)
      --out DIR           where to write (default ${DEFAULT_APPROVALS_DIR})
      --statement-only    write the unsigned statement only, for signing with
                          ssh-keygen -Y sign -n pubguard-approval -f KEY FILE (the way
                          to approve with a passphrase-protected key)
${gateHelp(26)}

Exit codes: 0 written, 2 usage error or an unreadable artifact or key, or interrupted
(Ctrl-C, SIGTERM, SIGHUP: nothing is signed, written or recorded).
`;

/** A command-line word quoted for a POSIX shell when it needs it, for commands shown to be copied. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `pubguard approve`. */
export const approveCommand: Command = {
  name: 'approve',
  help: HELP,
  async run(argv, io): Promise<CliResult> {
    const { values, positionals } = parseCommandArgs(argv, {
      ...GATE_OPTIONS,
      key: { type: 'string', short: 'k' },
      expires: { type: 'string' },
      approver: { type: 'string' },
      policy: { type: 'string' },
      package: { type: 'string' },
      version: { type: 'string' },
      out: { type: 'string' },
      'statement-only': { type: 'boolean' },
    });
    const format = outputFormat(values.format);
    const statementOnly = values['statement-only'] === true;
    if (!statementOnly && values.key === undefined) throw new UsageError('--key is required (or --statement-only)');
    let validForMs: number;
    try {
      validForMs = parseDuration(values.expires ?? '72h');
    } catch (error) {
      throw new UsageError(`--expires: ${(error as StatementError).message}`);
    }
    const subject = await subjectFromArgs(io, positionals, values);
    // Without signing only the public key is needed: it names the approver in the policy and
    // the statement's file, and an OpenSSH private key file holds it unencrypted.
    const keyPath = values.key === undefined ? undefined : resolve(io.cwd, values.key);
    let key: SshPrivateKey | undefined;
    let publicKey: SshPublicKey | undefined;
    if (keyPath !== undefined && statementOnly) publicKey = await loadPublicKey(keyPath);
    else if (keyPath !== undefined) {
      try {
        key = await loadPrivateKey(keyPath);
      } catch (error) {
        if (!(error instanceof KeyError)) throw error;
        // A key pubguard cannot sign with may still name its owner: say how to go on with it.
        const encrypted = error instanceof EncryptedKeyError;
        if (!encrypted && !(await loadPublicKey(keyPath).then(() => true, () => false))) throw error;
        // Before a `--`, after which it would be taken for an artifact.
        const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
        const rerun = [...argv.slice(0, end), '--statement-only', ...argv.slice(end)];
        const why = encrypted ? 'is encrypted with a passphrase, which pubguard does not read' : 'is a public key, which cannot sign';
        throw new UsageError(
          `${keyPath} ${why}. Write the statement, reading only the key's public part, with:\n` +
            `  pubguard approve ${rerun.map(shellWord).join(' ')}\n` +
            'and sign it with the ssh-keygen command that it prints',
        );
      }
      publicKey = key.publicKey;
    }
    let approver = values.approver;
    const policyPath = resolve(io.cwd, values.policy ?? DEFAULT_POLICY_PATH);
    if (publicKey && (values.policy !== undefined || existsSync(policyPath))) {
      const fingerprint = publicKey.fingerprint;
      const owner = (await loadPolicy(policyPath)).keyOwner.get(fingerprint);
      if (approver === undefined) {
        if (owner === undefined) throw new UsageError(`key ${fingerprint} is not in ${policyPath}; pass --approver NAME`);
        approver = owner;
      } else if (owner !== undefined && owner !== approver) {
        // Verification counts a signature for the key's owner only: this approval would never count.
        throw new UsageError(`key ${fingerprint} belongs to ${owner} in ${policyPath}, not to ${approver}`);
      } else if (owner === undefined) {
        io.stderr.write(`warning: key ${fingerprint} is not in ${policyPath}: an approval with it counts only under a policy that lists it for ${approver}\n`);
      }
    }
    if (approver === undefined) throw new UsageError('pass --approver NAME (your name as in the policy)');
    // Hashing a large artifact takes a while: a signal during it means the approval is not wanted.
    stopIfInterrupted(io, 'nothing was signed, written or recorded');
    const outDir = resolve(io.cwd, values.out ?? DEFAULT_APPROVALS_DIR);
    await makeDirectory(outDir);
    let statementPath: string;
    let signaturePath: string | undefined;
    let statement;
    if (key && !statementOnly) {
      const signed = createApproval(subject, approver, key, { validForMs });
      statement = signed.statement;
      statementPath = join(outDir, approvalFileName(statement, key.publicKey.fingerprint));
      signaturePath = `${statementPath}.sig`;
      // The signature first: until the statement follows, a reader finds a lone signature, or
      // an older statement it does not sign, and counts neither.
      await writeApproval(statementPath, [
        { path: signaturePath, text: signed.signature },
        { path: statementPath, text: signed.text },
      ]);
    } else {
      statement = buildStatement(subject, approver, validForMs);
      statementPath = join(outDir, approvalFileName(statement, publicKey?.fingerprint));
      await writeApproval(statementPath, [{ path: statementPath, text: canonicalStatement(statement) }]);
    }
    await recordGate(io, values, {
      stage: 'approve',
      outcome: 'passed',
      actor: approver,
      subjects: subject.artifacts,
      reason: `${signaturePath ? 'signed' : 'wrote unsigned'} approval of ${subject.package} ${subject.version}, expires ${statement.expires}`,
      ...(publicKey ? { details: { key: publicKey.fingerprint } } : {}),
    });
    if (format === 'json') {
      writeJson(io, {
        version: 1,
        stage: 'approve',
        ok: true,
        statement,
        files: { statement: statementPath, ...(signaturePath ? { signature: signaturePath } : {}) },
        ...(publicKey ? { key: publicKey.fingerprint } : {}),
      });
    } else {
      io.stdout.write(
        `${signaturePath ? 'approved' : 'statement written'}: ${subject.package} ${subject.version}, ${subject.artifacts.length} artifact${subject.artifacts.length === 1 ? '' : 's'}, by ${approver}, expires ${statement.expires}\n`,
      );
      // A token in a file name is shortened, as a scan shortens it; the statement holds the name as signed.
      for (const a of subject.artifacts) io.stdout.write(`  ${a.sha256}  ${maskNames(a.name)}\n`);
      io.stdout.write(`  ${statementPath}\n`);
      if (signaturePath) io.stdout.write(`  ${signaturePath}\n`);
      // ssh-keygen signs with the private key next to a .pub file (or the agent's copy of it).
      else io.stdout.write(`sign it with:\n  ssh-keygen -Y sign -n pubguard-approval -f ${shellWord(values.key?.replace(/\.pub$/, '') ?? '~/.ssh/id_ed25519')} ${shellWord(statementPath)}\n`);
    }
    return { exitCode: 0 };
  },
};

/**
 * Writes an approval's files under a lock on the statement's path: the same approver approving
 * the same files twice at once writes the same names, and without turns one run's statement
 * could end up next to the other's signature.
 */
async function writeApproval(statementPath: string, files: { path: string; text: string }[]): Promise<void> {
  try {
    await withFileLock(statementPath, () => writeFilesTogether(files));
  } catch (error) {
    if (error instanceof FileLockError) throw new OutputError(`cannot write ${statementPath}: ${error.message}`);
    throw error;
  }
}
