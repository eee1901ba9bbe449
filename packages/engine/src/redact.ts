import { createRequire } from 'node:module';

// node:crypto is loaded on first use: loading it takes about 2 ms, a twentieth of a clean
// scan's start-up, and a clean scan fingerprints nothing.
const requireBuiltin = createRequire(import.meta.url);
let nodeCrypto: typeof import('node:crypto') | undefined;

// Redaction lives with the rules, which show secrets in their own messages too.
export { isFullSecret, redact } from '@pubguard/rules';

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
