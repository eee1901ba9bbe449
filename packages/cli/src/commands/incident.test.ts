import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
