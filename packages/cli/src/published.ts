import type { CliIO } from './io.js';
import { UsageError } from './io.js';

/**
 * For each package directory, the files npm would publish from it, as the engine takes them
 * (`--npm-files` of `scan` and `baseline create`).
 */
export async function publishedFiles(dirs: readonly string[], io: CliIO): Promise<Map<string, Set<string>>> {
  if (dirs.includes('-')) throw new UsageError('--npm-files takes package directories, not standard input (-)');
  // Loaded only here: it brings in the publishing code (and node:crypto), which a plain scan
  // never needs at start-up.
  const { npmPackFiles } = await import('./npm-files.js');
  const only = new Map<string, Set<string>>();
  // One after the other: each npm run reads the whole package, and the first failure stops all.
  for (const dir of new Set(dirs)) {
    const files = await npmPackFiles(dir, { cwd: io.cwd, env: io.env, ...(io.signal ? { signal: io.signal } : {}) });
    only.set(dir, new Set(files));
  }
  return only;
}
