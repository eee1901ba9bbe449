// How a secret is shown when it is not shown in full: reports, events and rule checks all
// show it this way.

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
