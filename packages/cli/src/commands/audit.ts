import { resolve } from 'node:path';
import { type AuditEntry, AuditError, AuditLog, type AuditRecord, secretsFromEnv, UploadTracker, uploadRegistry } from '@pubguard/release';
import { visible } from '@pubguard/report';
import { parseCommandArgs } from '../args.js';
import { type CliIO, type CliResult, type Command, InterruptedError, UsageError } from '../io.js';

/** Where gates record their outcome unless `--audit` says otherwise. */
export const DEFAULT_AUDIT_PATH = '.pubguard/audit.jsonl';

/** Options every release gate takes. */
export const GATE_OPTIONS = {
  format: { type: 'string', short: 'f' },
  audit: { type: 'string' },
  'no-audit': { type: 'boolean' },
  actor: { type: 'string' },
} as const;

/** The help lines of the options every gate takes, their descriptions starting at `column` as the command's own do. */
export function gateHelp(column: number): string {
  const pad = (option: string): string => option.padEnd(column);
  return [
    `${pad('  -f, --format FMT')}text (default) or json`,
    `${pad('      --audit FILE')}append the outcome to this audit log`,
    `${' '.repeat(column)}(default ${DEFAULT_AUDIT_PATH})`,
    `${pad('      --no-audit')}do not write an audit record`,
    `${pad('      --actor NAME')}who runs the gate (default: $GITHUB_ACTOR, else $USER)`,
  ].join('\n');
}

/** `text` or `json` from `--format`. */
export function outputFormat(value: string | undefined): 'text' | 'json' {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new UsageError(`--format takes text or json, not '${value}'`);
}

/** Who is running a gate, for the audit record. */
export function actorOf(io: CliIO, actor: string | undefined): string {
  // An empty variable (GITHUB_ACTOR= in a container, a CI that blanks it) names nobody: a
  // record by "" would read as if someone had been named.
  return actor || io.env.GITHUB_ACTOR || io.env.USER || io.env.USERNAME || 'unknown';
}

/**
 * Who started the release: `--initiator`, else the users CI names as having started the run,
 * so a policy's "the initiator may not approve" holds without being asked for. In GitHub
 * Actions that is `GITHUB_ACTOR` (who started the first run) and, when someone else re-ran it,
 * `GITHUB_TRIGGERING_ACTOR` too; in GitLab CI, `GITLAB_USER_LOGIN`. Undefined when none is
 * known. `from` names the variables defaults came from.
 */
export function initiatorOf(io: CliIO, given: string | undefined): { names: string[]; from?: string } | undefined {
  if (given !== undefined) return { names: [given] };
  const env = io.env;
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_ACTOR) {
    const rerun = env.GITHUB_TRIGGERING_ACTOR;
    if (rerun && rerun.toLowerCase() !== env.GITHUB_ACTOR.toLowerCase()) return { names: [env.GITHUB_ACTOR, rerun], from: 'GITHUB_ACTOR and GITHUB_TRIGGERING_ACTOR' };
    return { names: [env.GITHUB_ACTOR], from: 'GITHUB_ACTOR' };
  }
  if (env.GITLAB_CI === 'true' && env.GITLAB_USER_LOGIN) return { names: [env.GITLAB_USER_LOGIN], from: 'GITLAB_USER_LOGIN' };
  return undefined;
}

/** Appends a gate's outcome to the audit log chosen by `--audit`/`--no-audit`; returns undefined when disabled. */
export async function recordGate(
  io: CliIO,
  values: { audit?: string | undefined; 'no-audit'?: boolean | undefined },
  entry: AuditEntry,
): Promise<AuditRecord | undefined> {
  if (values['no-audit']) return undefined;
  const log = new AuditLog(resolve(io.cwd, values.audit ?? DEFAULT_AUDIT_PATH), secretsFromEnv(io.env));
  return log.append(entry);
}

