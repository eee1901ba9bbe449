import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { StdinUnavailable } from '../fs-errors.js';
import { resolveLimits } from '../limits.js';
import type { ScanErrorKind } from '../types.js';
import type { DiskFileRef, SourceItem, SourceOptions } from './types.js';
import { ArtifactCtx, type Shared } from './context.js';
import { discardOpened, diskBuffers, estimateBytes, openDiskFile, type OpenedFile, readDiskFile, walkDirectory, walkDisplay, type WalkItem } from './disk.js';
import { errorMessage, fsStop, joinChain, problem, Stop } from './errors.js';
import { type InputPlan, planInputs, readInside } from './inputs.js';
import { openEntry } from './open.js';
import { readableChunks } from './stream.js';

export { joinChain } from './errors.js';
export type { DiskFileRef, SourceArtifact, SourceBatch, SourceDiskFiles, SourceEntry, SourceFile, SourceItem, SourceLink, SourceOptions, SourceProblem, SourceStructure } from './types.js';

/** Files of a directory opened ahead of the one being read, to overlap their I/O latency. */
const PREFETCH_FILES = 8;

/** Options of `enumerate`: the source options plus where relative inputs live and what `-` reads. */
export type EnumerateOptions = SourceOptions & {
  /** Directory that relative input paths are resolved against. */
  cwd: string;
  /** Bytes read for the input `-`. */
  stdin?: AsyncIterable<Uint8Array>;
};

/**
 * Enumerates everything to scan in `inputs` (directories, files of any supported kind, `-`
 * for stdin). Every file is enumerated once, under the most specific input that reads it: an
 * input naming a path another input named is left out, and a directory's walk leaves out what
 * another input below it reads (see `planInputs` and `readInside`). Each top-level file starts with an
 * `artifact` item, then its files, problems and structure findings, some of them gathered in
 * `batch` items (an archive's small files, held whole). A file's `bytes` should be read before
 * asking for the next item; unread bytes are skipped. Stopping the loop early closes
 * everything and removes spill files. Per-item problems are yielded, never thrown.
 */
export async function* enumerate(inputs: string[], options: EnumerateOptions): AsyncGenerator<SourceItem, void, undefined> {
  const shared: Shared = {
    limits: resolveLimits(options.limits),
    tmpDir: options.tmpDir ?? tmpdir(),
    signal: options.signal,
    spillBytes: 0,
    disk: diskBuffers(PREFETCH_FILES),
    onInflating: options.onInflating,
  };
  try {
    const plan = await planInputs(inputs, options.cwd, options.ignore);
    for (const { input, inner } of plan.inputs) {
      if (shared.signal?.aborted) return;
      yield* enumerateInput(input, inner, plan, options, shared);
    }
  } catch (err) {
    // An abort ends the enumeration quietly: the caller asked for it and knows.
    if (err instanceof Stop && err.scope === 'all') return;
    throw err;
  }
}

/**
 * `source`, stopped with the whole scan as soon as `signal` fires, also while a read waits: a
 * pipe whose writer is silent would otherwise hold a stopped scan (Ctrl-C, SIGTERM) until the
 * writer closes it, past the grace a container runtime gives before it kills the process.
 */
