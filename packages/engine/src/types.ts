import type { Confidence, Severity } from '@pubguard/rules';

/** Where a finding sits: the artifact on disk, the chain of members inside it, and the position. */
export interface FindingLocation {
  /** The input path as given (a file, or a file below a scanned directory). */
  artifact: string;
  /** Members of nested archives, outermost first; empty for a plain file. */
  entry: string[];
  /** 1-based line in the innermost file. */
  line: number;
  /** 1-based column (in bytes) in the innermost file. */
  column: number;
  /**
   * 1-based column in UTF-16 code units of the line's UTF-8 text, as SARIF counts it. Absent
   * when the engine did not hold the line's start with the secret (a later chunk of a line
   * longer than a chunk, with no newline in the overlap) and on findings about a file's path
   * or an archive's structure.
   */
  utf16Column?: number;
  /** 0-based byte offset of the secret in the innermost file. */
  byteOffset: number;
}

/** One credential found; `secret` is already redacted unless the scan asked otherwise. */
export interface Finding {
  ruleId: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /**
   * Artifact and entries joined with `!`. A secret found in a name is shown shortened in it,
   * as in `location`, unless the scan shows names (`ScanOptions.showNames`).
   */
  path: string;
  location: FindingLocation;
  secret: string;
  /**
   * `sha256:` of rule id and secret value (a private key's body without escapes and white
   * space): stable across file names, versions and how a key is stored. A finding on
   * a file's path has its path instead, without an npm tarball's or sdist's top directory,
   * and, for a file flagged by its own name, the sha256 of the file's bytes after a NUL byte.
   */
  fingerprint: string;
  /**
   * The fingerprint of a path finding taken with that top directory (or a wheel's versioned
   * `.data`/`.dist-info` directory) left in, or of a private key's body as found, as baselines
   * made before hold it; absent when it is `fingerprint`, and on a finding on a file's name,
   * fingerprinted with its content. Not written to reports: a baseline that holds it applies
   * all the same.
   */
  formerFingerprint?: string;
  /**
   * How the secret was stored, when not as it is: `base64` for a secret found by decoding
   * base64 text (an inline source map, an encoded config). `secret` and `fingerprint` are then
   * those of the decoded value, and the location is that of the base64 characters encoding it.
   */
  encoding?: 'base64';
  /**
   * Where the secret was found when not in what the file holds: `name` for a secret in the name
   * of the file, or of a directory, that `path` names (a path below a scanned directory, an
   * archive entry's name). The location then points at the file as a whole, as for a finding on
   * a file's path (line 1, column 1, byte offset 0), and the fingerprint is that of the rule and
   * the secret found in a name, which is not the one of the same secret in a file's content.
   */
  in?: 'name';
}

/** What kind of problem stopped part of a scan. */
export type ScanErrorKind =
  | 'not-found'
  | 'unreadable'
  | 'corrupt'
  | 'unsupported'
  | 'encrypted'
  | 'limit'
  | 'rule-error'
  | 'interrupted'
  | 'internal';

/** A per-item problem: the scan went on without these bytes. */
export interface ScanError {
  path: string;
  kind: ScanErrorKind;
  message: string;
  /** For `kind: 'limit'`, which limit was crossed. */
  limit?: string;
}

/** Totals for a whole scan. */
export interface ScanStats {
  artifacts: number;
  files: number;
  bytes: number;
  durationMs: number;
  /** Findings the baseline left out; present only when the scan was given a baseline. */
  baselined?: number;
}

/** What `scan()` yields, in order: findings and errors as they come, progress now and then, one `done` last. */
export type ScanEvent =
  | { type: 'finding'; finding: Finding }
  | { type: 'error'; error: ScanError }
  | { type: 'progress'; stats: ScanStats; current: string }
  | { type: 'done'; stats: ScanStats };

/** Limits that turn a hostile input into a reported event. */
export interface ScanLimits {
  /** Archives inside archives, counted from the artifact (the artifact itself is depth 0). */
  maxDepth: number;
  /** Entries read from one archive. */
  maxEntries: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes of one artifact, all its entries together. */
  maxArtifactBytes: number;
  /** Uncompressed / compressed ratio of one entry, checked once it is past `ratioThresholdBytes`. */
  maxCompressionRatio: number;
  /** Below this many uncompressed bytes the ratio is not checked (small files compress well). */
  ratioThresholdBytes: number;
  /** A nested zip larger than this is spilled to a private temp file instead of held in memory. */
  maxInMemoryArchiveBytes: number;
  /** Total bytes of temp spill files alive at once. */
  maxSpillBytes: number;
  /** Wall time for one artifact in ms; 0 means no limit. */
  maxArtifactMs: number;
  /** Findings kept and reported for one file; the rest are counted, not kept. */
  maxFindingsPerFile: number;
  /** Findings kept and reported for one artifact, all its files together; the rest are counted, not kept. */
  maxFindingsPerArtifact: number;
}
