import type { Extract } from 'tar-stream';
import type { SourceItem } from './types.js';
import type { ArtifactCtx } from './context.js';
import { checkDevice, checkLink, checkName, checkSetuid, decodeLatin1Name, DuplicateTracker } from './checks.js';
import { errorMessage, formatBytes, limitStop, problem, Stop } from './errors.js';
import { openWhole, WHOLE_ENTRY_BYTES } from './open.js';
import { readableChunks, startPump, type WritableLike } from './stream.js';

/** tar-stream's extract accepts a filename encoding that its type declarations omit. */
type ExtractFactory = (opts: { filenameEncoding: string; allowUnknownFormat: boolean }) => Extract;

/** One entry of an extract: a readable with its header. */
type TarEntry = Extract extends AsyncIterable<infer T> ? T : never;

/**
 * Reads a tar stream entry by entry with tar-stream. Only regular files have content; each
 * one is opened (and kind-detected) in turn, so nested archives recurse.
 */
export async function* readTar(
  ctx: ArtifactCtx,
  chain: string[],
  depth: number,
  input: AsyncIterator<Uint8Array>,
): AsyncGenerator<SourceItem, void, undefined> {
  // latin1 keeps every byte of a name, so names that are not UTF-8 can be decoded here.
  // Unknown formats are allowed because detection already accepted old v7 headers by checksum.
  // Loaded on the first tar, so scans without one never pay for it. Through `default` (the
  // CommonJS exports object), which Node and the CLI's bundle both provide.
  const { extract: tarExtract } = (await import('tar-stream')).default;
  const extract = (tarExtract as unknown as ExtractFactory)({ filenameEncoding: 'latin1', allowUnknownFormat: true });
  let fed = 0;
  const pump = startPump(input, extract as unknown as WritableLike, (n) => {
    fed += n;
  });
  const entries = extract[Symbol.asyncIterator]();
  // The entry stream and the extract both see one failure; report it once, as one Stop.
  let failure: Stop | undefined;
  const toStop = (err: unknown): Stop => (failure ??= tarStop(chain, err, fed));
  const dups = new DuplicateTracker();
  const { maxEntries, maxEntryBytes } = ctx.limits;
  let count = 0;
  try {
    for (;;) {
      ctx.check(chain);
      let r: IteratorResult<TarEntry>;
      try {
        r = await entries.next();
      } catch (err) {
        throw toStop(err);
      }
      if (r.done) return;
      const entry = r.value;
      const h = entry.header;
      if (++count > maxEntries) {
        entry.resume();
        throw limitStop(chain, 'maxEntries', `archive has more than ${maxEntries} entries; the rest were not read`, String(maxEntries), 'archive');
      }
      const name = h.pax && typeof (h.pax as Record<string, unknown>).path === 'string' ? h.name : decodeLatin1Name(h.name);
      const ec = [...chain, name];
      const findings = [checkName(ec, name), checkSetuid(ec, name, h.mode ?? 0)];
      if (h.type === 'symlink' || h.type === 'link') {
        const target = h.pax && typeof (h.pax as Record<string, unknown>).linkpath === 'string' ? h.linkname : decodeLatin1Name(h.linkname ?? '');
        findings.push(checkLink(ec, name, target, h.type === 'link'));
      }
      if (h.type === 'character-device' || h.type === 'block-device' || h.type === 'fifo') {
        findings.push(checkDevice(ec, name, h.type));
      }
      // tar-stream gives a null type (which its declarations omit) for a type flag it does not
      // know; GNU tar and Python's tarfile extract such an entry as a regular file, so it ships.
      const regular = h.type === 'file' || h.type === 'contiguous-file' || (h.type as string | null) === null;
      if (regular) findings.push(dups.check(ec, name, `${h.size} bytes`));
      for (const f of findings) if (f) yield f;

      if (!regular) {
        entry.resume();
        continue;
      }
      if (h.size > maxEntryBytes) {
        // tar-stream skips the unread data when the next entry is asked for.
        entry.resume();
        const e = limitStop(ec, 'maxEntryBytes', `entry is ${formatBytes(h.size)}, larger than ${formatBytes(maxEntryBytes)}; it was not read`, String(maxEntryBytes), 'entry');
        yield { kind: 'error', error: e.event };
        continue;
      }
      if (h.size <= WHOLE_ENTRY_BYTES) {
        // Most entries are small: read whole first, then opened from memory.
        const chunks: Uint8Array[] = [];
        try {
          for await (const chunk of entry as AsyncIterable<Uint8Array>) chunks.push(chunk);
        } catch (err) {
          throw toStop(err);
        }
        yield* openWhole(ctx, { chain: ec, size: h.size }, chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks), depth + 1);
        continue;
      }
      const raw = readableChunks(entry as AsyncIterable<Uint8Array>, toStop);
      let finished = false;
      try {
        yield* ctx.open(ctx, { chain: ec, size: h.size, raw, sequential: true }, depth + 1);
        finished = true;
      } finally {
        if (finished) await drain(raw);
      }
    }
  } finally {
    pump.stop();
    extract.destroy();
  }
}


/** Reads an iterator to its end, ignoring errors: the container reports them on its next step. */
async function drain(it: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    for (;;) if ((await it.next()).done) return;
  } catch {
    // the extract's own iterator rethrows the failure for the next entry
  }
}

/** Turns a tar-stream failure into an actionable corrupt event. */
function tarStop(chain: readonly string[], err: unknown, fed: number): Stop {
  if (err instanceof Stop) return err;
  const msg = errorMessage(err);
  let text: string;
  if (/unexpected end of data/i.test(msg)) {
    text = `truncated tar archive after ${fed} bytes: it ends in the middle of an entry; the file is incomplete, download or build it again`;
  } else if (/invalid tar header|unknown format/i.test(msg)) {
    text = `invalid tar header (bad checksum or unknown format) within the first ${fed} bytes: the archive is damaged; rebuild it`;
  } else {
    text = `corrupt tar archive after ${fed} bytes: ${msg}; rebuild it`;
  }
  return problem(chain, 'corrupt', text, 'archive');
}
