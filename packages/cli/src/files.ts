import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nodeCrypto } from './builtins.js';

/** A report or other output file that cannot be written. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/**
 * Writes a file atomically (a temp file in the same directory, then a rename), creating the
 * directory, so a reader never sees half a report and a failure leaves the old file intact.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, text, { mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new OutputError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
