import { readFile } from 'node:fs/promises';
import { describeFsError } from './fs-errors.js';
import { findDuplicateJsonKey } from './json-keys.js';

/** A baseline file cannot be read or has neither `fingerprints` nor `findings`. */
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
  const list = (data as { findings?: unknown; fingerprints?: unknown } | null) ?? {};
  const prints = new Set<string>();
  if (Array.isArray(list.fingerprints)) for (const f of list.fingerprints) if (typeof f === 'string') prints.add(f);
  if (Array.isArray(list.findings)) {
    for (const f of list.findings) {
      const print = (f as { fingerprint?: unknown } | null)?.fingerprint;
      if (typeof print === 'string') prints.add(print);
    }
  }
  if (!Array.isArray(list.fingerprints) && !Array.isArray(list.findings)) {
    throw new BaselineError(`baseline ${path} has neither "fingerprints" nor "findings"`);
  }
  return prints;
}
