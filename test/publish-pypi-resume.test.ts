import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdistFileName, wheel, wheelFileName } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessResult, runPubguard } from './helpers.js';
import { assertNoToken, auditRecords, pythonRelease, twineAvailable } from './publish-helpers.js';
import { type PypiServer, type PypiServerOptions, startPypiServer } from './servers/pypi.js';

// Re-running `pubguard publish pypi` after an upload that stopped halfway, with Debian's real
// twine against loopback indexes: one that refuses any second upload of a file name, and one
// that answers as PyPI does.
const haveTwine = twineAvailable('publish-pypi-resume');

const NAME = 'acme-pubguard-demo';
const VERSION = '2.0.1';
const WHEEL = wheelFileName(NAME, VERSION);
const SDIST = sdistFileName(NAME, VERSION);
const files = [`dist/${WHEEL}`, `dist/${SDIST}`];
const token = `pypi-${randomBytes(64).toString('base64url')}`;
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-pypi-resume-'));
const outputs: ProcessResult[] = [];
const servers: PypiServer[] = [];
let failSdist = false;

async function index(existing: PypiServerOptions['existing']): Promise<PypiServer> {
  const server = await startPypiServer({ existing, fail: (name) => (failSdist && name === SDIST ? 503 : undefined) });
  servers.push(server);
  return server;
}

async function publish(server: PypiServer, audit: string, extra: string[] = []): Promise<ProcessResult> {
  const r = await runPubguard(['publish', 'pypi', ...files, '--tag-name', `v${VERSION}`, '--repository-url', server.url, '--audit', audit, '--jobs', '0', ...extra], {
    cwd,
    env: { GITHUB_REF: '', GITHUB_ACTOR: 'release-bot', PYPI_TOKEN: token },
  });
  outputs.push(r);
  return r;
}

beforeAll(async () => {
  await pythonRelease(cwd, NAME, VERSION, files);
  // One approval of the whole release, for every run below.
  const a = await runPubguard(['approve', ...files, '--key', 'id_alice', '--expires', '1h', '--no-audit'], { cwd });
  if (a.code !== 0) throw new Error(a.stderr);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(cwd, { recursive: true, force: true });
});

describe.skipIf(!haveTwine)('pubguard publish pypi --skip-existing (loopback indexes, real twine)', () => {
  it('completes a release whose upload stopped after the wheel, on an index that refuses a second upload', async () => {
    const server = await index('refuse');
    const audit = join(cwd, 'audit-refuse.jsonl');
    failSdist = true;
    const first = await publish(server, audit);
    failSdist = false;
    expect(first.code).toBe(2);
    expect(first.stdout).toContain('FAILED: twine upload exited with 1');
    expect(server.uploads.map((u) => u.filename)).toEqual([WHEEL]);

    const again = await publish(server, audit);
    expect(again.code).toBe(2);
    expect(again.stdout).toContain('409 Conflict');
    expect(again.stdout).toContain('if an earlier run of this release stopped partway, run it again with --skip-existing');
    expect(server.uploads.map((u) => u.filename)).toEqual([WHEEL]);

    const resumed = await publish(server, audit, ['--skip-existing']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('ok      approvals approved by alice');
    expect(resumed.stdout).toContain(`PUBLISHED: ${NAME} ${VERSION} published to ${server.url} (${WHEEL} was already there and skipped`);
    expect(server.uploads.map((u) => u.filename)).toEqual([WHEEL, SDIST]);
    const upload = auditRecords(audit).at(-1) as unknown as { stage: string; outcome: string; reason: string; details: Record<string, unknown> };
    expect(upload).toMatchObject({ stage: 'publish.upload', outcome: 'passed', details: { skipExisting: true, skipped: [WHEEL], uploaded: [SDIST] } });
    expect(upload.reason).toContain(`skipped as already there: ${WHEEL}`);
  });

  it('on an index that answers as PyPI, the same bytes again go through, and other bytes under the name are refused or, with the flag, skipped and said so', async () => {
    const server = await index('pypi');
    const audit = join(cwd, 'audit-pypi.jsonl');
    failSdist = true;
    expect((await publish(server, audit)).code).toBe(2);
    failSdist = false;
    // PyPI takes an identical file again as a no-op: no flag needed to finish.
    const again = await publish(server, audit);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`PUBLISHED: ${NAME} ${VERSION} published to ${server.url}\n`);
    expect(server.uploads.map((u) => u.filename)).toEqual([WHEEL, SDIST]);

    // Another index where someone uploaded a different wheel under the same name first.
    const taken = await index('pypi');
    const other = join(cwd, 'other');
    mkdirSync(other);
    writeFileSync(join(other, WHEEL), await wheel(NAME, VERSION, [{ path: 'acme_pubguard_demo/__init__.py', content: '# not this release\n' }]));
    await new Promise<void>((resolve, reject) => {
      const env = { PATH: process.env.PATH ?? '', TWINE_USERNAME: '__token__', TWINE_PASSWORD: 'other', TWINE_REPOSITORY_URL: taken.url, PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' };
      execFile('twine', ['upload', '--non-interactive', '--disable-progress-bar', join(other, WHEEL)], { env }, (error) => (error ? reject(error) : resolve()));
    });
    const refused = await publish(taken, audit);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('File already exists');
    expect(refused.stdout).toContain('on PyPI, which takes the same bytes again, it means the file there differs');
    const skipped = await publish(taken, audit, ['--skip-existing']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain(`(${WHEEL} was already there and skipped: its bytes on the index were not compared with the approved ones)`);
    expect(taken.uploads.map((u) => [u.filename, u.password])).toEqual([
      [WHEEL, 'other'],
      [SDIST, token],
    ]);
  });

  it('never lets the token out', () => {
    const texts: Record<string, string> = {};
    outputs.forEach((o, i) => {
      texts[`stdout ${i}`] = o.stdout;
      texts[`stderr ${i}`] = o.stderr;
    });
    expect(outputs.length).toBe(7);
    expect(assertNoToken(token, texts)).toEqual([]);
  });
});
