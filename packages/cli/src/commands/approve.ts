import { existsSync } from 'node:fs';
import { lstat, readFile, rm } from 'node:fs/promises';
import { describeFsError, makeDirectory, maskNames } from '@pubguard/engine';
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
  MAX_STATEMENT_BYTES,
  type SshPrivateKey,
  type SshPublicKey,
  parseDuration,
  parseStatement,
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
      --replace           with --statement-only, write over a statement that is signed
                          already, and remove its signature (that approval then no
                          longer counts)
${gateHelp(26)}

Approving the same files again with the same key writes the same file names. Signing
replaces the pair there with the new approval, and says so. --statement-only keeps the
same statement (byte for byte, as one written within the same second is) as it is, writes
over an unsigned one, and refuses (exit 2) to write over a signed one, whose .sig would
then match nothing and whose approval would be void; with --replace it removes the .sig,
writes the statement, and says so.

Exit codes: 0 written (or the same statement kept), 2 usage error, a signed statement in
the way of --statement-only without --replace, an unreadable artifact or key, or
interrupted (Ctrl-C, SIGTERM, SIGHUP: nothing is signed, written or recorded).
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
      replace: { type: 'boolean' },
    });
    const format = outputFormat(values.format);
    const statementOnly = values['statement-only'] === true;
    if (!statementOnly && values.key === undefined) throw new UsageError('--key is required (or --statement-only)');
    // Signing always writes a matching pair: only a statement written alone can void a signature.
    if (values.replace === true && !statementOnly) throw new UsageError('--replace goes with --statement-only: signing replaces an earlier approval of the same files by itself');
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
    let before: Before;
    if (key && !statementOnly) {
      const signed = createApproval(subject, approver, key, { validForMs });
      statement = signed.statement;
      statementPath = join(outDir, approvalFileName(statement, key.publicKey.fingerprint));
      signaturePath = `${statementPath}.sig`;
      // The signature first: until the statement follows, a reader finds a lone signature, or
      // an older statement it does not sign, and counts neither.
      before = await writeApproval(statementPath, signed.text, async () => {
        await writeFilesTogether([
          { path: signaturePath!, text: signed.signature },
          { path: statementPath, text: signed.text },
        ]);
      });
    } else {
      statement = buildStatement(subject, approver, validForMs);
      statementPath = join(outDir, approvalFileName(statement, publicKey?.fingerprint));
      const text = canonicalStatement(statement);
      const path = statementPath;
      before = await writeApproval(path, text, async (found) => {
        // The same bytes are there already: rewriting them could only lose a signature next to them.
        if (found.statement === 'same') return;
        // A signature without its statement is no approval: it goes without asking.
        if (found.signed && found.statement === 'other' && values.replace !== true) {
          throw new UsageError(
            `${path} is signed already (${found.signaturePath}${found.expires ? `, ${Date.parse(found.expires) <= Date.now() ? 'expired' : 'expires'} ${found.expires}` : ''}): ` +
              'a new statement in its place would no longer match that signature, and the approval would be void. ' +
              'Keep it (`pubguard approvals verify` says whether it counts), or pass --replace to write the new statement and remove the old signature',
          );
        }
        // The old signature goes first: a crash in between leaves an unsigned statement, never a
        // signature next to a statement it does not sign (which ssh-keygen would not sign over).
        if (found.signed) {
          await rm(found.signaturePath, { force: true }).catch((error: unknown) => {
            throw new OutputError(`cannot remove ${found.signaturePath}: ${describeFsError(error, { writing: true })}`);
          });
        }
        await writeFilesTogether([{ path, text }]);
      });
    }
    // Signing writes its pair whatever was there: the same statement is signed again.
    const kept = !signaturePath && before.statement === 'same';
    const replaced = before.statement === 'other';
    const removedSignature = !signaturePath && before.statement !== 'same' && before.signed ? before.signaturePath : undefined;
    const whatBefore = kept
      ? '; the same statement was there already and was kept'
      : replaced
        ? `; replaced the ${before.signed ? 'signed' : 'unsigned'} statement written before under its name${removedSignature ? ' and removed its signature' : ''}`
        : removedSignature
          ? '; removed a signature without its statement'
          : '';
    await recordGate(io, values, {
      stage: 'approve',
      outcome: 'passed',
      actor: approver,
      subjects: subject.artifacts,
      reason: `${signaturePath ? 'signed' : 'wrote unsigned'} approval of ${subject.package} ${subject.version}, expires ${statement.expires}${whatBefore}`,
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
        ...(kept || replaced ? { existing: kept ? 'kept' : 'replaced' } : {}),
        ...(removedSignature ? { removedSignature } : {}),
      });
    } else {
      const head = signaturePath ? 'approved' : kept ? 'statement unchanged' : 'statement written';
      io.stdout.write(
        `${head}: ${subject.package} ${subject.version}, ${subject.artifacts.length} artifact${subject.artifacts.length === 1 ? '' : 's'}, by ${approver}, expires ${statement.expires}\n`,
      );
      // A token in a file name is shortened, as a scan shortens it; the statement holds the name as signed.
      for (const a of subject.artifacts) io.stdout.write(`  ${a.sha256}  ${maskNames(a.name)}\n`);
      io.stdout.write(`  ${statementPath}\n`);
      if (signaturePath) io.stdout.write(`  ${signaturePath}\n`);
      if (kept) io.stdout.write(`the same statement was there already: kept as it is${before.signed ? `, with its signature ${before.signaturePath}` : ''}\n`);
      else if (replaced && signaturePath) {
        const was = before.signed ? `the approval written before under this name${before.expires ? ` (expires ${before.expires})` : ''}` : 'the unsigned statement written before under this name';
        io.stdout.write(`replaced ${was}\n`);
      } else if (removedSignature) {
        const why = replaced ? 'it signed the statement replaced, whose approval no longer counts' : 'a signature without its statement, which counted for nothing';
        io.stdout.write(`removed ${removedSignature}: ${why}\n`);
      }
      // ssh-keygen signs with the private key next to a .pub file (or the agent's copy of it).
      if (!signaturePath && !(kept && before.signed)) {
        io.stdout.write(`sign it with:\n  ssh-keygen -Y sign -n pubguard-approval -f ${shellWord(values.key?.replace(/\.pub$/, '') ?? '~/.ssh/id_ed25519')} ${shellWord(statementPath)}\n`);
      }
    }
    return { exitCode: 0 };
  },
};