/** Writes a JSON document followed by a newline. */
export function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// How both commands read the log while gates may be appending to it.
const READING = `The log is read as it stood between two appends: the gates' lock (<log>.lock) is
held while the file is opened, waited for as a gate waits (up to 30 s, then exit 2).
Where that lock cannot be made (a directory or file system this user may not write),
the log is read without it, and a last line without its newline is read again after
pauses of about a second in all, in case a gate was still writing it. The log is read
a piece at a time, whatever its size, and never changed. Ctrl-C, SIGTERM or SIGHUP
stops the reading at once, also while it waits for the lock: exit 2, saying so.`;

const VERIFY_HELP = `Usage: pubguard audit verify [FILE] [--head HASH] [--format text|json]

Checks the hash chain of an audit log (default ${DEFAULT_AUDIT_PATH}): every record's
own hash and its link to the record before it. Without --head this proves only that the
log is consistent, not that it is the log that was written: the chain has no key, so
anyone who can write the file can edit, delete or add records and recompute every hash
after them, and a log cut short at the end is a valid chain too. Keep a head somewhere
the next writer of the log cannot change, and pass it back with --head: the log must
still hold that record, unchanged up to it. Such a place: the \`audit head\` publish
prints and its notification's auditHead, a CI job output that a later job compares
(examples/github/publish.yml), a release note. Records after the last head kept can
still be rewritten.

Lines that end in CRLF, as git's core.autocrlf or a Windows editor leaves them, are
reported once, as CONVERTED, and each record is checked with its CR removed: when all
are intact, removing the CRs (sed -i 's/\\r$//' FILE, or dos2unix FILE) makes the log
verify again. The log fails until then (exit 1), as its bytes are not the ones written.

${READING}

Options:
      --head HASH    a head printed by an earlier verify or publish; refuse if it is gone
  -f, --format FMT   text (default) or json

Exit codes: 0 intact, 1 tampered, truncated, damaged or converted, 2 usage error,
unreadable log, its lock held by another process past 30 s, or a signal that stopped it
(nothing is said of the log).
`;

/** `pubguard audit verify`. */
export const auditVerifyCommand: Command = {
  name: 'audit verify',
  help: VERIFY_HELP,
  async run(argv, io): Promise<CliResult> {
    const { values, positionals } = parseCommandArgs(argv, { head: { type: 'string' }, format: { type: 'string', short: 'f' } });
    const format = outputFormat(values.format);
    if (positionals.length > 1) throw new UsageError('give at most one audit log file');
    if (values.head !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.head)) throw new UsageError('--head takes a 64-digit hex SHA-256');
    const path = resolve(io.cwd, positionals[0] ?? DEFAULT_AUDIT_PATH);
    let result;
    try {
      result = await new AuditLog(path).verify({ ...(values.head === undefined ? {} : { head: values.head }), ...(io.signal ? { signal: io.signal } : {}) });
    } catch (error) {
      throw interruptedRead(io, error, path, 'it was not verified');
    }
    if (format === 'json') writeJson(io, { version: 1, file: path, ...result });
    else {
      for (const p of result.problems) io.stdout.write(`${p.line ? `line ${p.line}: ` : ''}${p.message}\n`);
      const records = `${result.records} record${result.records === 1 ? '' : 's'}`;
      const file = positionals[0] ?? DEFAULT_AUDIT_PATH;
      io.stdout.write(
        result.ok
          ? `audit log intact: ${records}, head ${result.head}\n`
          : result.problems.every((p) => p.cut === 'record')
            ? `audit log DAMAGED: its last line is cut off, and the ${records} before it are intact; keep a copy, remove that line, and verify again\n`
            : result.problems.every((p) => p.cut === 'newline')
              ? `audit log DAMAGED: its last record lacks its newline, and all ${records} are intact; add the newline (echo >> FILE) and verify again\n`
              : result.problems.every((p) => p.crlf === 'converted')
                ? `audit log CONVERTED: its line ends were changed to CRLF, and all ${records} are intact once the CRs are removed; remove them (sed -i 's/\\r$//' ${file}, or dos2unix ${file}) and verify again\n`
                : result.problems.every((p) => p.crlf !== undefined)
                  ? `audit log CONVERTED: its line ends were changed to CRLF, and records were appended after that, chained to a line with its CR: the ${records} are intact, but no change of line ends makes the chain whole again\n`
                  : `audit log TAMPERED: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${records}\n`,
      );
    }
    return { exitCode: result.ok ? 0 : 1 };
  },
};

