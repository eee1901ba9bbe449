export { chunkOverlap, maxJobs, scan, scanAll, type ScanOptions, type ScanResult } from './scan.js';
export { DEFAULT_LIMITS, resolveLimits, LimitsError } from './limits.js';
export { enumerate, joinChain, type EnumerateOptions } from './sources/index.js';
export { STRUCTURE_RULES, type StructureRule } from './sources/checks.js';
export { Matcher, type RawMatch, type SegmentResult, type SegmentSpec } from './matcher/matcher.js';
export { redact, isFullSecret, fingerprint } from './redact.js';
export { maskNames } from './names.js';
export { matchesNames } from './matcher/names.js';
export { makeDirectory } from './dirs.js';
export { countOf } from './sources/errors.js';
export { removeAtExit, removeAtExitNow } from './exit-cleanup.js';
export { type BrokenLink, brokenLinkOnPath, describeBrokenLink, describeFsError, type FsErrorContext, StdinUnavailable } from './fs-errors.js';
export { BaselineError, loadBaseline } from './baseline.js';
export { firstDirectory } from './roots.js';
export { type DuplicateJsonKey, findDuplicateJsonKey } from './json-keys.js';
export type {
  Finding,
  FindingLocation,
  ScanError,
  ScanErrorKind,
  ScanEvent,
  ScanLimits,
  ScanStats,
} from './types.js';
export type {
  DiskFileRef,
  SourceArtifact,
  SourceBatch,
  SourceDiskFiles,
  SourceEntry,
  SourceFile,
  SourceItem,
  SourceLink,
  SourceOptions,
  SourceProblem,
  SourceStructure,
} from './sources/types.js';
export type { Confidence, Severity } from '@pubguard/rules';
