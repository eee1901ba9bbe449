import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { DETECT_BYTES, detectKind, stubbedZipStart, utf16Encoding } from './detect.js';
import { markPycInPlace, pycFormat } from './pyc.js';
import { decodeUtf16InPlace } from './utf16.js';

/**
 * Reads a whole small plain file on disk into `into` at `offset`, blocking: the number of
 * bytes, or -1 when the file must be read the usual way instead, which then also reports
 * why (unreadable, not a regular file, larger than `cap`, an archive or a compressed file, or
 * a file that ends with a zip). UTF-16 text is left there as UTF-8, as the usual way reads it,
 * and its length is that of the UTF-8 (-1 when that is larger than `cap`); compiled Python is
 * left there with its string constants set apart, as the usual way matches it.
 * `into` needs room for `cap + 1` bytes from `offset`: one more byte says the file is larger.
 *
 * Directory scans read most files this way, on whichever thread matches them: on a warm page
 * cache a blocking read costs a fraction of the three thread-pool round trips (open, read,
 * close) of an asynchronous one, and it lets worker threads read in parallel.
 */
export function readPlainFileSync(abs: string, into: Buffer, offset: number, cap: number): number {
  let fd: number;
  try {
    // Non-blocking open: a path swapped for a FIFO since the directory walk must not hang here.
    fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return -1;
  }
  try {
    if (!fstatSync(fd).isFile()) return -1;
    let n = 0;
    for (;;) {
      const got = readSync(fd, into, offset + n, cap + 1 - n, n);
      if (got === 0) break;
      n += got;
      if (n > cap) return -1;
    }
    const head = into.subarray(offset, offset + Math.min(n, DETECT_BYTES));
    if (detectKind(head) !== 'plain') return -1;
    const utf16 = utf16Encoding(head);
    if (utf16) return decodeUtf16InPlace(into, offset, n, cap, utf16);
    // A file that ends with a zip (a self-extracting archive) is also read as one, the usual way.
    if (stubbedZipStart(into.subarray(offset, offset + n)) !== undefined) return -1;
    const pyc = pycFormat(head);
    if (pyc) markPycInPlace(into, offset, n, pyc);
    return n;
  } catch {
    return -1;
  } finally {
    closeSync(fd);
  }
}