const SHOW_HELP = `Usage: pubguard audit show [FILE] [--format text|json]

Prints the records of an audit log (default ${DEFAULT_AUDIT_PATH}), one line each:
sequence, time, stage, outcome, actor, subjects and reason. It does not check the chain:
run \`pubguard audit verify\` for that. A last line without its newline (an append cut off
by a crash) is not shown; the records before it are, followed by a line saying so.
Records whose lines end in CRLF (line ends converted by git's core.autocrlf or a Windows
editor) are shown, followed by a line saying how many and how to remove the CRs.

\`publish\` records publish.upload-start before npm or twine starts and publish.upload when
it ends. A start that no upload record of the same files follows is named at the end: that
upload is still running, or its run was killed during it (SIGKILL, out of memory, a CI job
cancelled hard), and the files may or may not be on the registry: look there before
publishing them again.

${READING}

A reader that leaves (\`audit show | head -1\`, a pager quit) ends the reading: the rest
of the log is not read, nothing is said of the closed pipe, and the exit code is the one
the whole log gives (its lines are all checked for JSON before the first is shown).

Options:
  -f, --format FMT   text (default) or json (the records as an array; "cutLine": N when
                     line N was cut off; "crlfLines": N when N records end in CRLF;
                     "unfinishedUploads": the seq of each start without an upload record)

Exit codes: 0 printed, 1 printed but the last line is cut off or lines end in CRLF (as
audit verify finds them),
2 usage error, unreadable log, its lock held by another process past 30 s, or a signal
that stopped it (what was printed is then not all of it; a JSON document is left unended).
`;