async function* readUntilAborted(source: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array, void, undefined> {
  if (signal === undefined) {
    yield* source;
    return;
  }
  const it = source[Symbol.asyncIterator]();
  const stop = () => new Stop({ path: '-', kind: 'internal', message: 'scan aborted' }, 'all');
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(stop());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Rejected only when the scan is stopped, maybe after the last read: never left unhandled.
  aborted.catch(() => undefined);
  try {
    for (;;) {
      if (signal.aborted) throw stop();
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Lets go of the stream (process.stdin), whose pending read would keep the process alive.
    void it.return?.()?.catch(() => undefined);
  }
}

/** One input: stdin, a file or a directory, less the paths below it that `inner` leaves to other inputs. */
async function* enumerateInput(input: string, inner: ReadonlyMap<string, string>, plan: InputPlan, options: EnumerateOptions, shared: Shared): AsyncGenerator<SourceItem, void, undefined> {
  if (input === '-') {
    const stdin = options.stdin;
    if (options.select && !options.select('-')) return;
    if (stdin === undefined) {
      yield errorItem('-', 'not-found', 'standard input is not available');
      return;
    }
    yield* artifact(shared, '-', '-', true, (ctx) =>
      openEntry(
        ctx,
        {
          chain: ['-'],
          raw: readableChunks(
            readUntilAborted(stdin, options.signal),
            (err) =>
              (err instanceof Stop ? err : undefined) ??
              (err instanceof StdinUnavailable ? problem(['-'], err.kind, err.message, 'artifact') : undefined) ??
              fsStop(['-'], err, 'artifact') ??
              problem(['-'], 'unreadable', `cannot read standard input: ${errorMessage(err)}`, 'artifact'),
            true,
          ),
          sequential: false,
        },
        0,
      ),
    );
    return;
  }
  const abs = resolve(options.cwd, input);
  const selected = options.select ?? (() => true);
  let info;
  try {
    info = await stat(abs);
  } catch (err) {
    const s = fsStop([input], err, 'artifact');
    if (s === undefined) throw err;
    if (selected(input)) yield { kind: 'error', error: s.event };
    return;
  }
  if (info.isDirectory()) {
    const listed = options.onlyFiles?.get(input);
    let items;
    try {
      items = listed !== undefined ? listedItems(input, abs, listed) : await walkDirectory(input, abs, options.ignore);
    } catch (err) {
      const s = fsStop([input], err, 'artifact');
      if (s === undefined) throw err;
      if (selected(input)) yield { kind: 'error', error: s.event };
      return;
    }
    if (inner.size > 0) items = items.filter((item) => !readInside(item.rel, inner, options.onlyFiles));
    // A link out of the directory to what another input reads is no loss, so no error.
    const readElsewhere = new Set<WalkItem>();
    for (const item of items) if (item.type === 'error' && item.target !== undefined && (await plan.reads(item.target))) readElsewhere.add(item);
    if (readElsewhere.size > 0) items = items.filter((item) => !readElsewhere.has(item));
    // Files and problems alike belong to the one shard their path selects.
    if (options.select) items = items.filter((item) => selected(item.display));
    if (options.diskFiles) {
      const files: DiskFileRef[] = [];
      for (const item of items) {
        if (item.type === 'error') yield errorItem(item.display, item.kind, item.message);
        else if (item.type === 'link') yield linkItem(item.display, item.rel);
        else files.push({ display: item.display, abs: item.abs, rel: item.rel, ...(item.raw ? { raw: item.raw } : {}) });
      }
      if (files.length > 0) {
        yield { kind: 'disk-files', path: input, files, estimateBytes: () => estimateBytes(files), read: (some) => untilAborted(readWalked(shared, some.map((f) => ({ type: 'file', ...f })))) };
      }
      return;
    }
    yield* readWalked(shared, items);
  } else if (!selected(input)) {
    return;
  } else if (info.isFile()) {
    yield* artifact(shared, input, basename(abs), true, (ctx) => readDiskFile(ctx, input, abs, undefined, true));
  } else {
    yield errorItem(input, 'unsupported', 'not a regular file or directory (device, FIFO or socket); skipped');
  }
}

/**
 * The files listed below a directory (`onlyFiles`), as its walk would give them and in its
 * order, without walking it: every listed file, whatever the `ignore` globs say, as the list is
 * what ships (a packer's), and a file that is not there is reported when it is opened.
 */
function listedItems(input: string, abs: string, listed: ReadonlySet<string>): WalkItem[] {
  const display = walkDisplay(input);
  return [...listed]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((rel): WalkItem => ({ type: 'file', rel, display: display(rel), abs: join(abs, rel) }));
}

/**
 * Reads the files a directory walk found, each as a top-level artifact, and reports its
 * problems, in order. The next few files are opened and their first bytes read ahead of
 * time, so the I/O latency of small files overlaps with the consumer's work.
 */
async function* readWalked(shared: Shared, items: readonly WalkItem[]): AsyncGenerator<SourceItem, void, undefined> {
  const ahead = new Map<number, Promise<OpenedFile>>();
  try {
    for (let i = 0; i < items.length; i++) {
      if (shared.signal?.aborted) return;
      for (let j = i; j < Math.min(items.length, i + PREFETCH_FILES); j++) {
        const next = items[j]!;
        if (next.type === 'file' && !ahead.has(j)) ahead.set(j, openDiskFile(next.raw ?? next.abs, shared.disk.heads));
      }
      const item = items[i]!;
      if (item.type === 'error') {
        yield errorItem(item.display, item.kind, item.message);
        continue;
      }
      if (item.type === 'link') {
        yield linkItem(item.display, item.rel);
        continue;
      }
      const pre = ahead.get(i);
      ahead.delete(i);
      try {
        yield* artifact(shared, item.display, item.rel, false, (ctx) => readDiskFile(ctx, item.display, item.raw ?? item.abs, pre));
      } finally {
        // Closes the file if the consumer stopped before it was read; harmless otherwise.
        if (pre !== undefined) await discardOpened(pre);
      }
    }
  } finally {
    await Promise.all([...ahead.values()].map(discardOpened));
  }
}

/** Runs one top-level artifact: its marker, its items, and the artifact-wide problem that ended it, if any. */
async function* artifact(
  shared: Shared,
  path: string,
  name: string,
  named: boolean,
  body: (ctx: ArtifactCtx) => AsyncGenerator<SourceItem, void, undefined>,
): AsyncGenerator<SourceItem, void, undefined> {
  yield named ? { kind: 'artifact', path, name, named } : { kind: 'artifact', path, name };
  const ctx = new ArtifactCtx(shared, path, openEntry);
  try {
    yield* body(ctx);
    // The consumer found the time up in the last file, and nothing was read after it to say so.
    const late = ctx.unreported();
    if (late !== undefined) {
      late.reported = true;
      yield { kind: 'error', error: late.event };
    }
  } catch (err) {
    if (err instanceof Stop) {
      if (err.scope === 'all') throw err;
      if (!err.reported) {
        err.reported = true;
        yield { kind: 'error', error: err.event };
      }
      return;
    }
    const s = fsStop([path], err, 'artifact');
    if (s === undefined) throw err;
    yield { kind: 'error', error: s.event };
  }
}

/** Items until an abort, which ends them quietly, as it ends `enumerate`. */
async function* untilAborted(items: AsyncGenerator<SourceItem, void, undefined>): AsyncGenerator<SourceItem, void, undefined> {
  try {
    yield* items;
  } catch (err) {
    if (err instanceof Stop && err.scope === 'all') return;
    throw err;
  }
}

/** An error item outside any artifact. */
function errorItem(path: string, kind: ScanErrorKind, message: string): SourceItem {
  return { kind: 'error', error: { path: joinChain([path]), kind, message } };
}

/** A symbolic link's name, below a scanned directory, to be matched. */
function linkItem(path: string, name: string): SourceItem {
  return { kind: 'link', path, name };
}
