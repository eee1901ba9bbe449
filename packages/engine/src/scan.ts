import type { Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { builtinRuleset, type CompiledRule, type CompiledRuleset, dropOverlapping, fingerprintValue, pathFindingTarget } from '@pubguard/rules';
import { BulkReader, type BulkJob, type BulkPart, bulkJob, stopBulk } from './bulk.js';
import { FoundSecrets } from './found-secrets.js';
import { resolveLimits } from './limits.js';
import { type Batch, type BatchSegment, matchBatch } from './matcher/batch.js';
import { Matcher, type SegmentResult, WINDOW_MARGIN } from './matcher/matcher.js';
import type { NameMatch, NameMatcher } from './matcher/names.js';
import { nameMatcherFor } from './names.js';
import { PathRules, type PathVerdict } from './paths.js';
import { RuleTimeoutError, WorkerPool } from './pool/pool.js';
import { fingerprintPath, firstDirectory, PackageRoots } from './roots.js';
import { AsyncQueue } from './queue.js';
import { fingerprint, redact, sha256Hash } from './redact.js';
import { wantCollections } from './sources/collect.js';
import { countOf, limitStop } from './sources/errors.js';
import { enumerate, joinChain } from './sources/index.js';
import type { DiskFileRef, SourceBatch, SourceDiskFiles, SourceEntry, SourceFile, SourceItem, SourceStructure } from './sources/types.js';
import type { Finding, ScanError, ScanEvent, ScanLimits, ScanStats } from './types.js';

/** Options of `scan()`; every one has a default, documented here. */
export interface ScanOptions {
  /**
   * Worker threads matching in parallel; the calling thread also matches whenever they are all
   * busy. Default: one less than `os.availableParallelism()`, at least 1. 0: no workers, but
   * with rules that are not built-in (see `ruleTimeoutMs`) one, as they only run where they can
   * be stopped. More than `maxJobs()` runs `maxJobs()`.
   */
  jobs?: number;
  /** Limits for hostile inputs; unspecified ones keep their defaults (see `DEFAULT_LIMITS`). */
  limits?: Partial<ScanLimits>;
  /** picomatch globs, relative to each scanned directory, of paths not to read. Default: none. */
  ignore?: string[];
  /** Rules to apply. Default: the built-in ruleset. */
  ruleset?: CompiledRuleset;
  /** Directory relative inputs are resolved against. Default: `process.cwd()`. */
  cwd?: string;
  /**
   * Which top-level paths to scan (an input, or a file or problem below a directory input);
   * the others are not read. Used to split a run into shards. Default: all.
   */
  select?: (path: string) => boolean;
  /**
   * For a directory input named here (as given), the only files to scan below it: paths
   * relative to it with `/` (a package's files as its packer lists them). Each is reported as
   * a plain scan of the directory reports it (path, fingerprint, shard), whatever the `ignore`
   * globs say: the list is what ships. The directory is not walked; a listed file that is not
   * there is a `not-found` error. A listed input below another takes over only the files of its
   * own list: the outer one still reads the rest of its list there. Default: every file of
   * every directory.
   */
  onlyFiles?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Bytes read for the input `-`. Default: none (so `-` reports an error). */
  stdin?: AsyncIterable<Uint8Array>;
  /** Bytes each chunk of a large file owns. Default: 1 MiB. Findings never depend on it. */
  chunkSize?: number;
  /** Report secrets in full instead of redacted. Default: false. */
  showSecrets?: boolean;
  /**
   * Show the paths and names in findings, errors and progress as they are. Otherwise a secret
   * found in a file or entry name (see `Finding.in`) is shortened wherever the name is shown,
   * as `secret` is: in every finding's `path`, `location.artifact` and `location.entry` (the
   * findings on what the file holds too), a structure finding's `title`, an error's `path` and
   * `message`, and `progress`'s `current`. So is the secret of any finding reported or left
   * out by the baseline, by any rule (those from a config file are not matched against names),
   * once it is found, where it is 12 characters or longer: `scanAll` shortens it also in what
   * came before. `exclude` still sees the paths as they are, so allowlist globs apply.
   * Default: `showSecrets`.
   */
  showNames?: boolean;
  /** Fingerprints of known findings to leave out (a baseline). Default: none. */
  baseline?: ReadonlySet<string>;
  /**
   * Called for each finding `baseline` leaves out, with the baseline's fingerprint it matched
   * (its `fingerprint`, or its `formerFingerprint`): what matched nothing can then be named.
   */
  onBaselined?: (fingerprint: string) => void;
  /**
   * Leaves out a finding when it returns true (allowlists from a config file). It sees the
   * finding as it would be reported and the secret unredacted, and for an archive member, its
   * path below the archive's package root (`packagePath`: `test/a.js` for `package/test/a.js`
   * in an npm tarball, as fingerprints take it), when its first directory may be that root.
   * A finding that only `packagePath` leaves out is held until the archive is read, when its
   * root is known. Default: none.
   */
  exclude?: (finding: Finding, secret: string, packagePath?: string) => boolean;
  /** Stops the scan (Ctrl-C); an `interrupted` error is reported and temp files are removed. */
  signal?: AbortSignal;
  /** Milliseconds between `progress` events; 0 turns them off. Default: 250. */
  progressIntervalMs?: number;
  /**
   * Bytes matched on the calling thread before workers are started: starting and warming a
   * worker costs about as much as matching 30 MB, so most single packages never pay for one.
   * Past it, workers start only once matching (with reading, for a directory's files) takes
   * at least half of the scan's time so far. In a directory they start sooner, as soon as the
   * files not yet read come to twice this much: as the walk estimates them from a sample of
   * file sizes, before any is read, or as estimated from the first 64 read. For one file,
   * as soon as its size (from stat or its archive entry) comes to twice this much.
   * Never while the streams being inflated on Node's thread pool (large gzip data, large zip
   * entries) and this thread take every core: when inflating, which no worker can share, is
   * what limits a scan, workers would only add their start-up and take turns with zlib.
   * 0 starts them with the first batch. Default: 32 MiB.
   */
  inlineBytes?: number;
  /** Directory for temporary spill files of large nested zips. Default: the OS temp dir. */
  tmpDir?: string;
  /**
   * A batch of at most about one chunk that takes longer than this (ms) is stopped, the rule
   * it was running is reported and disabled, and the batch is matched again without it.
   * Guards against custom rules with catastrophic backtracking: only a worker can be stopped,
   * so a ruleset with rules that are not built-in is matched on workers only, on one with
   * `jobs: 0`. Default: 30000.
   */
  ruleTimeoutMs?: number;
  /**
   * Read each directory's files on the threads that match them: every thread claims the next
   * file, reads it whole with a blocking read and matches it; archives and large files are
   * read afterwards as usual. On a warm page cache this is several times faster than one
   * thread reading for all. `false` reads a directory's files one by one on the calling
   * thread, with reads ahead of time, as archives are read (e.g. where blocking reads are
   * slow, as on some network file systems). Default: true.
   */
  bulkDirectories?: boolean;
  /**
   * Collect V8's young generation after every 4 MiB read into fresh buffers, so dead read and
   * inflate buffers do not pile up: a 1 GB tgz then peaks near a 10 MB one. It briefly turns
   * on V8's `--expose-gc` flag to get there, which a host process may not want, so it is off
   * unless asked for (the `pubguard` command asks). Default: false.
   */
  collectFreshBuffers?: boolean;
  /**
   * Called just before each worker thread starts; the function it returns is called once the
   * thread runs its code, or has failed to start. The `pubguard` command starts its workers
   * under V8's default flags this way, since a worker compiles Node's built-ins again under
   * any other flags (see the command's launcher).
   */
  onWorkerStart?: () => () => void;
}

const MiB = 1024 * 1024;

/**
 * Segments per batch. Without a cap, an archive of many tiny files puts every file in one
 * batch and holds its bookkeeping until the end, so memory grows with the entry count.
 */
const MAX_BATCH_SEGMENTS = 1024;

/**
 * Files of a directory this thread reads before estimating from them what the rest holds.
 * A walk is sorted, and a package's first files are often its largest (changelogs, the
 * bundles under build/): from their first 32 files, the unpacked rxjs (4.5 MB) looked like
 * 105 MB and three (21 MB) like 40 MB, and the worker that started made those scans, and
 * date-fns's, 12–23% slower on two cores.
 */
const ESTIMATE_SAMPLE_FILES = 64;

/** Normalised options: every default applied in one place. */
interface Settings {
  jobs: number;
  limits: ScanLimits;
  ignore: string[];
  ruleset: CompiledRuleset;
  cwd: string;
  chunkSize: number;
  overlap: number;
  showSecrets: boolean;
  showNames: boolean;
  baseline: ReadonlySet<string>;
  exclude: ((finding: Finding, secret: string, packagePath?: string) => boolean) | undefined;
  progressIntervalMs: number;
  inlineBytes: number;
  ruleTimeoutMs: number;
  /** Rules that are not built-in: they only run on watched workers, never inline. */
  untrusted: boolean;
}

/**
 * The most worker threads a scan starts: four per CPU, at least four. Each worker holds its
 * own compiled rules and buffers, so a thousand of them (a typo, or a value copied from a far
 * bigger machine) took 9 GB and seventy times as long on two CPUs.
 */
export function maxJobs(): number {
  return Math.max(4, 4 * availableParallelism());
}

function settle(options: ScanOptions): Settings {
  const ruleset = options.ruleset ?? builtinRuleset();
  const chunkSize = options.chunkSize ?? MiB;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  // One core is left to reading and inflating; the calling thread also matches whenever
  // every worker is busy, so no core idles and none is oversubscribed.
  const jobs = options.jobs ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(jobs) || jobs < 0) throw new RangeError(`jobs must be a whole number ≥ 0, got ${jobs}`);
  return {
    jobs: Math.min(jobs, maxJobs()),
    limits: resolveLimits(options.limits),
    ignore: options.ignore ?? [],
    ruleset,
    cwd: options.cwd ?? process.cwd(),
    chunkSize,
    overlap: chunkOverlap(ruleset),
    showSecrets: options.showSecrets ?? false,
    showNames: options.showNames ?? options.showSecrets ?? false,
    baseline: options.baseline ?? new Set(),
    exclude: options.exclude,
    progressIntervalMs: options.progressIntervalMs ?? 250,
    inlineBytes: options.inlineBytes ?? 32 * MiB,
    ruleTimeoutMs: options.ruleTimeoutMs ?? 30_000,
    untrusted: options.ruleset !== undefined && !isBuiltinOnly(options.ruleset),
  };
}

