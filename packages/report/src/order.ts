import type { Finding, ScanError } from '@pubguard/engine';

// Plain code-unit comparison: locale-aware comparison would make the order depend on the machine.
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders findings by path, line, column, rule id (then fingerprint, for total determinism). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.path, b.path) ||
    a.location.line - b.location.line ||
    a.location.column - b.location.column ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.fingerprint, b.fingerprint)
  );
}

/** Orders errors by path, kind, message. */
export function compareErrors(a: ScanError, b: ScanError): number {
  return cmp(a.path, b.path) || cmp(a.kind, b.kind) || cmp(a.message, b.message);
}

/** A sorted copy of the findings. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

/** A sorted copy of the errors. */
export function sortErrors(errors: readonly ScanError[]): ScanError[] {
  return [...errors].sort(compareErrors);
}

/** Groups items by a key, keeping first-seen order of keys. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
