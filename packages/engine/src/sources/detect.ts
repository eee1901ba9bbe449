/** What the first bytes of some content say it is. */
export type ContentKind = 'gzip' | 'zip' | 'tar' | 'bzip2' | 'xz' | 'zstd' | 'plain';

/** Bytes needed to tell every kind apart (one tar header block). */
export const DETECT_BYTES = 512;

/** Names of formats recognised but not read, for the `unsupported` message. */
export const UNSUPPORTED_NAMES: Partial<Record<ContentKind, string>> = {
  bzip2: 'bzip2-compressed data',
  xz: 'xz-compressed data',
  zstd: 'zstd-compressed data',
};

/** Tells the kind of content from its first bytes (up to DETECT_BYTES); never looks at names. */
export function detectKind(head: Uint8Array): ContentKind {
  const n = head.length;
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b) {
    if (head[2] === 0x03 && head[3] === 0x04) return 'zip';
    if (head[2] === 0x05 && head[3] === 0x06) return 'zip';
  }
  // 'BZh' then a block size digit 1-9.
  if (n >= 4 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3]! >= 0x31 && head[3]! <= 0x39) {
    return 'bzip2';
  }
  if (n >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) {
    return 'xz';
  }
  if (n >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (n >= 512 && isTarHeader(head)) return 'tar';
  return 'plain';
}

/** True for a POSIX/GNU tar header (`ustar` at 257) or an old v7 header with a valid checksum. */
function isTarHeader(h: Uint8Array): boolean {
  if (h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72) {
    return tarChecksumOk(h);
  }
  // v7 tar has no magic: a non-empty name and a matching checksum are the only evidence.
  return h[0] !== 0 && tarChecksumOk(h);
}

/** Checks the header checksum (field at 148..155, octal, summed with the field as spaces). */
function tarChecksumOk(h: Uint8Array): boolean {
  let field = '';
  for (let i = 148; i < 156; i++) {
    const c = h[i]!;
    if (c === 0 || c === 0x20) {
      if (field.length > 0) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) return false;
    field += String.fromCharCode(c);
  }
  if (field.length === 0) return false;
  const expected = parseInt(field, 8);
  // One 512-byte header per file: summing it is negligible next to reading the content.
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += h[i]!;
  for (let i = 156; i < 512; i++) sum += h[i]!;
  return sum === expected;
}

/**
 * Whether content that starts with `head` can be a stub with a zip after it: an executable
 * (`MZ`, ELF), a script's `#!` line (Python zipapps, launcher scripts of executable jars) or
 * any other binary head (a NUL in its first bytes, as in images). Only such content is
 * searched for a zip's end record: a text file is not a stub, and the search would cost every
 * file of a tree a look at its last 64 KiB.
 */
export function mayEndWithZip(head: Uint8Array): boolean {
  if (head.length < 2) return false;
  const a = head[0];
  const b = head[1];
  if ((a === 0x4d && b === 0x5a) || (a === 0x23 && b === 0x21) || (a === 0x7f && b === 0x45)) return true;
  // UTF-16 text has NULs but is text all the same.
  return head.subarray(0, DETECT_BYTES).indexOf(0) >= 0 && utf16Encoding(head) === undefined;
}

/** How UTF-16 text stores its code units; the names TextDecoder takes. */
export type Utf16Encoding = 'utf-16le' | 'utf-16be';

/**
 * Whether content of kind `plain` that starts with `head` is UTF-16 text, and in which byte
 * order, from its first DETECT_BYTES only: a byte-order mark (FF FE, FE FF) followed by text,
 * or, without one, text that is nearly all ASCII, so that every other byte is 0. Strict, as
 * scanning a binary as decoded text would hide what its bytes say: a NUL or control code unit,
 * a byte-order mark of UTF-32 or a head that is not text from its first code unit on (`MZ`,
 * ELF, `#!`, images, wasm) is never taken for UTF-16. Text in any other encoding returns at
 * its first two bytes.
 */
export function utf16Encoding(head: Uint8Array): Utf16Encoding | undefined {
  const n = Math.min(head.length, DETECT_BYTES);
  if (n < 2) return undefined;
  const a = head[0]!;
  const b = head[1]!;
  if (a === 0xff && b === 0xfe) return isUtf16Text(head, n, true, true) ? 'utf-16le' : undefined;
  if (a === 0xfe && b === 0xff) return isUtf16Text(head, n, false, true) ? 'utf-16be' : undefined;
  // Without a mark the first code unit must be ASCII: its high byte is 0 and its low one is not.
  if (b === 0 && a !== 0) return isUtf16Text(head, n, true, false) ? 'utf-16le' : undefined;
  if (a === 0 && b !== 0) return isUtf16Text(head, n, false, false) ? 'utf-16be' : undefined;
  return undefined;
}

