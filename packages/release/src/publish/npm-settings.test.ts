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

describe('distTagProblem', () => {
  it('takes names and refuses what npm reads as a version or range, or cannot put in a URL', () => {
    for (const ok of ['latest', 'next', 'beta', 'release-1.x', 'v-next']) expect(distTagProblem(ok), ok).toBeUndefined();
    for (const bad of ['', '1.2', 'v2', '~1', 'x', 'X.1', '*', 'a b', 'a/b']) expect(distTagProblem(bad), bad).toBeDefined();
  });
});
