import { maskNames } from '@pubguard/engine';

/** Environment variable names whose values are treated as secrets. */
export const SECRET_ENV_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE_?KEY|AUTH/i;

// Token shapes that must never be written even when nobody told us the value.
const TOKEN_PATTERNS: RegExp[] = [
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{50,}/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bpypi-[A-Za-z0-9_-]{50,}/g,
  /\bglpat-[A-Za-z0-9_.-]{20,}/g,
  /\bglsa_[A-Za-z0-9]{32}_[0-9a-f]{8}\b/g,
  /\b(?:AKIA|ASIA)[A-Z2-7]{16}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  // A key's body, not its armour named alone ("a private key in PEM format ('-----BEGIN …')"),
  // which would take the rest of the message with it. Base64 (or an encrypted key's headers)
  // follows the armour directly (line breaks removed, as a one-line variable holds a key), after
  // white space, or after escaped line breaks, escaped any number of times (JSON in JSON), four
  // characters of it at least (a hand-wrapped key's first line may be short).
  /-----BEGIN [A-Z ]*PRIVATE KEY-----(?=(?:\s|\\+[rn])*(?:[A-Za-z0-9+/]{4}|Proc-Type:))[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\/\/[^\s/]+\/:_(?:authToken|password)=\S+/g,
];

// The user information of a URL, whole: registries take the token as the password
// (https://user:TOKEN@host/), as the user name alone (https://TOKEN@host/) or as the user name
// with an empty password (Gemfury's https://TOKEN:@host/), so no part of it can be shown. The
// host stays, so the record still says where the release went. The last `@` before the path ends
// it, as URL parsers read it, so an unescaped `@` inside a password does not leave its tail.
// Quotes and angle brackets are part of it (a URL parser leaves `'` as it is in a password),
// except a `"` that ends a JSON string (followed by `,`, `}`, `]` or white space), so that it
// never runs into the next value of a JSON text. A `"` before `:` stays part of it: a user
// name ending in `"` is then still masked, and a URL as a JSON key loses at most its host.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/?#"]|"(?![,}\]\s]))+@/gi;

/** Masks the user information (user name, password or both) of every URL in a string, keeping scheme and host. */
export function maskUrlUserinfo(text: string): string {
  return text.replace(URL_USERINFO, '$1[redacted]@');
}

/** The placeholder that replaces a secret. */
export function mask(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 4)}…[redacted]` : '[redacted]';
}

/** Collects values of secret-looking environment variables (8 characters or more) to redact. */
export function secretsFromEnv(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 8 && SECRET_ENV_NAME.test(name)) out.push(value);
  }
  return out;
}

/**
 * Replaces known secret values and anything shaped like a token in a string: the shapes above,
 * and then whatever else a scan finds in a file name (`maskNames`), which is how findings name
 * a file or entry named after a token, and how a file given by such a name is shown.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first, so a secret containing another is removed whole.
  for (const s of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('[redacted]');
  }
  out = maskUrlUserinfo(out);
  for (const re of TOKEN_PATTERNS) out = out.replace(re, (m) => mask(m));
  return maskNames(out);
}

/** Deep-copies a JSON-like value with every string (keys included) passed through `redactText`. */
export function redactValue<T>(value: T, secrets: readonly string[] = []): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [redactText(k, secrets), walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
