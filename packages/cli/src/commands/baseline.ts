import { stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { countOf, DEFAULT_LIMITS, type Finding, type ScanError, type ScanLimits, type ScanOptions, scanAll } from '@pubguard/engine';
import { configuredScan, loadScanConfig, printConfigWarnings, type ScanConfig } from '../config.js';
import { ignoreGlobs, jobsSetting, parseStrict } from '../args.js';
import { FINDINGS_LIMIT_FLAGS, limitHelp, limitOfFlag, limitOptions, limitsFromFlags } from '../limit-flags.js';
import { visible } from '@pubguard/report';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';
import { writeFileAtomic } from '../files.js';
import { ownFilesPublished, ownFilesWarning, publishedFiles, publishedSince } from '../published.js';

/** Where `baseline create` writes when no --output is given. */
export const DEFAULT_BASELINE_PATH = '.pubguard/baseline.json';

const HELP = `Usage: pubguard baseline create [options] <path...>

Scans the given artifacts or directories and records the fingerprints of everything found,
so \`pubguard scan --baseline FILE\` (or "baseline" in pubguard.config.json) leaves those known
findings out and reports only new ones. A fingerprint is the rule and the secret, not the
file name or version: the same secret in the next release (pkg-1.0.1.tgz) stays suppressed.
A file reported by its name (.env, .netrc, id_rsa) is fingerprinted by its path below the
package's top directory (package/ in an npm tarball, name-version/ in an sdist) and the
sha256 of its bytes: a baseline of the package directory applies to its tarball, and one of
acme-1.0.0.tar.gz to acme-1.0.1.tar.gz, while the file is reported again once what it holds
changes. A directory reported as a whole (.git) is fingerprinted by its path alone.
No secret is written to the baseline, but a fingerprint is an unsalted sha256 of the secret:
a weak one (a password) can be guessed back from it. Fix passwords rather than baseline
them, or keep the baseline out of public repositories: a warning names the rules of the
findings recorded that are passwords or other secrets under 16 characters, and the
credentials files (.netrc, .pgpass, .env, shell history) whose content digest is as easy to
guess as the password in them.

Options:
  -o, --output FILE   where to write it (default ${DEFAULT_BASELINE_PATH})
  -c, --config FILE   config file (default: pubguard.config.json here or in a parent directory)
      --ignore GLOB   skip paths matching GLOB below a scanned directory (repeatable)
      --npm-files     each path is an npm package directory: record only the files npm
                      would publish from it, as \`pubguard scan --npm-files\` scans them
                      (npm must be on PATH); warns when npm would publish the
                      baseline or another of pubguard's files
  -j, --jobs N        worker threads (default: CPUs - 1, at least 1; 0 = none, except
                      one for the config's rules.custom, where a rule that runs away
                      can be stopped; at most 4 per CPU, at least 4: more is cut down,
                      with a warning)

Limits (as for pubguard scan, over the config's "limits"):
${limitHelp(FINDINGS_LIMIT_FLAGS)}
  A baseline missing findings would have the next scan report them as new: when a
  findings limit leaves some out, nothing is written; raise it and run this again.

Exit codes: 0 written, 2 usage error, or some input could not be read (the baseline is still
written, without what could not be read), or a findings limit left findings out (nothing is
written, an existing baseline stays as it was), or the scan was interrupted (Ctrl-C, SIGTERM
or SIGHUP: nothing is written, an existing baseline stays as it was).

Example:
  npm pack && pubguard baseline create ./*.tgz
  pubguard baseline create --npm-files .   (the files pubguard scan --npm-files . reads)
`;

/** The baseline file, version 1: what `--baseline` reads. */
export interface BaselineFile {
  version: 1;
  /** Distinct fingerprints, sorted. */
  fingerprints: string[];
  /** Where each was seen, for people reviewing the baseline; sorted by path, then rule. */
  findings: { ruleId: string; path: string; fingerprint: string }[];
}

/** Builds the baseline for a set of findings: sorted, without duplicates and without secrets. */
export function baselineOf(findings: readonly Finding[]): BaselineFile {
  const seen = new Map<string, { ruleId: string; path: string; fingerprint: string }>();
  for (const f of findings) {
    const entry = { ruleId: f.ruleId, path: f.path, fingerprint: f.fingerprint };
    seen.set(JSON.stringify([entry.path, entry.ruleId, entry.fingerprint]), entry);
  }
  const list = [...seen.values()].sort((a, b) => cmp(a.path, b.path) || cmp(a.ruleId, b.ruleId) || cmp(a.fingerprint, b.fingerprint));
  return { version: 1, fingerprints: [...new Set(list.map((f) => f.fingerprint))].sort(cmp), findings: list };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}


/**
 * How the baseline just written comes into use: a scan reads no baseline it is not given, so
 * one written to a file the config does not name changes nothing until it is named. A path
 * for the config is relative to the config's folder, which need not be the working directory.
 */
function baselineUse(written: string, shown: string, cwd: string, config: ScanConfig): string {
  if (config.baselinePath === written) return 'scan and publish leave these findings out: the config names this baseline';
  const given = `scan leaves these findings out when given it: pubguard scan --baseline ${shown} …`;
  const loaded = config.loaded;
  if (loaded === undefined) return `${given}, or "baseline": "${shown}" in a pubguard.config.json in ${cwd}, which publish reads too`;
  const named = relative(loaded.dir, written).split(sep).join('/');
  const file = relative(cwd, loaded.path) || loaded.path;
  if (config.baselinePath !== undefined) return `${given}; ${file} names another baseline (${relative(cwd, config.baselinePath)}): set its "baseline" to "${named}" for scan and publish to use this one`;
  return `${given}, or "baseline": "${named}" in ${file}, which publish reads too`;
}

async function runCreate(argv: string[], io: CliIO): Promise<CliResult> {
  const parsed = parseStrict({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: 'string', short: 'o' },
        config: { type: 'string', short: 'c' },
        ignore: { type: 'string', multiple: true },
        jobs: { type: 'string', short: 'j' },
        'npm-files': { type: 'boolean' },
        ...limitOptions(FINDINGS_LIMIT_FLAGS),
      },
    });
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError('give the artifacts or directories to record, e.g. pubguard baseline create dist/');

  // The same rules and settings as `scan`, or the fingerprints would not line up; no baseline,
  // or what it holds would be left out of the new one.
  const fromConfig = await loadScanConfig(io.cwd, values.config);
  printConfigWarnings(fromConfig, io);
  const jobs = jobsSetting(values.jobs, fromConfig, io);
  const limits = limitsFromFlags(values, FINDINGS_LIMIT_FLAGS);
  const { options: configured } = await configuredScan(fromConfig, io.cwd, { limits, ignore: ignoreGlobs(values.ignore), baseline: false, ...(jobs === undefined ? {} : { jobs }) });
  // Secrets in full, to judge which can be guessed from a fingerprint; none is written. Paths
  // are written, so a secret in a file's name is shortened there as in any report.
  const options: ScanOptions = { ...configured, stdin: io.stdin, signal: io.signal, showSecrets: true, showNames: false };
  const output = values.output ?? DEFAULT_BASELINE_PATH;
  const written = resolve(io.cwd, output);
  // A file npm would publish is in its list only once it is there.
  const existed = await stat(written).then(() => true, () => false);
  if (values['npm-files'] === true) options.onlyFiles = await publishedFiles(positionals, io);

  const result = await scanAll(positionals, { ...options, collectFreshBuffers: true });
  // The paths named here (the output's, the working directory's) may hold a secret the scan
  // found, which it shortens in the paths it reports: shortened here alike.
  const shown = result.mask;
  // A baseline is committed state that later scans and publish trust: the findings of a scan
  // cut short would replace it with part of itself and bring the rest back as new.
  if (io.signal?.aborted || result.errors.some((e) => e.kind === 'interrupted')) {
    io.stderr.write(shown(`pubguard baseline create: interrupted before the scan finished: ${output} was not written${existed ? ' and is unchanged' : ''}\n`));
    return { exitCode: 2 };
  }
  // Past a findings limit the scan counted findings it did not keep: a baseline without them
  // would have the next scan report them as new, so it is not written, and one there stays.
  const cut = result.errors.filter((e) => e.kind === 'limit' && FINDINGS_LIMIT_FLAGS.some((flag) => limitOfFlag(flag) === e.limit));
  if (cut.length > 0) {
    for (const error of result.errors) io.stderr.write(`pubguard baseline create: ${error.path}: ${error.message}\n`);
    io.stderr.write(shown(`pubguard baseline create: ${findingsCut(cut, configured.limits, output, existed)}\n`));
    return { exitCode: 2 };
  }
  const findings = result.findings;
  const baseline = baselineOf(findings);

  await writeFileAtomic(written, `${JSON.stringify(baseline, null, 2)}\n`);
  const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  io.stdout.write(shown(`wrote ${output}: ${count(baseline.fingerprints.length, 'fingerprint')} (${count(baseline.findings.length, 'finding')} in ${count(result.stats.artifacts, 'artifact')})\n`));
  io.stdout.write(`${shown(baselineUse(written, output, io.cwd, fromConfig))}\n`);
  if (options.onlyFiles) {
    const own = ownFilesPublished(options.onlyFiles, io.cwd, [written, fromConfig.loaded?.path, fromConfig.baselinePath]);
    const since = existed ? undefined : await publishedSince(options.onlyFiles, written, io);
    if (since !== undefined) own.push(since);
    if (own.length > 0) io.stderr.write(shown(ownFilesWarning('baseline create', [...new Set(own)].sort())));
  }
  const weak = guessable(findings);
  if (weak.length > 0) {
    const rules = [...new Set(weak.map((f) => f.ruleId))].sort().join(', ');
    io.stderr.write(
      `pubguard baseline create: warning: ${weak.length === 1 ? '1 finding recorded is a password or another short secret' : `${weak.length} findings recorded are passwords or other short secrets`} (${rules}): a fingerprint is an unsalted sha256, so ${weak.length === 1 ? 'it' : 'they'} can be guessed back from the baseline. Fix ${weak.length === 1 ? 'it' : 'them'} rather than baseline ${weak.length === 1 ? 'it' : 'them'}, or keep the baseline private\n`,
    );
  }
  const files = guessableFiles(findings);
  if (files.length > 0) {
    const paths = [...new Set(files.map((f) => f.path))].sort();
    io.stderr.write(
      `pubguard baseline create: warning: the fingerprint of a credentials file reported by its name holds the sha256 of its bytes, and a short one (.netrc, .pgpass, .env) can be guessed back from it, password and all, by trying passwords in its few lines: ${paths.map((p) => visible(p)).join(', ')}. Take such files out of the package rather than baseline them, or keep the baseline private\n`,
    );
  }
  for (const error of result.errors) io.stderr.write(`pubguard baseline create: ${error.path}: ${error.message}\n`);
  if (result.errors.length > 0) {
    io.stderr.write(`pubguard baseline create: ${countOf(result.errors.length, 'input', 'inputs')} could not be read fully; the baseline leaves ${result.errors.length === 1 ? 'it' : 'them'} out\n`);
    return { exitCode: 2 };
  }
  return { exitCode: 0 };
}

