/** A writable text stream, as much of one as the CLI needs. */
export interface TextSink {
  write(text: string): void;
  /** True when this sink is an interactive terminal. */
  isTTY?: boolean;
  /**
   * Resolves once what was written has been taken by its reader (a pipe's), so that long output
   * is not held in memory meanwhile, or once `CliIO.signal` fires: a reader that stopped reading
   * must not hold up a command told to stop.
   */
  drained?: () => Promise<void>;
  /** True once what is written is dropped: its reader left (`| head`) or a write failed. A command that only prints may stop then. */
  closed?: () => boolean;
}

/** Everything a command may touch of the outside world; tests pass their own. */
export interface CliIO {
  stdout: TextSink;
  stderr: TextSink;
  /** Standard input as bytes (for `scan -`) and as a terminal flag (for prompts). */
  stdin: AsyncIterable<Uint8Array> & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Asks a question on the terminal and resolves with the answer line; absent when not interactive. */
  prompt?: (question: string) => Promise<string>;
  /** Aborted on Ctrl-C, SIGTERM or SIGHUP so long work can stop and clean up. */
  signal?: AbortSignal;
  /** `ScanOptions.onWorkerStart` for the scans a command runs; the launcher sets it. */
  onWorkerStart?: () => () => void;
}

/** What a command returns: the process exit code (0 clean, 1 findings/refused, 2 usage/fatal). */
export interface CliResult {
  exitCode: 0 | 1 | 2;
}

/** A `pubguard` subcommand. */
export interface Command {
  name: string;
  /** Full `--help` text. */
  help: string;
  run(argv: string[], io: CliIO): Promise<CliResult>;
}

/** A mistake in how the command was called: reported with the help hint, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command was stopped by Ctrl-C, SIGTERM or SIGHUP before it did what it says: exit 2. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

/**
 * Throws an InterruptedError once `io.signal` has fired, so a gate stops before it signs,
 * writes or records anything; `undone` says what was left undone.
 */
export function stopIfInterrupted(io: CliIO, undone: string): void {
  if (io.signal?.aborted) throw new InterruptedError(`interrupted: ${undone}`);
}
