import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdistFileName, wheel, wheelFileName } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessResult, runPubguard } from './helpers.js';
import { assertNoToken, auditRecords, pythonRelease, twineAvailable } from './publish-helpers.js';
import { type PypiServer, type PypiServerOptions, startPypiServer } from './servers/pypi.js';

// Re-running `pubguard publish pypi` after an upload that stopped halfway, with Debian's real
// twine against loopback indexes: one that refuses any second upload of a file name, and one
// that answers as PyPI does. Each lists what it stored on a simple index, where the files
// twine skipped are compared with the approved bytes.
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

async function index(existing: PypiServerOptions['existing'], simple?: PypiServerOptions['simple']): Promise<PypiServer> {
  const server = await startPypiServer({ existing, fail: (name) => (failSdist && name === SDIST ? 503 : undefined), ...(simple ? { simple } : {}) });
  servers.push(server);
  return server;
}

const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path.startsWith('/') ? path : join(cwd, path))).digest('hex');

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
  it('completes a release whose upload stopped after the wheel, on an index that refuses a second upload, and finds the wheel there with the approved bytes', async () => {
    // pypiserver's simple index speaks HTML only.
    const server = await index('refuse', 'html');
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

    const resumed = await publish(server, audit, ['--skip-existing', '--index-url', server.simpleUrl]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('ok      approvals approved by alice');
    expect(resumed.stdout).toContain(`PUBLISHED: ${NAME} ${VERSION} published to ${server.url} (${WHEEL} was already there with the approved bytes, as ${server.simpleUrl} lists, and skipped)`);
    expect(server.uploads.map((u) => u.filename)).toEqual([WHEEL, SDIST]);
    const upload = auditRecords(audit).at(-1) as unknown as { stage: string; outcome: string; reason: string; details: Record<string, unknown> };
    expect(upload).toMatchObject({
      stage: 'publish.upload',
      outcome: 'passed',
      details: { skipExisting: true, skipped: [WHEEL], uploaded: [SDIST], indexUrl: server.simpleUrl, index: [{ name: WHEEL, status: 'approved', sha256: sha256Of(files[0]!) }, { name: SDIST, status: 'approved' }] },
    });
    expect(upload.reason).toContain(`already there with the approved bytes: ${WHEEL}; uploaded: ${SDIST}`);
    // One look at the project's page, without the token or any credentials.
    expect(server.simpleRequests).toEqual([{ path: `/simple/${NAME}/`, accept: 'application/vnd.pypi.simple.v1+json, text/html;q=0.1', format: 'html' }]);
  });

  it('on an index that answers as PyPI, the same bytes again go through, and other bytes under the name are refused; with the flag, skipped unseen without the simple index and refused with it', async () => {
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
    // Without the simple index, a skipped file is not compared, and the result says so.
    const skipped = await publish(taken, audit, ['--skip-existing']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain(`(${WHEEL} was already there and skipped: its bytes on the index were not compared with the approved ones)`);
    expect(taken.uploads.map((u) => [u.filename, u.password])).toEqual([
      [WHEEL, 'other'],
      [SDIST, token],
    ]);
    expect(taken.simpleRequests).toEqual([]);

    // With it, the other wheel is found out: refused, naming the file and both digests.
    const compared = await publish(taken, audit, ['--skip-existing', '--index-url', taken.simpleUrl]);
    expect(compared.code, compared.stdout + compared.stderr).toBe(1);
    const there = sha256Of(join(other, WHEEL));
    const approved = sha256Of(join(cwd, files[0]!));
    expect(compared.stdout).toContain(
      `REFUSED: twine upload --skip-existing to ${taken.url} finished (skipped as already there: ${WHEEL}; uploaded: ${SDIST}), but ${WHEEL} on the index holds other bytes (sha256 ${there.slice(0, 12)}… there, ${approved.slice(0, 12)}… approved). ${NAME} ${VERSION} on the index holds bytes nobody approved: remove that version from the repository (or yank it, where the repository can) and release a new version; running again would skip that file again, not replace it`,
    );
    expect(taken.simpleRequests.map((r) => [r.format, r.authorization])).toEqual([['json', undefined]]);
    const record = auditRecords(audit).at(-1) as unknown as { stage: string; outcome: string; details: Record<string, unknown> };
    expect(record).toMatchObject({ stage: 'publish.upload', outcome: 'refused', details: { index: [{ name: WHEEL, status: 'different', sha256: there }, { name: SDIST, status: 'approved' }] } });
  });

  it('never lets the token out', () => {
    const texts: Record<string, string> = {};
    outputs.forEach((o, i) => {
      texts[`stdout ${i}`] = o.stdout;
      texts[`stderr ${i}`] = o.stderr;
    });
    expect(outputs.length).toBe(8);
    expect(assertNoToken(token, texts)).toEqual([]);
  });
});
