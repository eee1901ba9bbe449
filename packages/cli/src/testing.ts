import type { CliIO } from './io.js';

/** An in-memory CliIO for tests: captures what commands write. */
export function memoryIO(options: { env?: Record<string, string>; cwd?: string; stdin?: Uint8Array[]; tty?: boolean; answers?: string[]; signal?: AbortSignal } = {}): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const chunks = options.stdin ?? [];
  const answers = [...(options.answers ?? [])];
  const stdin = Object.assign(
    (async function* () {
      yield* chunks;
    })(),
    { isTTY: options.tty === true },
  );
  return {
    stdout: { write: (s: string) => void (out += s), isTTY: options.tty === true },
    stderr: { write: (s: string) => void (err += s), isTTY: options.tty === true },
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    prompt: options.tty ? async () => answers.shift() ?? '' : undefined,
    ...(options.signal ? { signal: options.signal } : {}),
    out: () => out,
    err: () => err,
  };
}