/**
 * Why no baseline was written after the findings limits of `cut` left findings out, and how to
 * get one: each limit crossed, with the value it had and the flag and config key that raise it.
 */
function findingsCut(cut: readonly ScanError[], limits: Partial<ScanLimits>, output: string, existed: boolean): string {
  const crossed = new Set(cut.map((e) => e.limit));
  const raise = FINDINGS_LIMIT_FLAGS.map((flag) => ({ flag, limit: limitOfFlag(flag) }))
    .filter(({ limit }) => crossed.has(limit))
    .map(({ flag, limit }) => `--${flag} (now ${limits[limit] ?? DEFAULT_LIMITS[limit]}) or limits.${limit} in the config`);
  const inputs = new Set(cut.map((e) => e.path)).size;
  return `${inputs === 1 ? '1 input has' : `${inputs} inputs have`} more findings than the limit keeps, and a baseline without the rest would have the next scan report them as new: ${output} was not written${existed ? ' and is unchanged' : ''}. Raise ${raise.join(', and ')}, and run it again`;
}

// Rules whose secrets people choose (passwords, in assignments, URLs, connection strings and
// settings files), or may: a dictionary finds those from their fingerprints.
const CHOSEN = /password|passwd|connection-string|docker-config-auth|generic-secret-assignment/;

/**
 * The findings whose secret a dictionary could recover from its fingerprint: those of rules
 * for chosen passwords, and any secret under 16 characters. Random tokens of 16 characters
 * and more are out of reach.
 */
function guessable(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.secret !== '' && (CHOSEN.test(f.ruleId) || f.secret.length < 16));
}

// Files reported by their name whose few lines hold a password people choose, next to a host
// and a login anyone can guess: their content digest is as guessable as the password.
const CHOSEN_FILES = new Set(['dotenv-file', 'netrc-file', 'pgpass-file', 'git-credentials-file', 'shell-history-file', 'htpasswd-file']);

/** The findings on credentials files (see CHOSEN_FILES) that the baseline records. */
function guessableFiles(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => CHOSEN_FILES.has(f.ruleId));
}

/** `pubguard baseline create`: records current findings so later scans report only new ones. */
export const baselineCreateCommand: Command = {
  name: 'baseline create',
  help: HELP,
  run: runCreate,
};
