import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeAtExit } from '@pubguard/engine';

// Each directory made here, with what takes it off the list that exiting clears.
const live = new Map<string, () => void>();

/**
 * Creates a private directory (mode 0700) under the system temp directory, removed by
 * `removeTempDir`, or at the latest when the process exits, even through `process.exit`
 * (a second Ctrl-C), when no asynchronous cleanup gets to run.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  live.set(dir, removeAtExit(dir));
  return dir;
}

/** Removes a directory made by `makeTempDir` and everything in it. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.get(dir)?.();
  live.delete(dir);
}