/**
 * Bytes of context a chunk of a large file is matched with on each side of the bytes it owns,
 * for `ruleset` (default: the built-in rules).
 */
export function chunkOverlap(ruleset: CompiledRuleset = builtinRuleset()): number {
  // A match owned here, the window around its keyword and the window's margin all fit, so no
  // chunk boundary changes a result.
  return 2 * ruleset.maxMatchLength + 2 * WINDOW_MARGIN;
}

function isBuiltinOnly(ruleset: CompiledRuleset): boolean {
  if (ruleset === builtinRuleset()) return true;
  const builtin = new Map(builtinRuleset().rules.map((r) => [r.id, r.source]));
  return ruleset.rules.every((r) => builtin.get(r.id) === r.source);
}

/**
 * Scans files, directories and archives for secrets. Yields findings and per-item errors as
 * they are found, `progress` now and then, and one `done` with the totals last.
 */
export function scan(inputs: readonly string[], options: ScanOptions = {}): AsyncGenerator<ScanEvent> {
  return scanEvents(inputs, options, new FoundSecrets());
}

/** `scan`, keeping in `found` the secrets of the findings reported or left out by the baseline. */
async function* scanEvents(inputs: readonly string[], options: ScanOptions, found: FoundSecrets): AsyncGenerator<ScanEvent> {
  const settings = settle(options);
  const queue = new AsyncQueue<ScanEvent>();
  const controller = new AbortController();
  const outer = options.signal;
  const onAbort = () => controller.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  const collect = options.collectFreshBuffers === true;
  if (collect) wantCollections(1);
  const producer = new Producer(settings, queue, controller.signal, options, found);
  const running = producer.run([...inputs]).finally(() => queue.close());
  const mask = settings.showNames ? undefined : textMask(producer.names, found);
  try {
    for await (const event of queue) yield mask === undefined ? event : maskEvent(event, mask);
  } finally {
    // Leaving early (break, throw, or a consumer stopping) must still stop workers and readers.
    controller.abort();
    await running;
    outer?.removeEventListener('abort', onAbort);
    if (collect) wantCollections(-1);
  }
}

/** Shortens what `names` finds in a text, and the secrets `found` holds so far. */
function textMask(names: NameMatcher | undefined, found: FoundSecrets): (text: string) => string {
  return names === undefined ? (text) => found.mask(text) : (text) => found.mask(names.mask(text));
}

/**
 * The event with every secret that `mask` shortens shortened in its paths and messages. Masked
 * as the events leave the scan, not where they are made: allowlists, baselines and the
 * bookkeeping of reported findings work on the paths as they are, and an error about an entry
 * is masked whether or not its name was matched first.
 */
function maskEvent(event: ScanEvent, mask: (text: string) => string): ScanEvent {
  switch (event.type) {
    case 'finding': {
      const f = event.finding;
      const path = mask(f.path);
      const title = mask(f.title);
      if (path === f.path && title === f.title) return event;
      const location = { ...f.location, artifact: mask(f.location.artifact), entry: f.location.entry.map((e) => mask(e)) };
      return { type: 'finding', finding: { ...f, path, title, location } };
    }
    case 'error': {
      const e = event.error;
      const path = mask(e.path);
      const message = mask(e.message);
      return path === e.path && message === e.message ? event : { type: 'error', error: { ...e, path, message } };
    }
    case 'progress': {
      const current = mask(event.current);
      return current === event.current ? event : { ...event, current };
    }
    case 'done':
      return event;
  }
}

/** A match placed in its file: absolute offsets, line and column. */
interface PlacedMatch {
  rule: number;
  start: number;
  end: number;
  line: number;
  column: number;
  utf16Column?: number;
  secret: string;
  encoding?: 'base64';
}

/**
 * Per-file bookkeeping: segments matched out of order still get exact lines and columns, and
 * a file's matches are held until its last segment so overlapping ones can be resolved. Past
 * what `maxFindings` needs, matches are counted, not held. Exported for tests only.
 */
export class FileState {
  private next = 0;
  private total = -1;
  /** Segments matched ahead of their turn; most files have one segment, and never need it. */
  private arrived: Map<number, { result: SegmentResult; contentStart: number }> | undefined;
  private readonly placed: PlacedMatch[] = [];
  private newlines = 0;
  private lastNewline = -1;
  /**
   * Matches held before the rest are only counted: twice the findings kept, as a secret that
   * two rules match is one finding once overlaps are resolved.
   */
  private readonly hold: number;
  /** End of the furthest match held once the hold was full; later matches before it are its rivals. */
  private heldEnd = -1;
  /** End of the last match counted past the hold: one overlapping it is the same finding. */
  private countedEnd = -1;
  /** Matches past the hold, counted and not kept, so memory stays bounded whatever a file holds. */
  unheld = 0;
  failed = false;
  /** Segments queued for matching so far. */
  queued = 0;
  /** Set once `close` has said how many segments there are. */
  closed = false;

  constructor(
    readonly chain: string[],
    private readonly complete: (state: FileState, matches: PlacedMatch[]) => void,
    maxFindings: number,
    /** The findings of the artifact the file belongs to, which takes the file's in its turn. */
    readonly artifact?: ArtifactFindings,
  ) {
    this.hold = 2 * maxFindings;
    artifact?.add(this);
  }

  /** Says how many segments the file has, once the last one is queued. */
  close(total: number): void {
    this.closed = true;
    this.total = total;
    this.settle();
  }

  deliver(seq: number, contentStart: number, result: SegmentResult): void {
    if (seq !== this.next) {
      (this.arrived ??= new Map()).set(seq, { result, contentStart });
      return;
    }
    this.place(result, contentStart);
    for (let item = this.arrived?.get(this.next); item; item = this.arrived?.get(this.next)) {
      this.arrived?.delete(this.next);
      this.place(item.result, item.contentStart);
    }
    this.settle();
  }

