import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, relative, resolve } from 'node:path';
import { countOf, type Finding, firstDirectory, maskNames, type ScanOptions, type ScanResult, type ScanStats, STRUCTURE_RULES, scanAll } from '@pubguard/engine';
import { formatReport, REPORT_FORMATS, type ReportFormat, sarifSizeWarning, summaryLine, useColor, visible } from '@pubguard/report';
import { configuredScan, loadScanConfig, packagePathGlobs, printConfigWarnings, type ScanConfig } from '../config.js';
import { OutputError, outputIdentity, writeFileAtomic } from '../files.js';
import { ignoreGlobs, jobsSetting, parseSize, parseStrict } from '../args.js';
import { ALL_LIMIT_FLAGS, limitHelp, limitOptions, limitsFromFlags } from '../limit-flags.js';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';
import { parseShard, shardInputs, shardSelector } from '../shard.js';
import { ReadScope } from '../read-scope.js';
import { DEFAULT_BASELINE_PATH } from './baseline.js';
import { ownFilesPublished, ownFilesWarning, publishedFiles } from '../published.js';
import { VERSION } from '../version.js';

const HELP = `Usage: pubguard scan [options] <path...>

Scans the exact artifacts you are about to publish for credentials. A path is a directory,
a file or an archive (tar, tgz, zip, whl, jar, egg, gz: recognised by content, not by
extension; archives inside archives are opened too), or - for standard input.

A file reached by several paths is scanned once, under the innermost: \`scan . dist\` scans
dist/ as \`scan dist\` does and the rest of . without it, however dist is spelled (./dist/,
in full, through a symbolic link). A path given is scanned even where an --ignore glob would
skip it below another.

With --npm-files each path is the directory of an npm package, and only the files \`npm pack\`
would put in its tarball are scanned (listed by \`npm pack --dry-run --json --ignore-scripts\`
from PATH), each reported as a scan of the directory reports it: a local .env, tests or
coverage/ left out by package.json "files" or .npmignore no longer stop a publish. With one
package inside another (\`--npm-files . packages/a\`), a file both lists hold is scanned once,
for the inner package; one only the outer list holds is scanned for the outer package. A
warning names pubguard's own files in a list (.pubguard/, pubguard.config.json, the baseline
in use): leave them out of the package with .npmignore or "files". Every
listed file is scanned, --ignore and the config's ignore notwithstanding (bundled
dependencies in node_modules/ ship too); one that is not there is an error. In
prepublishOnly (as \`pubguard init\` sets it up) this runs before npm's prepack and prepare
scripts, so files they build are not there yet: for the strongest check scan the tarball
itself, \`npm pack && pubguard scan ./*.tgz\`, or publish with \`pubguard publish npm\`.

Output:
  -f, --format FMT         text (default), json, sarif, junit or github; repeat it together
                           with --output to write several reports in one run
  -o, --output FILE        write the report to FILE (atomically) instead of stdout; pairs
                           with the --format before it (a .sarif, .json or .xml FILE must get
                           sarif, json or junit); - is stdout (a file named - is ./-); two
                           reports cannot go to one file; a file replaced keeps its permissions;
                           a link is followed, /dev/stdout, /dev/null or a FIFO written into;
                           a socket's path is refused (a socket as stdout is written to);
                           one that cannot be written is reported after the others are
                           written and the summary printed, then exit 2
      --show-secrets       print secrets in full (default: a short prefix and suffix only),
                           also where a file or entry name holds one (paths show it
                           shortened otherwise); report files are then readable by their
                           owner only
  -q, --quiet              no progress line and no summary on stderr
  -v, --verbose            more detail in the text report; with a baseline, a note on stderr
                           names its entries for the paths scanned that matched no finding,
                           and counts those for other paths (not with --shard)
      --no-color           no colours even on a terminal (NO_COLOR and FORCE_COLOR work too)

Scanning:
  -c, --config FILE        settings file (default: the nearest pubguard.config.json in this
                           directory or above; options given here win over it)
  -j, --jobs N             worker threads for large scans (default: CPUs - 1, at least 1;
                           the main thread helps when they are busy; 0 = none, except one
                           for the config's rules.custom, which run only where a rule that
                           runs away can be stopped, after 30 s (-v says so);
                           at most 4 per CPU, at least 4: more is cut down, with a warning)
      --ignore GLOB        skip paths matching GLOB below a scanned directory (repeatable)
      --npm-files          each path is an npm package directory: scan only the files npm
                           would publish from it (see above; npm must be on PATH)
      --baseline FILE      leave out findings whose fingerprints are in FILE (a JSON report
                           or a baseline written by \`pubguard baseline create\`)
      --chunk-size SIZE    bytes per chunk of large files, 64KiB to 64MiB (default 1MiB;
                           results never depend on it; chunks are matched with ~32 KiB of
                           the next and previous ones, so smaller ones cost far more)
      --shard I/N          scan only the I-th of N stable parts of the inputs (directories
                           are split by file), for CI matrices; merge the JSON reports with
                           \`pubguard report merge\`, which refuses them unless all N are
                           there (the JSON report records the shard)

Limits (a crossed limit is reported as an error and the scan goes on):
${limitHelp(ALL_LIMIT_FLAGS)}
  SIZE takes a number of bytes or a suffix: 64KiB, 10MB, 2GiB.

Exit codes: 0 nothing found, 1 findings, 2 usage error or something could not be read or
written; after a signal that stopped it, 2, or 128 + the signal's number (130 for Ctrl-C).

Examples:
  pubguard scan dist/
  pubguard scan dist/*.whl dist/*.tar.gz --format sarif --output pubguard.sarif
  npm pack && pubguard scan ./*.tgz
  pubguard scan --npm-files .
  cat pkg.tgz | pubguard scan -
`;

