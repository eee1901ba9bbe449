import type { Finding, ScanError, ScanErrorKind, ScanStats } from '@pubguard/engine';
import { sortErrors, sortFindings } from './order.js';
import type { JsonReport, ReportInput, Severity, ShardInfo } from './types.js';

/** A JSON report that cannot be read: not JSON, another version, or a field of the wrong shape. */
export class ReportFormatError extends Error {
  override name = 'ReportFormatError';
}

/** Reports given to `mergeReports` that cannot be merged. */
export class ReportMergeError extends Error {
  override name = 'ReportMergeError';
}

// Rebuilt field by field so the key order (and so the bytes) never depends on how the caller built them.
function canonicalFinding(f: Finding): Finding {
  const out: Finding = {
    ruleId: f.ruleId,
    title: f.title,
    severity: f.severity,
    confidence: f.confidence,
    path: f.path,
    location: {
      artifact: f.location.artifact,
      entry: [...f.location.entry],
      line: f.location.line,
      column: f.location.column,
      // Right after the byte column it differs from; absent when the engine did not know it.
      ...(f.location.utf16Column === undefined ? {} : { utf16Column: f.location.utf16Column }),
      byteOffset: f.location.byteOffset,
    },
    secret: f.secret,
    fingerprint: f.fingerprint,
  };
  // Only a decoded secret carries it, so reports of anything else keep their bytes.
  if (f.encoding !== undefined) out.encoding = f.encoding;
  // Likewise only a secret found in a name.
  if (f.in !== undefined) out.in = f.in;
  return out;
}

function canonicalError(e: ScanError): ScanError {
  const out: ScanError = { path: e.path, kind: e.kind, message: e.message };
  if (e.limit !== undefined) out.limit = e.limit;
  return out;
}

function canonicalStats(s: ScanStats): ScanStats {
  // Only a scan given a baseline has the field, so other reports keep their bytes.
  return { artifacts: s.artifacts, files: s.files, bytes: s.bytes, durationMs: s.durationMs, ...(s.baselined === undefined ? {} : { baselined: s.baselined }) };
}

/** The version-1 JSON document for a report, in canonical key order and sorted. */
export function toJsonReport(input: Pick<ReportInput, 'tool' | 'shard' | 'findings' | 'errors' | 'stats'>): JsonReport {
  const tool = { name: input.tool.name, version: input.tool.version };
  // Only a shard's report has the field, so an unsharded report is byte for byte what it was.
  const shard = input.shard === undefined ? {} : { shard: { index: input.shard.index, count: input.shard.count, inputs: input.shard.inputs } };
  return {
    version: 1,
    tool,
    ...shard,
    findings: sortFindings(input.findings).map(canonicalFinding),
    errors: sortErrors(input.errors).map(canonicalError),
    stats: canonicalStats(input.stats),
  };
}

/** Formats a report as JSON version 1 (the README's "JSON output"): sorted, 2-space indent, trailing newline. */
export function formatJson(input: Pick<ReportInput, 'tool' | 'shard' | 'findings' | 'errors' | 'stats'>): string {
  return `${JSON.stringify(toJsonReport(input), null, 2)}\n`;
}

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
const CONFIDENCES: readonly Finding['confidence'][] = ['high', 'medium', 'low'];
const ENCODINGS: readonly NonNullable<Finding['encoding']>[] = ['base64'];
const PLACES: readonly NonNullable<Finding['in']>[] = ['name'];
// A record, not a list, so a kind added to the engine fails the build until it is read here too.
const ERROR_KIND_SET: Record<ScanErrorKind, true> = {
  'not-found': true,
  unreadable: true,
  corrupt: true,
  unsupported: true,
  encrypted: true,
  limit: true,
  'rule-error': true,
  interrupted: true,
  internal: true,
};
const ERROR_KINDS = Object.keys(ERROR_KIND_SET) as ScanErrorKind[];

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly source: string) {}

  fail(where: string, expected: string, got: unknown): never {
    const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 60) ?? String(got);
    throw new ReportFormatError(`${this.source}: ${where}: expected ${expected}, found ${shown}`);
  }

  object(value: unknown, where: string): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(where, 'an object', value);
    return value as Obj;
  }

  array(value: unknown, where: string): unknown[] {
    if (!Array.isArray(value)) this.fail(where, 'an array', value);
    return value;
  }

  string(value: unknown, where: string): string {
    if (typeof value !== 'string') this.fail(where, 'a string', value);
    return value;
  }

  count(value: unknown, where: string, min = 0): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.fail(where, min > 0 ? 'a positive integer' : 'a non-negative integer', value);
    }
    return value;
  }

  number(value: unknown, where: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(where, 'a non-negative number', value);
    return value;
  }

  oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(where, `one of ${allowed.join(', ')}`, value);
    }
    return value as T;
  }
}

