/**
 * UTF-16 text (as `utf16Encoding` recognises it) turned into the UTF-8 that rules match: its
 * ASCII characters are then the bytes that keywords and patterns look for, as in any other
 * text file. The byte-order mark is dropped; a code unit or a surrogate pair cut by the end of
 * a slice is completed by the next one, and what stays unpaired becomes U+FFFD.
 */

import type { Utf16Encoding } from './detect.js';
import { noteFreshBytes } from './collect.js';

/** All of a file's UTF-16 text, as UTF-8. */
export function decodeUtf16(data: Uint8Array, encoding: Utf16Encoding): Buffer {
  const out = Buffer.from(new TextDecoder(encoding).decode(data), 'utf8');
  noteFreshBytes(out.length);
  return out;
}

/**
 * Decodes the `n` bytes of UTF-16 text at `offset` of `buf` and writes them there as UTF-8, if
 * that takes at most `cap` bytes: their length, or -1 when they do not fit.
 */
export function decodeUtf16InPlace(buf: Buffer, offset: number, n: number, cap: number, encoding: Utf16Encoding): number {
  const text = new TextDecoder(encoding).decode(buf.subarray(offset, offset + n));
  if (Buffer.byteLength(text, 'utf8') > cap) return -1;
  return buf.write(text, offset, 'utf8');
}

/**
 * The slices of a stream of UTF-16 text, as UTF-8, each decoded as it arrives. Each raw slice
 * is handed to `recycle` once decoded: nothing reads it afterwards. The source is never
 * `return()`ed, as its owner drains or closes it.
 */
export async function* decodeUtf16Chunks(src: AsyncIterator<Uint8Array>, encoding: Utf16Encoding, recycle?: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array, void, undefined> {
  const decoder = new TextDecoder(encoding);
  for (;;) {
    const r = await src.next();
    if (r.done) break;
    const chunk = r.value;
    const text = decoder.decode(chunk, { stream: true });
    recycle?.(chunk);
    if (text.length > 0) yield fresh(text);
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield fresh(rest);
}

/** `text` in UTF-8, in memory of its own (counted for collection, as other reads are). */
function fresh(text: string): Buffer {
  const out = Buffer.from(text, 'utf8');
  noteFreshBytes(out.length);
  return out;
}
