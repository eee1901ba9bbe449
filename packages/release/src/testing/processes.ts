import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Kills with SIGKILL each process of `pids` still running: what a failed test left behind. */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Whether a process still runs: a zombie (killed, not yet reaped by its new parent) does not. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the command name in parentheses, which may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Asks `what` every 25 ms until it holds, for up to 10 s, and returns its last answer. */
export async function until(what: () => boolean): Promise<boolean> {
  for (let i = 0; i < 400 && !what(); i++) await sleep(25);
  return what();
}
