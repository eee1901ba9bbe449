import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { base62Encode } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { npmTarball, sdist, sshKey, startHook, wheel } from '../../../release/src/testing/fixtures.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

/** A fake GitHub token with a valid checksum, random per run. */
function githubToken(): string {
  const body = randomBytes(30).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 30);
  return `ghp_${body}${base62Encode(crc32(Buffer.from(body, 'latin1')))}`;
}

/** A custom rule for a made-up `acme_` key, as a project would add it to its config. */
const ACME_RULE = { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})', examples: [`k = acme_${'9f3b1c7e'.repeat(4)}`] };

describe('pubguard publish', () => {
  it('stops a publish interrupted with Ctrl-C instead of carrying on to the upload', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const controller = new AbortController();
    controller.abort();
    const io = { ...memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789' } }), signal: controller.signal };
    const r = await run(['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0'], io);
    expect(io.out()).toContain('FAILED: interrupted');
    expect(r.exitCode).toBe(2);
  });

  it('exits 2 and says the package was published when its audit record cannot be written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    // An npm that succeeds and, meanwhile, leaves the audit log without its final newline.
    mkdirSync(join(cwd, 'bin'));
    writeFileSync(join(cwd, 'bin/npm'), `#!/bin/sh\nprintf '{"cut' >> '${join(cwd, 'audit.jsonl')}'\necho '+ acme@1.0.0'\n`);
    chmodSync(join(cwd, 'bin/npm'), 0o755);
    const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789', PATH: `${join(cwd, 'bin')}:${process.env.PATH ?? ''}` } });
    const r = await run(['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--audit', 'audit.jsonl', '-j', '0'], io);
    expect(io.out()).toContain('PUBLISHED: acme 1.0.0 published to http://127.0.0.1:9/ with dist-tag latest, but the audit record of the upload step could not be written');
    expect(io.out()).toContain('do not publish it again');
    expect(r.exitCode).toBe(2);
  });

  it('sends the notification, saying the run failed and why, when the audit log cannot take the first record', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const args = ['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '-j', '0'];
    const env = { NPM_TOKEN: 'loopback-registry-token-0123456789' };
    expect((await run([...args, '--audit', 'good.jsonl'], memoryIO({ cwd, env }))).exitCode).toBe(0);
    // cp good.jsonl cut.jsonl; truncate -s -1 cut.jsonl
    const cut = readFileSync(join(cwd, 'good.jsonl')).subarray(0, -1);
    writeFileSync(join(cwd, 'cut.jsonl'), cut);
    const hook = await startHook();
    const { bodies } = hook;
    const io = memoryIO({ cwd, env });
    try {
      const r = await run([...args, '--audit', 'cut.jsonl', '--notify', hook.url], io);
      expect(r.exitCode).toBe(2);
    } finally {
      hook.close();
    }
    expect(io.out()).toContain('FAILED: the audit record of the version step could not be written: audit log');
    expect(io.out()).toContain('does not end with a newline');
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ event: 'failed', step: 'version', reason: expect.stringContaining('does not end with a newline') });
    expect(readFileSync(join(cwd, 'cut.jsonl')).equals(cut)).toBe(true);
  });

  it('prints no token that names the tarball or a directory in it, in text or JSON', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    const fileToken = githubToken();
    const dirToken = githubToken();
    await npmTarball(cwd, 'acme', '1.0.0', `${fileToken}.tgz`, { [`package/keys/${dirToken}/a.txt`]: 'a\n' });
    const args = ['publish', 'npm', `${fileToken}.tgz`, '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0'];
    for (const format of ['text', 'json']) {
      const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789' } });
      expect((await run([...args, '-f', format], io)).exitCode).toBe(1);
      expect(io.out()).toContain(`keys/${dirToken.slice(0, 6)}…${dirToken.slice(-4)}`);
      for (const t of [fileToken, dirToken]) expect(io.out() + io.err(), format).not.toContain(t.slice(4, 20));
      // A secret in a name has no line and column.
      if (format === 'text') expect(io.out()).toContain(`keys/${dirToken.slice(0, 6)}…${dirToken.slice(-4)} ${dirToken.slice(0, 6)}…${dirToken.slice(-4)} (in the name)\n`);
    }
    expect(readFileSync(join(cwd, 'audit.jsonl'), 'utf8')).not.toContain(dirToken.slice(4, 20));
  });

  it('shows control characters in the reasons it prints escaped', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const alice = sshKey(cwd, 'id_alice');
    writeFileSync(join(cwd, 'policy.json'), JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] } }, groups: {}, rule: { minApprovers: 1, groups: {} } }));
    mkdirSync(join(cwd, 'appr'));
    // Anyone who can add a file to the approvals directory names it.
    writeFileSync(join(cwd, 'appr', 'x\x1b[1A\x1b[2KPUBLISHED.approval.json'), '{}');
    const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789' } });
    const args = ['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0'];
    const r = await run([...args, '--policy', 'policy.json', '--approvals', 'appr'], io);
    expect(r.exitCode).toBe(1);
    expect(io.out()).toContain('x\\x1b[1A\\x1b[2KPUBLISHED.approval.json');
    expect(io.out()).not.toContain('\x1b');
  });

  it('does not count the approval of whoever started the CI run, without --initiator', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const alice = sshKey(cwd, 'id_alice');
    writeFileSync(join(cwd, 'policy.json'), JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] } }, groups: {}, rule: { minApprovers: 1, groups: {} } }));
    const approved = await run(['approve', 'acme-1.0.0.tgz', '--key', 'id_alice', '--policy', 'policy.json', '--out', 'appr', '--no-audit'], memoryIO({ cwd }));
    expect(approved.exitCode).toBe(0);
    const args = ['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0', '--policy', 'policy.json', '--approvals', 'appr'];
    const publish = async (env: Record<string, string>) => {
      const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789', ...env } });
      const r = await run(args, io);
      return { code: r.exitCode, out: io.out() };
    };
    const started = await publish({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'alice' });
    expect(started.code).toBe(1);
    expect(started.out).toContain('alice started this release and may not approve it');
    expect((await publish({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'bob' })).code).toBe(0);
  });

  it('warns on stderr when the initiator is unknown or a bot, records who it was, and takes an empty GITHUB_ACTOR as none', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const alice = sshKey(cwd, 'id_alice');
    writeFileSync(join(cwd, 'policy.json'), JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] } }, groups: {}, rule: { minApprovers: 1, groups: {} } }));
    expect((await run(['approve', 'acme-1.0.0.tgz', '--key', 'id_alice', '--policy', 'policy.json', '--out', 'appr', '--no-audit'], memoryIO({ cwd }))).exitCode).toBe(0);
    const policySha = createHash('sha256').update(readFileSync(join(cwd, 'policy.json'))).digest('hex');
    const args = ['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0', '--policy', 'policy.json', '--approvals', 'appr'];
    const publish = async (env: Record<string, string>, extra: string[] = []) => {
      const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789', ...env } });
      const r = await run([...args, ...extra], io);
      const records = readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      return { code: r.exitCode, out: io.out(), err: io.err(), approvals: records.filter((x) => x.stage === 'publish.approvals').at(-1) };
    };
    const blank = await publish({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: '', USER: 'runner' });
    expect(blank.code).toBe(0);
    expect(blank.err).toContain('warning: the initiator of this release is unknown');
    expect(blank.approvals).toMatchObject({ actor: 'runner', details: { initiator: 'unknown', policy: { path: 'policy.json', sha256: policySha } } });
    expect(blank.out).toContain(`under policy policy.json (sha256 ${policySha})`);
    const bot = await publish({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'github-actions[bot]', GITHUB_TRIGGERING_ACTOR: 'github-actions[bot]' });
    expect(bot.code).toBe(0);
    expect(bot.err).toContain('warning: the initiator of this release, github-actions[bot], is not an approver in the policy');
    expect(bot.approvals).toMatchObject({ actor: 'github-actions[bot]', details: { initiator: ['github-actions[bot]'] } });
    // A person of the policy who did not approve: nothing to warn of.
    expect((await publish({ GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'Alice' })).err).toBe('');
    // The pin: the policy's own digest passes, another refuses, a malformed one is a usage error.
    expect((await publish({}, ['--initiator', 'bob', '--policy-sha256', policySha])).code).toBe(0);
    const other = await publish({}, ['--initiator', 'bob', '--policy-sha256', '0'.repeat(64)]);
    expect(other.code).toBe(1);
    expect(other.out).toContain('is not the pinned policy');
    const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789' } });
    expect((await run([...args, '--policy-sha256', 'abc'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('--policy-sha256 takes a 64-digit hex SHA-256');
  });

  it('refuses a registry that is not HTTP and an --access npm does not know before anything runs', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const cases: [string, string[], RegExp][] = [
      ['npm', ['acme-1.0.0.tgz', '--registry', 'ftp://127.0.0.1:9/'], /--registry must be an https:\/\/ or http:\/\/ URL, not ftp:\/\//],
      ['npm', ['acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--access', 'private'], /--access takes public or restricted, not 'private'/],
      ['pypi', ['acme-1.0.0.tgz', '--repository-url', 'file:///tmp/index/'], /--repository-url must be an https:\/\/ or http:\/\/ URL, not file:\/\//],
      ['pypi', ['acme-1.0.0.tgz', '--index-url', 'file:///tmp/simple/'], /--index-url must be an https:\/\/ or http:\/\/ URL, not file:\/\//],
      ['pypi', ['acme-1.0.0.tgz', '--index-url', 'https://ci:hunter2@127.0.0.1:9/simple/'], /--index-url carries a user name or password: give the public simple index/],
      ['npm', ['acme-1.0.0.tgz', '--index-url', 'http://127.0.0.1:9/simple/'], /index-url/],
      // Their tokens are checked for these hosts only, and over http would go out in cleartext.
      ['npm', ['acme-1.0.0.tgz', '--registry', 'http://registry.npmjs.org/'], /--registry registry\.npmjs\.org over plain http would send the token unencrypted: use https:\/\/registry\.npmjs\.org\/$/m],
      ['pypi', ['acme-1.0.0.tgz', '--repository-url', 'http://upload.pypi.org/legacy/'], /use https:\/\/upload\.pypi\.org\/legacy\/$/m],
      ['npm', ['acme-1.0.0.tgz', '--registry', 'http://registry.npmjs.org./'], /--registry registry\.npmjs\.org\. over plain http would send the token unencrypted: use https:\/\/registry\.npmjs\.org\.\/$/m],
      ['pypi', ['acme-1.0.0.tgz', '--repository-url', 'http://upload.pypi.org./legacy/'], /use https:\/\/upload\.pypi\.org\.\/legacy\/$/m],
      ['pypi', ['acme-1.0.0.tgz', '--repository-url', 'HTTP://Test.PyPI.org:80/legacy/'], /--repository-url test\.pypi\.org over plain http .*: use https:\/\/test\.pypi\.org\/legacy\/$/m],
    ];
    for (const [eco, args, message] of cases) {
      const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789', PYPI_TOKEN: 'loopback-registry-token-0123456789' } });
      const r = await run(['publish', eco, ...args, '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0'], io);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(io.err()).toMatch(message);
      expect(existsSync(join(cwd, 'audit.jsonl'))).toBe(false);
    }
  });

  it('warns that the token travels unencrypted to a registry over plain http that is not this machine', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const warning = (host: string): string => `warning: --registry is plain http: the token travels unencrypted to ${host}; use https unless every network on the way is trusted\n`;
    for (const [registry, expected] of [
      ['http://npm.internal.example:4873/', warning('npm.internal.example:4873')],
      ['http://ci:secret-password@10.1.2.3/', warning('10.1.2.3')],
      ['http://127.0.0.5:9/', ''],
      ['http://localhost:9/', ''],
      ['http://[::1]:9/', ''],
      ['https://npm.internal.example/', ''],
    ] as const) {
      const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789' } });
      // --access private stops the command before anything is sent; the warning comes first.
      const r = await run(['publish', 'npm', 'acme-1.0.0.tgz', '--registry', registry, '--access', 'private', '--tag-name', 'v1.0.0', '--dry-run', '-j', '0'], io);
      expect(r.exitCode).toBe(2);
      expect(io.err().startsWith(`${expected}pubguard publish npm: --access`), `${registry}: ${io.err()}`).toBe(true);
    }
  });

  it('warns that what a simple index over plain http lists could be altered on the way, unless it is this machine', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await wheel(cwd, 'acme', '1.0.0');
    for (const [indexUrl, warned] of [
      ['http://pypi.internal.example/simple/', true],
      ['http://127.0.0.1:9/simple/', false],
      ['https://pypi.internal.example/simple/', false],
    ] as const) {
      const io = memoryIO({ cwd, env: { PYPI_TOKEN: 'loopback-registry-token-0123456789' } });
      // --jobs x stops the command before anything is sent; the warning comes first.
      const r = await run(['publish', 'pypi', 'acme-1.0.0-py3-none-any.whl', '--repository-url', 'http://127.0.0.1:9/legacy/', '--index-url', indexUrl, '--tag-name', 'v1.0.0', '--dry-run', '-j', 'x'], io);
      expect(r.exitCode).toBe(2);
      expect(io.err().startsWith('warning: --index-url is plain http: what pypi.internal.example lists'), `${indexUrl}: ${io.err()}`).toBe(warned);
    }
  });

  it('warns, in one line, that --index-url without --skip-existing has no effect', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await wheel(cwd, 'acme', '1.0.0');
    for (const skip of [[], ['--skip-existing']]) {
      const io = memoryIO({ cwd, env: { PYPI_TOKEN: 'loopback-registry-token-0123456789' } });
      // --jobs x stops the command before anything is sent; the warning comes first.
      const r = await run(['publish', 'pypi', 'acme-1.0.0-py3-none-any.whl', '--repository-url', 'http://127.0.0.1:9/legacy/', '--index-url', 'https://pypi.internal.example/simple/', ...skip, '--tag-name', 'v1.0.0', '--dry-run', '-j', 'x'], io);
      expect(r.exitCode).toBe(2);
      const warning = 'warning: --index-url is used only after --skip-existing skips files: without --skip-existing it has no effect\n';
      if (skip.length) expect(io.err()).not.toContain('--index-url');
      else expect(io.err().startsWith(warning), io.err()).toBe(true);
    }
  });

  it('takes --skip-existing for pypi, hands it to twine and names the skipped files; refuses it for npm', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await wheel(cwd, 'acme', '1.0.0');
    await sdist(cwd, 'acme', '1.0.0');
    // A twine that says it skipped the wheel when asked to, and records its arguments.
    mkdirSync(join(cwd, 'bin'));
    const script = `#!/bin/sh\necho "$@" > '${join(cwd, 'twine-args')}'\ncase "$*" in *--skip-existing*) echo 'WARNING  Skipping acme-1.0.0-py3-none-any.whl because it appears to already exist' >&2;; esac\necho 'Uploading acme-1.0.0.tar.gz'\n`;
    writeFileSync(join(cwd, 'bin/twine'), script);
    chmodSync(join(cwd, 'bin/twine'), 0o755);
    const env = { PYPI_TOKEN: 'loopback-registry-token-0123456789', NPM_TOKEN: 'loopback-registry-token-0123456789', PATH: `${join(cwd, 'bin')}:${process.env.PATH ?? ''}` };
    const common = ['--tag-name', 'v1.0.0', '--audit', 'audit.jsonl', '-j', '0'];
    const io = memoryIO({ cwd, env });
    const r = await run(['publish', 'pypi', 'acme-1.0.0-py3-none-any.whl', 'acme-1.0.0.tar.gz', '--repository-url', 'http://127.0.0.1:9/legacy/', '--skip-existing', ...common, '-f', 'json'], io);
    expect(r.exitCode, io.err()).toBe(0);
    expect(readFileSync(join(cwd, 'twine-args'), 'utf8')).toContain('--skip-existing');
    expect(JSON.parse(io.out())).toMatchObject({ status: 'published', skipped: ['acme-1.0.0-py3-none-any.whl'] });

    const text = memoryIO({ cwd, env });
    expect((await run(['publish', 'pypi', 'acme-1.0.0-py3-none-any.whl', 'acme-1.0.0.tar.gz', '--repository-url', 'http://127.0.0.1:9/legacy/', '--skip-existing', ...common], text)).exitCode).toBe(0);
    expect(text.out()).toContain('PUBLISHED: acme 1.0.0 published to http://127.0.0.1:9/legacy/ (acme-1.0.0-py3-none-any.whl was already there and skipped');

    // With the simple index, the skipped wheel is compared with the approved bytes: here the
    // index lists other bytes under its name.
    const other = 'ab'.repeat(32);
    const server = createServer((req, res) => {
      const files = [
        { filename: 'acme-1.0.0-py3-none-any.whl', hashes: { sha256: other } },
        { filename: 'acme-1.0.0.tar.gz', hashes: { sha256: createHash('sha256').update(readFileSync(join(cwd, 'acme-1.0.0.tar.gz'))).digest('hex') } },
      ];
      if (req.url === '/simple/acme/') res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(JSON.stringify({ meta: { 'api-version': '1.0' }, files }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const indexUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/simple/`;
      const checked = memoryIO({ cwd, env });
      const c = await run(['publish', 'pypi', 'acme-1.0.0-py3-none-any.whl', 'acme-1.0.0.tar.gz', '--repository-url', 'http://127.0.0.1:9/legacy/', '--skip-existing', '--index-url', indexUrl, ...common], checked);
      expect(c.exitCode).toBe(1);
      expect(checked.out()).toContain(`REFUSED: twine upload --skip-existing to http://127.0.0.1:9/legacy/ finished (skipped as already there: acme-1.0.0-py3-none-any.whl; uploaded: acme-1.0.0.tar.gz), but acme-1.0.0-py3-none-any.whl on the index holds other bytes (sha256 ${other.slice(0, 12)}… there,`);
      expect(checked.out()).toContain('acme 1.0.0 on the index holds bytes nobody approved: remove that version from the repository (or yank it, where the repository can) and release a new version; running again would skip that file again, not replace it');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    await npmTarball(cwd, 'acme', '1.0.0');
    const npm = memoryIO({ cwd, env });
    const refused = await run(['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--skip-existing', ...common], npm);
    expect(refused.exitCode).toBe(2);
    expect(npm.err()).toContain('--skip-existing is for publish pypi only: npm publishes one tarball');
  });

  it('refuses a dist-tag npm would refuse at the upload before anything runs, and takes a plain name', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    const args = (tag: string): string[] => ['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag', tag, '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0'];
    const env = { NPM_TOKEN: 'loopback-registry-token-0123456789' };
    const cases: [string, RegExp][] = [
      ['bad tag', /--tag 'bad tag': a dist-tag holds only letters, digits and/],
      ['', /--tag '': the dist-tag is empty/],
      ['next\x1b[2K', /--tag 'next\\x1b\[2K': a dist-tag holds only/],
      ['v1.2.3', /--tag 'v1.2.3': npm refuses a dist-tag that reads as a version or range/],
      ['1.x', /reads as a version or range/],
      ['~1', /reads as a version or range/],
      ['x', /reads as a version or range/],
      ['*', /reads as a version or range/],
      ['1.2.3-beta', /reads as a version or range/],
    ];
    for (const [tag, message] of cases) {
      const io = memoryIO({ cwd, env });
      const r = await run(args(tag), io);
      expect(r.exitCode, JSON.stringify(tag)).toBe(2);
      expect(io.err()).toMatch(message);
      expect(io.err()).not.toContain('\x1b');
      expect(existsSync(join(cwd, 'audit.jsonl'))).toBe(false);
    }
    for (const tag of ['next', 'beta-2', 'vnext', 'x-legacy']) {
      const io = memoryIO({ cwd, env });
      const r = await run(args(tag), io);
      expect(io.err(), tag).not.toContain('--tag');
      expect(r.exitCode, tag).toBe(0);
    }
  });

  it('refuses a --notify URL that can never be posted to before anything runs, without echoing it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
    await npmTarball(cwd, 'acme', '1.0.0');
    for (const url of ['hooks.example.com/services/T0/B0/path-secret-42', 'https://hook:path-secret-42@127.0.0.1:9/hook', 'http://127.0.0.1:6000/hooks/path-secret-42']) {
      const io = memoryIO({ cwd, env: { NPM_TOKEN: 'loopback-registry-token-0123456789' } });
      const r = await run(['publish', 'npm', 'acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0', '--notify', url], io);
      expect(r.exitCode, url).toBe(2);
      expect(io.err()).toContain('notification URL');
      expect(io.out() + io.err()).not.toContain('path-secret-42');
      expect(existsSync(join(cwd, 'audit.jsonl'))).toBe(false);
    }
  });

  describe('scans as `pubguard scan` would from the same directory', () => {
    const NPM_TOKEN = 'loopback-registry-token-0123456789';
    const publishArgs = ['publish', 'npm', 'dist/acme-1.0.0.tgz', '--registry', 'http://127.0.0.1:9/', '--tag-name', 'v1.0.0', '--dry-run', '--audit', 'audit.jsonl', '-j', '0'];
    const both = async (cwd: string, extra: string[] = []): Promise<{ scan: number; publish: number; out: string; err: string }> => {
      const scanned = await run(['scan', 'dist/acme-1.0.0.tgz', '-q', '-j', '0', ...extra], memoryIO({ cwd }));
      const io = memoryIO({ cwd, env: { NPM_TOKEN } });
      const r = await run([...publishArgs, ...extra], io);
      return { scan: scanned.exitCode, publish: r.exitCode, out: io.out(), err: io.err() };
    };
    const project = async (members: Record<string, string>): Promise<string> => {
      const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-publish-'));
      mkdirSync(join(cwd, 'dist'));
      await npmTarball(join(cwd, 'dist'), 'acme', '1.0.0', undefined, members);
      return cwd;
    };
    const auditLines = (cwd: string): Array<{ stage: string; outcome: string; reason: string; details: Record<string, unknown> }> =>
      readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

    it("runs the nearest config's custom rules, and names the config in the scan record", async () => {
      const cwd = await project({ 'package/lib/key.js': `const k = 'acme_${randomBytes(16).toString('hex')}';\n` });
      writeFileSync(join(cwd, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [ACME_RULE] } }));
      mkdirSync(join(cwd, 'sub'));
      const r = await both(cwd);
      expect(r.scan).toBe(1);
      expect(r.publish).toBe(1);
      expect(r.out).toMatch(/REFUSED scan +1 finding: acme-key at dist\/acme-1\.0\.0\.tgz!package\/lib\/key\.js:1/);
      const scan = auditLines(cwd).find((l) => l.stage === 'publish.scan');
      expect(scan).toMatchObject({ outcome: 'refused', details: { config: 'pubguard.config.json' } });

      // --config names another file, as for scan; the nearest one is then not read.
      writeFileSync(join(cwd, 'pubguard.config.json'), '{');
      writeFileSync(join(cwd, 'sub', 'release.json'), JSON.stringify({ rules: { custom: [ACME_RULE] } }));
      const named = await both(cwd, ['--config', 'sub/release.json']);
      expect([named.scan, named.publish]).toEqual([1, 1]);
      expect(auditLines(cwd).filter((l) => l.stage === 'publish.scan').at(-1)?.details.config).toBe(join('sub', 'release.json'));
    });

    it("passes what the config's rules.disable and allowlist leave out, as scan does", async () => {
      const cwd = await project({ 'package/fixtures/token.js': `const t = '${githubToken()}';\n` });
      const plain = await both(cwd);
      expect([plain.scan, plain.publish]).toEqual([1, 1]);
      for (const config of [{ rules: { disable: ['github-classic-token'] } }, { allowlist: { paths: ['dist/*.tgz!package/fixtures/**'] } }]) {
        writeFileSync(join(cwd, 'pubguard.config.json'), JSON.stringify(config));
        const r = await both(cwd);
        expect([r.scan, r.publish], JSON.stringify(config)).toEqual([0, 0]);
        expect(r.out).toContain(`ok      scan      no secrets in 3 files`);
        expect(r.out).toContain(`with pubguard.config.json`);
      }
    });

    it("leaves out the config's baseline and says how many findings it accepted", async () => {
      const cwd = await project({ 'package/lib/token.js': `const t = '${githubToken()}';\n` });
      const report = memoryIO({ cwd });
      expect((await run(['scan', 'dist/acme-1.0.0.tgz', '-q', '-j', '0', '-f', 'json', '-o', 'accepted.json'], report)).exitCode).toBe(1);
      writeFileSync(join(cwd, 'pubguard.config.json'), JSON.stringify({ baseline: 'accepted.json' }));
      const r = await both(cwd);
      expect([r.scan, r.publish]).toEqual([0, 0]);
      expect(r.out).toContain('; 1 finding accepted by the baseline');
      expect(auditLines(cwd).find((l) => l.stage === 'publish.scan')?.details).toMatchObject({ baseline: 1, baselined: 1 });
    });

    it('refuses a config it cannot use with exit 2 before any step runs', async () => {
      const cwd = await project({});
      for (const [text, message] of [
        ['{', /pubguard\.config\.json:1:2: invalid JSON/],
        [JSON.stringify({ rules: { disable: ['no-such-rule'] } }), /rules\.disable\[0\]: no built-in rule has the id 'no-such-rule'/],
        [JSON.stringify({ baseline: 'missing.json' }), /missing\.json/],
      ] as const) {
        writeFileSync(join(cwd, 'pubguard.config.json'), text);
        const io = memoryIO({ cwd, env: { NPM_TOKEN } });
        const r = await run(publishArgs, io);
        expect(r.exitCode, text).toBe(2);
        expect(io.err()).toMatch(message);
        expect(existsSync(join(cwd, 'audit.jsonl'))).toBe(false);
      }
      const io = memoryIO({ cwd, env: { NPM_TOKEN } });
      expect((await run([...publishArgs, '--config', 'nowhere.json'], io)).exitCode).toBe(2);
      expect(io.err()).toContain('nowhere.json: cannot read the config file');
    });
  });
});