function readFinding(r: Reader, value: unknown, where: string): Finding {
  const o = r.object(value, where);
  const loc = r.object(o.location, `${where}.location`);
  const entry = r.array(loc.entry, `${where}.location.entry`).map((e, i) => r.string(e, `${where}.location.entry[${i}]`));
  const finding: Finding = {
    ruleId: r.string(o.ruleId, `${where}.ruleId`),
    title: r.string(o.title, `${where}.title`),
    severity: r.oneOf(o.severity, SEVERITIES, `${where}.severity`),
    confidence: r.oneOf(o.confidence, CONFIDENCES, `${where}.confidence`),
    path: r.string(o.path, `${where}.path`),
    location: {
      artifact: r.string(loc.artifact, `${where}.location.artifact`),
      entry,
      line: r.count(loc.line, `${where}.location.line`, 1),
      column: r.count(loc.column, `${where}.location.column`, 1),
      ...(loc.utf16Column === undefined ? {} : { utf16Column: r.count(loc.utf16Column, `${where}.location.utf16Column`, 1) }),
      byteOffset: r.count(loc.byteOffset, `${where}.location.byteOffset`),
    },
    secret: r.string(o.secret, `${where}.secret`),
    fingerprint: r.string(o.fingerprint, `${where}.fingerprint`),
  };
  if (o.encoding !== undefined) finding.encoding = r.oneOf(o.encoding, ENCODINGS, `${where}.encoding`);
  if (o.in !== undefined) finding.in = r.oneOf(o.in, PLACES, `${where}.in`);
  return finding;
}

function readError(r: Reader, value: unknown, where: string): ScanError {
  const o = r.object(value, where);
  const error: ScanError = {
    path: r.string(o.path, `${where}.path`),
    kind: r.oneOf(o.kind, ERROR_KINDS, `${where}.kind`),
    message: r.string(o.message, `${where}.message`),
  };
  if (o.limit !== undefined) error.limit = r.string(o.limit, `${where}.limit`);
  return error;
}

function readShard(r: Reader, value: unknown): ShardInfo {
  const o = r.object(value, 'shard');
  const count = r.count(o.count, 'shard.count', 1);
  const index = r.count(o.index, 'shard.index', 1);
  if (index > count) r.fail('shard.index', `at most shard.count (${count})`, index);
  const inputs = r.string(o.inputs, 'shard.inputs');
  if (!/^sha256:[0-9a-f]{64}$/.test(inputs)) r.fail('shard.inputs', '"sha256:" and 64 hex digits', inputs);
  return { index, count, inputs };
}

/**
 * Reads a JSON report (version 1) written by `formatJson`, checking every field.
 * `source` names the input (a file name) in error messages.
 */
export function parseJsonReport(text: string, source = 'report'): JsonReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ReportFormatError(`${source}: not valid JSON (${why}); expected the output of \`pubguard scan --format json\``);
  }
  const r = new Reader(source);
  const o = r.object(data, 'top level');
  if (o.version !== 1) {
    throw new ReportFormatError(
      `${source}: unsupported report version ${JSON.stringify(o.version) ?? 'missing'}; this pubguard reads version 1 (\`pubguard scan --format json\`)`,
    );
  }
  const tool = r.object(o.tool, 'tool');
  const stats = r.object(o.stats, 'stats');
  return {
    version: 1,
    tool: { name: r.string(tool.name, 'tool.name'), version: r.string(tool.version, 'tool.version') },
    ...(o.shard === undefined ? {} : { shard: readShard(r, o.shard) }),
    findings: r.array(o.findings, 'findings').map((f, i) => readFinding(r, f, `findings[${i}]`)),
    errors: r.array(o.errors, 'errors').map((e, i) => readError(r, e, `errors[${i}]`)),
    stats: {
      artifacts: r.count(stats.artifacts, 'stats.artifacts'),
      files: r.count(stats.files, 'stats.files'),
      bytes: r.count(stats.bytes, 'stats.bytes'),
      durationMs: r.number(stats.durationMs, 'stats.durationMs'),
      ...(stats.baselined === undefined ? {} : { baselined: r.count(stats.baselined, 'stats.baselined') }),
    },
  };
}

const shardName = (s: ShardInfo): string => `${s.index}/${s.count}`;

/** `a`, `a and b`, `a, b and c`; past the first `shown`, `and N more`. */
function listed(items: readonly string[], total: number): string {
  const all = total > items.length ? [...items, `${total - items.length} more`] : [...items];
  return all.length === 1 ? all[0]! : `${all.slice(0, -1).join(', ')} and ${all[all.length - 1]!}`;
}