  /** Places the matches of the next segment in turn, which starts at `base` in the file. */
  private place(r: SegmentResult, base: number): void {
    this.next++;
    for (const m of r.matches) {
      const start = base + m.secretStart;
      if (this.placed.length >= this.hold && start >= this.heldEnd) {
        const end = base + m.secretEnd;
        if (start >= this.countedEnd) {
          this.unheld++;
          this.countedEnd = end;
        }
        continue;
      }
      const lastNl = m.lastNewline >= 0 ? base + m.lastNewline : this.lastNewline;
      const placed: PlacedMatch = { rule: m.rule, start, end: base + m.secretEnd, line: 1 + this.newlines + m.newlinesBefore, column: start - lastNl, secret: m.secret };
      if (m.utf16Column !== undefined) placed.utf16Column = m.utf16Column;
      if (m.encoding !== undefined) placed.encoding = m.encoding;
      this.placed.push(placed);
      // Rivals of a held match are held too, for overlaps to be resolved as without the cap.
      if (this.placed.length === this.hold) this.heldEnd = this.placed.reduce((end, p) => Math.max(end, p.end), -1);
    }
    this.newlines += r.newlines;
    if (r.lastNewline >= 0) this.lastNewline = base + r.lastNewline;
  }

  private settle(): void {
    if (this.next !== this.total) return;
    this.total = -1;
    this.complete(this, this.placed.splice(0));
  }
}

/** A file's findings once its overlaps are resolved, waiting for its turn among the artifact's files. */
interface Resolved {
  /** Its first findings, as many as it could keep: at most its own limit. */
  candidates: PlacedMatch[];
  /** Its findings, overlaps resolved, `candidates` included. */
  found: number;
  /** Its matches past what the file held, counted only. */
  unheld: number;
}

/** Findings held by files matched ahead of their turn, over every artifact still being matched. */
interface Backlog {
  candidates: number;
}

/**
 * The findings of one artifact, taken file by file in the order its files were read, whatever
 * order their chunks come back from the threads in: past `maxFindingsPerArtifact` the same
 * findings are kept on every run, and the rest are counted in one limit event once every file
 * is matched. A file matched ahead of its turn holds only what the artifact still has room for.
 * Exported for tests only.
 */
export class ArtifactFindings {
  /** Files in the order read, from `head` on those not yet taken. */
  private files: FileState[] = [];
  private head = 0;
  private readonly ready = new Map<FileState, Resolved>();
  /** Findings kept so far. */
  kept = 0;
  /** Findings past the artifact's limit, counted and not kept. */
  counted = 0;
  private ended = false;
  private done = false;

  constructor(
    readonly path: string,
    private readonly limits: Pick<ScanLimits, 'maxFindingsPerFile' | 'maxFindingsPerArtifact'>,
    /**
     * Reports the findings of a file, in order, until `room` of them are reported, and returns
     * how many count against the limit: those reported, and past `room` those that would have
     * been. A finding the baseline or an allowlist takes does not count, so that accepted test
     * fixtures never use up the room a new secret needs.
     */
    private readonly keep: (state: FileState, matches: readonly PlacedMatch[], room: number) => number,
    /** Takes a limit event. */
    private readonly event: (error: ScanError) => void,
    private readonly backlog: Backlog = { candidates: 0 },
  ) {}

  /** Registers a file as it starts being read: its findings are taken after those of every file registered before it. */
  add(state: FileState): void {
    this.files.push(state);
  }

  /** Takes a file's findings, overlaps resolved and in file order, once all of its segments are matched. */
  settle(state: FileState, found: PlacedMatch[]): void {
    // Only the file's own limit: how many of them the baseline and allowlists take is known once
    // they are reported, in the file's turn.
    const most = this.limits.maxFindingsPerFile;
    const candidates = found.length > most ? found.slice(0, most) : found;
    this.ready.set(state, { candidates, found: found.length, unheld: state.unheld });
    this.backlog.candidates += candidates.length;
    this.release(false);
  }

  /**
   * Says that the artifact has no more files; its event goes out once every file is matched.
   * With `force`, files never matched (a scan that failed) are passed over.
   */
  end(force = false): void {
    this.ended = true;
    this.release(force);
  }

  private release(force: boolean): void {
    while (this.head < this.files.length) {
      const state = this.files[this.head] as FileState;
      const resolved = this.ready.get(state);
      if (resolved === undefined && !force) break;
      this.head++;
      if (resolved === undefined) continue;
      this.ready.delete(state);
      this.backlog.candidates -= resolved.candidates.length;
      this.take(state, resolved);
    }
    if (this.head >= 1024 && 2 * this.head >= this.files.length) {
      this.files = this.files.slice(this.head);
      this.head = 0;
    }
    if (this.ended && !this.done && this.head === this.files.length) {
      this.done = true;
      const max = this.limits.maxFindingsPerArtifact;
      if (this.counted > 0) {
        const what = `artifact has more than ${countOf(max, 'finding', 'findings')}; ${keptAndCounted(max, this.counted)}`;
        this.event(limitStop([this.path], 'maxFindingsPerArtifact', what, String(max), 'artifact').event);
      }
    }
  }

  private take(state: FileState, resolved: Resolved): void {
    const { found, unheld, candidates } = resolved;
    const max = this.limits.maxFindingsPerFile;
    const room = this.room();
    const own = candidates.length;
    const counting = own > 0 ? this.keep(state, candidates, room) : 0;
    if (counting <= room) {
      this.kept += counting;
      const dropped = found - own + unheld;
      if (dropped > 0) {
        const what = `file has more than ${countOf(max, 'finding', 'findings')}; ${keptAndCounted(max, dropped)}`;
        this.event(limitStop(state.chain, 'maxFindingsPerFile', what, String(max), 'entry').event);
      }
      return;
    }
    // The artifact's limit is crossed in this file: the rest of its findings, those past its
    // own limit included, are counted in the artifact's event, and it gets none of its own.
    this.kept += room;
    this.counted += counting - room + (found - own) + unheld;
  }

  /** How many more findings the artifact may report. */
  room(): number {
    return Math.max(0, this.limits.maxFindingsPerArtifact - this.kept);
  }

  /** Counts a finding reported outside a file's matches (a name's): kept while there is room, else counted. */
  note(kept: boolean): void {
    if (kept) this.kept++;
    else this.counted++;
  }
}

interface Owner {
  file: FileState;
  seq: number;
  contentStart: number;
}

const EMPTY_RESULT: SegmentResult = { matches: [], newlines: 0, lastNewline: -1, suppressed: 0 };

/** What `secretsInName` finds in nearly every name. */
const NONE_FOUND: readonly { match: NameMatch; end: number }[] = [];

class Producer {
  private readonly stats: ScanStats = { artifacts: 0, files: 0, bytes: 0, durationMs: 0 };
  private readonly started = performance.now();
  private lastProgress = performance.now();
  private current = '';
  /** `SourceArtifact.name` of the artifact being read. */
  private artifactName = '';
  /**
   * Artifacts an input names itself (`scan pkg-1.0.0.tgz`, as `publish` scans what it
   * uploads). Only a member of one of these, as the package about to ship, is also allowlisted
   * by its path below the package's top directory: an archive found in a scanned directory may
   * be another package that the scanned one ships (a vendored or fixture tarball, also at the
   * directory's top), whose `test/` is not the scanned package's, and so may an archive nested
   * in another.
   */
  private readonly topArtifacts = new Set<string>();
  private matcher: Matcher | undefined;
  private bulkReader: BulkReader | undefined;
  private pool: WorkerPool | undefined;
  private inlineSoFar = 0;
  /** Streams being inflated on Node's thread pool right now (`SourceOptions.onInflating`). */
  private inflating = 0;
  /** CPUs this process may use: with none left over, workers only take turns with this thread. */
  private readonly cores = availableParallelism();
  /** Set once every item has been handled: what is left is one batch, too little to share. */
  private enumerated = false;
  /** Milliseconds this thread spent on work that workers could share (matching, bulk reads). */
  private shareableMs = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private batch: { buffer: Buffer; used: number; segments: BatchSegment[]; owners: Owner[] } | undefined;
  private readonly batchCapacity: number;
  private readonly maxInFlight: number;
  private readonly pathRules: PathRules;
  /** Batch buffers matched and handed back, reused so a long scan does not churn megabytes. */
  private readonly spare: ArrayBuffer[] = [];
  /** Rules the watchdog stopped, reported once each. */
  private readonly stoppedRules = new Set<number>();
  /**
   * Findings reported so far (fingerprint, path and offset): two entries of one archive under
   * one name (a file appended again with `tar -r`) would report the same secret at the same
   * place twice.
   */
  private readonly reported = new Set<string>();
  /** Path-only findings already reported (rule and path), so a directory is reported once. */
  private readonly reportedPaths = new Set<string>();
  /** The layout of each archive of the artifact being read, for its package root. */
  private readonly roots = new PackageRoots();
  /**
   * Path and structure findings on archive members, held until the artifact is read: whether
   * their archive has a package root to leave out of the fingerprint is known only once every
   * entry is seen (npm writes `package.json` after the files).
   */
  private heldPaths: ({ index: number; chain: string[]; reported: string; digest?: string } | SourceStructure)[] = [];
  /**
   * Findings the allowlist leaves out only by their path below their archive's first directory,
   * held until it is known whether that directory is the package root (`top`).
   */
  private heldExcluded: { finding: Finding; chain: string[]; top: string; key: string; secret: string }[] = [];
  /** Takes a file's matches once all its segments are matched; one function for every file. */
  private readonly fileDone = (state: FileState, matches: PlacedMatch[]): void => state.artifact?.settle(state, this.resolve(matches));
  /** Reports the findings a file keeps; one function for every artifact. */
  private readonly keepFindings = (state: FileState, matches: readonly PlacedMatch[], room: number): number => this.emitMatches(state, matches, room);
  /** Reports a limit event on findings; one function for every artifact. */
  private readonly findingsEvent = (error: ScanError): void => this.queue.push({ type: 'error', error });
  /** Findings of the artifact being read, kept in its files' order and counted against its limit. */
  private findings: ArtifactFindings | undefined;
  /** Findings held by files matched ahead of their turn, in every artifact. */
  private readonly backlog: Backlog = { candidates: 0 };
  /** Matches file and entry names (see `secretsInName`); undefined when no rule is matched against names. */
  readonly names: NameMatcher | undefined;
  /**
   * The directory of the last name matched in each directory input and archive (keyed by what
   * holds it), with its trailing separator: see `secretsInName`.
   */
  private readonly lastDirectories = new Map<string, string>();

