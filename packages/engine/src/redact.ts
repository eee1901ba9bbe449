import { createRequire } from 'node:module';

// node:crypto is loaded on first use: loading it takes about 2 ms, a twentieth of a clean
// scan's start-up, and a clean scan fingerprints nothing.
const requireBuiltin = createRequire(import.meta.url);
let nodeCrypto: typeof import('node:crypto') | undefined;

// A PEM block's armour: its prefix and suffix would be all a redacted key shows.
const PEM_BEGIN = /^-----BEGIN ([A-Z0-9 ]{1,40})-----/;
const PEM_END = /-----END [A-Z0-9 ]{1,40}-----[\s\S]*$/;
// What lies between a PEM body's lines: string-literal joins (`\n' +\n  '`: a `+` between two
// quotes only, as base64 has its own), line breaks and their escapes, quotes.
const PEM_JOINS = /\\?["'`](?:\s|\\[rnt]){0,40}[+,]?(?:\s|\\[rnt]){0,40}\\?["'`]|\\[rnt]|[\s"'`\\]/g;

/** Shows at most a short prefix and suffix of a secret, never enough to use it. */
export function redact(secret: string): string {
  const pem = PEM_BEGIN.exec(secret);
  if (pem) {
    // The kind of key and a glimpse of its body tell one key from another; the armour cannot.
    const body = secret.slice(pem[0].length).replace(PEM_END, '').replace(PEM_JOINS, '');
    return `-----BEGIN ${pem[1]}----- ${redactFlat(body)}`;
  }
  return redactFlat(secret);
}

function redactFlat(secret: string): string {
  const flat = secret.replace(/\s+/g, ' ');
  const n = flat.length;
  if (n <= 8) return `${flat.slice(0, Math.min(2, Math.floor(n / 4)))}…`;
  const head = Math.min(6, Math.floor(n / 5));
  const tail = Math.min(4, Math.floor(n / 8));
  return `${flat.slice(0, head)}…${tail > 0 ? flat.slice(n - tail) : ''}`;
}

/** Whether a finding's `secret` is the value in full: neither shortened by `redact` nor empty (a file or structure finding). */
export function isFullSecret(secret: string): boolean {
  // `redact` always leaves its ellipsis; no credential format uses that character.
  return secret !== '' && !secret.includes('…');
}

/** `sha256:` of rule id and value: the same secret under the same rule always gets the same one. */
export function fingerprint(ruleId: string, value: string): string {
  nodeCrypto ??= requireBuiltin('node:crypto') as typeof import('node:crypto');
  return `sha256:${nodeCrypto.createHash('sha256').update(ruleId).update('\0').update(value).digest('hex')}`;
}

/** A new sha256 hash, loading node:crypto on first use as `fingerprint` does (a file's digest for its fingerprint). */
export function sha256Hash(): import('node:crypto').Hash {
  nodeCrypto ??= requireBuiltin('node:crypto') as typeof import('node:crypto');
  return nodeCrypto.createHash('sha256');
}
