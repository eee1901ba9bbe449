import { crc32 as zlibCrc32 } from 'node:zlib';

/** The base62 alphabet GitHub and npm use for token checksums (digits, upper, lower). */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** CRC-32 (IEEE 802.3, as zlib computes it) of a latin1 string or of bytes; unsigned. */
export function crc32(data: string | Uint8Array): number {
  // Strings reaching the matcher are latin1-decoded bytes: encode them back the same way.
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return zlibCrc32(bytes) >>> 0;
}

/** Writes a non-negative integer in base62 (`0-9A-Za-z`), left-padded with `0` to `width`. */
export function base62Encode(value: number, width = 6): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`base62Encode: not a non-negative integer: ${value}`);
  let out = '';
  let n = value;
  do {
    out = BASE62_ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}

/** Writes a non-negative integer in lower-case base36, left-padded with `0` to `width`. */
export function base36Encode(value: number, width = 0): string {
  return value.toString(36).padStart(width, '0');
}

const GITHUB_STYLE = /^(?:gh[pousr]|npm)_([A-Za-z0-9]{30})([A-Za-z0-9]{6})$/;

/**
 * GitHub classic tokens (ghp_/gho_/ghu_/ghs_/ghr_) and npm tokens (npm_): the last 6 chars
 * are the base62 CRC-32 of the 30 random chars before them (prefix excluded).
 */
export function githubChecksumValid(token: string): boolean {
  const m = GITHUB_STYLE.exec(token);
  if (!m) return false;
  return base62Encode(crc32(m[1] as string)) === m[2];
}

/**
 * GitLab routable tokens: `<prefix><base64url payload>.01.<payload length, 2 base36 chars>` then
 * 7 lower-case base36 chars of the CRC-32 of everything before them (GitLab's RoutableToken
 * generator). The prefix varies (glpat-, glrt-, custom instance prefixes), so the payload is
 * located by its declared length.
 */
export function gitlabRoutableChecksumValid(token: string): boolean {
  const m = /^(.{1,400}\.01\.([0-9a-z]{2}))([0-9a-z]{7})$/.exec(token);
  if (!m) return false;
  const head = m[1] as string;
  const payloadEnd = head.length - 6;
  const payloadLength = Number.parseInt(m[2] as string, 36);
  const payloadStart = payloadEnd - payloadLength;
  if (payloadLength < 20 || payloadStart < 1) return false;
  if (!/^[A-Za-z0-9_-]+$/.test(head.slice(payloadStart, payloadEnd))) return false;
  return base36Encode(crc32(head), 7) === m[3];
}

/** Grafana service-account tokens: `glsa_<32>_<8 hex>`, hex = CRC-32 of `glsa_<32>` as 4 little-endian bytes. */
export function grafanaChecksumValid(token: string): boolean {
  const m = /^(glsa_[A-Za-z0-9]{32})_([0-9a-f]{8})$/.exec(token);
  if (!m) return false;
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crc32(m[1] as string));
  return b.toString('hex') === m[2];
}

/** Vercel tokens (`vcp_`, `vci_`, `vca_`, `vcr_`, `vck_`): 50-char body then 6 base62 chars of its CRC-32. */
export function vercelChecksumValid(token: string): boolean {
  const m = /^vc[pikar]_([A-Za-z0-9_-]{50})([A-Za-z0-9]{6})$/.exec(token);
  if (!m) return false;
  return base62Encode(crc32(m[1] as string)) === m[2];
}

/** Zuplo API keys: `zpka_<32>_<8 hex>`, hex = CRC-32 of the 32-char body. */
export function zuploChecksumValid(token: string): boolean {
  const m = /^zpka_([A-Za-z0-9]{32})_([0-9a-f]{8})$/.exec(token);
  if (!m) return false;
  return crc32(m[1] as string).toString(16).padStart(8, '0') === m[2];
}

/** Shannon entropy of a string in bits per character (0 for the empty string). */
export function entropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const c of counts.values()) {
    const p = c / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** How many of the classes lower-case, upper-case, digit and other occur in the string. */
export function charClasses(text: string): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other;
}

/** Decodes base64 or base64url (padding optional); undefined when the text is not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  return Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The parts of a v2 binary macaroon that can be checked offline. */
export interface MacaroonInfo {
  location: string;
  identifier: Uint8Array;
  caveats: string[];
  signature: Uint8Array;
}

