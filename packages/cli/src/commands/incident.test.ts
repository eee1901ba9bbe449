import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-'));

describe('pubguard incident npm', () => {
  it('never prints or records the user information of a registry URL, whatever its form', async () => {
    const secret = `url${randomBytes(9).toString('hex')}`;
    for (const userinfo of [`ci:${secret}`, secret, `${secret}:`]) {
      for (const format of ['text', 'json']) {
        const io = memoryIO({ cwd });
        expect((await run(['incident', 'npm', 'acme@1.2.3', '--registry', `https://${userinfo}@npm.corp.example/`, '-f', format], io)).exitCode).toBe(0);
        expect(io.out()).toContain('https://[redacted]@npm.corp.example/');
        expect(io.out() + io.err()).not.toContain(secret);
      }
    }
    expect(readFileSync(join(cwd, '.pubguard/audit.jsonl'), 'utf8')).not.toContain(secret);
  });

  it('masks a --token-id that is the token itself, in the plan as in the audit log', async () => {
    const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
    // One token known only by its npm_ shape, one known only as the value of the token variable.
    const shaped = `npm_${alnum(36)}`;
    const plain = `loopback-${alnum(24)}`;
    for (const [token, env] of [
      [shaped, {}],
      [plain, { NPM_TOKEN: plain }],
    ] as const) {
      for (const format of ['text', 'json']) {
        const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-'));
        const io = memoryIO({ cwd: dir, env });
        await run(['incident', 'npm', 'acme@1.2.3', '--registry', 'https://npm.corp.example/', '--token-id', token, '-f', format], io);
        expect(io.out()).toContain('Revoke npm token ');
        expect(io.out() + io.err()).not.toContain(token);
        expect(io.out()).toContain(token === shaped ? 'npm_…[redacted]' : '[redacted]');
        expect(readFileSync(join(dir, '.pubguard/audit.jsonl'), 'utf8')).not.toContain(token);
      }
    }
  });

  it('refuses a registry that is not HTTP, as npm would only fail on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-'));
    const io = memoryIO({ cwd: dir });
    expect((await run(['incident', 'npm', 'acme@1.2.3', '--registry', 'ftp://npm.corp.example/'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('--registry must be an https:// or http:// URL, not ftp://');
    expect(existsSync(join(dir, '.pubguard/audit.jsonl'))).toBe(false);
  });

  it('refuses registry.npmjs.org over plain http, and warns of another host over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-'));
    const refused = memoryIO({ cwd: dir });
    expect((await run(['incident', 'npm', 'acme@1.2.3', '--registry', 'http://registry.npmjs.org/'], refused)).exitCode).toBe(2);
    expect(refused.err()).toContain('--registry registry.npmjs.org over plain http would send the token unencrypted: use https://registry.npmjs.org/');
    expect(existsSync(join(dir, '.pubguard/audit.jsonl'))).toBe(false);
    const warned = memoryIO({ cwd: dir });
    expect((await run(['incident', 'npm', 'acme@1.2.3', '--registry', 'http://npm.corp.example/'], warned)).exitCode).toBe(0);
    expect(warned.err()).toBe('warning: --registry is plain http: the token travels unencrypted to npm.corp.example; use https unless every network on the way is trusted\n');
  });
});