  constructor(
    private readonly settings: Settings,
    private readonly queue: AsyncQueue<ScanEvent>,
    private readonly signal: AbortSignal,
    private readonly options: ScanOptions,
    /** Where the secrets of the findings reported or left out by the baseline are kept. */
    private readonly found: FoundSecrets,
  ) {
    if (options.baseline !== undefined) this.stats.baselined = 0;
    this.batchCapacity = settings.chunkSize + 2 * settings.overlap;
    // Two batches per worker (one running, one queued) plus one: only a batch built while
    // every worker has one queued is matched by this thread, and without the extra slot the
    // cap stopped this thread before it could ever build one.
    this.maxInFlight = Math.max(2, settings.jobs * 2) + 1;
    this.pathRules = new PathRules(settings.ruleset);
    const names = nameMatcherFor(settings.ruleset);
    this.names = names.empty ? undefined : names;
  }

  async run(inputs: string[]): Promise<void> {
    try {
      const items = enumerate(inputs, {
        cwd: this.settings.cwd,
        stdin: this.options.stdin,
        limits: this.settings.limits,
        ignore: this.settings.ignore,
        tmpDir: this.options.tmpDir,
        signal: this.signal,
        diskFiles: this.options.bulkDirectories ?? true,
        onInflating: (delta) => {
          this.inflating += delta;
        },
        ...(this.options.select ? { select: this.options.select } : {}),
        ...(this.options.onlyFiles ? { onlyFiles: this.options.onlyFiles } : {}),
      });
      for await (const item of items) {
        // A file handed on after the stop holds bytes read before it (standard input shorter than
        // the look-ahead that tells its kind, cut off by Ctrl-C): they are matched, as an
        // interrupted scan reports what it read, and its source reads nothing more.
        if (this.signal.aborted && item.kind !== 'file') break;
        await this.handle(item);
      }
      this.enumerated = true;
      this.flush();
      await Promise.all(this.inFlight);
    } catch (error) {
      this.queue.push({ type: 'error', error: { path: this.current, kind: 'internal', message: messageOf(error) } });
    } finally {
      await this.pool?.close();
    }
    this.releasePaths();
    // Every batch is matched by now, unless the scan failed: files left unmatched are passed over.
    this.findings?.end(true);
    if (this.signal.aborted && this.options.signal?.aborted) {
      this.queue.push({ type: 'error', error: { path: this.current, kind: 'interrupted', message: 'scan interrupted before it finished: the results are incomplete' } });
    }
    this.stats.durationMs = Math.round(performance.now() - this.started);
    this.queue.push({ type: 'done', stats: { ...this.stats } });
  }

  private async handle(item: SourceItem): Promise<void> {
    switch (item.kind) {
      case 'artifact':
        this.releasePaths();
        this.findings?.end();
        this.findings = this.newArtifact(item.path);
        this.stats.artifacts++;
        this.current = item.path;
        this.artifactName = item.name;
        if (item.named === true) this.topArtifacts.add(item.path);
        this.matchTopName(item.path, item.name);
        break;
      case 'entry':
        this.matchEntryName(item);
        break;
      case 'link':
        this.matchTopName(item.path, item.name);
        break;
      case 'error':
        this.queue.push({ type: 'error', error: item.error });
        break;
      case 'structure':
        this.structureFinding(item);
        break;
      case 'file':
        await this.readFile(item);
        break;
      case 'disk-files':
        this.releasePaths();
        this.findings?.end();
        this.findings = undefined;
        await this.readDiskFiles(item);
        break;
      case 'batch': {
        const withKeywords = this.entryNamesWithKeywords(item.items);
        let entry = 0;
        for (const inner of item.items) {
          // Half the items of an archive's batch are names: taken here, without a promise each.
          if (inner.kind === 'entry') {
            if (withKeywords?.[entry++] === 1) this.matchEntryName(inner);
            continue;
          }
          if (inner.kind !== 'file') {
            await this.handle(inner);
            continue;
          }
          const reading = this.readFile(inner);
          if (reading !== undefined) await reading;
          this.maybeProgress();
        }
        break;
      }
    }
    this.maybeProgress();
  }