/** Parses a v2 binary macaroon (libmacaroons format); undefined when malformed. */
export function parseMacaroonV2(bytes: Uint8Array): MacaroonInfo | undefined {
  let pos = 0;
  const EOS = 0;
  const LOCATION = 1;
  const IDENTIFIER = 2;
  const VID = 4;
  const SIGNATURE = 6;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = bytes[pos++];
      if (b === undefined) return undefined;
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  };
  // A field is: tag byte, varint length, data. EOS is a lone 0 byte.
  const readField = (): { tag: number; data: Uint8Array } | undefined => {
    const tag = bytes[pos++];
    if (tag === undefined) return undefined;
    if (tag === EOS) return { tag, data: new Uint8Array(0) };
    const len = readVarint();
    if (len === undefined || pos + len > bytes.length) return undefined;
    const data = bytes.subarray(pos, pos + len);
    pos += len;
    return { tag, data };
  };
  if (bytes[pos++] !== 2) return undefined;
  let f = readField();
  let location = '';
  if (f?.tag === LOCATION) {
    location = Buffer.from(f.data).toString('latin1');
    f = readField();
  }
  if (f?.tag !== IDENTIFIER) return undefined;
  const identifier = f.data;
  if (readField()?.tag !== EOS) return undefined;
  const caveats: string[] = [];
  for (;;) {
    f = readField();
    if (f === undefined) return undefined;
    if (f.tag === EOS) break;
    if (f.tag === LOCATION) f = readField();
    if (f?.tag !== IDENTIFIER) return undefined;
    caveats.push(Buffer.from(f.data).toString('utf8'));
    f = readField();
    if (f?.tag === VID) f = readField();
    if (f?.tag !== EOS) return undefined;
    if (caveats.length > 64) return undefined;
  }
  f = readField();
  if (f?.tag !== SIGNATURE || f.data.length !== 32) return undefined;
  if (pos !== bytes.length) return undefined;
  return { location, identifier, caveats, signature: f.data };
}

const PYPI_LOCATIONS = new Set(['pypi.org', 'test.pypi.org']);

/**
 * PyPI API tokens: `pypi-` + unpadded base64url of a v2 macaroon whose location is pypi.org or
 * test.pypi.org, with a non-empty identifier and caveats that are JSON.
 */
export function pypiMacaroonValid(token: string): boolean {
  if (!token.startsWith('pypi-')) return false;
  const bytes = decodeBase64(token.slice(5));
  if (!bytes) return false;
  const mac = parseMacaroonV2(bytes);
  if (!mac || !PYPI_LOCATIONS.has(mac.location) || mac.identifier.length === 0) return false;
  for (const caveat of mac.caveats) {
    try {
      JSON.parse(caveat);
    } catch {
      return false;
    }
  }
  return true;
}

/** A JWT with three base64url parts, a JSON header naming an `alg` other than none, a JSON payload and a signature. */
export function jwtValid(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [h, p, s] = parts as [string, string, string];
  if (s.length < 16) return false;
  const header = decodeJsonPart(h);
  const payload = decodeJsonPart(p);
  if (!isRecord(header) || !isRecord(payload)) return false;
  return typeof header.alg === 'string' && header.alg.toLowerCase() !== 'none' && decodeBase64(s) !== undefined;
}

function decodeJsonPart(part: string): unknown {
  if (/[+/=]/.test(part)) return undefined;
  const bytes = decodeBase64(part);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/**
 * The base64 of a private-key body (or of a whole PEM block: as text, with `\n` escapes as in
 * JSON, or as string literals joined line by line in source code), without the armour, the
 * escapes, the quotes and the white space: one key stored in any of these ways gives one text.
 */
export function pemBody(text: string): string {
  return (
    text
      // A key spelt as string literals, one per line: drop each `' +\n  '` between them first
      // (the quotes tell a joining `+` from base64's own; in a source map the quotes are `\"`
      // and the line breaks `\n`).
      .replace(/\\?["'`](?:\s|\\[rnt]){0,40}(?:[+,](?:\s|\\[rnt]){0,40})?\\?["'`]/g, '')
      .replace(/-----(?:BEGIN|END) [A-Z0-9 ]{1,40}-----/g, '')
      .replace(/\\{1,2}[rnt]/g, '')
      .replace(/[\s"'`\\]/g, '')
  );
}

/**
 * A private-key body (in any form `pemBody` reads) whose base64 decodes to one complete DER
 * SEQUENCE, or to an OpenSSH `openssh-key-v1` key.
 */
export function pemBodyValid(text: string): boolean {
  const body = pemBody(text);
  if (body.length < 40) return false;
  const bytes = decodeBase64(body);
  if (!bytes || bytes.length < 24) return false;
  if (bytes.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return true;
  return derSequenceLength(bytes) === bytes.length;
}

/** Total length (header + content) of the DER SEQUENCE at the start of `bytes`, if well-formed. */
function derSequenceLength(bytes: Uint8Array): number | undefined {
  if (bytes[0] !== 0x30) return undefined;
  const first = bytes[1];
  if (first === undefined) return undefined;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[2 + i];
    if (b === undefined) return undefined;
    len = len * 256 + b;
  }
  return 2 + n + len;
}
