import { randomBytes } from 'node:crypto';
import { base62Encode, crc32 } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { checkPublishToken, publicRegistry } from './tokens.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function checksummed(prefix: string, valid = true): string {
  const body = [...randomBytes(30)].map((b) => BASE62[b % 62]).join('');
  const sum = base62Encode(crc32(body));
  return `${prefix}${body}${valid ? sum : sum.slice(0, 5) + (sum[5] === 'A' ? 'B' : 'A')}`;
}

function field(tag: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, data.length]), data]);
}
/** A v2 macaroon as PyPI issues them, with the given JSON caveats. */
function pypiToken(location: string, caveats: unknown[]): string {
  const parts = [Buffer.from([2]), field(1, Buffer.from(location)), field(2, Buffer.from('user-token-id')), Buffer.from([0])];
  for (const c of caveats) parts.push(field(2, Buffer.from(JSON.stringify(c))), Buffer.from([0]));
  parts.push(Buffer.from([0]), field(6, randomBytes(32)));
  return `pypi-${Buffer.concat(parts).toString('base64url')}`;
}

const npmjs = { ecosystem: 'npm' as const, registry: 'https://registry.npmjs.org/', envName: 'NPM_TOKEN' };
const pypi = { ecosystem: 'pypi' as const, registry: 'https://upload.pypi.org/legacy/', envName: 'PYPI_TOKEN', projects: ['acme-tool'] };
const local = { ecosystem: 'npm' as const, registry: 'http://127.0.0.1:4873/', envName: 'NPM_TOKEN' };