/** `pubguard audit show`. */
export const auditShowCommand: Command = {
  name: 'audit show',
  help: SHOW_HELP,
  async run(argv, io): Promise<CliResult> {
    const { values, positionals } = parseCommandArgs(argv, { format: { type: 'string', short: 'f' } });
    const format = outputFormat(values.format);
    if (positionals.length > 1) throw new UsageError('give at most one audit log file');
    const path = resolve(io.cwd, positionals[0] ?? DEFAULT_AUDIT_PATH);
    const log = new AuditLog(path);
    // One record at a time, so that a log of any size is shown; the output is what writing the
    // document or lines whole would print.
    const out = new BufferedText(io);
    let shown = 0;
    const uploads = new UploadTracker();
    let ending: { records: number; cutLine?: number; crlfLines?: number };
    try {
      ending = await log.forEachComplete(async (r) => {
        uploads.see(r);
        if (format === 'json') {
          // Indented as JSON.stringify indents a member of an array two levels down; split at "\n"
          // alone, since a string may hold U+2028, which JSON leaves as it is.
          const member = `    ${JSON.stringify(r, null, 2).split('\n').join('\n    ')}`;
          await out.write(`${shown === 0 ? '{\n  "version": 1,\n  "records": [\n' : ',\n'}${member}`);
        } else {
          const subjects = r.subjects.map((s) => (s.sha256 ? `${s.name} (sha256 ${s.sha256.slice(0, 12)}…)` : s.name)).join(', ');
          // A record's strings come from actors, file names and registry replies: a line break or a
          // terminal escape in one must not print as a forged record or rewrite the screen.
          await out.write(`${visible(`#${r.seq} ${r.time} ${r.stage} ${r.outcome.toUpperCase()} by ${r.actor}${subjects ? ` — ${subjects}` : ''}`)}\n${r.reason ? `    ${visible(r.reason)}\n` : ''}`);
        }
        shown++;
        // A reader that left (`audit show | head -1`, a pager quit) reads nothing more: the rest
        // of the log is not read for output that would be dropped.
        return io.stdout.closed?.() !== true;
      }, io.signal ? { signal: io.signal } : {});
    } catch (error) {
      throw interruptedRead(io, error, path, shown === 0 ? 'no record was shown' : `the ${shown} record${shown === 1 ? '' : 's'} shown are not all of them`);
    } finally {
      // What was shown before a record that cannot be shown (one without subjects) stays shown.
      await out.flush();
    }
    const { cutLine, crlfLines } = ending;
    // A crash while appending leaves the last line cut off, and a conversion of the line ends
    // leaves CRs: the records still stand, and the log fails verification, so the exit code is
    // the one `audit verify` gives it.
    const exitCode = cutLine === undefined && crlfLines === undefined ? 0 : 1;
    const unfinished = uploads.unfinished();
    if (format === 'json') {
      await out.write(
        `${shown === 0 ? '{\n  "version": 1,\n  "records": []' : '\n  ]'}${cutLine === undefined ? '' : `,\n  "cutLine": ${cutLine}`}${crlfLines === undefined ? '' : `,\n  "crlfLines": ${crlfLines}`}${unfinished.length ? `,\n  "unfinishedUploads": ${JSON.stringify(unfinished.map((r) => r.seq), null, 2).split('\n').join('\n  ')}` : ''}\n}\n`,
      );
    } else {
      if (shown === 0) await out.write('(no records)\n');
      for (const r of unfinished) {
        const where = uploadRegistry(r) ?? 'the registry';
        await out.write(
          `${visible(`#${r.seq} ${r.stage} has no upload record after it: that upload is still running, or its run was killed during it, so the files may or may not be on ${where}; look there before publishing them again`)}\n`,
        );
      }
      if (crlfLines !== undefined) {
        const file = positionals[0] ?? DEFAULT_AUDIT_PATH;
        const which = crlfLines === ending.records ? (crlfLines === 1 ? 'its only record ends' : `all ${crlfLines} records end`) : `${crlfLines} of the ${ending.records} records end`;
        await out.write(
          `${visible(`${which} in CRLF where a record ends in LF: the log's line ends were CONVERTED (git core.autocrlf, a Windows editor?), and it fails \`pubguard audit verify ${file}\` until the CRs are removed (sed -i 's/\\r$//' ${file}, or dos2unix ${file}), which then says whether its records are intact`)}\n`,
        );
      }
      if (cutLine !== undefined) {
        await out.write(`line ${cutLine} is INCOMPLETE: it has no newline at its end (an append cut off?) and is not shown; check the log with \`pubguard audit verify\`\n`);
      }
    }
    await out.flush();
    return { exitCode };
  },
};

/** The error a reading of the log ended with, as an InterruptedError when a signal stopped it (`undone`: what that left undone). */
function interruptedRead(io: CliIO, error: unknown, path: string, undone: string): unknown {
  if (io.signal?.aborted && error instanceof AuditError) return new InterruptedError(`interrupted before ${path} was read to its end: ${undone}`);
  return error;
}

/**
 * Collects output into writes of about 64 KiB (one write per record would be a system call
 * each), and waits for standard output to take each, so that no more than that is held.
 */
class BufferedText {
  private parts: string[] = [];
  private length = 0;

  constructor(private readonly io: CliIO) {}

  /** Adds text, writing what has gathered once it is large enough. */
  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.length += text.length;
    if (this.length >= 65_536) await this.flush();
  }

  /** Writes what has gathered. */
  async flush(): Promise<void> {
    if (this.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.length = 0;
    this.io.stdout.write(text);
    await this.io.stdout.drained?.();
  }
}
