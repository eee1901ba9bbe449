import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives the test run a temporary directory of its own (TMPDIR, which every worker and every
 * child process inherits) and removes it when the run ends: tests make thousands of
 * directories, some holding fake tokens, and none of them should outlive the run.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'pubguard-tests-'));
  // As /tmp lets them, other users may pass through: tests run commands as `nobody` in it.
  chmodSync(root, 0o755);
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      rmSync(root, { recursive: true, force: true });
    } catch (error) {
      // A directory a test left unreadable: say where it is rather than fail a passing run.
      process.stderr.write(`could not remove the tests' temporary directory ${root}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  };
}
