import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdistFileName, wheelFileName } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessResult, runPubguard } from './helpers.js';
import { assertNoToken, auditRecords, checksummedToken, pythonRelease, twineAvailable } from './publish-helpers.js';
import { type PypiServer, startPypiServer, startWebhook } from './servers/pypi.js';

// `pubguard publish pypi` with Debian's real twine against a loopback legacy-upload endpoint.
const haveTwine = twineAvailable('publish-pypi');

const NAME = 'acme-pubguard-demo';
const VERSION = '2.0.1';
let server: PypiServer;
let hook: Awaited<ReturnType<typeof startWebhook>>;
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-pypi-'));
const audit = join(cwd, 'audit.jsonl');
// Shaped like a PyPI token but random: nothing masks it by pattern, only by value.
const token = `pypi-${randomBytes(64).toString('base64url')}`;
const files = [`dist/${wheelFileName(NAME, VERSION)}`, `dist/${sdistFileName(NAME, VERSION)}`];
const outputs: ProcessResult[] = [];

async function publish(args: string[], env: Record<string, string>): Promise<ProcessResult> {
  const r = await runPubguard(['publish', 'pypi', ...args, '--repository-url', server.url, '--audit', audit, '--notify', hook.url, '--jobs', '0'], {
    cwd,
    env: { GITHUB_REF: '', GITHUB_ACTOR: 'release-bot', ...env },
  });
  outputs.push(r);
  return r;
}

beforeAll(async () => {
  [server, hook] = await Promise.all([startPypiServer(), startWebhook()]);
  await pythonRelease(cwd, NAME, VERSION, files);
});

afterAll(async () => {
  await Promise.all([server?.stop(), hook?.stop()]);
  rmSync(cwd, { recursive: true, force: true });
});

describe.skipIf(!haveTwine)('pubguard publish pypi (loopback legacy upload, real twine)', () => {
  it('refuses without approvals, then uploads the approved bytes with the dedicated token', async () => {
    const refused = await publish([...files, '--tag-name', `v${VERSION}`], { PYPI_TOKEN: token });
    expect(refused.code).toBe(1);
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.approvals', outcome: 'refused' });
    expect(server.uploads).toEqual([]);

    const a = await runPubguard(['approve', ...files, '--key', 'id_alice', '--expires', '1h', '--no-audit', '-f', 'json'], { cwd });
    expect(a.code).toBe(0);
    const approved = JSON.parse(readFileSync(JSON.parse(a.stdout).files.statement, 'utf8')) as { artifacts: { name: string; sha256: string }[] };

    const gh = checksummedToken('ghp_');
    const wrongToken = await publish([...files, '--tag-name', `v${VERSION}`], { PYPI_TOKEN: gh });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stdout).toContain('PYPI_TOKEN holds a GitHub token');
    expect(assertNoToken(gh, { out: wrongToken.stdout + wrongToken.stderr, audit: readFileSync(audit, 'utf8'), hooks: hook.bodies.join('\n') })).toEqual([]);
    expect(server.uploads).toEqual([]);

    const r = await publish([...files, '--tag-name', `refs/tags/v${VERSION}`], { PYPI_TOKEN: token });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('PUBLISHED');
    expect(server.uploads.map((u) => u.filename).sort()).toEqual(approved.artifacts.map((x) => x.name).sort());
    for (const u of server.uploads) {
      expect(u.sha256).toBe(approved.artifacts.find((x) => x.name === u.filename)?.sha256);
      expect(u.username).toBe('__token__');
      expect(u.password).toBe(token);
      expect(u.fields).toMatchObject({ ':action': 'file_upload', name: NAME, version: VERSION });
    }
  });

  it('never lets the token out', async () => {
    const texts: Record<string, string> = { audit: readFileSync(audit, 'utf8'), hooks: hook.bodies.join('\n') };
    outputs.forEach((o, i) => {
      texts[`stdout ${i}`] = o.stdout;
      texts[`stderr ${i}`] = o.stderr;
    });
    expect(hook.bodies.length).toBe(3);
    expect(JSON.parse(hook.bodies.at(-1)!)).toMatchObject({ event: 'published', package: NAME, approvers: ['alice'] });
    expect(assertNoToken(token, texts)).toEqual([]);
  });
});
