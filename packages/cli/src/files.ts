import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { describeFsError, makeDirectory } from '@pubguard/engine';
import { dirname } from 'node:path';
import { nodeCrypto } from './builtins.js';

/** A report or other output file that cannot be written. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** How `writeFileAtomic` writes. */
export interface WriteOptions {
  /** The text holds secrets in full: only the owner may read the file. */
  secret?: boolean;
}

/**
 * Writes a file atomically (a temp file in the same directory, then a rename), creating the
 * directory, so a reader never sees half a report and a failure leaves the old file intact.
 * A file replaced keeps its permissions (a report made private stays private); a new one is
 * 0644, or 0600 for `secret` text.
 */
export async function writeFileAtomic(path: string, text: string, options: WriteOptions = {}): Promise<void> {
  const temp = `${path}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`;
  try {
    await makeDirectory(dirname(path));
    const existing = await stat(path).then(
      (s) => (s.isFile() ? s.mode & 0o777 : undefined),
      () => undefined,
    );
    const mode = (existing ?? 0o644) & (options.secret === true ? 0o600 : 0o777);
    // writeFile's mode only applies to a file it creates, through the umask, and the temp name is new.
    await writeFile(temp, text, { mode });
    await rename(temp, path);
  } catch (error) {
    // Under a path whose parent is a file (`-o notes.txt/out.json`) removing the temp file
    // fails too, with ENOTDIR: that must not take the place of why the write failed.
    await rm(temp, { force: true }).catch(() => undefined);
    throw new OutputError(`cannot write ${path}: ${describeFsError(error, { writing: true })}`);
  }
}
