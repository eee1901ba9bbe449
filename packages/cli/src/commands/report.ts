import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { STRUCTURE_RULES, describeFsError, isFullSecret, maskNames } from '@pubguard/engine';
import { formatReport, type JsonReport, mergeReports, parseJsonReport, REPORT_FORMATS, type ReportFormat, type RuleInfo, sarifSizeWarning, useColor } from '@pubguard/report';
import { builtinRuleset } from '@pubguard/rules';
import fg from 'fast-glob';
import { writeFileAtomic } from '../files.js';
import { parseStrict } from '../args.js';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';

const HELP = `Usage: pubguard report merge [options] <report.json...>

Merges the JSON reports of a sharded scan (\`pubguard scan --shard I/N --format json\`) into
one report: findings and errors of every shard (each once), totals summed. Each shard report
records its shard and the scan it is part of: the reports must be every shard of one scan,
each once (a shard missing, given twice, of another N or of a scan of other paths is refused,
exit 2). Reports of scans without --shard merge with each other, not with shard reports.

Options:
  -f, --format FMT    json (default), sarif, junit, github or text
  -o, --output FILE   write the merged report to FILE (atomically) instead of stdout
                      (- is stdout; a file named - is ./-);
                      readable by its owner only (0600) when an input report is not
                      readable by group and others (as scan --show-secrets writes them)
                      or a merged finding shows its secret in full; a file replaced
                      keeps its permissions
      --no-color      no colours in the text format even on a terminal

Exit codes: 0 nothing found, 1 the merged report has findings, 2 an input could not be read
or is not a pubguard JSON report, the shard reports are not every shard of one scan, or the
shards reported errors and no findings.

Example:
  pubguard report merge shard-*.json --format sarif --output pubguard.sarif
`;

/** A report file that cannot be read. */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Expands glob arguments a shell left alone (Windows, or quoted), keeping plain paths as given. */
async function expandArguments(args: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    if (/[*?[\]{}]/.test(arg) && !(await exists(resolve(cwd, arg)))) {
      const matches = await fg(arg.replace(/\\/g, '/'), { cwd, onlyFiles: true, dot: true });
      if (matches.length === 0) throw new ReportInputError(`no report matches ${arg}`);
      out.push(...matches.sort());
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Reads and checks one JSON report; unreadable or malformed files are fatal (exit 2). */
async function readReport(path: string, cwd: string): Promise<JsonReport> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new ReportInputError(`cannot read report ${path}: ${describeFsError(error)}`);
  }
  return parseJsonReport(text, path);
}

/** Rule metadata for SARIF help text: the built-in rules when available, else what findings carry. */
function knownRules(): RuleInfo[] {
  try {
    return [...builtinRuleset().rules, ...STRUCTURE_RULES];
  } catch {
    return [...STRUCTURE_RULES];
  }
}

async function runMerge(argv: string[], io: CliIO): Promise<CliResult> {
  const parsed = parseStrict({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', short: 'f' },
        output: { type: 'string', short: 'o' },
        'no-color': { type: 'boolean' },
      },
    });
  const { values, positionals } = parsed;
  // `-o -` is standard output, as with scan; a file named `-` is `./-`.
  const output = values.output === '-' ? undefined : values.output;
  if (output === '') throw new UsageError('--output needs a file name (or - for standard output)');
  const format = (values.format ?? 'json') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`unknown format '${values.format}'; use one of ${REPORT_FORMATS.join(', ')}`);
  if (positionals.length === 0) throw new UsageError('give the JSON reports to merge, e.g. pubguard report merge shard-*.json');

  // A report named twice (`shard-1.json shard-*.json`) would count its files twice.
  const files = [...new Map((await expandArguments(positionals, io.cwd)).map((f) => [resolve(io.cwd, f), f] as const)).values()];
  const reports: JsonReport[] = [];
  let privateInput = false;
  for (const file of files) {
    reports.push(await readReport(file, io.cwd));
    const mode = await stat(resolve(io.cwd, file)).then((s) => s.mode, () => 0);
    privateInput ||= (mode & 0o044) !== 0o044;
  }
  const tools = [...new Set(reports.map((r) => `${r.tool.name} ${r.tool.version}`))];
  if (tools.length > 1) {
    io.stderr.write(`warning: the reports come from ${tools.join(', ')}; their rules and fingerprints may differ, so a finding may be missing or counted twice\n`);
  }
  // A finding one shard's baseline left out would be reported by a shard scanned without it.
  const withBaseline = reports.filter((r) => r.stats.baselined !== undefined).length;
  if (withBaseline > 0 && withBaseline < reports.length) {
    io.stderr.write(`warning: ${withBaseline} of the ${reports.length} reports ${withBaseline === 1 ? 'was' : 'were'} scanned with a baseline and ${reports.length - withBaseline === 1 ? 'the other' : 'the others'} without: their findings are not judged alike; scan every shard with the same baseline\n`);
  }
  const merged = mergeReports(reports, files);
  const tooLarge = format === 'sarif' ? sarifSizeWarning(merged.findings.length) : undefined;
  if (tooLarge !== undefined) io.stderr.write(`warning: ${tooLarge}\n`);

  const color = output === undefined && values['no-color'] !== true && useColor(io.env, io.stdout.isTTY === true);
  // Shards scanned with --show-secrets show the working directory's path in full, others shorten a token in it.
  const text = formatReport(format, { ...merged, rules: knownRules() }, { color, srcRoot: io.cwd, maskedSrcRoot: maskNames(io.cwd) });
  if (output === undefined) io.stdout.write(text);
  else {
    // The merged report must be no easier to read than the shards it was made of: reports
    // written with --show-secrets are private, and so is any report that holds a secret.
    const secret = privateInput || merged.findings.some((f) => isFullSecret(f.secret));
    await writeFileAtomic(resolve(io.cwd, output), text, { secret });
    const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    // A token in the output's path is shortened, as the shards' reports shorten it in theirs.
    io.stderr.write(`merged ${count(reports.length, 'report')}: ${count(merged.findings.length, 'finding')}, ${count(merged.errors.length, 'error')} -> ${maskNames(output)}\n`);
  }
  if (merged.findings.length > 0) return { exitCode: 1 };
  return { exitCode: merged.errors.length > 0 ? 2 : 0 };
}

/** `pubguard report merge`: one report out of the JSON reports of a sharded scan. */
export const reportMergeCommand: Command = {
  name: 'report merge',
  help: HELP,
  run: runMerge,
};
