import { nodeReadline } from './builtins.js';
import { run } from './run.js';

/** What the launcher hands the command besides the process itself. */
export interface MainOptions {
  /** See `CliIO.onWorkerStart`. */
  onWorkerStart?: () => () => void;
}

/** Entry point of the `pubguard` executable: wires the real process into `run()`. */
export async function main(options: MainOptions = {}): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    // First Ctrl-C lets the scan stop and clean up; a second one leaves at once.
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
  });
  const stdin = process.stdin as AsyncIterable<Uint8Array> & { isTTY?: boolean };
  // A reader that left (`pubguard … | head -1`) must not crash the command half-way: a gate
  // still records its outcome and exits with its own code; only the unread output is dropped.
  const closed = { stdout: false, stderr: false };
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      closed[name] = true;
    });
  }
  const result = await run(process.argv.slice(2), {
    stdout: { write: (s) => void (closed.stdout || process.stdout.write(s)), isTTY: process.stdout.isTTY === true },
    stderr: { write: (s) => void (closed.stderr || process.stderr.write(s)), isTTY: process.stderr.isTTY === true },
    stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    ...(options.onWorkerStart ? { onWorkerStart: options.onWorkerStart } : {}),
    prompt: process.stdin.isTTY
      ? async (question) => {
          const rl = nodeReadline().createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        }
      : undefined,
  });
  process.exitCode = interrupted && result.exitCode === 0 ? 130 : result.exitCode;
}