/**
 * Refuses shard reports that do not make up one whole scan: a shard missing or given twice
 * would otherwise yield a report that looks complete, and a clean one when the missing
 * shard held the secret.
 */
function checkShards(reports: readonly JsonReport[], sources: readonly string[]): void {
  const name = (i: number): string => sources[i] ?? `report ${i + 1}`;
  const sharded = reports.findIndex((r) => r.shard !== undefined);
  if (sharded < 0) return;
  const whole = reports.findIndex((r) => r.shard === undefined);
  const first = reports[sharded]!.shard!;
  if (whole >= 0) {
    throw new ReportMergeError(
      `${name(sharded)} is the report of shard ${shardName(first)} of a scan, ${name(whole)} of a scan without --shard: merge either the reports of every shard of one scan or reports of scans without --shard`,
    );
  }
  const byIndex = new Map<number, number[]>();
  for (const [i, report] of reports.entries()) {
    const shard = report.shard!;
    if (shard.count !== first.count) {
      throw new ReportMergeError(
        `${name(sharded)} is the report of shard ${shardName(first)}, ${name(i)} of shard ${shardName(shard)}: the shards of one scan all have the same --shard I/N count; merge the reports of one scan`,
      );
    }
    if (shard.inputs !== first.inputs) {
      throw new ReportMergeError(
        `${name(sharded)} (shard ${shardName(first)}) and ${name(i)} (shard ${shardName(shard)}) are shards of different scans (other paths, --ignore globs or --npm-files): merge the reports of the ${first.count} shards of one scan`,
      );
    }
    byIndex.set(shard.index, [...(byIndex.get(shard.index) ?? []), i]);
  }
  const problems: string[] = [];
  const twice = [...byIndex.entries()].filter(([, files]) => files.length > 1).sort(([a], [b]) => a - b);
  for (const [index, files] of twice) problems.push(`shard ${index}/${first.count} is given more than once (${files.map(name).join(', ')})`);
  // The count comes from a file: name the first few missing without walking all of them.
  const absent = first.count - byIndex.size;
  const missing: string[] = [];
  for (let index = 1; index <= first.count && missing.length < 10; index++) if (!byIndex.has(index)) missing.push(`${index}/${first.count}`);
  if (absent > 0) {
    problems.push(
      `${absent === 1 ? 'shard' : 'shards'} ${listed(missing, absent)} ${absent === 1 ? 'is' : 'are'} missing, so what ${absent === 1 ? 'it' : 'they'} scanned would be left out of the merged report`,
    );
  }
  if (problems.length > 0) {
    throw new ReportMergeError(`${problems.join('; ')}: merge exactly one report of each of the ${first.count} shards of the scan`);
  }
}

/**
 * Merges shard reports into one: the union of findings (one per fingerprint, path, line and
 * column), the union of errors, stats summed (durationMs too: the total work, not wall time).
 * The tool of the first report is kept. Reports of shards (`shard` set) must be every shard
 * of one scan, each once, and not mixed with reports of whole scans; otherwise this throws
 * ReportMergeError naming the shards missing or given twice. `sources` names each report
 * (a file name) in that message. The merged report has no `shard`: it is a whole scan.
 */
export function mergeReports(reports: readonly JsonReport[], sources: readonly string[] = []): JsonReport {
  const first = reports[0];
  if (!first) throw new ReportMergeError('no reports to merge: give at least one JSON report');
  checkShards(reports, sources);
  const findings = new Map<string, Finding>();
  const errors = new Map<string, ScanError>();
  const stats: ScanStats = { artifacts: 0, files: 0, bytes: 0, durationMs: 0 };
  for (const report of reports) {
    if (report.version !== 1) throw new ReportMergeError(`cannot merge report version ${String(report.version)}; only version 1`);
    for (const f of report.findings) {
      const key = JSON.stringify([f.fingerprint, f.path, f.location.line, f.location.column]);
      if (!findings.has(key)) findings.set(key, f);
    }
    for (const e of report.errors) {
      const key = JSON.stringify([e.path, e.kind, e.message, e.limit ?? null]);
      if (!errors.has(key)) errors.set(key, e);
    }
    stats.artifacts += report.stats.artifacts;
    stats.files += report.stats.files;
    stats.bytes += report.stats.bytes;
    stats.durationMs += report.stats.durationMs;
    if (report.stats.baselined !== undefined) stats.baselined = (stats.baselined ?? 0) + report.stats.baselined;
  }
  return toJsonReport({ tool: first.tool, findings: [...findings.values()], errors: [...errors.values()], stats });
}