/** One requested report: a format and where it goes (undefined: stdout). */
interface ReportTarget {
  format: ReportFormat;
  output: string | undefined;
}

/**
 * Pairs each --format with the --output that follows it, in command-line order. `-o -` is
 * standard output, as `-` is standard input among the paths.
 */
function reportTargets(tokens: ReadonlyArray<{ kind: string; name?: string; value?: string }>, fallback: ReportFormat = 'text'): ReportTarget[] {
  const targets: Array<ReportTarget & { paired: boolean }> = [];
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'format') {
      const format = token.value as ReportFormat;
      if (!REPORT_FORMATS.includes(format)) throw new UsageError(`unknown format '${token.value}'; use one of ${REPORT_FORMATS.join(', ')}`);
      targets.push({ format, output: undefined, paired: false });
    } else if (token.name === 'output') {
      // Found out before the scan rather than once it is done, when the report has nowhere to go.
      if (token.value === undefined || token.value === '') throw new UsageError('--output takes a file name, or - for standard output; got an empty one');
      const output = token.value === '-' ? undefined : token.value;
      const last = targets[targets.length - 1];
      if (last && !last.paired) Object.assign(last, { output, paired: true });
      else targets.push({ format: fallback, output, paired: true });
    }
  }
  if (targets.length === 0) targets.push({ format: fallback, output: undefined, paired: false });
  const toStdout = targets.filter((t) => t.output === undefined);
  if (toStdout.length > 1) throw new UsageError('only one report can go to stdout: give the others an --output FILE');
  for (const { format, output } of targets) {
    // `-o out.sarif -f sarif` pairs the file with the format before it: caught here rather
    // than by the upload that reads the file.
    const named = output === undefined ? undefined : FORMAT_OF_EXTENSION[extname(output).toLowerCase()];
    if (named !== undefined && named !== format) {
      throw new UsageError(`${output} would get the ${format} report: put --format ${named} before --output ${output}`);
    }
  }
  return targets.map(({ format, output }) => ({ format, output }));
}

/**
 * Refuses two outputs that reach one file (`-o r1` and `-o ./r1`, a link and its target): the
 * second report would replace the first, which would be lost without a word.
 */
