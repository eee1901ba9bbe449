import { createHash } from 'node:crypto';

/** Shows at most a short prefix and suffix of a secret, never enough to use it. */
export function redact(secret: string): string {
  const flat = secret.replace(/\s+/g, ' ');
  const n = flat.length;
  if (n <= 8) return `${flat.slice(0, Math.min(2, Math.floor(n / 4)))}…`;
  const head = Math.min(6, Math.floor(n / 5));
  const tail = Math.min(4, Math.floor(n / 8));
  return `${flat.slice(0, head)}…${tail > 0 ? flat.slice(n - tail) : ''}`;
}

/** `sha256:` of rule id and value: the same secret under the same rule always gets the same one. */
export function fingerprint(ruleId: string, value: string): string {
  return `sha256:${createHash('sha256').update(ruleId).update('\0').update(value).digest('hex')}`;
}