describe('checkPublishToken', () => {
  it('refuses a missing token', () => {
    expect(checkPublishToken(undefined, npmjs)).toMatchObject({ ok: false, reason: expect.stringContaining('set NPM_TOKEN') });
    expect(checkPublishToken('', local).ok).toBe(false);
  });

  it.each(['ghs_', 'ghp_', 'gho_', 'ghu_', 'ghr_'])('refuses a GitHub %s token everywhere', (prefix) => {
    const t = checksummed(prefix);
    for (const o of [npmjs, pypi, local]) {
      const r = checkPublishToken(t, o);
      expect(r.ok).toBe(false);
      expect(r.reason).toContain('GitHub token');
      expect(r.reason).not.toContain(t.slice(4));
    }
  });

  it('refuses a fine-grained GitHub token', () => {
    expect(checkPublishToken(`github_pat_${'A'.repeat(22)}_${'b'.repeat(59)}`, local).ok).toBe(false);
  });

  it('requires npm_ with a valid checksum on registry.npmjs.org, not elsewhere', () => {
    expect(checkPublishToken(checksummed('npm_'), npmjs).ok).toBe(true);
    expect(checkPublishToken(checksummed('npm_', false), npmjs)).toMatchObject({ ok: false, reason: expect.stringContaining('checksum') });
    expect(checkPublishToken('c2VjcmV0LXZlcmRhY2Npby10b2tlbg==', npmjs).ok).toBe(false);
    expect(checkPublishToken('c2VjcmV0LXZlcmRhY2Npby10b2tlbg==', local).ok).toBe(true);
    // A live npmjs token never goes to another registry (a typo, a look-alike host).
    for (const registry of ['https://registry.npmjs.com/', 'https://npm.example.com/']) {
      expect(checkPublishToken(checksummed('npm_'), { ...npmjs, registry })).toMatchObject({ ok: false, reason: expect.stringContaining('is not registry.npmjs.org') });
    }
  });

  it('refuses whitespace (it would break the userconfig line) and tokens of the other registry', () => {
    expect(checkPublishToken('abc\n//evil/:_authToken=x', local).ok).toBe(false);
    expect(checkPublishToken(pypiToken('pypi.org', []), local).ok).toBe(false);
    expect(checkPublishToken(checksummed('npm_'), { ...pypi, registry: 'http://127.0.0.1:8080/legacy/' }).ok).toBe(false);
  });

  it('requires a PyPI macaroon for this index, scoped to this project when scoped at all', () => {
    expect(checkPublishToken(pypiToken('pypi.org', [{ version: 1, permissions: 'user' }]), pypi).ok).toBe(true);
    expect(checkPublishToken(pypiToken('pypi.org', [[1, ['Acme_Tool']]]), pypi).ok).toBe(true);
    expect(checkPublishToken(pypiToken('pypi.org', [[1, ['other-project']]]), pypi)).toMatchObject({ ok: false, reason: expect.stringContaining('scoped to other-project') });
    expect(checkPublishToken(pypiToken('pypi.org', [{ version: 1, permissions: { projects: ['other'] } }]), pypi).ok).toBe(false);
    expect(checkPublishToken(pypiToken('test.pypi.org', []), pypi)).toMatchObject({ ok: false, reason: expect.stringContaining('test.pypi.org') });
    expect(checkPublishToken(pypiToken('pypi.org', [[0, 1000, 0]]), pypi)).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
    expect(checkPublishToken('pypi-notamacaroon', pypi).ok).toBe(false);
  });

  it('notes a PyPI token made for the whole account, and none scoped to the project', () => {
    for (const caveats of [[{ version: 1, permissions: 'user' }], []]) {
      const r = checkPublishToken(pypiToken('pypi.org', caveats), pypi);
      expect(r).toMatchObject({ ok: true, notes: [expect.stringContaining('not scoped to acme-tool: it can upload to every project of its account')] });
    }
    for (const caveats of [[[1, ['acme-tool']]], [{ version: 1, permissions: { projects: ['acme-tool'] } }], [[2, ['0123']]]]) {
      const r = checkPublishToken(pypiToken('pypi.org', caveats), pypi);
      expect(r.ok).toBe(true);
      expect(r.ok && r.notes.join(' ')).not.toContain('not scoped');
    }
  });

  it('never sends a pypi.org or test.pypi.org token to another repository', () => {
    for (const registry of ['https://upload.pypi.org.example.net/legacy/', 'http://127.0.0.1:8080/legacy/']) {
      for (const location of ['pypi.org', 'test.pypi.org']) {
        const r = checkPublishToken(pypiToken(location, []), { ...pypi, registry });
        expect(r, `${location} → ${registry}`).toMatchObject({ ok: false, reason: expect.stringContaining(`token for ${location}`) });
      }
    }
    // A private repository's own token, even one that starts with pypi-, is still accepted.
    expect(checkPublishToken(`pypi-${randomBytes(64).toString('base64url')}`, { ...pypi, registry: 'http://127.0.0.1:8080/legacy/' }).ok).toBe(true);
  });

  it('recognises the public registries by host', () => {
    expect(publicRegistry('https://registry.npmjs.org/')).toBe('npmjs');
    expect(publicRegistry('https://test.pypi.org/legacy/')).toBe('testpypi');
    expect(publicRegistry('http://127.0.0.1:4873/')).toBeUndefined();
    expect(publicRegistry('http://registry.npmjs.org./')).toBe('npmjs');
    expect(publicRegistry('https://UPLOAD.pypi.org./legacy/')).toBe('pypi');
    expect(publicRegistry('https://test.pypi.org.:443/legacy/')).toBe('testpypi');
    expect(publicRegistry('https://registry.npmjs.org.evil.example/')).toBeUndefined();
  });

  it('checks the token for a public registry named with a trailing dot as for the registry itself', () => {
    const npm = { ecosystem: 'npm' as const, envName: 'NPM_TOKEN', registry: 'https://registry.npmjs.org./' };
    expect(checkPublishToken(checksummed('npm_'), npm)).toMatchObject({ ok: true, reason: 'npm token with a valid checksum' });
    expect(checkPublishToken('loopback-registry-token-0123456789', npm)).toMatchObject({ ok: false, reason: 'NPM_TOKEN is not an npm token (npm_…); registry.npmjs.org needs a granular access token' });
  });
});