async function checkDistinctOutputs(targets: readonly ReportTarget[], cwd: string): Promise<void> {
  const seen = new Map<string, string>();
  for (const { output } of targets) {
    if (output === undefined) continue;
    const identity = await outputIdentity(resolve(cwd, output));
    if (identity === undefined) continue;
    const first = seen.get(identity);
    if (first !== undefined) throw new UsageError(`--output ${first} and --output ${output} are the same file: give each report a file of its own`);
    seen.set(identity, output);
  }
}

/** The fewest bytes --chunk-size takes: no fewer than the context a chunk is matched with on each side (`chunkOverlap()`). */
export const MIN_CHUNK_SIZE = 64 * 1024;
/** The most bytes --chunk-size takes: each thread holds a few chunks, and a buffer holds at most 4 GiB. */
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;

/** The --chunk-size value, refused outside MIN_CHUNK_SIZE..MAX_CHUNK_SIZE. */
function chunkSizeSetting(text: string): number {
  const size = parseSize(text, '--chunk-size');
  if (size < MIN_CHUNK_SIZE || size > MAX_CHUNK_SIZE) {
    throw new UsageError(`--chunk-size takes 64KiB to 64MiB (${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes); got '${text}'`);
  }
  return size;
}

/** File name extensions that can only mean one report format. */
const FORMAT_OF_EXTENSION: Readonly<Record<string, ReportFormat>> = { '.sarif': 'sarif', '.json': 'json', '.xml': 'junit' };

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/**
 * The progress line for the terminal, at most 100 characters. The current path is an archive
 * member's name as much as a file's, so control characters in it are shown escaped rather
 * than sent to the terminal.
 */
