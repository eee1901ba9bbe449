import type { Finding } from '@pubguard/engine';

/** What to do about a leaked credential; also the advice in the SARIF help text of a rule that reports secrets. */
export const ROTATE = 'Rotate the credential, remove it from the artifact, rebuild.';

// A finding without a secret value names a file that must not ship or an unsafe archive
// entry: there is no single value to rotate, but what the file holds may need it.
const REMOVE = 'Remove it from the artifact and rebuild; rotate any credential it contains.';

/** The advice for one finding. */
export function remediation(f: Finding): string {
  return f.secret === '' ? REMOVE : ROTATE;
}
