import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, killAll, until } from '../testing/processes.js';
import { type CommandRunner, clientFailureSummary, killClientsNow, spawnRunner, twineSkippedFiles, twineUpload } from './clients.js';

// Abridged from what npm 11 and Debian's twine 4.0.2 print when an upload fails.
const npmRefused = [
  'npm notice Publishing to http://127.0.0.1:9/ with tag latest and default access',
  'npm error code ECONNREFUSED',
  'npm error syscall connect',
  'npm error errno ECONNREFUSED',
  'npm error FetchError: request to http://127.0.0.1:9/acme failed, reason: connect ECONNREFUSED 127.0.0.1:9',
  'npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/node_modules/minipass-fetch/lib/index.js:130:14)',
  'npm error     at process.processTicksAndRejections (node:internal/process/task_queues:83:21) {',
  "npm error   code: 'ECONNREFUSED',",
  "npm error   port: 9,",
  'npm error }',
  'npm error',
  "npm error If you are behind a proxy, please make sure that the 'proxy' config is set properly.  See: 'npm help config'",
  'npm error A complete log of this run can be found in: /root/.npm/_logs/2030-01-01T00_00_00_000Z-debug-0.log',
  '',
].join('\n');

const twineHttpError = [
  'Uploading distributions to http://127.0.0.1:9/legacy/',
  'Uploading acme-1.0.0-py3-none-any.whl',
  '\x1b[33mWARNING \x1b[0m Received "500: Internal Server Error"                                  ',
  '         Package upload appears to have failed. Retry 5 of 5.                   ',
  '\x1b[33mWARNING \x1b[0m Error during upload. Retry with the --verbose option for more details. ',
  '\x1b[31mERROR   \x1b[0m HTTPError: 500 Internal Server Error from                              ',
  '         http://127.0.0.1:9/legacy/                                         ',
  '         Internal Server Error                                                  ',
  '',
].join('\n');

const twineTraceback = [
  'Uploading distributions to http://127.0.0.1:9/legacy/',
  'Traceback (most recent call last):',
  '  File "/usr/lib/python3/dist-packages/urllib3/connection.py", line 174, in _new_conn',
  '    conn = connection.create_connection(',
  '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
  'ConnectionRefusedError: [Errno 111] Connection refused',
  '',
  'During handling of the above exception, another exception occurred:',
  '',
  'Traceback (most recent call last):',
  '  File "/usr/bin/twine", line 8, in <module>',
  '    sys.exit(main())',
  '  File "/usr/lib/python3/dist-packages/requests/adapters.py", line 565, in send',
  '    raise ConnectionError(e, request=request)',
  "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /legacy/",
  '',
].join('\n');

describe('clientFailureSummary', () => {
  it("takes npm's message, not its stack, error object, proxy advice or log path", () => {
    expect(clientFailureSummary(npmRefused)).toBe(
      'npm error code ECONNREFUSED | npm error FetchError: request to http://127.0.0.1:9/acme failed, reason: connect ECONNREFUSED 127.0.0.1:9',
    );
  });

  it("takes twine's error without colours, its wrapped lines joined", () => {
    const s = clientFailureSummary(twineHttpError);
    expect(s).toBe('ERROR HTTPError: 500 Internal Server Error from http://127.0.0.1:9/legacy/ Internal Server Error');
    expect(s).not.toMatch(/[\x00-\x1f]/);
  });

  it('keeps the last exception of a chained Python traceback and none of its frames', () => {
    expect(clientFailureSummary(twineTraceback)).toBe(
      "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /legacy/",
    );
  });

  it('falls back to the last lines, control characters removed, and to nothing for no output', () => {
    expect(clientFailureSummary('one\ntwo\nthree\nfour\x07\n')).toBe('two | three | four');
    expect(clientFailureSummary('npm notice\n\n')).toBe('');
  });
});

describe('twineUpload', () => {
  const upload = async (skipExisting?: boolean) => {
    const calls: string[][] = [];
    const runner: CommandRunner = async (_cmd, args) => {
      calls.push([...args]);
      return { code: 0, stdout: '', stderr: '' };
    };
    await twineUpload(['dist/a-1.0.0.tar.gz'], { repositoryUrl: 'http://127.0.0.1:9/legacy/', token: 'x', env: {}, cwd: '/work', runner, ...(skipExisting === undefined ? {} : { skipExisting }) });
    return calls[0]!;
  };

  it('passes --skip-existing to twine only when asked, before the files', async () => {
    expect(await upload(true)).toEqual(['upload', '--non-interactive', '--disable-progress-bar', '--skip-existing', '/work/dist/a-1.0.0.tar.gz']);
    expect(await upload(false)).not.toContain('--skip-existing');
    expect(await upload()).not.toContain('--skip-existing');
  });
});

