import { nodeReadline } from './builtins.js';
import { run } from './run.js';
import { checkedStdin } from './stdin.js';

// The signals that stop a command, with their numbers: a process that stops on one exits
// with 128 plus its number, as a shell reports it.
const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** What the launcher hands the command besides the process itself. */
export interface MainOptions {
  /** See `CliIO.onWorkerStart`. */
  onWorkerStart?: () => () => void;
}

/** Entry point of the `pubguard` executable: wires the real process into `run()`. */
export async function main(options: MainOptions = {}): Promise<void> {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  // SIGTERM (docker stop, a CI runner cancelling) and SIGHUP (a closed terminal) stop the
  // command as Ctrl-C does: left to their default action, they would end the process with
  // npm or twine still uploading and temp files (copies of the artifacts) left behind.
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    process.on(name, () => {
      // The first signal lets the command stop and clean up; a second one leaves at once,
      // and the exit hooks still remove the temp files synchronously.
      if (received !== undefined) process.exit(128 + STOP_SIGNALS[name]);
      received = name;
      controller.abort();
    });
  }
  const stdin = Object.assign(checkedStdin(process.stdin), { isTTY: process.stdin.isTTY === true });
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
  process.exitCode = received !== undefined && result.exitCode === 0 ? 128 + STOP_SIGNALS[received] : result.exitCode;
}
