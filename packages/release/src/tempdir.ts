import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Only directories this process made itself are ever listed here, so removing them on exit
// can never take anything else with it.
const live = new Set<string>();
let hooked = false;

/**
 * Creates a private directory (mode 0700) under the system temp directory, removed by
 * `removeTempDir`, or at the latest when the process exits, even through `process.exit`
 * (a second Ctrl-C), when no asynchronous cleanup gets to run.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  live.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeTempDirsSync);
  }
  return dir;
}

/** Removes a directory made by `makeTempDir` and everything in it. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.delete(dir);
}

/** Synchronously removes every directory made by `makeTempDir` that is still there; nothing else. */
export function removeTempDirsSync(): void {
  for (const dir of live) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Exiting anyway: one directory that resists must not keep the others.
    }
    live.delete(dir);
  }
}

/** The directories made by `makeTempDir` and not yet removed (for tests). */
export function liveTempDirs(): string[] {
  return [...live];
}
