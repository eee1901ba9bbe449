import { posix, win32 } from 'node:path';
import type { Finding, ScanError } from '@pubguard/engine';
import { visible } from './escape.js';
import { sortErrors, sortFindings } from './order.js';
import { remediation } from './remedy.js';
import type { ReportInput, RuleInfo, SarifOptions, Severity } from './types.js';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';
/** partialFingerprints key; bump the version if the fingerprint's meaning ever changes. */
const FINGERPRINT_KEY = 'pubguardSecret/v1';

type Level = 'error' | 'warning' | 'note';

const LEVEL: Record<Severity, Level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

// GitHub code scanning ranks security alerts by this property (0.1-3.9 low ... 9.0+ critical).
const SECURITY_SEVERITY: Record<Severity, string | undefined> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: undefined,
};

function pascalName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/**
 * Percent-encodes each `/`-separated segment. `!` in a name is encoded too (encodeURIComponent
 * keeps it), so that a bare `!` in the URI only ever separates an archive from its member.
 */
function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment).replaceAll('!', '%21'))
    .join('/');
}

interface UriLocation {
  uri: string;
  uriBaseId?: string;
}

/** The directories a report's absolute paths are made relative to: `srcRoot`, then `maskedSrcRoot` (see `SarifOptions`). */
function rootsOf(options: SarifOptions): string[] {
  const roots = [options.srcRoot, options.maskedSrcRoot].flatMap((root) => (root ? [root.replaceAll('\\', '/')] : []));
  return [...new Set(roots)];
}

/** `path` relative to the first of `roots` it lies below, or undefined. */
function below(path: string, roots: readonly string[]): string | undefined {
  for (const root of roots) {
    const rel = posix.relative(root, path);
    if (!(rel === '' || rel.startsWith('../') || rel === '..' || posix.isAbsolute(rel))) return rel;
  }
  return undefined;
}

/**
 * A relative URI (against %SRCROOT%) for an artifact path as the user gave it. Absolute paths
 * below one of `roots` become relative; other absolute paths become `file:` URIs, which code
 * scanning cannot map to the repository but which stay valid SARIF.
 */
function artifactUri(artifact: string, roots: readonly string[]): UriLocation {
  const isWindows = win32.isAbsolute(artifact) && !posix.isAbsolute(artifact);
  let path = isWindows ? artifact.replaceAll('\\', '/') : artifact;
  if (posix.isAbsolute(path) || isWindows) {
    const rel = below(path, roots);
    if (rel === undefined) {
      const absolute = path.startsWith('/') ? path : `/${path}`;
      return { uri: `file://${encodePath(absolute).replace(/^\/([A-Za-z])%3A/, '/$1:')}` };
    }
    path = rel;
  }
  path = posix.normalize(path).replace(/^(\.\/)+/, '');
  return { uri: encodePath(path), uriBaseId: SRCROOT };
}

function findingUri(f: Finding, roots: readonly string[]): UriLocation {
  const base = artifactUri(f.location.artifact, roots);
  if (f.location.entry.length === 0) return base;
  // The `!` chain after the artifact, as in the JSON `path`; each member percent-encoded.
  return { ...base, uri: [base.uri, ...f.location.entry.map(encodePath)].join('!') };
}

function ruleFor(f: Finding): RuleInfo {
  return { id: f.ruleId, title: f.title, severity: f.severity };
}

/** True for an absolute URI (a scheme, then only characters a URI may hold), e.g. `https://…`. */
function isAbsoluteUri(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})+$/.test(text);
}

/** A rule's descriptor; `remedy` is the advice for its findings (see `remediation`). */
function ruleDescriptor(rule: RuleInfo, remedy: string): Record<string, unknown> {
  const description = rule.description?.trim() || rule.title;
  const references = rule.references ?? [];
  const refText = references.length > 0 ? `\n\nReferences:\n${references.map((r) => `- ${r}`).join('\n')}` : '';
  const descriptor: Record<string, unknown> = {
    id: rule.id,
    name: pascalName(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: description },
    help: {
      text: `${description}\n\nRemediation: ${remedy}${refText}`,
      markdown: `${description}\n\n**Remediation:** ${remedy}${references.length > 0 ? `\n\n**References:**\n${references.map((r) => `- <${r}>`).join('\n')}` : ''}`,
    },
  };
  // helpUri must be an absolute URI (code scanning rejects the whole upload otherwise), and a
  // custom rule's references may be free text such as "internal wiki: Acme keys".
  const helpUri = references.find(isAbsoluteUri);
  if (helpUri !== undefined) descriptor.helpUri = helpUri;
  descriptor.defaultConfiguration = { level: LEVEL[rule.severity] };
  const properties: Record<string, unknown> = { tags: ['security', 'secret', `severity:${rule.severity}`] };
  const securitySeverity = SECURITY_SEVERITY[rule.severity];
  if (securitySeverity !== undefined) properties['security-severity'] = securitySeverity;
  descriptor.properties = properties;
  return descriptor;
}