export function progressLine(s: ScanStats, current: string): string {
  const rate = s.durationMs > 0 ? (s.bytes / 1e6 / (s.durationMs / 1000)).toFixed(0) : '0';
  const line = `scanning ${countOf(s.artifacts, 'artifact', 'artifacts')}, ${countOf(s.files, 'file', 'files')}, ${formatBytes(s.bytes)} (${rate} MB/s) ${visible(current)}`;
  const width = 100;
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** Runs a scan, drawing a progress line on stderr when asked, and returns what the reports need. */
async function collect(paths: string[], options: ScanOptions, io: CliIO, progress: boolean): Promise<ScanResult> {
  let shown = false;
  const draw = ({ stats, current }: { stats: ScanStats; current: string }) => {
    io.stderr.write(`\r\x1b[2K${progressLine(stats, current)}`);
    shown = true;
  };
  const result = await scanAll(
    paths,
    { ...options, progressIntervalMs: 200, collectFreshBuffers: true, ...(io.onWorkerStart ? { onWorkerStart: io.onWorkerStart } : {}) },
    progress ? draw : undefined,
  );
  if (shown) io.stderr.write('\r\x1b[2K');
  return result;
}

async function runScan(argv: string[], io: CliIO): Promise<CliResult> {
  const parsed = parseStrict({
      args: argv,
      allowPositionals: true,
      strict: true,
      tokens: true,
      options: {
        format: { type: 'string', short: 'f', multiple: true },
        output: { type: 'string', short: 'o', multiple: true },
        'show-secrets': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean', short: 'v' },
        'no-color': { type: 'boolean' },
        jobs: { type: 'string', short: 'j' },
        ignore: { type: 'string', multiple: true },
        'npm-files': { type: 'boolean' },
        baseline: { type: 'string' },
        config: { type: 'string', short: 'c' },
        shard: { type: 'string' },
        'chunk-size': { type: 'string' },
        ...limitOptions(ALL_LIMIT_FLAGS),
      },
    });
  const { values, positionals, tokens } = parsed;
  if (positionals.length === 0) throw new UsageError('give at least one path to scan: a directory, an artifact, or - for standard input');
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be scanned only once');
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  if (shard && positionals.includes('-')) throw new UsageError('--shard cannot split standard input (-)');
  const npmFiles = values['npm-files'] === true;
  const quiet = values.quiet === true;
  const config = await loadScanConfig(io.cwd, values.config === undefined ? undefined : resolve(io.cwd, values.config));
  printConfigWarnings(config, io);
  const targets = reportTargets(tokens ?? [], config.format);
  await checkDistinctOutputs(targets, io.cwd);

  // Command-line values win over the config file's.
  const limits = limitsFromFlags(values, ALL_LIMIT_FLAGS);

  const jobs = jobsSetting(values.jobs, config, io);
  if (jobs === 0 && values.verbose === true && !quiet && (config.loaded?.config.rules?.custom?.length ?? 0) > 0) {
    io.stderr.write(`pubguard scan: note: jobs 0 still starts one worker thread, for the custom rules of ${visible(config.loaded?.path ?? 'the config')}: a rule that runs away there is stopped after 30 s, which no thread can do to itself\n`);
  }
  const chunkSize = values['chunk-size'] === undefined ? undefined : chunkSizeSetting(values['chunk-size']);
  const { options: configured, baselinePath } = await configuredScan(config, io.cwd, {
    limits,
    ignore: ignoreGlobs(values.ignore),
    ...(jobs === undefined ? {} : { jobs }),
    ...(values.baseline === undefined ? {} : { baseline: values.baseline }),
  });
  const ruleset = configured.ruleset;
  const options: ScanOptions = { ...configured, stdin: io.stdin, showSecrets: values['show-secrets'] === true, signal: io.signal };
  if (chunkSize !== undefined) options.chunkSize = chunkSize;
  if (shard) options.select = shardSelector(shard);
  if (npmFiles) {
    options.onlyFiles = await publishedFiles(positionals, io);
    const own = ownFilesPublished(options.onlyFiles, io.cwd, [baselinePath, config.loaded?.path]);
    if (!quiet && own.length > 0) io.stderr.write(maskNames(ownFilesWarning('scan', own), ruleset));
  }

  const progress = !quiet && io.stderr.isTTY === true;
  // A shard sees part of the inputs: an entry it did not match may match in another.
  const matched = values.verbose === true && !quiet && !shard && baselinePath !== undefined ? new Set<string>() : undefined;
  if (matched) options.onBaselined = (print) => matched.add(print);
  // The engine scans a file named twice (`scan . dist`, `scan dist ./dist/`) once.
  const result = await collect(positionals, options, io, progress);
  // What this command prints of paths itself is shortened as the scan shortens its own paths.
  const { mask } = result;

  const input = {
    tool: { name: 'pubguard', version: VERSION },
    // Recorded so that `report merge` can tell when a shard is missing or from another scan.
    ...(shard ? { shard: { ...shard, inputs: shardInputs({ paths: positionals, ignore: configured.ignore, npmFiles }) } } : {}),
    findings: result.findings,
    errors: result.errors,
    stats: result.stats,
    rules: [...ruleset.rules, ...STRUCTURE_RULES],
  };
  const tooLarge = targets.some((t) => t.format === 'sarif') ? sarifSizeWarning(result.findings.length) : undefined;
  if (tooLarge !== undefined) io.stderr.write(`warning: ${tooLarge}\n`);
  // One output that cannot be written must not cost the others, nor the summary, the result
  // of a scan that may have run for minutes: each failure is reported once all are tried.
  const failedOutputs: string[] = [];
  for (const target of targets) {
    const color = target.output === undefined && values['no-color'] !== true && useColor(io.env, io.stdout.isTTY === true);
    // srcRoot: an absolute path below the working directory (`scan "$PWD/dist"`) still gets a
    // repository-relative SARIF URI that code scanning can map to a file, also where a token in
    // the working directory's name is shortened in that path.
    const text = formatReport(target.format, input, { color, verbose: values.verbose === true, srcRoot: io.cwd, maskedSrcRoot: mask(io.cwd) });
    if (target.output === undefined) io.stdout.write(text);
    else {
      try {
        await writeFileAtomic(resolve(io.cwd, target.output), text, { secret: values['show-secrets'] === true });
      } catch (error) {
        if (!(error instanceof OutputError)) throw error;
        failedOutputs.push(mask(error.message));
      }
    }
  }
  // The text report on stdout already ends with the summary; elsewhere say it on stderr.
  const textOnStdout = targets.some((t) => t.format === 'text' && t.output === undefined);
  if (!quiet && !textOnStdout) io.stderr.write(`${summaryLine(result.stats, result.findings.length, result.errors.length)}\n`);
  if (!quiet) noteAllowlistInFoundArchives(io, result.findings, positionals, config, mask);
  if (matched && baselinePath !== undefined && configured.baseline) {
    // Where `baseline create` may have run: where its default file is, here, at the config, or
    // where it wrote the file.
    const folder = dirname(baselinePath);
    const anchors = [...new Set([basename(folder) === '.pubguard' ? dirname(folder) : undefined, io.cwd, config.loaded?.dir, folder].filter((d) => d !== undefined))];
    await noteStaleEntries(io, baselinePath, configured.baseline, matched, new ReadScope(positionals, io.cwd), anchors, mask);
  }
  if (failedOutputs.length > 0) {
    for (const message of failedOutputs) io.stderr.write(`pubguard scan: ${message}\n`);
    return { exitCode: 2 };
  }

  if (result.findings.length > 0) {
    if (!quiet && baselinePath === undefined) await noteUnusedBaseline(io);
    return { exitCode: 1 };
  }
  return { exitCode: result.errors.length > 0 ? 2 : 0 };
}

/**
 * Says so when `baseline create` has written its default file but this scan read no baseline:
 * a scan uses one only when it is named, and findings it reports may be ones already accepted.
 */
async function noteUnusedBaseline(io: CliIO): Promise<void> {
  const there = await stat(resolve(io.cwd, DEFAULT_BASELINE_PATH)).then((s) => s.isFile(), () => false);
  if (there) io.stderr.write(`pubguard scan: note: ${DEFAULT_BASELINE_PATH} was not used; to leave out the findings it records, pass --baseline ${DEFAULT_BASELINE_PATH} or name it in pubguard.config.json ("baseline")\n`);
}

/**
 * Says which allowlist path glob to write when one matched a reported finding's path below its
 * archive's top directory (`fixtures/**` and `package/fixtures/key.pem`) but did not apply, the
 * archive being found in a scanned directory (`dist/pkg-1.0.0.tgz` of `scan .`) rather than
 * named: by design such an archive may be another package this one ships, whose `fixtures/`
 * the glob does not mean, so its entries are matched by their whole entry path only. `mask`
 * shortens the secrets the scan shortens in paths, which a glob or the config's path may hold.
 */
function noteAllowlistInFoundArchives(io: CliIO, findings: readonly Finding[], inputs: readonly string[], config: ScanConfig, mask: (text: string) => string): void {
  const globsFor = packagePathGlobs(config.loaded?.config.allowlist);
  if (globsFor === undefined) return;
  const missed = new Map<string, { glob: string; key: string; top: string; first: Finding; count: number }>();
  for (const finding of findings) {
    const { artifact, entry } = finding.location;
    // A named archive's members were matched below its top directory already, as the engine does.
    if (entry.length !== 1 || inputs.includes(artifact)) continue;
    const split = firstDirectory(entry[0] ?? '');
    if (split === undefined) continue;
    for (const { glob, key } of globsFor(finding, split.below)) {
      const id = JSON.stringify([glob, key, split.top]);
      const seen = missed.get(id);
      if (seen) seen.count++;
      else missed.set(id, { glob, key, top: split.top, first: finding, count: 1 });
    }
  }
  const file = config.loaded === undefined ? 'the config' : relative(io.cwd, config.loaded.path) || config.loaded.path;
  for (const { glob, key, top, first, count } of missed.values()) {
    const what = count === 1 ? first.path : `${count} findings in archives found in a scanned directory, such as ${first.path}`;
    io.stderr.write(
      visible(
        mask(`pubguard scan: note: allowlist path "${glob}" (${key} in ${file}) did not leave out ${what}: in an archive found in a scanned directory, which may be another package this one ships, an allowlist path is matched against the whole entry path (${first.location.entry[0] ?? ''}), not the path below the archive's top directory; to allow it there too, add "${top}/${glob}" to ${key}, or write "**/${glob}" instead`),
      ) + '\n',
    );
  }
}

/**
 * Names the baseline's entries for what this scan read (by the paths the baseline file
 * records) that no finding matched (a rotated key, a file removed or changed): candidates to
 * drop by making the baseline again. Fingerprints only, with the rule and path recorded for
 * them. Entries recorded only at paths the scan did not read, as a baseline shared by several
 * packages holds for the others, are counted, not named: this scan cannot tell if they are stale.
 * `mask` shortens the secrets the scan shortens in paths, in the baseline's path as in its entries'.
 */
async function noteStaleEntries(io: CliIO, path: string, baseline: ReadonlySet<string>, matched: ReadonlySet<string>, scope: ReadScope, anchors: readonly string[], mask: (text: string) => string): Promise<void> {
  const unmatched = [...baseline].filter((print) => !matched.has(print)).sort();
  if (unmatched.length === 0) return;
  const recorded = new Map<string, { ruleId: string; path: string }[]>();
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as { findings?: unknown };
    if (Array.isArray(data.findings)) {
      for (const f of data.findings as { ruleId?: unknown; path?: unknown; fingerprint?: unknown }[]) {
        if (typeof f?.fingerprint !== 'string' || typeof f.ruleId !== 'string' || typeof f.path !== 'string') continue;
        const places = recorded.get(f.fingerprint) ?? [];
        places.push({ ruleId: f.ruleId, path: f.path });
        recorded.set(f.fingerprint, places);
      }
    }
  } catch {
    // Read once already to load it; the note then names fingerprints only.
  }
  const matchedPaths = [...matched].map((print) => (recorded.get(print) ?? []).map((p) => p.path));
  const anchor = scope.anchorOf(anchors, matchedPaths, existsSync);
  const stale: string[] = [];
  let elsewhere = 0;
  for (const print of unmatched) {
    const places = recorded.get(print);
    // Where the baseline says nothing of an entry's place, it may be this scan's.
    const here = places === undefined ? undefined : places.find((p) => scope.holds(p.path, anchor));
    if (places !== undefined && here === undefined) {
      elsewhere++;
      continue;
    }
    // A baseline written before names were shortened in it may hold a token in a path.
    stale.push(`  ${print}${here === undefined ? '' : ` (${visible(`${here.ruleId} in ${mask(maskNames(here.path))}`)})`}`);
  }
  const shown = visible(mask(relative(io.cwd, path) || path));
  const entries = (n: number) => (n === 1 ? '1 entry' : `${n} entries`);
  if (stale.length > 0) {
    io.stderr.write(
      `pubguard scan: note: ${entries(stale.length)} of baseline ${shown} for what this scan read matched no finding (a rotated key, a changed or removed file): make the baseline again from all the inputs it was made from to drop ${stale.length === 1 ? 'it' : 'them'}:\n${stale.join('\n')}\n`,
    );
  }
  if (elsewhere > 0) {
    // Making the baseline again from this scan's inputs alone would drop these.
    const count = stale.length > 0 ? entries(elsewhere).replace(' ', ' more ') : entries(elsewhere);
    io.stderr.write(`pubguard scan: note: ${count} of baseline ${shown} ${elsewhere === 1 ? 'is' : 'are'} for artifacts not scanned (by the paths the baseline records), and not checked\n`);
  }
}

/** `pubguard scan`: the main job. */
export const scanCommand: Command = {
  name: 'scan',
  help: HELP,
  run: runScan,
};
