import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redactText } from '../redact.js';
import { makeTempDir, removeTempDir } from '../tempdir.js';
import { PublishError } from './errors.js';

/** What a finished client process left behind (output already masked). */
export interface ClientResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options a client process is started with. */
export interface RunOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Kill the process after this many milliseconds (default 10 minutes). */
  timeoutMs?: number;
  /** Aborted on Ctrl-C: the process is interrupted too (SIGINT), so an upload cannot outlive the command. */
  signal?: AbortSignal;
}

/** Starts a program and collects its output; injectable so tests can stand in for npm or twine. */
export type CommandRunner = (command: string, args: readonly string[], options: RunOptions) => Promise<ClientResult>;

// npm and twine stay in pubguard's process group, so that whatever stops the group from
// outside (a terminal's Ctrl-C, a CI runner cancelling a job, `timeout`, `kill -- -PGID`, a
// SIGKILL that no handler sees) stops them with it. A group of their own would let an upload
// outlive a pubguard killed that way. npm publishes with --ignore-scripts and twine starts no
// programs, so the client is the whole upload: killing it ends it.
// The clients not yet seen to end, and whether `killClientsNow` killed them.
const liveClients = new Map<ChildProcess, { killed: boolean }>();
let exitHooked = false;

/**
 * Kills with SIGKILL every client `spawnRunner` started that has not ended, synchronously, and
 * returns how many of those it has killed, in this call or an earlier one. Runs on exit
 * (`process.exit` after a second Ctrl-C, SIGTERM or SIGHUP) before any other exit hook, so
 * that no npm or twine goes on uploading with nobody left to see how it ends.
 */
export function killClientsNow(): number {
  let killed = 0;
  for (const [child, state] of liveClients) {
    if (!state.killed) {
      if (child.exitCode !== null || child.signalCode !== null || !child.kill('SIGKILL')) {
        // Ended already.
        liveClients.delete(child);
        continue;
      }
      state.killed = true;
    }
    killed++;
  }
  return killed;
}

/** Runs a program without a shell (arguments are never reinterpreted); raises PublishError when it cannot start. */
export const spawnRunner: CommandRunner = (command, args, options) =>
  new Promise((resolvePromise, reject) => {
    const env = Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined));
    const child = spawn(command, [...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 600_000 });
    liveClients.set(child, { killed: false });
    if (!exitHooked) {
      exitHooked = true;
      process.prependListener('exit', killClientsNow);
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error: NodeJS.ErrnoException) => {
      liveClients.delete(child);
      reject(new PublishError(error.code === 'ENOENT' ? `'${command}' was not found on PATH: install it first` : `cannot start '${command}': ${error.message}`));
    });
    // SIGINT, like a Ctrl-C at the terminal, lets npm or twine stop cleanly.
    const interrupt = (): void => void child.kill('SIGINT');
    options.signal?.addEventListener('abort', interrupt, { once: true });
    if (options.signal?.aborted) interrupt();
    child.on('exit', () => liveClients.delete(child));
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', interrupt);
      resolvePromise({ code, stdout, stderr });
    });
  });

// Terminal escapes: CSI (colours, cursor moves), OSC (titles, links) and two-character escapes.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// npm's lines that never say why: notices, empty lines, the debug-log pointer, proxy advice,
// stack frames and the error object dumped after the message (indented past the prefix).
const NPM_NOISE = /^npm (?:notice|warn|WARN|http|timing|verb|info)\b|^npm (?:error|ERR!)(?:\s*$|\s{2,}|\s+[}\]]|\s+(?:syscall|errno)\s|\s+A complete log of this run|\s+If you are behind a proxy|\s.*\bnpm help |\s+\S*debug-\d+\.log$)/;
const ERROR_LINE = /^(?:npm error|npm ERR!|ERROR)\s/;

/**
 * Why npm or twine failed, in a few lines fit for a one-line reason: terminal escapes and
 * control characters removed, npm's notices and stack dumps and Python's traceback frames
 * left out (but the last exception), twine's wrapped lines joined; its error lines when it
 * printed some, else its last lines.
 */