/**
 * A finding's line, and its column where it is known in UTF-16 code units, which is how SARIF
 * counts them by default: a byte column in its place would point further along a line with
 * non-ASCII text before the secret (600 000 characters further on one line of accented text),
 * so without the count the region is the whole line. Column 1 is column 1 in every count.
 * A finding on a path or on a secret in a name says line 1, column 1: the file as a whole, as
 * code scanning takes no result without a region.
 */
function region(f: Finding): { startLine: number; startColumn?: number } {
  const column = f.location.utf16Column ?? (f.location.column === 1 ? 1 : undefined);
  return column === undefined ? { startLine: f.location.line } : { startLine: f.location.line, startColumn: column };
}

function result(f: Finding, ruleIndex: number, roots: readonly string[]): Record<string, unknown> {
  const where = f.in === 'name' ? `the name of ${f.path}` : `${f.path}:${f.location.line}:${f.location.column}`;
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: visible(`${f.title}${f.secret === '' ? '' : ` (${f.secret}${f.encoding === undefined ? '' : `, decoded from ${f.encoding}`})`} in ${where}. ${remediation(f)}`) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: findingUri(f, roots),
          region: region(f),
        },
        logicalLocations: [{ fullyQualifiedName: f.path, kind: 'member' }],
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint },
    properties: {
      severity: f.severity,
      confidence: f.confidence,
      path: f.path,
      artifact: f.location.artifact,
      entry: f.location.entry,
      byteOffset: f.location.byteOffset,
      byteColumn: f.location.column,
      secret: f.secret,
      ...(f.encoding === undefined ? {} : { encoding: f.encoding }),
      ...(f.in === undefined ? {} : { in: f.in }),
    },
  };
}

function notification(e: ScanError, roots: readonly string[]): Record<string, unknown> {
  const properties: Record<string, unknown> = { path: e.path, kind: e.kind };
  if (e.limit !== undefined) properties.limit = e.limit;
  return {
    level: 'error',
    message: { text: visible(`${e.path}: ${e.kind}: ${e.message}`) },
    descriptor: { id: e.kind },
    locations: [{ physicalLocation: { artifactLocation: artifactUri(e.path.split('!')[0] ?? e.path, roots) } }],
    properties,
  };
}

/** The line breaks finding lines are counted by, as `run.newlineSequences` lists them: the longest first. */
const NEWLINE_SEQUENCES: readonly string[] = ['\r\n', '\n', '\r'];

/**
 * SARIF 2.1.0 with one run, fit for GitHub code scanning: a rule descriptor per rule used,
 * relative URIs against `%SRCROOT%` (archive members joined with `!`), region line and column
 * (UTF-16 code units, left out where unknown) in the innermost file, lines ended by CR LF, LF or
 * a lone CR (`newlineSequences`), `partialFingerprints`, and scan errors as tool execution notifications.
 */
export function formatSarif(input: ReportInput, options: SarifOptions = {}): string {
  const findings = sortFindings(input.findings);
  const known = new Map(input.rules.map((r) => [r.id, r]));
  const used: { rule: RuleInfo; remedy: string }[] = [];
  const index = new Map<string, number>();
  for (const f of findings) {
    if (index.has(f.ruleId)) continue;
    index.set(f.ruleId, used.length);
    // A rule's findings all have a secret or all have none (a file that must not ship, an
    // unsafe archive entry): the first one tells which advice the rule's help gives.
    used.push({ rule: known.get(f.ruleId) ?? ruleFor(f), remedy: remediation(f) });
  }
  const driver: Record<string, unknown> = { name: input.tool.name, version: input.tool.version };
  if (options.informationUri !== undefined) driver.informationUri = options.informationUri;
  driver.rules = used.map((u) => ruleDescriptor(u.rule, u.remedy));
  const errors = sortErrors(input.errors);
  const roots = rootsOf(options);
  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        invocations: [
          {
            executionSuccessful: errors.length === 0,
            toolExecutionNotifications: errors.map((e) => notification(e, roots)),
          },
        ],
        results: findings.map((f) => result(f, index.get(f.ruleId) ?? 0, roots)),
        // The engine ends a line at a lone CR too (classic Mac OS text), which SARIF's default,
        // CR LF and LF only, leaves out: a consumer counting by it would put such findings on line 1.
        newlineSequences: NEWLINE_SEQUENCES,
        properties: { stats: input.stats },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** Results GitHub code scanning accepts in one SARIF run: an upload with more is refused whole. */
export const CODE_SCANNING_MAX_RESULTS = 25_000;

/**
 * The warning to give when a SARIF report of `results` findings is more than code scanning
 * takes, or undefined. A report is never cut short: the findings past the limit would be the
 * ones nobody looks at.
 */
export function sarifSizeWarning(results: number): string | undefined {
  if (results <= CODE_SCANNING_MAX_RESULTS) return undefined;
  return `the SARIF report holds ${results} results, and GitHub code scanning refuses an upload of more than ${CODE_SCANNING_MAX_RESULTS} in a run: fix or baseline findings (pubguard baseline create), or scan with a lower --max-findings, before uploading it`;
}
