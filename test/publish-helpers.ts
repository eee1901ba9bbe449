import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base62Crc32, sdist, wheel } from '@pubguard/corpus';
import { sshKey } from '../packages/release/src/testing/fixtures.js';

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
export function auditRecords(path: string): { stage: string; outcome: string; reason: string; details?: Record<string, unknown> }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stage: string; outcome: string; reason: string; details?: Record<string, unknown> });
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

/**
 * Writes a one-module Python release into `cwd`: its wheel and sdist at `files` (paths below
 * `cwd`, wheel first) and `.pubguard/policy.json`, in which alice (key `id_alice`) alone
 * approves.
 */
export async function pythonRelease(cwd: string, name: string, version: string, files: readonly string[]): Promise<void> {
  mkdirSync(join(cwd, 'dist'));
  const code = [{ path: `${name.replace(/-/g, '_')}/__init__.py`, content: `__version__ = "${version}"\n` }];
  writeFileSync(join(cwd, files[0]!), await wheel(name, version, code));
  writeFileSync(join(cwd, files[1]!), await sdist(name, version, code));
  const alice = sshKey(cwd, 'id_alice');
  mkdirSync(join(cwd, '.pubguard'));
  writeFileSync(join(cwd, '.pubguard/policy.json'), JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] } }, groups: {}, rule: { minApprovers: 1, groups: {} } }));
}
