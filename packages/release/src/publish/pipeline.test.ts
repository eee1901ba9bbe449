import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npmTarball, sdist, wheel } from '../testing/fixtures.js';
import { type CommandRunner, spawnRunner } from './clients.js';
import { PublishError } from './errors.js';
import { publishRelease } from './pipeline.js';

const TOKEN = 'loopback-registry-token-0123456789';

async function setup() {
  const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
  const file = await npmTarball(cwd, 'acme', '1.0.0');
  const calls: { args: string[]; npmrc: string; mode: number; env: Record<string, string | undefined> }[] = [];
  const runner: CommandRunner = async (_cmd, args, o) => {
    const cfg = args[args.indexOf('--userconfig') + 1]!;
    calls.push({ args: [...args], npmrc: readFileSync(cfg, 'utf8'), mode: statSync(cfg).mode & 0o777, env: o.env });
    return { code: 0, stdout: `+ acme@1.0.0 (authorised with ${TOKEN})\n`, stderr: '' };
  };
  const base = { ecosystem: 'npm' as const, files: [file], registry: 'http://127.0.0.1:9/', tag: 'v1.0.0', env: { NPM_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', runner, jobs: 0 };
  return { cwd, file, calls, base };
}

describe('publishRelease', () => {
  it('hands npm the token through a 0600 userconfig that refers to ${NPM_TOKEN}, removed afterwards, output masked', async () => {
    const { calls, base } = await setup();
    const r = await publishRelease(base);
    expect(r.status).toBe('published');
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c.args.join(' ')).not.toContain(TOKEN);
    expect(c.npmrc).toBe('registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n');
    expect(c.mode).toBe(0o600);
    expect(c.env.NPM_TOKEN).toBe(TOKEN);
    expect(existsSync(c.args[c.args.indexOf('--userconfig') + 1]!)).toBe(false);
    expect(r.clientOutput).not.toContain(TOKEN);
    expect(readFileSync(base.auditPath, 'utf8')).not.toContain(TOKEN);
  });

  it("pins a scoped package's scope to the registry and gives npm an empty global config", async () => {
    const { cwd, calls, base } = await setup();
    const file = await npmTarball(cwd, '@acme/tool', '1.0.0');
    let globalrc: { path: string; text: string } | undefined;
    const runner: CommandRunner = async (cmd, args, o) => {
      const at = args.indexOf('--globalconfig');
      if (at >= 0) globalrc = { path: args[at + 1]!, text: readFileSync(args[at + 1]!, 'utf8') };
      return base.runner(cmd, args, o);
    };
    const r = await publishRelease({ ...base, files: [file], runner });
    expect(r.status).toBe('published');
    // Outranks an @acme:registry of the global or built-in npm config.
    expect(calls[0]!.npmrc).toBe('registry=http://127.0.0.1:9/\n@acme:registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n');
    const userconfig = calls[0]!.args[calls[0]!.args.indexOf('--userconfig') + 1]!;
    expect(globalrc?.text).toBe('');
    expect(dirname(globalrc!.path)).toBe(dirname(userconfig));
    expect(existsSync(globalrc!.path)).toBe(false);
  });

  it('refuses when the file changes after it was checked, before any upload', async () => {
    const { file, calls, base } = await setup();
    const r = await publishRelease({
      ...base,
      onStep: (s) => {
        if (s.step === 'token') writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('x')]));
      },
    });
    expect(r).toMatchObject({ status: 'refused', step: 'rehash' });
    expect(r.reason).toContain('changed since it was checked');
    expect(calls).toHaveLength(0);
  });

  it('uploads the bytes it checked even when the file is swapped after the last re-hash', async () => {
    const { file, base } = await setup();
    const approved = createHash('sha256').update(readFileSync(file)).digest('hex');
    let uploaded: string | undefined;
    let handed: string | undefined;
    const runner: CommandRunner = async (_cmd, args) => {
      // npm is handed a tarball path: hash what it would read at that moment.
      handed = args.find((a) => a.endsWith('.tgz'));
      uploaded = handed ? createHash('sha256').update(readFileSync(handed)).digest('hex') : undefined;
      return { code: 0, stdout: '', stderr: '' };
    };
    const r = await publishRelease({
      ...base,
      runner,
      onStep: (s) => {
        if (s.step === 'rehash') writeFileSync(file, Buffer.from('not the approved tarball'));
      },
    });
    expect(r.status).toBe('published');
    expect(uploaded).toBe(approved);
    // npm read a private copy, which is gone afterwards.
    expect(handed).not.toBe(file);
    expect(existsSync(handed ?? file)).toBe(false);
  });

  it('names a file it cannot read by its own path, in words', async () => {
    const { cwd, base } = await setup();
    const missing = await publishRelease({ ...base, files: ['dist/acme-1.0.0.tgz'] });
    expect(missing).toMatchObject({ status: 'failed', step: 'version', reason: `cannot read ${join(cwd, 'dist/acme-1.0.0.tgz')}: no such file` });
    const directory = await publishRelease({ ...base, files: [cwd] });
    expect(directory.reason).toBe(`cannot read ${cwd}: is a directory, not a file`);
  });

  it('dry run checks everything and uploads nothing', async () => {
    const { calls, base } = await setup();
    const r = await publishRelease({ ...base, dryRun: true });
    expect(r.status).toBe('dry-run');
    expect(r.steps.map((s) => s.step)).toEqual(['version', 'scan', 'approvals', 'token', 'rehash', 'upload']);
    expect(calls).toHaveLength(0);
  });

  it('never records or reports the password of a registry URL', async () => {
    const { base } = await setup();
    const r = await publishRelease({ ...base, registry: 'http://ci:url-password-0123@127.0.0.1:9/', dryRun: true });
    expect(r.status).toBe('dry-run');
    expect(JSON.stringify(r)).not.toContain('url-password-0123');
    const log = readFileSync(base.auditPath, 'utf8');
    expect(log).not.toContain('url-password-0123');
    expect(log).toContain('http://ci:[redacted]@127.0.0.1:9/');
  });

  it('refuses without a tag, and with --require-approvals but no policy', async () => {
    const { base } = await setup();
    expect(await publishRelease({ ...base, tag: undefined, env: { NPM_TOKEN: TOKEN } })).toMatchObject({ status: 'refused', step: 'version' });
    expect(await publishRelease({ ...base, requireApprovals: true })).toMatchObject({ status: 'refused', step: 'approvals' });
  });

  it('reports a failed upload as failed, with the token masked', async () => {
    const { base } = await setup();
    const runner: CommandRunner = async () => ({ code: 1, stdout: '', stderr: `npm error 403 Forbidden for token ${TOKEN}\n` });
    const r = await publishRelease({ ...base, runner });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toContain('403 Forbidden');
    expect(r.reason).not.toContain(TOKEN);
  });

  it('says a package was published when its audit record cannot be written, and still notifies', async () => {
    const { base } = await setup();
    const bodies: string[] = [];
    const hook = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        bodies.push(b);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    // The upload succeeds, and meanwhile the log loses its final newline, so no record can follow.
    const runner: CommandRunner = async () => {
      appendFileSync(base.auditPath, '{"cut');
      return { code: 0, stdout: '+ acme@1.0.0\n', stderr: '' };
    };
    const r = await publishRelease({ ...base, runner, notifyUrl: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`, notifyOptions: { attempts: 1 } });
    hook.close();
    expect(r.status).toBe('published');
    expect(r.auditError).toContain('the audit record of the upload step could not be written');
    expect(r.auditError).toContain('does not end with a newline');
    expect(r.auditError).toContain('IS published: do not publish it again');
    expect(r.reason).toMatch(/^acme 1\.0\.0 published to http:\/\/127\.0\.0\.1:9\/, but the audit record/);
    expect(r.notification).toMatchObject({ ok: true });
    expect(r.steps.map((s) => s.step)).toEqual(['version', 'scan', 'approvals', 'token', 'rehash', 'upload', 'notify']);
    const body = JSON.parse(bodies[0]!) as { event: string; text: string; auditError?: string };
    expect(body.event).toBe('published');
    expect(body.text).toContain('acme 1.0.0 published to npm, but the audit record of the upload step could not be written');
    expect(body.auditError).toBe(r.auditError);
    // Nothing was appended after the lost record.
    expect(readFileSync(base.auditPath, 'utf8').endsWith('{"cut')).toBe(true);
  });

  it('stops at the next step once interrupted (Ctrl-C), and never starts the upload', async () => {
    for (const at of ['version', 'scan', 'approvals', 'token', 'rehash'] as const) {
      const { calls, base } = await setup();
      const controller = new AbortController();
      const r = await publishRelease({
        ...base,
        signal: controller.signal,
        onStep: (s) => {
          if (s.step === at) controller.abort();
        },
      });
      expect(r, at).toMatchObject({ status: 'failed' });
      expect(r.reason).toContain('interrupted');
      expect(r.reason).toContain('nothing was uploaded');
      expect(calls, at).toHaveLength(0);
      expect(readFileSync(base.auditPath, 'utf8').trim().split('\n').at(-1)).toContain('"outcome":"error"');
    }
  });

  it('interrupts the client on Ctrl-C during the upload and says the upload may have happened', async () => {
    const { base } = await setup();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const runner: CommandRunner = async (_cmd, _args, o) => {
      seen = o.signal;
      controller.abort();
      // What twine prints when Ctrl-C reaches it mid-upload.
      return { code: null, stdout: '', stderr: 'Traceback (most recent call last):\n  File "/usr/lib/python3.11/socket.py", line 706, in readinto\n    return self._sock.recv_into(b)\n           ^^^^^^^^^^^^^^^^^^^^^^^\nKeyboardInterrupt\n' };
    };
    const r = await publishRelease({ ...base, runner, signal: controller.signal });
    expect(seen).toBe(controller.signal);
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toBe('interrupted during npm publish: the upload may or may not have reached http://127.0.0.1:9/; look there before trying again');
    expect(r.clientOutput).toContain('KeyboardInterrupt');
  });

  it("says why the client failed in a line free of colours, traceback frames and npm's boilerplate", async () => {
    const { base } = await setup();
    const stderr = [
      '\x1b[33mWARNING \x1b[0m Retrying after connection broken by NewConnectionError',
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3/dist-packages/requests/adapters.py", line 565, in send',
      '    raise ConnectionError(e, request=request)',
      'requests.exceptions.ConnectionError: Max retries exceeded with url: /legacy/',
      '',
    ].join('\n');
    const r = await publishRelease({ ...base, runner: async () => ({ code: 1, stdout: '', stderr }) });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toBe('npm publish exited with 1: requests.exceptions.ConnectionError: Max retries exceeded with url: /legacy/');
    const npm = 'npm error code E403\nnpm error 403 Forbidden - PUT http://127.0.0.1:9/acme\nnpm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log\n';
    const forbidden = await publishRelease({ ...(await setup()).base, runner: async () => ({ code: 1, stdout: '', stderr: npm }) });
    expect(forbidden.reason).toBe('npm publish exited with 1: npm error code E403 | npm error 403 Forbidden - PUT http://127.0.0.1:9/acme');
    expect(readFileSync(base.auditPath, 'utf8')).not.toContain('\\u001b');
  });

  it('with skipExisting, hands twine --skip-existing and names the files it skipped, in the result and the audit record', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
    const files = [await wheel(cwd, 'acme', '1.0.0'), await sdist(cwd, 'acme', '1.0.0')];
    const calls: string[][] = [];
    const runner: CommandRunner = async (_cmd, args) => {
      calls.push([...args]);
      const skip = args.includes('--skip-existing');
      return { code: 0, stdout: '', stderr: `${skip ? 'WARNING  Skipping acme-1.0.0-py3-none-any.whl because it appears to already exist\n' : ''}Uploading acme-1.0.0.tar.gz\n` };
    };
    const base = { ecosystem: 'pypi' as const, files, registry: 'http://127.0.0.1:9/legacy/', tag: 'v1.0.0', env: { PYPI_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', runner, jobs: 0 };
    const r = await publishRelease({ ...base, skipExisting: true });
    expect(calls[0]).toContain('--skip-existing');
    expect(r).toMatchObject({ status: 'published', skipped: ['acme-1.0.0-py3-none-any.whl'] });
    expect(r.reason).toBe('acme 1.0.0 published to http://127.0.0.1:9/legacy/ (acme-1.0.0-py3-none-any.whl was already there and skipped: its bytes on the index were not compared with the approved ones)');
    const upload = JSON.parse(readFileSync(base.auditPath, 'utf8').trim().split('\n').at(-1)!);
    expect(upload).toMatchObject({ stage: 'publish.upload', outcome: 'passed', details: { skipExisting: true, skipped: ['acme-1.0.0-py3-none-any.whl'], uploaded: ['acme-1.0.0.tar.gz'] } });
    expect(upload.reason).toContain('skipped as already there: acme-1.0.0-py3-none-any.whl');

    const plain = await publishRelease(base);
    expect(calls[1]).not.toContain('--skip-existing');
    expect(plain.status).toBe('published');
    expect(plain.skipped).toBeUndefined();
    expect(plain.reason).toBe('acme 1.0.0 published to http://127.0.0.1:9/legacy/');
  });

  it('says when twine skipped a file it did not name readably, and suggests --skip-existing when a file was already there', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
    const files = [await wheel(cwd, 'acme', '1.0.0')];
    const base = { ecosystem: 'pypi' as const, files, registry: 'http://127.0.0.1:9/legacy/', tag: 'v1.0.0', env: { PYPI_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', jobs: 0 };
    const garbled = await publishRelease({ ...base, skipExisting: true, runner: async () => ({ code: 0, stdout: '', stderr: 'WARNING  Skipping acme-1.0.0-py3-none-any.whl.part because it appears to already exist\n' }) });
    expect(garbled.status).toBe('published');
    expect(garbled.skipped).toEqual([]);
    expect(garbled.reason).toContain('some files were already there and skipped');
    const conflict = 'WARNING  Error during upload. Retry with the --verbose option for more details.\nERROR    HTTPError: 409 Conflict from http://127.0.0.1:9/legacy/\n         Conflict\n';
    const refused = await publishRelease({ ...base, runner: async () => ({ code: 1, stdout: '', stderr: conflict }) });
    expect(refused).toMatchObject({ status: 'failed', step: 'upload' });
    expect(refused.reason).toContain('HTTPError: 409 Conflict');
    expect(refused.reason).toContain('run it again with --skip-existing');
    const other = await publishRelease({ ...base, runner: async () => ({ code: 1, stdout: '', stderr: 'ERROR    HTTPError: 403 Forbidden from http://127.0.0.1:9/legacy/\n' }) });
    expect(other.reason).not.toContain('--skip-existing');
  });

  it('refuses skipExisting for npm', async () => {
    const { base } = await setup();
    await expect(publishRelease({ ...base, skipExisting: true })).rejects.toThrow(PublishError);
  });

  it('the process runner stops a running client when the signal is aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const r = await spawnRunner(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { env: {}, cwd: tmpdir(), signal: controller.signal });
    expect(r.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
