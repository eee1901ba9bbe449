import type { Finding, ScanError } from '@pubguard/engine';
import { visible } from './escape.js';
import { sortErrors, sortFindings } from './order.js';
import { remediation } from './remedy.js';
import type { ReportInput } from './types.js';

/** Escapes a workflow command's message, as the Actions runner unescapes it. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command property value (`file=`, `title=` …). */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

// Other control characters would reach the log verbatim; show them instead. CR and LF are
// kept: escapeData encodes them so multi-line messages survive.
function clean(text: string): string {
  return visible(text, true);
}

function command(kind: 'error' | 'warning', props: Record<string, string | number | undefined>, message: string): string {
  const list = Object.entries(props)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(clean(String(v)))}`)
    .join(',');
  return `::${kind}${list ? ` ${list}` : ''}::${escapeData(clean(message))}`;
}

// Standard input (`scan -`) is no file GitHub could place an annotation on: such an annotation
// goes without `file=`, and the message still says where (`-!package/x.js:3:7`).
const STDIN = '-';

function findingCommand(f: Finding): string {
  const nested = f.location.entry.length > 0;
  const onFile = f.location.artifact !== STDIN;
  // A secret in a file's or directory's name is on no line of it: annotated on the file as a whole.
  const inName = f.in === 'name';
  // Annotations attach to repository files: a member of an archive is annotated on the archive
  // itself, without line/col (those belong to the inner file and are in the message instead).
  return command(
    'error',
    {
      file: onFile ? f.location.artifact : undefined,
      line: nested || !onFile || inName ? undefined : f.location.line,
      // The editor's column (UTF-16 code units, as SARIF's), which a byte column overshoots on a
      // line of non-ASCII text; left out where the scan did not count it.
      col: nested || !onFile || inName ? undefined : (f.location.utf16Column ?? (f.location.column === 1 ? 1 : undefined)),
      title: `${f.title} (${f.ruleId})`,
    },
    `${f.severity} ${f.secret === '' ? 'finding' : `secret ${f.secret}`}${f.encoding === undefined ? '' : ` (decoded from ${f.encoding})`}${inName ? ` in the name of ${f.path}` : ` at ${f.path}:${f.location.line}:${f.location.column}`}. ${remediation(f)}`,
  );
}

function errorCommand(e: ScanError): string {
  const artifact = e.path.split('!')[0];
  return command('warning', { file: artifact === STDIN ? undefined : artifact, title: `pubguard: ${e.kind}` }, `${e.path}: ${e.message}`);
}

/** GitHub Actions workflow commands: `::error` per finding, `::warning` per scan error. */
export function formatGithub(input: ReportInput): string {
  const lines = [...sortFindings(input.findings).map(findingCommand), ...sortErrors(input.errors).map(errorCommand)];
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
