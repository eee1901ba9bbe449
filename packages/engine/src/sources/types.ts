import type { ScanError, ScanLimits } from '../types.js';

/**
 * A file to scan. `chain[0]` is the artifact path as the user gave it (or a file below a
 * scanned directory); each later element is a member of a nested archive. The bytes must
 * be consumed (or `skip()`ped) before the next item is requested: archive readers stream.
 */
export interface SourceFile {
  kind: 'file';
  chain: string[];
  /** Size when the container says it (tar header, zip directory, stat); advisory only. */
  size?: number;
  /** The file's bytes, in order, in slices of any size. */
  bytes: AsyncIterable<Uint8Array>;
  /**
   * All of the file's bytes, when its reader holds them in memory (nearly every file of an
   * archive): the same bytes as `bytes` yields, which a consumer may take instead.
   */
  whole?: Uint8Array;
  /**
   * When present, takes back a slice of `bytes` that the consumer has copied what it needs
   * from and will not read again, so its buffer can be filled with later bytes. Optional to
   * call; a slice given back must not be used afterwards.
   */
  recycle?: (chunk: Uint8Array) => void;
  /**
   * Present when the artifact has a time limit (`maxArtifactMs`): the consumer asks it between
   * the blocks it matches the file in, `at` being the offset of the first byte not matched yet.
   * True once the time is up: the consumer then matches no more of the file, and the artifact
   * ends with the limit's event, which says where (the rest of it is not read).
   */
  overdue?: (at: number) => boolean;
}

/** A per-item problem met while enumerating or reading; the enumeration goes on. */
export interface SourceProblem {
  kind: 'error';
  error: ScanError;
}

/** A suspicious structure in an archive (traversal, links out, device files, setuid). */
export interface SourceStructure {
  kind: 'structure';
  chain: string[];
  ruleId: string;
  title: string;
  detail: string;
}

/**
 * A member of an archive, met in its directory or headers, whatever it is (a file, a directory,
 * a link, an archive, or an entry not read for a problem): what it is named, once per entry, so
 * that names are matched as contents are. The `chain` ends with the name as the archive stores
 * it. A top-level artifact's name comes with its `artifact` item or `DiskFileRef` instead.
 */
export interface SourceEntry {
  kind: 'entry';
  chain: string[];
}

/** Marks the start of a top-level artifact, for counting and progress. */
export interface SourceArtifact {
  kind: 'artifact';
  path: string;
  /**
   * What names the artifact whatever directory it sits in: its path below the scanned
   * directory, or its base name when given directly. Path findings on the artifact itself are
   * fingerprinted by it, so a baseline made of `build-1.0.0/` still covers `build-1.0.1/`.
   */
  name: string;
  /** Set when an input names the artifact itself (a file, or `-`), not a directory holding it. */
  named?: boolean;
}

/**
 * A symbolic link found by a directory walk, which is not read as a file of its own (one into
 * the directory is read where it points to; one out of it, broken or looping is not followed,
 * and its problem comes as an `error` item): what it is named, so that its own name is matched
 * as a file's is. `path` and `name` are as for `SourceArtifact`.
 */
export interface SourceLink {
  kind: 'link';
  path: string;
  name: string;
}

/** A file found by a directory walk: the path reports show and the path to open. */
export interface DiskFileRef {
  display: string;
  abs: string;
  /** The path's bytes when it is not valid UTF-8: `abs` then shows it as latin1 and names no file. */
  raw?: Buffer;
  /** The path below the scanned directory (see `SourceArtifact.name`). */
  rel: string;
}

/**
 * The files of a directory, offered at once (only with `SourceOptions.diskFiles`) so that the
 * consumer can read plain ones itself, on several threads. Each file is a top-level artifact;
 * those the consumer does not read in full go through `read`, the usual way, which reads
 * archives and reports every problem.
 */
export interface SourceDiskFiles {
  kind: 'disk-files';
  /** The directory, as the input named it. */
  path: string;
  files: DiskFileRef[];
  /**
   * The files' total size, estimated from a sample of them (median size times count); it
   * stats files, so only a scan that may start workers asks.
   */
  estimateBytes(): number;
  /**
   * Reads some of `files` as the enumeration would have, in the order given: each one's
   * artifact marker, then its items; the next few are opened ahead of time.
   */
  read(files: readonly DiskFileRef[]): AsyncGenerator<SourceItem, void, undefined>;
}

/**
 * Items a reader had at hand together, in order (the many small files of an archive, its
 * problems and structure findings), handed on as one: each item passed on costs every
 * reader it goes through. Holds no batches, and no file that is not held whole.
 */
export interface SourceBatch {
  kind: 'batch';
  items: (SourceFile | SourceProblem | SourceStructure | SourceEntry)[];
}

/** What a source yields. */
export type SourceItem = SourceFile | SourceProblem | SourceStructure | SourceEntry | SourceLink | SourceArtifact | SourceDiskFiles | SourceBatch;

/** Options every source receives; sources know nothing of rules. */
export interface SourceOptions {
  limits: ScanLimits;
  /** picomatch globs (relative to a scanned directory) of paths not to read. */
  ignore: string[];
  /**
   * Which top-level paths to enumerate (an input file, a file or problem found below a
   * directory input); the others are passed over unread. Splits one run into shards.
   */
  select?: (path: string) => boolean;
  /**
   * For a directory input named here (as given), the only files to read below it: paths
   * relative to it with `/`, as its walk gives them. The directory is not walked and `ignore`
   * does not apply to them: each is read as the walk's item for it would be, and one that is
   * not there is reported as `not-found` when it is opened. Another input below it that has a
   * list of its own takes over only the files of that list.
   */
  onlyFiles?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Directory for spill files; defaults to the OS temp dir. */
  tmpDir?: string;
  /** Aborts reading when signalled (Ctrl-C); spill files are removed. */
  signal?: AbortSignal;
  /**
   * Offer each directory's files as one `disk-files` item (after the walk's problems) instead
   * of reading them one by one. Default: false.
   */
  diskFiles?: boolean;
  /**
   * Told when a stream starts (+1) and stops (-1) being inflated on Node's thread pool (a
   * large gzip stream or zip entry): each one keeps a core busy on its own while it lasts.
   */
  onInflating?: (delta: 1 | -1) => void;
}
