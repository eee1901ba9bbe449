import type { Finding, ScanError, ScanStats } from '@pubguard/engine';

/** How bad a leak is; the same union as the rules package's `Severity`. */
export type Severity = Finding['severity'];

/** What a report needs to know about a rule beyond what each finding carries. */
export interface RuleInfo {
  id: string;
  title: string;
  severity: Severity;
  description?: string;
  references?: string[];
}

/** The tool that produced a report. */
export interface ToolInfo {
  name: string;
  version: string;
}

/**
 * Which part of a sharded scan (`scan --shard I/N`) a report covers. `inputs` identifies the
 * partition (`sha256:` of the inputs and options that decide which files exist), so reports
 * of shards of different scans are told apart.
 */
export interface ShardInfo {
  /** 1-based, at most `count`. */
  index: number;
  count: number;
  inputs: string;
}

/** Everything a formatter needs; `findings` carry secrets already redacted by the engine. */
export interface ReportInput {
  tool: ToolInfo;
  /** Set when the scan covered one shard only; the JSON report records it for `report merge`. */
  shard?: ShardInfo;
  findings: Finding[];
  errors: ScanError[];
  stats: ScanStats;
  /** Metadata of at least every rule that has a finding (missing ones are derived from findings). */
  rules: RuleInfo[];
}

/** The JSON report, version 1 (the README's "JSON output"): what `--format json` writes and `report merge` reads. */
export interface JsonReport {
  version: 1;
  tool: ToolInfo;
  /** Only in the report of one shard of a scan; a merged or unsharded report has none. */
  shard?: ShardInfo;
  findings: Finding[];
  errors: ScanError[];
  stats: ScanStats;
}

/** The output formats `formatReport` knows. */
export type ReportFormat = 'text' | 'json' | 'sarif' | 'junit' | 'github';

/** Options of the human-readable text format. */
export interface TextOptions {
  /** Emit ANSI colours (see `useColor`). */
  color: boolean;
  /** Also print confidence, fingerprint and error limits. */
  verbose?: boolean;
}

/** Options of the SARIF format. */
export interface SarifOptions {
  /**
   * Absolute directory that `%SRCROOT%` stands for (usually the working directory); absolute
   * artifact paths below it are made relative to it.
   */
  srcRoot?: string;
  /**
   * `srcRoot` as the scan shows it where a secret in its name is shortened (the engine's
   * `maskNames(srcRoot)`): absolute paths below it, as the scan shows them, are made relative
   * to it too, so a working directory named after a token changes no URI. Paths shown in full
   * (`--show-secrets`) are below `srcRoot` itself.
   */
  maskedSrcRoot?: string;
  /** `tool.driver.informationUri`; omitted when not given. */
  informationUri?: string;
}