/** What was at an approval's paths before approve wrote them. */
interface Before {
  /** None there, the same bytes as the statement to write, or another statement (or a file that cannot be read as one). */
  statement: 'none' | 'same' | 'other';
  /** Whether a signature file was there. */
  signed: boolean;
  signaturePath: string;
  /** The expiry of the statement there, when it reads as one. */
  expires: string | undefined;
}

async function inspectApproval(statementPath: string, text: string): Promise<Before> {
  const signaturePath = `${statementPath}.sig`;
  const signed = await lstat(signaturePath).then(
    () => true,
    () => false,
  );
  let found: string | undefined;
  try {
    // Larger than any statement approvals are read from: no need to read it to know it is another.
    found = (await lstat(statementPath)).size > MAX_STATEMENT_BYTES ? '' : await readFile(statementPath, 'utf8');
  } catch (error) {
    // Anything else there (a directory, no permission) makes the write that follows fail and say why.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') found = '';
  }
  if (found === undefined) return { statement: 'none', signed, signaturePath, expires: undefined };
  if (found === text) return { statement: 'same', signed, signaturePath, expires: undefined };
  let expires: string | undefined;
  try {
    expires = parseStatement(found).expires;
  } catch {
    expires = undefined;
  }
  return { statement: 'other', signed, signaturePath, expires };
}

/**
 * Looks at what is at an approval's paths and has `write` write the approval's files in view
 * of it, under a lock on the statement's path: the same approver approving the same files twice
 * at once writes the same names, and without turns one run's statement could end up next to
 * the other's signature, or be judged against files the other is replacing.
 */
async function writeApproval(statementPath: string, text: string, write: (before: Before) => Promise<void>): Promise<Before> {
  try {
    return await withFileLock(statementPath, async () => {
      const before = await inspectApproval(statementPath, text);
      await write(before);
      return before;
    });
  } catch (error) {
    if (error instanceof FileLockError) throw new OutputError(`cannot write ${statementPath}: ${error.message}`);
    throw error;
  }
}
