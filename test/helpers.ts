import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { base62Crc32, type Prng } from '@pubguard/corpus';

/** Path of the built `pubguard` executable (the test command builds before testing). */
export const PUBGUARD_BIN = fileURLToPath(new URL('../packages/cli/bin/pubguard.js', import.meta.url));

/** What a finished process left behind. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How `runNode` runs a script: working directory, variables added to the environment, stdin. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: Uint8Array;
  /** Runs it under a file size limit of this many KiB (`ulimit -f`), so its writes past it fail part-way. */
  fileSizeLimitKiB?: number;
}

// Who CI says started the run becomes the release initiator of approvals verify and publish:
// a test names the people in its policies itself, whatever CI runs it.
const CI_IDENTITY = ['GITHUB_ACTIONS', 'GITHUB_ACTOR', 'GITHUB_TRIGGERING_ACTOR', 'GITLAB_CI', 'GITLAB_USER_LOGIN'];

/** The environment without the variables that name who started a CI run. */
export function withoutCiIdentity(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !CI_IDENTITY.includes(k)));
}

/** Runs `pubguard` as a real process, the way a user or CI would. */
export function runPubguard(args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runNode(PUBGUARD_BIN, args, options);
}

/** Runs a Node script as a real process, and collects what it printed and its exit code. */
export function runNode(script: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const [command, argv] =
      options.fileSizeLimitKiB === undefined
        ? [process.execPath, [script, ...args]]
        : ['bash', ['-c', `ulimit -f ${options.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, script, ...args]];
    const child = spawn(command, argv, {
      cwd: options.cwd,
      env: { ...withoutCiIdentity(process.env), NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input);
  });
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fake GitHub classic token with a valid checksum (the rule rejects any other), from a seeded generator. */
export function githubToken(rng: Prng): string {
  let body = '';
  for (let i = 0; i < 30; i++) body += BASE62[rng.int(0, 61)];
  return `ghp_${body}${base62Crc32(body)}`;
}
