import { rmSync } from 'node:fs';

// Only paths this process made itself are ever listed here, so removing them on exit can
// never take anything else with it.
const live = new Set<string>();
let hooked = false;

/**
 * Registers a temporary file or directory this process has just made, so that it is removed
 * when the process exits even where no `finally` gets to run: `process.exit` after a second
 * Ctrl-C, SIGTERM or SIGHUP. Returns the function to call once the path has been removed or
 * renamed into place, after which exiting leaves it alone.
 */
export function removeAtExit(path: string): () => void {
  live.add(path);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeAtExitNow);
  }
  return () => void live.delete(path);
}

/** Synchronously removes every path registered with `removeAtExit` that is still registered; nothing else. */
export function removeAtExitNow(): void {
  for (const path of live) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Exiting anyway: one path that resists must not keep the others.
    }
    live.delete(path);
  }
}
