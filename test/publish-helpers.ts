import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { base62Crc32 } from '@pubguard/corpus';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random token of the GitHub/npm checksummed shape (`prefix` + 30 base62 + CRC-32), made fresh for each run. */
export function checksummedToken(prefix: string): string {
  const body = [...randomBytes(30)].map((b) => BASE62[b % 62]).join('');
  return `${prefix}${body}${base62Crc32(body)}`;
}

/** Everything a test must search for a leaked token: process output, the audit log, notifications. */
export function assertNoToken(token: string, texts: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    if (text.includes(token)) leaks.push(where);
    // A token cut in half still leaks: look for its middle as well.
    if (text.includes(token.slice(Math.floor(token.length / 4), Math.floor((3 * token.length) / 4)))) leaks.push(`${where} (part)`);
  }
  return leaks;
}

/** The records of an audit log. */
export function auditRecords(path: string): { stage: string; outcome: string; reason: string }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stage: string; outcome: string; reason: string });
}

/**
 * Whether Debian's twine is on PATH. CI installs it in .ci/run, so missing there is a failure,
 * not a skip; elsewhere `name`'s tests are skipped with a warning.
 */
export function twineAvailable(name: string): boolean {
  try {
    execFileSync('twine', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('twine is not installed: .ci/run must install it (apt-get install -y twine)');
    console.warn(`${name}: twine not found, skipping (install it with: apt-get install -y twine)`);
    return false;
  }
}