/** Code units a head without a byte-order mark needs to be told from a short binary. */
const UNMARKED_MIN_UNITS = 4;

/**
 * Whether the first `n` bytes of `head` are UTF-16 text in that byte order. With a mark, any
 * text (no NUL or control other than whitespace, no noncharacter FFFE/FFFF, no surrogate out of
 * its pair); without one, also printable ASCII or whitespace in at least 7 code units of 8 and
 * in the first, as nothing else tells such text from a binary.
 */
function isUtf16Text(head: Uint8Array, n: number, le: boolean, marked: boolean): boolean {
  const units = n >> 1;
  if (!marked && units < UNMARKED_MIN_UNITS) return false;
  let ascii = 0;
  let pendingHigh = false;
  for (let i = marked ? 1 : 0; i < units; i++) {
    const lo = head[2 * i + (le ? 0 : 1)]!;
    const hi = head[2 * i + (le ? 1 : 0)]!;
    const unit = (hi << 8) | lo;
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    if (pendingHigh !== isLow) return false;
    pendingHigh = unit >= 0xd800 && unit <= 0xdbff;
    if (hi === 0) {
      if (lo >= 0x20 && lo <= 0x7e) ascii++;
      else if (lo === 0x09 || lo === 0x0a || lo === 0x0d) ascii++;
      else if (lo < 0xa0 && lo !== 0x0b && lo !== 0x0c) return false;
    } else if (unit >= 0xfffe) {
      return false;
    }
    if (!marked && i === 0 && ascii === 0) return false;
  }
  // A pair cut by the end of the head is no evidence against it.
  return marked || ascii * 8 >= units * 7;
}

/**
 * Where the zip starts that content held whole ends with behind a stub (`mayEndWithZip`), or
 * undefined: the one test for a file read whole, whichever reader holds it.
 */
export function stubbedZipStart(data: Uint8Array): number | undefined {
  return mayEndWithZip(data) ? embeddedZipStart(data) : undefined;
}

/** Size of a zip's end-of-central-directory record without its comment. */
const EOCD_BYTES = 22;

/** Bytes at the end of a file where zip readers look for that record: the record and the longest comment. */
export const EOCD_SEARCH_BYTES = EOCD_BYTES + 0xffff;

const EOCD_SIGNATURE = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/**
 * Where the zip starts that content not recognised by its first bytes ends with (a
 * self-extracting archive, a zip with a stub in front), or undefined when it does not end with
 * a zip's end-of-central-directory record. `tail` is the content's last bytes (up to
 * EOCD_SEARCH_BYTES are looked at), `tailOffset` where they start. The start is 0 when the
 * zip's offsets count from the start of the file (`zip -A`), or when the record cannot tell.
 */
export function embeddedZipStart(tail: Uint8Array, tailOffset = 0): number | undefined {
  const n = tail.length;
  if (n < EOCD_BYTES) return undefined;
  // Only the last bytes can hold the record: a search of the whole of a large file that has
  // none would run through all of it.
  const from = Math.max(0, n - EOCD_SEARCH_BYTES);
  const b = Buffer.from(tail.buffer, tail.byteOffset + from, n - from);
  const m = b.length;
  for (let i = b.lastIndexOf(EOCD_SIGNATURE, m - EOCD_BYTES); i >= 0; i = i > 0 ? b.lastIndexOf(EOCD_SIGNATURE, i - 1) : -1) {
    // The record's comment runs exactly to the end of the file, as zip readers require.
    if (b.readUInt16LE(i + 20) !== m - i - EOCD_BYTES) continue;
    const cdSize = b.readUInt32LE(i + 12);
    const cdOffset = b.readUInt32LE(i + 16);
    // Zip64 keeps the real values in its own record: the zip is read from the file's start.
    if (cdSize === 0xffffffff || cdOffset === 0xffffffff) return 0;
    // The central directory ends where the record starts; its offset counts from the zip's start.
    const start = tailOffset + from + i - cdSize - cdOffset;
    return start > 0 ? start : 0;
  }
  return undefined;
}
