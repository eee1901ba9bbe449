// Base64 text inside a file: the forms keywords take once encoded, the run of base64 around a
// hit of one, and whether what it decodes to is text worth matching.

const STANDARD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Shortest encoded form kept: a form of four characters, folded as the prefilter folds case,
 * occurs in about one position in a million of random base64 and would decode every blob of a
 * package (fonts, images) for nothing.
 */
export const MIN_FORM_LENGTH = 5;

/** What precedes the base64 of a data URI (`data:application/json;base64,…`): the run after it is decoded whatever it holds. */
export const BASE64_MARKER = 'base64,';

/** Fewest characters (padding left out) a run needs to be decoded: shorter ones are identifiers and hashes. */
export const MIN_RUN_LENGTH = 20;

/**
 * The encoded forms of `keyword` (latin1 bytes) at each of the three byte alignments, in the
 * standard and the URL-safe alphabet: the characters its bytes alone decide. A form shorter
 * than `MIN_FORM_LENGTH` takes the character before it (whose bits the keyword only partly
 * decides, so one form per value of the others) when that makes it long enough; shorter ones
 * are left out.
 */
export function base64Forms(keyword: string): string[] {
  const forms = new Set<string>();
  const n = keyword.length;
  for (let align = 0; align < 3; align++) {
    // Character c of the keyword's bytes after `align` zero bytes: bits [6c, 6c + 6).
    const byte = (i: number): number => (i >= align && i < align + n ? keyword.charCodeAt(i - align) & 0xff : 0);
    const charAt = (c: number): number => {
      const g = 3 * (c >>> 2);
      return (((byte(g) << 16) | (byte(g + 1) << 8) | byte(g + 2)) >>> (18 - 6 * (c & 3))) & 63;
    };
    const firstBit = 8 * align;
    const first = Math.ceil(firstBit / 6);
    const end = Math.floor((8 * (align + n)) / 6);
    let full = '';
    for (let c = first; c < end; c++) full += STANDARD[charAt(c)];
    if (full.length >= MIN_FORM_LENGTH) {
      forms.add(full);
      continue;
    }
    // The character before: the keyword decides its low `known` bits.
    const known = 6 * first - firstBit;
    if (known <= 0 || full.length + 1 < MIN_FORM_LENGTH) continue;
    const low = charAt(first - 1);
    for (let high = 0; high < 1 << (6 - known); high++) forms.add(STANDARD[(high << known) | low] + full);
  }
  for (const form of [...forms]) {
    const urlSafe = form.replace(/\+/g, '-').replace(/\//g, '_');
    if (urlSafe !== form) forms.add(urlSafe);
  }
  return [...forms];
}

/** 1 for the bytes of either base64 alphabet (`+/` and `-_`), 0 for the rest. */
const ALPHABET = new Uint8Array(256);
for (const c of `${STANDARD}-_`) ALPHABET[c.charCodeAt(0)] = 1;

/** Index of the first byte of the base64 run around `[at, end)` in `bytes`, going back from `at`. */
export function runStart(bytes: Uint8Array, at: number): number {
  let i = at;
  while (i > 0 && ALPHABET[bytes[i - 1] as number] === 1) i--;
  return i;
}

/** Index just past the base64 run that goes on at `at`, its `=` padding left out. */
export function runEnd(bytes: Uint8Array, at: number): number {
  let i = at;
  while (i < bytes.length && ALPHABET[bytes[i] as number] === 1) i++;
  return i;
}

/**
 * How many characters to skip at the start of a run whose beginning lies before the bytes at
 * hand, so that decoding starts on a group of four: the shift whose first bytes decode to the
 * fewest bytes that are not ASCII text. Base64 of text decodes to text at one shift only; the
 * others give control characters, or bytes of 0x80 and above throughout.
 */
export function bestShift(bytes: Uint8Array, start: number, end: number): number {
  let best = 0;
  let fewest = Number.POSITIVE_INFINITY;
  for (let shift = 0; shift < 4; shift++) {
    const sample = decode(bytes, start + shift, Math.min(end, start + shift + 256));
    let odd = controlCount(sample);
    for (let i = 0; i < sample.length; i++) if ((sample[i] as number) >= 0x80) odd++;
    if (odd < fewest) {
      fewest = odd;
      best = shift;
    }
  }
  return best;
}

/** Decodes whole groups of four characters of `bytes[start, end)` (either alphabet); a last partial group decodes as far as it goes. */
export function decode(bytes: Uint8Array, start: number, end: number): Buffer {
  return Buffer.from(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'), 'base64');
}

/**
 * Text worth matching: at most one byte in 64 is a control character other than tab, line
 * feed and carriage return. Random or compressed bytes (images, fonts, wasm) have about one in
 * nine; text in any encoding of ASCII supersets has next to none.
 */
export function isText(decoded: Uint8Array): boolean {
  return controlCount(decoded) * 64 <= decoded.length;
}

function controlCount(decoded: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < decoded.length; i++) {
    const b = decoded[i] as number;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) count++;
  }
  return count;
}

/**
 * Offset (in the run) of the character that holds the first bit of decoded byte `at`: where a
 * match that starts there is placed. Two decoded ranges that do not overlap map to ranges that
 * do not overlap.
 */
export function encodedOffset(at: number): number {
  return Math.floor((4 * at) / 3);
}
