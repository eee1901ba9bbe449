import { describe, expect, it } from 'vitest';
import { distTagProblem, planNpmPublish } from './npm-settings.js';

describe('planNpmPublish', () => {
  it('tags a release latest unless told otherwise, and always says so', () => {
    expect(planNpmPublish({ version: '1.2.3', fields: {} })).toEqual({ ok: true, plan: { distTag: 'latest', distTagFrom: 'default' } });
    expect(planNpmPublish({ version: '1.2.3', fields: {}, distTag: 'next' })).toEqual({ ok: true, plan: { distTag: 'next', distTagFrom: 'option' } });
  });

  it('refuses a pre-release tagged latest, by default, by --tag or by the package.json', () => {
    const none = planNpmPublish({ version: '1.5.0-rc.1', fields: {} });
    expect(none).toMatchObject({ ok: false });
    expect(!none.ok && none.reason).toContain('1.5.0-rc.1 is a pre-release');
    expect(!none.ok && none.reason).toContain('--tag next');
    expect(planNpmPublish({ version: '1.5.0-rc.1', fields: {}, distTag: 'latest' })).toMatchObject({ ok: false });
    const config = planNpmPublish({ version: '1.5.0-rc.1', fields: { publishConfig: { tag: 'latest' } } });
    expect(!config.ok && config.reason).toContain(`package.json's publishConfig.tag says "latest"`);
    expect(planNpmPublish({ version: '1.5.0-rc.1', fields: { tag: 'latest' } })).toMatchObject({ ok: false });
    expect(planNpmPublish({ version: '1.5.0-rc.1', fields: {}, distTag: 'next' })).toEqual({ ok: true, plan: { distTag: 'next', distTagFrom: 'option' } });
  });

  it("honours the package.json's dist-tag, and refuses one that differs from --tag or is not a name", () => {
    expect(planNpmPublish({ version: '2.0.0-beta.1', fields: { publishConfig: { tag: 'beta' } } })).toEqual({ ok: true, plan: { distTag: 'beta', distTagFrom: 'package.json' } });
    expect(planNpmPublish({ version: '2.0.0', fields: { publishConfig: { tag: 'next' } }, distTag: 'next' })).toEqual({ ok: true, plan: { distTag: 'next', distTagFrom: 'option' } });
    const twice = planNpmPublish({ version: '2.0.0', fields: { publishConfig: { tag: 'latest' } }, distTag: 'next' });
    expect(!twice.ok && twice.reason).toBe(`the dist-tag is not the same everywhere: --tag says "next", package.json's publishConfig.tag says "latest"; make them agree, or leave out all but one`);
    // npm takes a top-level "tag" over --tag.
    const top = planNpmPublish({ version: '2.0.0', fields: { tag: 'latest' }, distTag: 'next' });
    expect(!top.ok && top.reason).toContain(`package.json's "tag" says "latest"`);
    expect(!top.ok && top.reason).toContain('whatever --tag says');
    expect(planNpmPublish({ version: '2.0.0', fields: { publishConfig: { tag: 'v2' } } })).toMatchObject({ ok: false, reason: expect.stringContaining('reads as a version or range') });
    expect(planNpmPublish({ version: '2.0.0', fields: { tag: 7 } })).toMatchObject({ ok: false, reason: expect.stringContaining(`package.json's "tag" is a number, not a dist-tag name`) });
  });
});

describe('planNpmPublish and publishConfig', () => {
  it('refuses a registry, a scope registry, credentials or a route to the registry, naming each key and never a value', () => {
    const secret = 'npm_notarealtokenbutlongenough0123456789';
    const cases: Record<string, string> = {
      registry: 'where the package goes',
      '@acme:registry': 'where the package goes',
      '@ACME:Registry': 'where the package goes',
      scope: 'where the package goes',
      _authToken: 'credentials',
      _auth: 'credentials',
      '//127.0.0.1:4873/:_authToken': 'credentials',
      '@acme:_password': 'credentials',
      username: 'credentials',
      otp: 'credentials',
      certfile: 'credentials',
      proxy: 'how npm reaches the registry',
      'https-proxy': 'how npm reaches the registry',
      'strict-ssl': 'how npm reaches the registry',
      cafile: 'how npm reaches the registry',
    };
    for (const [key, kind] of Object.entries(cases)) {
      const r = planNpmPublish({ version: '1.0.0', fields: { publishConfig: { access: 'public', [key]: secret } } });
      expect(r.ok, key).toBe(false);
      const reason = r.ok ? '' : r.reason;
      expect(reason, key).toContain(`package.json's publishConfig sets ${JSON.stringify(key)} (${kind})`);
      expect(reason, key).toContain('Remove it from publishConfig and pack again');
      expect(reason, key).not.toContain(secret);
    }
    const two = planNpmPublish({ version: '1.0.0', fields: { publishConfig: { '@acme:registry': 'http://127.0.0.1:9/', '//127.0.0.1:9/:_authToken': secret } } });
    expect(!two.ok && two.reason).toContain(`sets "@acme:registry" (where the package goes), "//127.0.0.1:9/:_authToken" (credentials): npm would take them over`);
  });

  it('passes access and provenance on as settings of its own, and refuses values npm would not take or that differ from --access', () => {
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: { access: 'public', provenance: true, main: 'dist/index.js' } } })).toEqual({
      ok: true,
      plan: { distTag: 'latest', distTagFrom: 'default', access: 'public', provenance: true },
    });
    expect(planNpmPublish({ version: '1.0.0', fields: {}, access: 'restricted' })).toMatchObject({ ok: true, plan: { access: 'restricted' } });
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: { provenance: false } } })).toMatchObject({ ok: true, plan: { provenance: false } });
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: { access: 'public' } }, access: 'restricted' })).toMatchObject({ ok: false, reason: expect.stringContaining('the access is not the same everywhere') });
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: { access: 'private' } } })).toMatchObject({ ok: false, reason: expect.stringContaining('not public or restricted') });
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: { provenance: 'yes' } } })).toMatchObject({ ok: false, reason: expect.stringContaining('not true or false') });
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: 'registry' } })).toMatchObject({ ok: false, reason: expect.stringContaining('not an object') });
    expect(planNpmPublish({ version: '1.0.0', fields: { publishConfig: null } })).toMatchObject({ ok: true });
  });
});

describe('distTagProblem', () => {
  it('takes names and refuses what npm reads as a version or range, or cannot put in a URL', () => {
    for (const ok of ['latest', 'next', 'beta', 'release-1.x', 'v-next']) expect(distTagProblem(ok), ok).toBeUndefined();
    for (const bad of ['', '1.2', 'v2', '~1', 'x', 'X.1', '*', 'a b', 'a/b']) expect(distTagProblem(bad), bad).toBeDefined();
  });
});
