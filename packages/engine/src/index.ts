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
  SourceArtifact,
  SourceFile,
  SourceItem,
  SourceOptions,
  SourceProblem,
  SourceStructure,
} from './sources/types.js';
