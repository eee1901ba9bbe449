import type { Finding, ScanError, ScanStats } from '@pubguard/engine';
import { visible } from './escape.js';
import { groupBy, sortErrors, sortFindings } from './order.js';
import type { ReportInput, Severity, TextOptions } from './types.js';

/**
 * Whether to colour terminal output: a non-empty NO_COLOR always wins (no-color.org), then
 * FORCE_COLOR forces colour (`0` or `false` turns it off), else colour on a TTY unless TERM=dumb.
 */
export function useColor(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The one-line summary ending every text report, e.g.
 * `Scanned 3 artifacts, 120 files, 4.2 MB in 0.31 s: 2 findings, 0 errors` (MB = 10^6 bytes);
 * with a baseline, `2 findings (3 accepted by the baseline)`.
 */
export function summaryLine(stats: ScanStats, findings: number, errors: number): string {
  const mb = (stats.bytes / 1_000_000).toFixed(1);
  const seconds = (stats.durationMs / 1000).toFixed(2);
  // A clean scan with a baseline says what it left out: "0 findings" alone hid it.
  const accepted = stats.baselined === undefined ? '' : ` (${stats.baselined} accepted by the baseline)`;
  return `Scanned ${plural(stats.artifacts, 'artifact')}, ${plural(stats.files, 'file')}, ${mb} MB in ${seconds} s: ${plural(findings, 'finding')}${accepted}, ${plural(errors, 'error')}`;
}

type Paint = (code: string, text: string) => string;

const SEVERITY_COLOR: Record<Severity, string> = {
  critical: '1;31',
  high: '31',
  medium: '33',
  low: '36',
  info: '2',
};

/** Where a finding is: `path:line:column`, or the path alone for a secret in a name, which has no line. */
function position(f: Finding): string {
  return f.in === 'name' ? f.path : `${f.path}:${f.location.line}:${f.location.column}`;
}

function findingLines(f: Finding, paint: Paint, verbose: boolean): string[] {
  const severity = paint(SEVERITY_COLOR[f.severity], f.severity.toUpperCase().padEnd(8));
  const lines = [
    `  ${severity} ${paint('1', visible(f.title))} ${paint('2', `(${visible(f.ruleId)})`)}`,
    `           ${visible(position(f))}`,
  ];
  // Findings about a file or an archive's structure carry no secret.
  if (f.secret !== '') lines.push(`           secret: ${visible(f.secret)}${f.encoding === undefined ? '' : ` (decoded from ${f.encoding})`}${f.in === 'name' ? ' (in the name)' : ''}`);
  if (verbose) {
    lines.push(`           confidence: ${f.confidence}`, `           fingerprint: ${visible(f.fingerprint)}`);
  }
  return lines;
}

function errorLine(e: ScanError, paint: Paint, verbose: boolean): string {
  const limit = verbose && e.limit !== undefined ? ` [limit: ${visible(e.limit)}]` : '';
  return `  ${visible(e.path)}: ${paint('31', e.kind)}: ${visible(e.message)}${limit}`;
}

/**
 * The human-readable report: findings grouped by artifact, then errors, then the summary line.
 * With nothing found and no errors, only the summary line. Control characters in paths and
 * messages are shown escaped so an archive entry name cannot drive the terminal.
 */
export function formatText(input: ReportInput, options: TextOptions): string {
  const paint: Paint = options.color ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
  const verbose = options.verbose === true;
  const out: string[] = [];
  const groups = groupBy(sortFindings(input.findings), (f) => f.location.artifact);
  for (const [artifact, findings] of groups) {
    out.push(`${paint('1;4', visible(artifact))} ${paint('2', `(${plural(findings.length, 'finding')})`)}`);
    for (const f of findings) out.push(...findingLines(f, paint, verbose));
    out.push('');
  }
  if (input.errors.length > 0) {
    out.push(paint('1', 'Errors:'));
    for (const e of sortErrors(input.errors)) out.push(errorLine(e, paint, verbose));
    out.push('');
  }
  const summary = summaryLine(input.stats, input.findings.length, input.errors.length);
  const summaryColor = input.findings.length > 0 || input.errors.length > 0 ? '1;31' : '32';
  out.push(paint(summaryColor, summary));
  return `${out.join('\n')}\n`;
}