export function clientFailureSummary(output: string, maxLines = 3): string {
  const entries: { text: string; error: boolean; traceback?: boolean }[] = [];
  let inTraceback = false;
  let previous: { text: string; error: boolean; traceback?: boolean } | undefined;
  for (const raw of output.replace(ESCAPES, '').replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(CONTROLS, '').split('\n')) {
    const line = raw.trimEnd();
    if (line === 'Traceback (most recent call last):') {
      inTraceback = true;
      previous = undefined;
      continue;
    }
    if (inTraceback) {
      // Frames, source lines and carets are indented; the exception itself is not.
      if (line === '' || /^\s/.test(line)) continue;
      inTraceback = false;
      previous = { text: line, error: true, traceback: true };
      entries.push(previous);
      continue;
    }
    if (/^(?:During handling of the above exception|The above exception was the direct cause)/.test(line)) {
      // A chained exception: the one the program died of comes last and says it best.
      if (entries.at(-1)?.traceback) entries.pop();
      previous = undefined;
      continue;
    }
    if (line.trim() === '' || NPM_NOISE.test(line)) {
      previous = undefined;
      continue;
    }
    if (/^\s/.test(line) && previous) {
      // twine (rich) wraps a message onto indented lines.
      previous.text += ` ${line.trim()}`;
      continue;
    }
    previous = { text: line, error: ERROR_LINE.test(line) };
    entries.push(previous);
  }
  const errors = entries.filter((e) => e.error);
  return (errors.length ? errors : entries)
    .slice(-maxLines)
    .map((e) => e.text.replace(/\s+/g, ' '))
    .join(' | ');
}

/** Masks the token (and anything token-shaped) in client output. */
function masked(result: ClientResult, secrets: readonly string[]): ClientResult {
  return { code: result.code, stdout: redactText(result.stdout, secrets), stderr: redactText(result.stderr, secrets) };
}

/** Environment for a client: the caller's, minus settings that could redirect it or inject other credentials. */
function cleanEnv(env: Record<string, string | undefined>, drop: RegExp): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !drop.test(k)));
}

/** The `.npmrc` key prefix npm matches a registry URL with: `//host[:port]/path/`. */
export function npmAuthKey(registry: string): string {
  const u = new URL(registry);
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return `//${u.host}${path}`;
}

/** Options of `npmPublish`: those of `npmRun`, which runs it, and the publish's own. */
export interface NpmPublishOptions extends NpmRunOptions {
  /** npm dist-tag (`--tag`), e.g. `next`. */
  distTag?: string;
  /** `--access public|restricted` for scoped packages. */
  access?: string;
  /** `--provenance` when true, `--no-provenance` when false; npm's own choice when absent. */
  provenance?: boolean;
}

/** Options of `npmRun`. */
export interface NpmRunOptions {
  registry: string;
  token: string;
  /** The package acted on; a scoped one gets its scope pinned to `registry`. */
  packageName?: string;
  env: Record<string, string | undefined>;
  cwd: string;
  runner?: CommandRunner;
  /** Interrupts npm when aborted. */
  signal?: AbortSignal;
  /** The npm executable (default `npm`). */
  npmCommand?: string;
}

/** The scope of a scoped npm package name (`@acme` of `@acme/tool`), undefined for an unscoped one. */
export function npmScope(name: string): string | undefined {
  if (!name.startsWith('@')) return undefined;
  const scope = name.slice(0, Math.max(name.indexOf('/'), 0));
  // The scope is written into an npmrc: nothing but a scope may get there.
  if (!/^@[a-z0-9~-][a-z0-9._~-]*$/i.test(scope)) throw new PublishError(`'${name}' is not an npm package name: a scoped name is @scope/name`);
  return scope;
}

/**
 * Runs an npm command with a private temporary userconfig (mode 0600) holding only
 * `//host/:_authToken=${NPM_TOKEN}` and, for a scoped package, `@scope:registry=<registry>`;
 * the token itself travels in the child's environment and the file is removed afterwards,
 * whatever happens. npm runs in that private directory, so no project `.npmrc` (where
 * `@scope:registry` or another `_authToken` would outrank the userconfig) sends the package
 * or the credentials elsewhere than to `registry`; its global config is an empty file there,
 * and the scope line outranks any `@scope:registry` of npm's built-in config.
 */
