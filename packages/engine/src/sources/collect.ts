import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes read between two collections of V8's young generation. One takes under a millisecond,
 * against some 25 ms to read and match 4 MiB; as V8 then starts fewer collections of its own,
 * a 1 GB tgz took about 1% more CPU time.
 */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type Gc = (options: { type: 'minor' }) => void;

/** V8's `gc`, once looked up; null where it cannot be had. */
let gc: Gc | null | undefined;
let pending = 0;
/** Every byte ever noted, for tests: each reader that allocates buffers must note them. */
let noted = 0;

/** Bytes noted so far by `noteFreshBytes` in this process (tests compare before and after). */
export function freshBytesNoted(): number {
  return noted;
}
/** Scans running that asked for collections (`ScanOptions.collectFreshBuffers`). */
let wanted = 0;

/** Starts (`+1`) or ends (`-1`) a scan that wants collections; they run while any does. */
export function wantCollections(delta: 1 | -1): void {
  wanted = Math.max(0, wanted + delta);
}

/**
 * Counts bytes that readers put in freshly allocated buffers (zlib's output, file reads) and
 * collects V8's young generation after every `COLLECT_EVERY_BYTES` of them.
 *
 * A dead Buffer's memory goes back only when V8 collects the young generation, which it does
 * as the JavaScript heap fills or once some 30 MB of young buffers have piled up. A large
 * archive makes buffers much faster than objects (zlib allocates a new one for every 256 KiB
 * it inflates), so a long scan otherwise carries up to 30 MB of dead buffers, and malloc keeps
 * their pages: a 1 GB tgz peaked at about 100 MB instead of 87. Node has no public call for it.
 */
export function noteFreshBytes(n: number): void {
  noted += n;
  if (wanted === 0) return;
  pending += n;
  if (pending < COLLECT_EVERY_BYTES) return;
  pending = 0;
  gc ??= lookUpGc();
  gc?.({ type: 'minor' });
}

/**
 * `gc` of a private context created while `--expose-gc` is on (as jest-leak-detector gets
 * it); the flag is off again before anything else runs, so no other context, the caller's
 * included, gets a global `gc`. When the process was started with `--expose-gc`, its own
 * `gc` serves.
 */
function lookUpGc(): Gc | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as Gc;
  try {
    setFlagsFromString('--expose-gc');
    const found: unknown = runInNewContext('typeof gc === "function" ? gc : null');
    return typeof found === 'function' ? (found as Gc) : null;
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