describe('pubguard incident npm --unpublish', () => {
  /** An npm on PATH that logs its arguments and whose `view` says acme-tool has these versions, 1.2.3 published 2 hours ago. */
  function fakeNpm(versions: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-npm-'));
    const log = join(dir, 'calls.log');
    const at = new Date(Date.now() - 2 * 3600_000).toISOString();
    const view = JSON.stringify({ time: { created: at, modified: at, '1.2.3': at }, versions });
    writeFileSync(join(dir, 'npm'), `#!/bin/sh\necho "$1 $2 $3" >> '${log}'\nif [ "$1" = view ]; then printf '%s' '${view}'; fi\n`);
    chmodSync(join(dir, 'npm'), 0o755);
    const incident = async (...extra: string[]) => {
      const io = memoryIO({ cwd: dir, env: { PATH: `${dir}:${process.env.PATH ?? ''}`, NPM_TOKEN: 'loopback-registry-token-0123456789' } });
      const r = await run(['incident', 'npm', 'acme-tool@1.2.3', '--registry', 'http://127.0.0.1:9/', ...extra], io);
      return { code: r.exitCode, out: io.out(), err: io.err() };
    };
    const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    return { incident, calls };
  }

  it("refuses to unpublish a package's only version, exit 1, and the command it shows is the one it would run", async () => {
    const npm = fakeNpm(['1.2.3']);
    const plan = await npm.incident('--unpublish');
    expect(plan.code).toBe(0);
    expect(plan.out).toContain('     $ npm unpublish acme-tool@1.2.3\n');
    expect(plan.out).toContain("note: unpublishing a package's only version removes the whole package and blocks its name for 24 hours: that is refused without --unpublish-package");
    const r = await npm.incident('--unpublish', '--execute');
    expect(r.code).toBe(1);
    expect(r.out).toContain('     $ npm unpublish acme-tool@1.2.3\n');
    expect(r.out).not.toMatch(/\$ npm unpublish .*--force/);
    expect(r.err).toBe(
      'pubguard incident npm: 1.2.3 is the only version of acme-tool: unpublishing it removes the whole package, and nobody can publish under its name for 24 hours. Not unpublished; to do that, run again with --unpublish --unpublish-package (npm unpublish --force), or leave the release deprecated\n',
    );
    expect(npm.calls()).toEqual(['deprecate acme-tool@1.2.3 acme-tool@1.2.3 contained a leaked credential; upgrade to a later version', 'view acme-tool@1.2.3 time']);
  });

  it('with --unpublish-package shows and runs npm unpublish --force, saying the whole package goes', async () => {
    const npm = fakeNpm(['1.2.3']);
    const plan = await npm.incident('--unpublish', '--unpublish-package');
    expect(plan.code).toBe(0);
    expect(plan.out).toContain('if it is the only version of acme-tool, this removes the whole package, and nobody can publish under its name for 24 hours [skipped]\n     $ npm unpublish acme-tool@1.2.3 --force\n');
    const r = await npm.incident('--unpublish', '--unpublish-package', '--execute');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('     $ npm unpublish acme-tool@1.2.3 --force\n     Unpublished acme-tool@1.2.3, the only version of acme-tool: the whole package is removed');
    expect(npm.calls().at(-1)).toBe('unpublish acme-tool@1.2.3 --force');
  });

  it('unpublishes one version of several without --force', async () => {
    const npm = fakeNpm(['1.2.2', '1.2.3']);
    const r = await npm.incident('--unpublish', '--execute', '-f', 'json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).results).toContainEqual({ id: 'unpublish', outcome: 'done', message: 'Unpublish acme-tool@1.2.3 if it was published less than 72 hours ago and is not the only version of acme-tool' });
    expect(npm.calls().at(-1)).toBe('unpublish acme-tool@1.2.3 --registry');
  });

  it('takes --unpublish-package only with --unpublish, and lists it in its help', async () => {
    const npm = fakeNpm(['1.2.3']);
    const r = await npm.incident('--unpublish-package', '--execute');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--unpublish-package goes with --unpublish');
    expect(npm.calls()).toEqual([]);
    const help = memoryIO({ cwd });
    await run(['incident', 'npm', '--help'], help);
    expect(help.out()).toMatch(/^\s+--unpublish-package\n\s+with --unpublish: also when the version is the package's only/m);
  });
});

describe('pubguard incident pypi', () => {
  it('refuses --execute, which could only pretend to yank, and records nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-'));
    const io = memoryIO({ cwd: dir });
    expect((await run(['incident', 'pypi', 'acme-tool', '1.2.3', '--execute'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('PyPI offers no API to yank a release');
    expect(existsSync(join(dir, '.pubguard/audit.jsonl'))).toBe(false);
    const plain = memoryIO({ cwd: dir });
    expect((await run(['incident', 'pypi', 'acme-tool', '1.2.3'], plain)).exitCode).toBe(0);
    expect(plain.out()).toContain('https://pypi.org/manage/project/acme-tool/release/1.2.3/');
  });

  it('lists --execute in the help of incident npm only', async () => {
    const npm = memoryIO({ cwd });
    await run(['incident', 'npm', '--help'], npm);
    expect(npm.out()).toContain('--execute');
    const pypi = memoryIO({ cwd });
    await run(['incident', 'pypi', '--help'], pypi);
    expect(pypi.out()).not.toMatch(/^\s+--execute/m);
  });
});
