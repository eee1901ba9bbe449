import { readFile } from 'node:fs/promises';
import { describeFsError } from './fs-errors.js';
import { findDuplicateJsonKey } from './json-keys.js';

/** A baseline file cannot be read, is not JSON, or has neither `fingerprints` nor `findings` as arrays. */
export class BaselineError extends Error {
  override name = 'BaselineError';
}

/** Reads fingerprints of known findings from a JSON report (`findings[].fingerprint`) or a baseline (`fingerprints[]`). */
export async function loadBaseline(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // The path often comes from a config file copied from elsewhere: say how to make one.
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (write one with `pubguard baseline create`)' : describeFsError(error);
    throw new BaselineError(`cannot read baseline ${path}: ${why}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new BaselineError(`baseline ${path} is not valid JSON`);
  }
  // JSON.parse keeps the last of two equal keys: a second "fingerprints" at the end of a long
  // file would accept findings that the list a reviewer reads does not hold.
  const twice = findDuplicateJsonKey(text);
  if (twice) {
    throw new BaselineError(`baseline ${path}:${twice.line}:${twice.column}: key "${twice.path}" is written twice (first on line ${twice.firstLine}); only the last would count, whichever one a reader takes for it: keep one`);
  }
  // A field of the wrong type would be read as missing, and every finding it meant to accept
  // reported as new, or the file refused for lacking what it has: say what is there instead.
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new BaselineError(`baseline ${path} must be a JSON object with "fingerprints" (a baseline) or "findings" (a JSON report); got ${kindOf(data)}`);
  }
  const { fingerprints, findings } = data as { findings?: unknown; fingerprints?: unknown };
  if (fingerprints !== undefined && !Array.isArray(fingerprints)) {
    throw new BaselineError(`baseline ${path}: "fingerprints" must be an array of fingerprint strings; got ${kindOf(fingerprints)}`);
  }
  if (findings !== undefined && !Array.isArray(findings)) {
    throw new BaselineError(`baseline ${path}: "findings" must be an array of findings (as a JSON report writes them); got ${kindOf(findings)}`);
  }
  if (fingerprints === undefined && findings === undefined) {
    throw new BaselineError(`baseline ${path} has neither "fingerprints" nor "findings"`);
  }
  const prints = new Set<string>();
  (fingerprints ?? []).forEach((f: unknown, i: number) => {
    if (typeof f !== 'string') throw new BaselineError(`baseline ${path}: "fingerprints[${i}]" must be a fingerprint string; got ${kindOf(f)}`);
    prints.add(f);
  });
  for (const f of findings ?? []) {
    const print = (f as { fingerprint?: unknown } | null)?.fingerprint;
    if (typeof print === 'string') prints.add(print);
  }
  return prints;
}

/** What a JSON value is, for a message: `a string`, `an object`, `null`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return `${value}`;
  return `a ${typeof value}`;
}
