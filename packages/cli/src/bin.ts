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
  // Any other write error (a full disk under a CI log, EIO) drops the output the same way, so
  // the command still finishes what it does (a publish keeps its upload and audit record),
  // and then fails the run with one line: its output is lost, which a clean exit would hide.
  const closed = { stdout: false, stderr: false };
  const failed: { name: 'stdout' | 'stderr'; error: unknown }[] = [];
  let finished: number | undefined;
  const fail = (name: 'stdout' | 'stderr', error: unknown): void => {
    if (closed[name]) return;
    closed[name] = true;
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return;
    failed.push({ name, error });
    if (finished !== undefined) void reportLostOutput(failed, closed, finished);
  };
  const write = (name: 'stdout' | 'stderr', text: string): void => {
    if (closed[name]) return;
    try {
      process[name].write(text);
    } catch (error) {
      fail(name, error);
    }
  };
  // A pipe takes writes without waiting for its reader: output as long as a large audit log's
  // would otherwise pile up in memory. A stop does not wait for a reader that has stopped
  // reading (`audit show | less`, paused): the command must see it and end.
  const drained = (name: 'stdout' | 'stderr'): Promise<void> => {
    const stream = process[name];
    if (closed[name] || !stream.writableNeedDrain || controller.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        for (const event of ['drain', 'error', 'close']) stream.off(event, done);
        controller.signal.removeEventListener('abort', done);
        resolve();
      };
      for (const event of ['drain', 'error', 'close']) stream.on(event, done);
      controller.signal.addEventListener('abort', done, { once: true });
    });
  };
  for (const name of ['stdout', 'stderr'] as const) process[name].on('error', (error: NodeJS.ErrnoException) => fail(name, error));
  const result = await run(process.argv.slice(2), {
    stdout: { write: (s) => write('stdout', s), isTTY: process.stdout.isTTY === true, drained: () => drained('stdout'), closed: () => closed.stdout },
    stderr: { write: (s) => write('stderr', s), isTTY: process.stderr.isTTY === true, drained: () => drained('stderr'), closed: () => closed.stderr },
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
  finished = received !== undefined && result.exitCode === 0 ? 128 + STOP_SIGNALS[received] : result.exitCode;
  process.exitCode = finished;
  // A stopped `scan -` leaves a read pending on a pipe whose writer is silent, which would keep
  // the process alive until the writer closes it.
  if (received !== undefined) process.stdin.destroy();
  if (failed.length > 0) await reportLostOutput(failed, closed, finished);
}

/**
 * Exit 2 for output that could not be written, with one line on standard error while that
 * still works, saying what the command itself came to: a publish that went through must not
 * be taken for a refused one and retried.
 */
async function reportLostOutput(failed: readonly { name: 'stdout' | 'stderr'; error: unknown }[], closed: { stderr: boolean }, finished: number): Promise<void> {
  process.exitCode = 2;
  if (closed.stderr) return;
  // Loaded only when output failed, as the engine is not loaded for every command.
  const { describeFsError } = await import('@pubguard/engine');
  const names = { stdout: 'standard output', stderr: 'standard error' };
  const lost = failed.map((f) => `cannot write ${names[f.name]}: ${describeFsError(f.error)}`).join('; ');
  try {
    process.stderr.write(`pubguard: ${lost}; the command itself finished with exit code ${finished}, but its output is incomplete\n`);
  } catch {
    // Nothing is left to say it on.
  }
}
