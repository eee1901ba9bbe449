import { fstatSync, statSync } from 'node:fs';
import type { StdinUnavailable } from '@pubguard/engine';

/**
 * Standard input as `scan -` reads it, checked when the first bytes are asked for: a directory
 * (`scan - < dist`) and a closed descriptor (which Node replaces with /dev/null) throw
 * `StdinUnavailable`, as both would otherwise read as an empty file and pass a release gate.
 * Commands that never read standard input never look at it.
 */
export function checkedStdin(stream: AsyncIterable<Uint8Array>, fd = 0): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const problem = await stdinProblem(fd);
      if (problem) throw problem;
      yield* stream;
    },
  };
}

/** Why the descriptor `fd` cannot be read as standard input, or undefined when it can (or fstat fails: reading says why). */
export async function stdinProblem(fd: number): Promise<StdinUnavailable | undefined> {
  // Loaded here, as only the commands that read standard input load the engine.
  const { StdinUnavailable } = await import('@pubguard/engine');
  let info: ReturnType<typeof fstatSync>;
  try {
    info = fstatSync(fd);
  } catch {
    return undefined;
  }
  if (info.isDirectory()) {
    return new StdinUnavailable('unreadable', 'standard input is a directory, not a file or a pipe: name the directory itself instead of `- < directory`');
  }
  if (info.isCharacterDevice() && info.rdev === nullDevice()) {
    return new StdinUnavailable('not-found', 'no standard input: it is closed or /dev/null; pipe or redirect the artifact into it (`- < file.tgz`)');
  }
  return undefined;
}

function nullDevice(): number | undefined {
  try {
    return statSync('/dev/null').rdev;
  } catch {
    return undefined;
  }
}