  /**
   * Reads and matches a directory's files on this thread and, once workers pay for themselves,
   * on the workers too, each thread claiming the next file. Rules from a config file run only
   * on watched workers, so with them this thread claims nothing. Files left over (archives,
   * large or unreadable files, those of a worker that died or was stopped) are then read the
   * usual way.
   */
  private async readDiskFiles(item: SourceDiskFiles): Promise<void> {
    const { files } = item;
    const { untrusted, ruleset } = this.settings;
    // The walk's estimate can tell at once that workers pay: they then start loading now, while
    // this thread checks paths and starts reading (the 1 GB benchmark tree's worker used to
    // start after 64 files read, 30–50 ms later, and took another 30–45 ms to load).
    this.startWorkersFor(() => item.estimateBytes());
    const allVerdicts = files.map((f) => this.pathRules.check(f.display));
    // A file a rule flags by its name is fingerprinted with a digest of its bytes, which a bulk
    // read does not hand back: such files (a handful at most) are left to the usual path.
    const bulk = files.flatMap((f, i) => (this.namedFiles(allVerdicts[i]?.pathOnly ?? [], f.display).length > 0 ? [] : [i]));
    const bulkFiles = bulk.map((i) => files[i] as DiskFileRef);
    const verdicts = bulk.map((i) => allVerdicts[i] as PathVerdict);
    // The names worth matching, found in one pass: most hold no keyword of a rule for names.
    const withKeywords = this.names?.withKeywords(bulkFiles.map((f) => f.rel));
    const { chunkSize, overlap, limits } = this.settings;
    // Files the usual path would match as one segment, and that no limit would cut short.
    const cap = Math.min(chunkSize + overlap - 1, limits.maxEntryBytes, limits.maxArtifactBytes);
    const job = bulkJob(
      // A path a string cannot name is left to the usual path, which opens it by its bytes.
      bulkFiles.map((f) => (f.raw ? '' : f.abs)),
      verdicts.map((v) => (v.gated.length > 0 ? v.gated : null)),
      cap,
    );
    const handled = new Uint8Array(bulkFiles.length);
    const pathOnly = verdicts.map((v) => v.pathOnly);
    // Once every file's claim has come back, the scan moves on without waiting for workers
    // still starting up: they will find nothing left to claim.
    let accounted = 0;
    let allAccounted: () => void = () => undefined;
    const accountedFor = new Promise<void>((resolve) => (allAccounted = resolve));
    const onPart = (part: BulkPart) => {
      this.bulkPart(bulkFiles, pathOnly, handled, part, withKeywords);
      accounted += part.results.length;
      if (accounted >= bulkFiles.length) allAccounted();
      this.maybeProgress();
    };
    let shares: Promise<void>[] | undefined;
    let completed = false;
    const stop = () => stopBulk(job);
    this.signal.addEventListener('abort', stop, { once: true });
    if (this.signal.aborted) stop();
    try {
      if (untrusted) {
        // Rules from a config file run only where the watchdog can stop them, `jobs: 0` included.
        shares = this.workers().share(job, onPart);
      } else {
        this.matcher ??= new Matcher(ruleset);
        this.bulkReader ??= new BulkReader(this.matcher);
        // Files and bytes this thread has read of this directory, to estimate what is left.
        let ownFiles = 0;
        const inlineBefore = this.inlineSoFar;
        while (!this.signal.aborted) {
          const sampled = ownFiles >= ESTIMATE_SAMPLE_FILES;
          shares ??= this.shareBulk(job, onPart, sampled ? ((this.inlineSoFar - inlineBefore) / ownFiles) * (files.length - ownFiles) : 0);
          const claimed = performance.now();
          const part = this.bulkReader.next(job);
          this.shareableMs += performance.now() - claimed;
          if (!part) break;
          for (const n of part.bytes) this.inlineSoFar += n;
          ownFiles += part.indices.length;
          onPart(part);
          // Lets worker replies, progress and an interrupt through between claims.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      completed = true;
    } finally {
      this.signal.removeEventListener('abort', stop);
      // Gone wrong here: the workers must not go on claiming what nobody will collect.
      if (!completed) stopBulk(job);
      // A worker that died or was stopped leaves its claim unaccounted for; the usual path below reads it.
      if (shares) {
        await Promise.race([accountedFor, Promise.allSettled(shares)]);
        for (const share of shares) share.catch((error: unknown) => this.bulkFailed(error, item));
      }
      // Workers still starting up find nothing to claim.
      stopBulk(job);
    }
    if (this.signal.aborted) return;
    const bulked = new Set(bulkFiles.filter((_, i) => handled[i] === 1));
    const left = files.filter((f) => !bulked.has(f));
    if (left.length > 0) for await (const inner of item.read(left)) await this.handle(inner);
  }

  /**
   * Starts the workers ahead of the batches that would start them, when the bytes known to be
   * waiting (`left`, asked for only then: a directory's estimate stats files) make them pay.
   * Rules from a config file start them with their first batch anyway.
   */
  private startWorkersFor(left: () => number): void {
    const { jobs, untrusted } = this.settings;
    if (jobs > 0 && !untrusted && this.pool === undefined && this.workersPay(left())) this.workers();
  }

  /**
   * Starts the workers on a bulk job once they pay for themselves: this scan has matched
   * enough, or the job's files not yet read (`left`, bytes estimated from those read so far)
   * are enough by themselves.
   */
  private shareBulk(job: BulkJob, onPart: (part: BulkPart) => void, left: number): Promise<void>[] | undefined {
    if (this.settings.jobs === 0 || !this.workersPay(left)) return undefined;
    return this.workers().share(job, onPart);
  }

  /**
   * Takes the results of one claim: the files read in full are done; the others are left for
   * later. `withKeywords` says which files' names are worth matching (see `NameMatcher`).
   */
  private bulkPart(files: readonly DiskFileRef[], pathOnly: number[][], handled: Uint8Array, part: BulkPart, withKeywords: Uint8Array | undefined): void {
    part.results.forEach((result, k) => {
      const i = part.indices[k] as number;
      const file = files[i];
      if (result === null || file === undefined) return;
      handled[i] = 1;
      this.stats.artifacts++;
      this.stats.files++;
      this.stats.bytes += part.bytes[k] ?? 0;
      this.current = file.display;
      if (withKeywords?.[i] === 1) this.matchTopName(file.display, file.rel);
      for (const index of pathOnly[i] ?? []) this.pathFinding(index, [file.display], file.display, file.rel);
      if (result.matches.length === 0) return;
      // Each file of a directory is an artifact of its own.
      const artifact = this.newArtifact(file.display);
      const state = new FileState([file.display], this.fileDone, this.settings.limits.maxFindingsPerFile, artifact);
      state.deliver(0, 0, result);
      state.close(1);
      artifact.end();
    });
  }

  private maybeProgress(): void {
    const interval = this.settings.progressIntervalMs;
    if (interval <= 0) return;
    const now = performance.now();
    if (now - this.lastProgress < interval) return;
    this.lastProgress = now;
    this.queue.push({ type: 'progress', stats: { ...this.stats, durationMs: Math.round(now - this.started) }, current: this.current });
  }

  /**
   * Cuts a file into owned chunks with context on both sides and queues them for matching.
   * Returns undefined when it is done at once: a file held whole that fits one segment, while
   * batches can still be sent, costs no promise (a package has thousands of them).
   */
  private readFile(file: SourceFile): Promise<void> | undefined {
    // Past the artifact's time limit no further file of it is read (the source then says where it stopped).
    if (file.overdue?.(0) === true) return undefined;
    this.stats.files++;
    const inner = file.chain[file.chain.length - 1] ?? '';
    if (file.chain.length > 1) this.roots.note(file.chain);
    const { pathOnly, gated } = this.pathRules.check(inner);
    const name = file.chain.length === 1 ? this.artifactName : undefined;
    const named = this.namedFiles(pathOnly, inner);
    for (const index of pathOnly) if (!named.includes(index)) this.pathFinding(index, file.chain, inner, name);
    // Findings on the file's own name wait for its bytes: their fingerprint holds a digest of them.
    const hash = named.length > 0 ? sha256Hash() : undefined;
    const hashed = hash && (() => {
      const digest = hash.digest('hex');
      for (const index of named) this.pathFinding(index, file.chain, inner, name, digest);
    });
    const state = new FileState(file.chain, this.fileDone, this.settings.limits.maxFindingsPerFile, this.findings ?? this.artifactOf(file.chain));
    const { chunkSize: size, overlap } = this.settings;
    const whole = file.whole;
    if (whole === undefined || whole.length >= size + overlap) return this.readSlices(file, state, gated, hash, hashed);
    // One segment, as readSlices would cut it.
    this.stats.bytes += whole.length;
    hash?.update(whole);
    if (whole.length === 0) {
      hashed?.();
      state.close(0);
      return undefined;
    }
    const spec = { ownedStart: 0, ownedEnd: whole.length, atFileStart: true, atFileEnd: true, gated };
    const done = () => {
      hashed?.();
      file.recycle?.(whole);
      state.close(1);
    };
    const waiting = this.addSegment([whole], 0, whole.length, spec, { file: state, seq: 0, contentStart: 0 });
    if (waiting !== undefined) return waiting.then(done);
    done();
    return undefined;
  }

  /**
   * Reads a file in chunks; `hash` takes every byte read, and `hashed` is called once the file is
   * read, or its read failed (the finding on its name is still reported, with what was read).
   */
  private async readSlices(file: SourceFile, state: FileState, gated: number[], hash?: Hash, hashed?: () => void): Promise<void> {
    try {
      await this.readSlicesOf(file, state, gated, hash);
    } finally {
      hashed?.();
      // The artifact takes its files' findings in turn: a file must say when it is done, even empty or cut short.
      if (!state.closed) state.close(state.queued);
    }
  }

  private async readSlicesOf(file: SourceFile, state: FileState, gated: number[], hash: Hash | undefined): Promise<void> {
    const { chunkSize: size, overlap } = this.settings;
    // A file whose size alone makes workers pay starts them now, while this thread reads and
    // matches its first chunks: waiting until inlineBytes had been matched started the worker
    // about 150 ms into a 225 MB file, and it then took some 100 ms more to match anything.
    const known = file.size;
    if (known !== undefined) this.startWorkersFor(() => known);
    const parts: Uint8Array[] = [];
    let base = 0; // file offset of parts[0][0]
    let have = 0; // bytes held in parts
    let k = 0; // next chunk to emit
    const contentStart = (i: number) => Math.max(0, i * size - overlap);
    // Whether block `k` may still be matched, asked once there is room to queue it: the
    // artifact's time limit is checked between blocks, as matching a file of dense keywords
    // took far longer than reading it, which is where the sources check it.
    const inTime = async (length: number): Promise<boolean> => {
      const room = this.makeRoom(length);
      if (room !== undefined) await room;
      return file.overdue?.(k * size) !== true;
    };
    let stopped = false;
    for await (const slice of file.bytes) {
      if (slice.length === 0) continue;
      this.stats.bytes += slice.length;
      hash?.update(slice);
      parts.push(slice);
      have += slice.length;
      while (base + have >= (k + 1) * size + overlap) {
        const start = contentStart(k);
        const end = (k + 1) * size + overlap;
        if (!(await inTime(end - start))) {
          stopped = true;
          break;
        }
        this.copySegment(parts, start - base, end - start, { ownedStart: k * size - start, ownedEnd: (k + 1) * size - start, atFileStart: start === 0, atFileEnd: false, gated }, { file: state, seq: k, contentStart: start });
        k++;
        // Keep only what the next chunk needs; the rest is copied into batches already.
        const keepFrom = contentStart(k);
        while (parts.length > 0 && base + (parts[0]?.length ?? 0) <= keepFrom) {
          const dropped = parts.shift() as Uint8Array;
          base += dropped.length;
          have -= dropped.length;
          file.recycle?.(dropped);
        }
      }
      this.maybeProgress();
      if (stopped) break;
    }
    const start = contentStart(k);
    const end = base + have;
    if (end === 0) return;
    if (stopped || !(await inTime(end - start))) {
      // Bytes from block k on were read and not matched: the event says the file stopped there.
      this.stats.bytes -= end - Math.min(end, k * size);
      state.close(k);
      return;
    }
    this.copySegment(parts, start - base, end - start, { ownedStart: k * size - start, ownedEnd: end - start, atFileStart: start === 0, atFileEnd: true, gated }, { file: state, seq: k, contentStart: start });
    for (const part of parts) file.recycle?.(part);
    state.close(k + 1);
  }

  /**
   * Copies a segment into the batch being built. Only while too many batches are in flight does
   * it wait, and return the promise of its copy; else it copies at once and returns undefined.
   */
  private addSegment(parts: Uint8Array[], skip: number, length: number, spec: Omit<BatchSegment, 'offset' | 'length'>, owner: Owner): Promise<void> | undefined {
    const room = this.makeRoom(length);
    if (room !== undefined) return room.then(() => this.copySegment(parts, skip, length, spec, owner));
    this.copySegment(parts, skip, length, spec, owner);
    return undefined;
  }

  /**
   * Makes room for a segment of `length` bytes: sends the batch being built when the segment
   * does not fit it, then waits while a segment must (`mustWait`). Undefined when there is room
   * at once; `copySegment` may then follow, with no wait in between.
   */
  private makeRoom(length: number): Promise<void> | undefined {
    if (this.batch && (this.batch.used + length > this.batch.buffer.length || this.batch.segments.length >= MAX_BATCH_SEGMENTS)) this.flush();
    return this.mustWait() ? this.waitForRoom() : undefined;
  }

  private async waitForRoom(): Promise<void> {
    while (this.mustWait()) {
      if (this.inFlight.size === 0) {
        // Findings wait for a file whose segments are still in the batch being built.
        this.flush();
        if (this.inFlight.size === 0) break;
      }
      await Promise.race(this.inFlight);
    }
  }

  /**
   * Whether the next segment must wait: too many batches are in flight, or files matched ahead
   * of an earlier one hold more findings than an artifact keeps (they wait for its turn, and
   * reading on would only add to them while that one is still being matched).
   */
  private mustWait(): boolean {
    return this.inFlight.size >= this.maxInFlight || this.backlog.candidates > this.settings.limits.maxFindingsPerArtifact;
  }

  private copySegment(parts: Uint8Array[], skip: number, length: number, spec: Omit<BatchSegment, 'offset' | 'length'>, owner: Owner): void {
    if (!this.batch) {
      const reused = length <= this.batchCapacity ? this.spare.pop() : undefined;
      const buffer = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(Math.max(this.batchCapacity, length));
      this.batch = { buffer, used: 0, segments: [], owners: [] };
    }
    const batch = this.batch;
    let written = 0;
    let offset = skip;
    for (const part of parts) {
      if (written === length) break;
      if (offset >= part.length) {
        offset -= part.length;
        continue;
      }
      const take = Math.min(part.length - offset, length - written);
      batch.buffer.set(part.subarray(offset, offset + take), batch.used + written);
      written += take;
      offset = 0;
    }
    batch.segments.push({ offset: batch.used, length, ...spec });
    batch.owners.push(owner);
    batch.used += length;
    owner.file.queued++;
  }

  private flush(): void {
    const current = this.batch;
    this.batch = undefined;
    if (!current || current.segments.length === 0) return;
    const batch: Batch = { buffer: current.buffer.buffer as ArrayBuffer, segments: current.segments };
    const owners = current.owners;
    const bytes = current.used;
    const task = this.execute(batch, bytes).then(
      (results) => owners.forEach((o, i) => o.file.deliver(o.seq, o.contentStart, results[i] ?? EMPTY_RESULT)),
      (error: unknown) => this.batchFailed(error, owners, bytes),
    );
    const tracked = task.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /**
   * Reports what the watchdog stopped: a rule (once: it is disabled from then on), or work that
   * ran long outside any rule. `after` says what became of the work.
   */
  private ruleStopped(error: RuleTimeoutError, where: string, what: string, after?: string): void {
    const tail = after ? `; ${after}` : '';
    let message: string;
    if (error.ruleIndex < 0) {
      message = `${what} took more than ${error.ms / 1000} s outside any rule and was stopped${tail}`;
    } else {
      if (this.stoppedRules.has(error.ruleIndex)) return;
      this.stoppedRules.add(error.ruleIndex);
      const rule = this.settings.ruleset.rules[error.ruleIndex];
      message = `rule '${rule?.id ?? error.ruleIndex}' took more than ${error.ms / 1000} s on ${what} and was stopped (its regex probably backtracks catastrophically); it is disabled for the rest of this scan${tail}`;
    }
    this.queue.push({ type: 'error', error: { path: where, kind: 'rule-error', message } });
  }

  /** A worker's share of a bulk read ended early; its files are read again the usual way. */
  private bulkFailed(error: unknown, item: SourceDiskFiles): void {
    if (error instanceof RuleTimeoutError) this.ruleStopped(error, item.path, 'a few files of this directory', 'they were read again');
  }

  private async batchFailed(error: unknown, owners: Owner[], bytes: number): Promise<void> {
    if (error instanceof RuleTimeoutError) {
      this.ruleStopped(error, owners[0] ? joinChain(owners[0].file.chain) : this.current, 'one chunk');
      if (error.batch) {
        // Same bytes again, now without the runaway rule.
        try {
          const results = await this.execute(error.batch, bytes);
          owners.forEach((o, i) => o.file.deliver(o.seq, o.contentStart, results[i] ?? EMPTY_RESULT));
          return;
        } catch (again) {
          error = again;
        }
      }
    }
    for (const o of owners) {
      if (!o.file.failed) {
        o.file.failed = true;
        const kind = error instanceof RuleTimeoutError ? 'rule-error' : 'internal';
        this.queue.push({ type: 'error', error: { path: joinChain(o.file.chain), kind, message: `not fully scanned: ${messageOf(error)}` } });
      }
      o.file.deliver(o.seq, o.contentStart, EMPTY_RESULT);
    }
  }

  /**
   * Whether workers, once started, would pay for their start-up (see `ScanOptions.inlineBytes`).
   * `left`: bytes known to be waiting for a thread (a directory's files not yet read).
   */
  private workersPay(left = 0): boolean {
    const { inlineBytes } = this.settings;
    if (this.pool !== undefined || inlineBytes === 0) return true;
    if (this.enumerated) return false;
    // This thread and each stream zlib inflates on the thread pool keep a core busy; workers
    // would only take turns with them. On two cores a worker made a 100 MB tarball 10% slower.
    if (this.cores - 1 - this.inflating < 1) return false;
    // A directory's files not yet read, enough by themselves: waiting for inlineBytes to be
    // matched and for matching to take half of the time (start-up and walk included) started
    // the 1 GB benchmark tree's worker 140 ms into the directory. The estimate can still miss
    // by 3× (date-fns, 11 MB, looks like 18–37 MB after 64 to 192 files): hence twice inlineBytes.
    if (left >= 2 * inlineBytes) return true;
    return this.inlineSoFar >= inlineBytes && this.shareableMs >= 0.5 * (performance.now() - this.started);
  }

  private async execute(batch: Batch, bytes: number): Promise<SegmentResult[]> {
    const { jobs, ruleset, untrusted } = this.settings;
    // Rules from a config file may hang; only a worker can be stopped, so they never run inline,
    // not even with `jobs: 0` (one worker then): a busy calling thread cannot even take a signal.
    // Otherwise the calling thread matches while workers would not pay for themselves and,
    // later, any batch that would only wait for a busy worker.
    const inline = !untrusted && (jobs === 0 || !this.workersPay() || this.pool?.saturated === true);
    if (inline) {
      this.inlineSoFar += bytes;
      this.matcher ??= new Matcher(ruleset);
      const matching = performance.now();
      const results = matchBatch(this.matcher, batch);
      this.shareableMs += performance.now() - matching;
      this.recycle(batch.buffer);
      return results;
    }
    return this.workers().run(batch);
  }

  /** The worker pool, started on first use. Batches are kept for a retry with rules from a config file. */
  private workers(): WorkerPool {
    const { jobs, ruleset, ruleTimeoutMs, untrusted } = this.settings;
    this.pool ??= new WorkerPool(ruleset, {
      size: Math.max(1, jobs),
      timeoutMs: ruleTimeoutMs,
      keepBatches: untrusted,
      recycle: (b) => this.recycle(b),
      ...(this.options.onWorkerStart ? { onStart: this.options.onWorkerStart } : {}),
    });
    return this.pool;
  }

  private recycle(buffer: ArrayBuffer): void {
    // Only full-size buffers are worth keeping, and a few are enough to cover what is in flight.
    if (buffer.byteLength === this.batchCapacity && this.spare.length < this.maxInFlight + 1) this.spare.push(buffer);
  }

  /** Findings of a new artifact, taken in its files' order and counted against its limit. */
  private newArtifact(path: string): ArtifactFindings {
    return new ArtifactFindings(path, this.settings.limits, this.keepFindings, this.findingsEvent, this.backlog);
  }

  /** Findings of the artifact a file read outside any artifact's marker belongs to (every source gives one): its own. */
  private artifactOf(chain: readonly string[]): ArtifactFindings {
    this.findings = this.newArtifact(chain[0] ?? '');
    return this.findings;
  }

  /** A file's matches, in order, with the overlapping ones resolved: one finding each. */
  private resolve(matches: PlacedMatch[]): PlacedMatch[] {
    if (matches.length === 0) return matches;
    const rules = this.settings.ruleset.rules;
    const known = matches.filter((m) => rules[m.rule] !== undefined);
    return dropOverlapping(known, (m) => [m.start, m.end], (m) => rules[m.rule] as CompiledRule);
  }

  /**
   * Matches the name of a top-level artifact: `name`, its path below the scanned directory (or
   * its base name when given directly), which `path` ends with. The input's own path above it is
   * not the package's, and a secret there is a finding of no file the package ships.
   */
  private matchTopName(path: string, name: string): void {
    if (this.names === undefined) return;
    const above = path.endsWith(name) ? path.slice(0, path.length - name.length) : undefined;
    for (const { match, end } of this.secretsInName(above ?? path, name)) this.nameFinding(match, [above === undefined ? path : above + name.slice(0, end)]);
  }

  /**
   * For each entry name among `items`, in order, whether it is worth matching: found in one
   * pass, as most hold no keyword of a rule for names.
   */
  private entryNamesWithKeywords(items: SourceBatch['items']): Uint8Array | undefined {
    if (this.names === undefined) return undefined;
    const names: string[] = [];
    for (const item of items) if (item.kind === 'entry') names.push(item.chain[item.chain.length - 1] ?? '');
    return this.names.withKeywords(names);
  }

  /** Matches an archive member's name, the last of its `chain`. */
  private matchEntryName(item: SourceEntry): void {
    if (this.names === undefined) return;
    const { chain } = item;
    const name = chain[chain.length - 1] ?? '';
    const container = chain.length === 2 ? (chain[0] as string) : chain.slice(0, -1).join('\0');
    for (const { match, end } of this.secretsInName(container, name)) this.nameFinding(match, [...chain.slice(0, -1), name.slice(0, end)]);
  }

  /**
   * The secrets the name rules find in `name` (a path below a scanned directory, or an archive
   * entry's name as the archive stores it), each with where the name of the file or directory
   * holding it ends. The directory `name` shares with the last name matched in the same
   * `container` was matched with that one, so a directory is matched once, not once per file
   * below it; files come sorted, so nearly every name shares it.
   */
  private secretsInName(container: string, name: string): readonly { match: NameMatch; end: number }[] {
    const names = this.names;
    if (names === undefined) return NONE_FOUND;
    const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1;
    const last = this.lastDirectories.get(container);
    let from = 0;
    if (last !== undefined && last.length === cut && name.startsWith(last)) from = cut;
    else {
      if (last !== undefined) {
        // Another directory: what it shares with the last one, up to a separator, was matched.
        const n = Math.min(last.length, cut);
        let same = 0;
        while (same < n && last.charCodeAt(same) === name.charCodeAt(same)) same++;
        from = lastSeparator(name, same) + 1;
      }
      this.lastDirectories.set(container, name.slice(0, cut));
    }
    const found = names.find(name, from);
    return found.length === 0 ? NONE_FOUND : found.map((match) => ({ match, end: nextSeparator(name, match.end) }));
  }

  /** Reports a secret found in a name, on the file or directory `chain` names. */
  private nameFinding(match: NameMatch, chain: string[]): void {
    const rule = this.settings.ruleset.rules[match.rule];
    if (!rule) return;
    // Within the artifact's limit too: an archive of 100 000 entries named after tokens is no
    // more a reason to hold 100 000 findings than a file of them is.
    const artifact = this.findings !== undefined && this.findings.path === chain[0] ? this.findings : undefined;
    const room = artifact?.room() ?? Number.POSITIVE_INFINITY;
    const counts = this.pushFinding(
      {
        ruleId: rule.id,
        title: rule.title,
        severity: rule.severity,
        confidence: rule.confidence,
        chain,
        line: 1,
        column: 1,
        byteOffset: 0,
        secret: match.secret,
        // Not the fingerprint of the same secret in a file's content: a baseline that accepts
        // one (a test fixture's token) does not accept the other.
        value: `name\0${fingerprintValue(rule, match.secret)}`,
        in: 'name',
      },
      room <= 0,
    );
    if (counts) artifact?.note(room > 0);
  }

  /** Reports `matches` until `room` are reported, and returns how many count: see `ArtifactFindings`'s `keep`. */
  private emitMatches(state: FileState, matches: readonly PlacedMatch[], room = Number.POSITIVE_INFINITY): number {
    const rules = this.settings.ruleset.rules;
    let counting = 0;
    for (const m of matches) {
      const rule = rules[m.rule] as CompiledRule;
      const value = fingerprintValue(rule, m.secret);
      const counts = this.pushFinding(
        {
          ruleId: rule.id,
          title: rule.title,
          severity: rule.severity,
          confidence: rule.confidence,
          chain: state.chain,
          line: m.line,
          column: m.column,
          ...(m.utf16Column === undefined ? {} : { utf16Column: m.utf16Column }),
          byteOffset: m.start,
          secret: m.secret,
          value,
          // Baselines made before a key's body was taken without its escapes and line breaks.
          ...(value === m.secret ? {} : { formerValue: m.secret }),
          ...(m.encoding === undefined ? {} : { encoding: m.encoding }),
        },
        counting >= room,
      );
      if (counts) counting++;
    }
    return counting;
  }

  /**
   * A finding on a file's path. `name` names a top-level file whatever directory it was found
   * in (`SourceArtifact.name`): the fingerprint is taken from it rather than from the path shown.
   */
  private pathFinding(index: number, chain: string[], inner: string, name?: string, digest?: string): void {
    const rule = this.settings.ruleset.rules[index];
    if (!rule) return;
    const reported = pathFindingTarget(rule, inner);
    const at = [...chain.slice(0, -1), reported];
    const key = `${rule.id}\0${at.join('\0')}`;
    if (this.reportedPaths.has(key)) return;
    this.reportedPaths.add(key);
    if (name === undefined && chain.length > 1) {
      this.heldPaths.push({ index, chain: at, reported, ...(digest === undefined ? {} : { digest }) });
      return;
    }
    this.pushPathFinding(rule, at, name === undefined ? reported : pathFindingTarget(rule, name), undefined, digest);
  }

  /**
   * The rules of `pathOnly` that flag the file `path` itself, not a directory above it: their
   * findings are fingerprinted with the file's content too.
   */
  private namedFiles(pathOnly: readonly number[], path: string): number[] {
    if (pathOnly.length === 0) return [];
    const rules = this.settings.ruleset.rules;
    return pathOnly.filter((index) => {
      const rule = rules[index];
      return rule !== undefined && pathFindingTarget(rule, path) === path;
    });
  }

  /** Reports the findings held for the artifact just read, now that its archives' roots are known. */
  private releasePaths(): void {
    const held = this.heldPaths;
    this.heldPaths = [];
    for (const h of held) {
      if ('kind' in h) {
        this.pushStructureFinding(h);
        continue;
      }
      const rule = this.settings.ruleset.rules[h.index];
      if (rule) this.pushPathFinding(rule, h.chain, h.reported, this.roots.rootOf(h.chain), h.digest);
    }
    const excluded = this.heldExcluded;
    this.heldExcluded = [];
    for (const h of excluded) {
      if (this.roots.rootOf(h.chain) === h.top) continue;
      this.found.add(h.secret);
      this.emit(h.finding, h.key);
    }
    this.roots.settle();
  }

  /**
   * Reports a finding on the path `target` (the entry's or directory's path that the rule
   * flags), fingerprinted without the package root `root` of its archive and, for a file the
   * rule flags by its name, with `digest`, the sha256 of its bytes: the name alone would let a
   * baselined test `.netrc` accept whatever credentials later land in it.
   */
  private pushPathFinding(rule: CompiledRule, chain: string[], target: string, root?: string, digest?: string): void {
    const path = fingerprintPath(target, root);
    const value = digest === undefined ? path : `${path}\0${digest}`;
    this.pushFinding({
      ruleId: rule.id,
      title: rule.title,
      severity: rule.severity,
      confidence: rule.confidence,
      chain,
      line: 1,
      column: 1,
      byteOffset: 0,
      secret: '',
      value,
      // Baselines made before package roots were left out hold the fingerprint of the whole path;
      // those of a file's name alone must not apply, whatever the file now holds.
      ...(digest !== undefined || value === target ? {} : { formerValue: target }),
      structural: true,
    });
  }

  private structureFinding(item: SourceStructure): void {
    if (item.chain.length > 1) this.heldPaths.push(item);
    else this.pushStructureFinding(item);
  }

  private pushStructureFinding(item: SourceStructure): void {
    // Entry path without the artifact name, so the baseline survives a renamed artifact, and
    // each member without its archive's package root, so it survives the next version too.
    const former = item.chain.slice(1).join('!');
    const value = item.chain
      .slice(1)
      .map((member, i) => fingerprintPath(member, this.roots.rootOf(item.chain.slice(0, i + 2))))
      .join('!');
    this.pushFinding({
      ruleId: item.ruleId,
      title: `${item.title}: ${item.detail}`,
      severity: 'high',
      confidence: 'high',
      chain: item.chain,
      line: 1,
      column: 1,
      byteOffset: 0,
      secret: '',
      value,
      ...(value === former ? {} : { formerValue: former }),
      structural: true,
    });
  }

  private pushFinding(f: {
    ruleId: string;
    title: string;
    severity: Finding['severity'];
    confidence: Finding['confidence'];
    chain: string[];
    line: number;
    column: number;
    utf16Column?: number;
    byteOffset: number;
    secret: string;
    value: string;
    /** The value an earlier version fingerprinted this finding by, when it differs. */
    formerValue?: string;
    structural?: boolean;
    encoding?: 'base64';
    in?: 'name';
  }, countOnly = false): boolean {
    const print = fingerprint(f.ruleId, f.value);
    const former = f.formerValue === undefined ? undefined : fingerprint(f.ruleId, f.formerValue);
    const { baseline } = this.settings;
    const accepted = baseline.has(print) ? print : former !== undefined && baseline.has(former) ? former : undefined;
    if (accepted !== undefined) {
      // Counted once, as it would have been reported once (see `reported`).
      const key = `${print}\0${joinChain(f.chain)}\0${f.byteOffset}`;
      if (this.reported.has(key)) return false;
      this.reported.add(key);
      this.stats.baselined = (this.stats.baselined ?? 0) + 1;
      this.options.onBaselined?.(accepted);
      // Accepted, not made public: a path that holds it is still shortened.
      this.found.add(f.secret);
      return false;
    }
    const finding: Finding = {
      ruleId: f.ruleId,
      title: f.title,
      severity: f.severity,
      confidence: f.confidence,
      path: joinChain(f.chain),
      location: { artifact: f.chain[0] ?? '', entry: f.chain.slice(1), line: f.line, column: f.column, byteOffset: f.byteOffset },
      secret: f.structural || this.settings.showSecrets ? f.secret : redact(f.secret),
      fingerprint: print,
    };
    if (f.utf16Column !== undefined) finding.location.utf16Column = f.utf16Column;
    if (f.encoding !== undefined) finding.encoding = f.encoding;
    if (f.in !== undefined) finding.in = f.in;
    if (former !== undefined) finding.formerFingerprint = former;
    const { exclude } = this.settings;
    if (exclude?.(finding, f.secret)) return false;
    const key = `${print}\0${finding.path}\0${f.byteOffset}`;
    if (this.reported.has(key)) return false;
    // An allowlist path such as `test/**` names the file below the package's top directory, as
    // a scan of the package's directory sees it: in the tarball it is `package/test/…`.
    const split = exclude && f.chain.length === 2 && this.topArtifacts.has(f.chain[0] ?? '') ? firstDirectory(f.chain[1] ?? '') : undefined;
    if (exclude && split && exclude(finding, f.secret, split.below)) {
      const settled = this.roots.settledRoot(f.chain);
      if (settled === undefined) {
        // npm writes package.json after the files: the root is known once the archive is read.
        // Counted as reported: it is, unless the root turns out to be the one its path names.
        if (!countOnly) this.heldExcluded.push({ finding, chain: f.chain, top: split.top, key, secret: f.secret });
        return true;
      }
      if (settled === split.top) return false;
    }
    this.found.add(f.secret);
    // Past the artifact's limit: counted, neither reported nor remembered.
    if (!countOnly) this.emit(finding, key);
    return true;
  }

  /** Reports a finding, once per fingerprint, path and offset (see `reported`). */
  private emit(finding: Finding, key: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.queue.push({ type: 'finding', finding });
  }
}

/** The index of the last `/` or `\` before `end` in `path`, or -1. */
function lastSeparator(path: string, end: number): number {
  for (let i = end - 1; i >= 0; i--) {
    const c = path.charCodeAt(i);
    if (c === 0x2f || c === 0x5c) return i;
  }
  return -1;
}

/** The index of the first `/` or `\` at or after `start` in `path`, or its length. */
function nextSeparator(path: string, start: number): number {
  for (let i = start; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2f || c === 0x5c) return i;
  }
  return path.length;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What `scanAll` collects of a scan. */
export interface ScanResult {
  findings: Finding[];
  errors: ScanError[];
  stats: ScanStats;
  /**
   * `text` (a path or message the caller prints itself, such as a report file it could not
   * write) with every secret shortened that the scan shortens in its own paths: those the
   * scan's name rules find in it, and the secrets of the findings it reported or left out by
   * the baseline (see `ScanOptions.showNames`), whether or not the scan showed names.
   */
  mask: (text: string) => string;
}

/**
 * Collects a whole scan into arrays; convenient for tests and for reporters that need
 * everything. `onProgress`, when given, receives the progress events as they come. A secret
 * found after a path holding it was reported (a key in `b.txt` that names `a/<key>.txt`) is
 * shortened there too.
 */
export async function scanAll(
  inputs: readonly string[],
  options: ScanOptions = {},
  onProgress?: (progress: { stats: ScanStats; current: string }) => void,
): Promise<ScanResult> {
  let findings: Finding[] = [];
  let errors: ScanError[] = [];
  let stats: ScanStats = { artifacts: 0, files: 0, bytes: 0, durationMs: 0 };
  const progressIntervalMs = onProgress ? options.progressIntervalMs : 0;
  const found = new FoundSecrets();
  for await (const event of scanEvents(inputs, { ...options, progressIntervalMs }, found)) {
    if (event.type === 'finding') findings.push(event.finding);
    else if (event.type === 'error') errors.push(event.error);
    else if (event.type === 'progress') onProgress?.(event);
    else stats = event.stats;
  }
  const names = nameMatcherFor(options.ruleset ?? builtinRuleset());
  const mask = textMask(names.empty ? undefined : names, found);
  if (found.size > 0 && !(options.showNames ?? options.showSecrets ?? false)) {
    findings = findings.map((finding) => (maskEvent({ type: 'finding', finding }, mask) as { finding: Finding }).finding);
    errors = errors.map((error) => (maskEvent({ type: 'error', error }, mask) as { error: ScanError }).error);
  }
  return { findings, errors, stats, mask };
}

/** What a findings limit kept and counted, in the singular where a count is one. */
function keptAndCounted(kept: number, more: number): string {
  return `${kept === 1 ? 'the first was kept' : `the first ${kept} were kept`}, ${more} more ${more === 1 ? 'was' : 'were'} counted and not reported`;
}
