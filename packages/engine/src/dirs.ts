import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Creates `dir` and the missing directories above it, one level at a time, as
 * `mkdir({ recursive: true })` would, except that it always ends: Node 20's recursive mkdir
 * retries for ever where a level cannot be made (below `/proc`). A failure throws the errno
 * error of the level that failed (ENOTDIR where a file stands in the way).
 */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const isDir = await stat(d).then(
      (s) => s.isDirectory(),
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        return undefined;
      },
    );
    if (isDir === true) break;
    if (isDir === false) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', path: d });
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((error: NodeJS.ErrnoException) => {
      // Made meanwhile by another process: what matters is that it is there now.
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