describe('spawnRunner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pubguard-clients-'));
  const strays: number[] = [];
  afterAll(() => {
    killAll(strays);
    rmSync(dir, { recursive: true, force: true });
  });
  const alive = isRunning;

  /** Runs a stand-in client, once it runs. */
  const client = async (name: string, options: { ignoreSignals?: boolean; signal?: AbortSignal } = {}) => {
    const pids = join(dir, `${name}.pids`);
    const script = [
      ...(options.ignoreSignals ? ["process.on('SIGINT', () => {}); process.on('SIGTERM', () => {});"] : []),
      `require('node:fs').writeFileSync(${JSON.stringify(pids)}, process.pid + '\\n');`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const result = spawnRunner(process.execPath, ['-e', script], { env: process.env, cwd: dir, ...(options.signal ? { signal: options.signal } : {}) });
    expect(await until(() => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'))).toBe(true);
    const pid = Number(readFileSync(pids, 'utf8').trim());
    strays.push(pid);
    return { result, pid };
  };

  it('interrupts the client on abort, as Ctrl-C at a terminal would', async () => {
    const controller = new AbortController();
    const run = await client('interrupted', { signal: controller.signal });
    controller.abort();
    expect((await run.result).code).toBeNull();
    expect(await until(() => !alive(run.pid))).toBe(true);
  });

  it('kills a client that ignores SIGINT and SIGTERM when asked at exit', async () => {
    const run = await client('stubborn', { ignoreSignals: true });
    expect(killClientsNow()).toBe(1);
    // Called again by another exit hook: the same client, killed already.
    expect(killClientsNow()).toBe(1);
    expect((await run.result).code).toBeNull();
    expect(await until(() => !alive(run.pid))).toBe(true);
    expect(killClientsNow()).toBe(0);
  });

  it("leaves the client in this process's group, where a stop aimed at the group reaches it", async () => {
    const run = await client('grouped');
    const group = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ')[2]!;
    expect(group(run.pid)).toBe(group(process.pid));
    expect(killClientsNow()).toBe(1);
    await run.result;
  });
});

// Debian's twine 4.0.2 against a loopback index, a long wheel name folded across lines by rich.
const WHEEL = 'acme_pubguard_demo_with_a_rather_long_name_indeed-2.0.1-py3-none-any.whl';
const SDIST = 'acme_pubguard_demo_with_a_rather_long_name_indeed-2.0.1.tar.gz';
const twineSkipped = [
  'Uploading distributions to http://127.0.0.1:41851/legacy/',
  '\x1b[33mWARNING \x1b[0m Skipping                                                               ',
  '         acme_pubguard_demo_with_a_rather_long_name_indeed-2.0.1-py3-none-any.wh',
  '         l because it appears to already exist                                  ',
  'Uploading acme_pubguard_demo_with_a_rather_long_name_indeed-2.0.1.tar.gz',
  '',
].join('\n');

describe('twineSkippedFiles', () => {
  it("names the files twine skipped, however its console wrapped the message", () => {
    expect(twineSkippedFiles(twineSkipped, [WHEEL, SDIST])).toEqual({ skipped: [WHEEL], unnamed: 0 });
    const short = '\x1b[33mWARNING \x1b[0m Skipping a-1.0.0.tar.gz because it appears to already exist\nUploading a-1.0.0-py3-none-any.whl\n';
    expect(twineSkippedFiles(short, ['a-1.0.0-py3-none-any.whl', 'a-1.0.0.tar.gz'])).toEqual({ skipped: ['a-1.0.0.tar.gz'], unnamed: 0 });
  });

  it('skips nothing when twine said nothing of the kind, and counts a skip it cannot tie to a file', () => {
    expect(twineSkippedFiles(`Uploading ${WHEEL}\nUploading ${SDIST}\n`, [WHEEL, SDIST])).toEqual({ skipped: [], unnamed: 0 });
    // A name that is only the start of another is not taken for it.
    expect(twineSkippedFiles('Skipping a-1.0.0.tar.gz.asc because it appears to already exist\n', ['a-1.0.0.tar.gz'])).toEqual({ skipped: [], unnamed: 1 });
  });
});