export async function npmRun(args: readonly string[], options: NpmRunOptions): Promise<ClientResult> {
  const scope = options.packageName === undefined ? undefined : npmScope(options.packageName);
  const dir = await makeTempDir('pubguard-npm-');
  const npmrc = join(dir, 'npmrc');
  const globalrc = join(dir, 'global-npmrc');
  try {
    const lines = [`registry=${options.registry}`, ...(scope ? [`${scope}:registry=${options.registry}`] : []), `${npmAuthKey(options.registry)}:_authToken=\${NPM_TOKEN}`];
    await writeFile(npmrc, `${lines.join('\n')}\n`, { mode: 0o600 });
    await chmod(npmrc, 0o600);
    await writeFile(globalrc, '', { mode: 0o600 });
    const env = { ...cleanEnv(options.env, /^npm_config_/i), NPM_TOKEN: options.token, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' };
    // npm looks for a project .npmrc from its working directory up to the first package.json;
    // --prefix pins that search to the private directory. A global config named by npm's
    // built-in npmrc (distributions set `globalconfig=/etc/npmrc`) would still be read
    // without --globalconfig.
    const full = [...args, '--registry', options.registry, '--userconfig', npmrc, '--globalconfig', globalrc, '--prefix', dir];
    const result = await (options.runner ?? spawnRunner)(options.npmCommand ?? 'npm', full, { env, cwd: dir, ...(options.signal ? { signal: options.signal } : {}) });
    return masked(result, [options.token]);
  } finally {
    await removeTempDir(dir);
  }
}

/** Runs `npm publish <tarball>` (lifecycle scripts off: the bytes are already built) through `npmRun`. */
export async function npmPublish(tarball: string, options: NpmPublishOptions): Promise<ClientResult> {
  const args = ['publish', resolve(options.cwd, tarball), '--ignore-scripts'];
  if (options.distTag) args.push('--tag', options.distTag);
  if (options.access) args.push('--access', options.access);
  if (options.provenance !== undefined) args.push(options.provenance ? '--provenance' : '--no-provenance');
  return npmRun(args, options);
}

/** Options of `twineUpload`. */
export interface TwineUploadOptions {
  repositoryUrl: string;
  token: string;
  env: Record<string, string | undefined>;
  cwd: string;
  runner?: CommandRunner;
  /** Interrupts twine when aborted. */
  signal?: AbortSignal;
  /** The twine executable (default `twine`). */
  twineCommand?: string;
  /**
   * `--skip-existing`: a file the index already holds under its name is skipped instead of
   * failing the upload (to re-run a release whose upload stopped partway).
   */
  skipExisting?: boolean;
}

/** Runs `twine upload` with the token in `TWINE_PASSWORD` (user `__token__`), never on the command line. */
export async function twineUpload(files: readonly string[], options: TwineUploadOptions): Promise<ClientResult> {
  const args = ['upload', '--non-interactive', '--disable-progress-bar', ...(options.skipExisting ? ['--skip-existing'] : []), ...files.map((f) => resolve(options.cwd, f))];
  const env = {
    ...cleanEnv(options.env, /^TWINE_/),
    TWINE_USERNAME: '__token__',
    TWINE_PASSWORD: options.token,
    TWINE_REPOSITORY_URL: options.repositoryUrl,
    TWINE_NON_INTERACTIVE: '1',
    // No desktop keyring prompt or D-Bus wait in CI.
    PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
  };
  const result = await (options.runner ?? spawnRunner)(options.twineCommand ?? 'twine', args, { env, cwd: options.cwd, ...(options.signal ? { signal: options.signal } : {}) });
  return masked(result, [options.token]);
}

/** What twine's output says `--skip-existing` skipped. */
export interface TwineSkips {
  /** The files it names as skipped, among those uploaded. */
  skipped: string[];
  /** Skip messages that name none of those files (output too mangled to tell which). */
  unnamed: number;
}

/**
 * Which of `names` (file names, as twine names them) twine's output says it skipped as already
 * on the index: "Skipping <file> because it appears to already exist" (twine 1.6 to at least
 * 4.0.2, Debian's).
 */
export function twineSkippedFiles(output: string, names: readonly string[]): TwineSkips {
  // twine's console (rich) wraps lines at 80 columns and folds a long file name mid-word, so the
  // message is looked for with every space, line break and escape taken out. A wheel or sdist
  // name holds no whitespace, and each name is matched whole between "Skipping" and "because".
  const flat = output.replace(ESCAPES, '').replace(/\s+/g, '');
  const skipped = names.filter((name) => flat.includes(`Skipping${name.replace(/\s+/g, '')}becauseitappearstoalreadyexist`));
  const messages = flat.split('becauseitappearstoalreadyexist').length - 1;
  return { skipped, unnamed: Math.max(0, messages - skipped.length) };
}
