import { describe, expect, it } from 'vitest';
import { checkVersionTag, pep440ToSemver, semverToPep440 } from './version.js';

type Row = [tag: string, options: { pre?: boolean; noV?: boolean }, semver: string | null, pep440: string | RegExp];

// [tag, options, accepted semver or null, PEP 440 form or the refusal reason]
const table: Row[] = [
  ['v1.2.3', {}, '1.2.3', '1.2.3'],
  ['v0.0.0', {}, '0.0.0', '0.0.0'],
  ['v0.1.0', {}, '0.1.0', '0.1.0'],
  ['v10.20.30', {}, '10.20.30', '10.20.30'],
  ['refs/tags/v1.2.3', {}, '1.2.3', '1.2.3'],
  ['v1.0.0-alpha.1', { pre: true }, '1.0.0-alpha.1', '1.0.0a1'],
  ['v1.0.0-beta.2', { pre: true }, '1.0.0-beta.2', '1.0.0b2'],
  ['v1.0.0-rc.10', { pre: true }, '1.0.0-rc.10', '1.0.0rc10'],
  ['v1.0.0-dev.0', { pre: true }, '1.0.0-dev.0', '1.0.0.dev0'],
  ['refs/tags/v2.0.0-rc.1', { pre: true }, '2.0.0-rc.1', '2.0.0rc1'],
  ['1.2.3', { noV: true }, '1.2.3', '1.2.3'],
  ['v1.2.3', { noV: true }, '1.2.3', '1.2.3'],
  ['1.0.0-beta.1', { noV: true, pre: true }, '1.0.0-beta.1', '1.0.0b1'],
  ['v999999.0.1', {}, '999999.0.1', '999999.0.1'],
  ['v9007199254740991.0.0', {}, '9007199254740991.0.0', '9007199254740991.0.0'],
  ['v1.0.0-rc.9007199254740991', { pre: true }, '1.0.0-rc.9007199254740991', '1.0.0rc9007199254740991'],
  // refusals
  ['v9007199254740992.0.0', {}, null, /larger than npm accepts/],
  ['v1.99999999999999999999.0', {}, null, /the number 99999999999999999999, larger than npm accepts/],
  ['v1.2.3-rc.123456789012345678901234', { pre: true }, null, /larger than npm accepts/],
  ['v-test', {}, null, /not a version/],
  ['v-beta', {}, null, /not a version/],
  ['v1.2', {}, null, /MAJOR\.MINOR\.PATCH/],
  ['v1', {}, null, /MAJOR\.MINOR\.PATCH/],
  ['v01.2.3', {}, null, /leading zero/],
  ['v1.02.3', {}, null, /leading zero/],
  ['v1.2.03', {}, null, /leading zero/],
  ['1.2.3', {}, null, /must be 'v'/],
  ['V1.2.3', {}, null, /lowercase 'v'/],
  ['vv1.2.3', {}, null, /not a version/],
  ['v1.2.3+build', {}, null, /build metadata/],
  ['v1.2.3+build.5', { pre: true }, null, /build metadata/],
  ['v1.2.3-rc.1+b', { pre: true }, null, /build metadata/],
  ['v1.2.3 ', {}, null, /whitespace/],
  [' v1.2.3', {}, null, /whitespace/],
  ['v1.2.3\n', {}, null, /whitespace/],
  ['v1.2.\t3', {}, null, /whitespace/],
  ['refs/heads/v1.2.3', {}, null, /only refs\/tags\//],
  ['tags/v1.2.3', {}, null, /only refs\/tags\//],
  ['origin/v1.2.3', {}, null, /only refs\/tags\//],
  ['', {}, null, /empty/],
  ['v', {}, null, /no version/],
  ['v1.2.3.4', {}, null, /more than three/],
  ['v1.2.3-rc.1', {}, null, /--allow-prerelease/],
  ['v1.2.3-alpha.1', {}, null, /--allow-prerelease/],
  // The flag would not let these through, so the reason names the forms that pass instead.
  ['v1.0.0-beta', {}, null, /^pre-release '-beta' has no exact PEP 440 equivalent .*use -alpha\.N, -beta\.N, -rc\.N or -dev\.N$/],
  ['v1.2.3-rc1', {}, null, /^pre-release '-rc1' has no exact PEP 440 equivalent/],
  ['v1.2.3-rc1', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-alpha', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-beta.1.2', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-preview.1', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-RC.1', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-post.1', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-1', { pre: true }, null, /no exact PEP 440 equivalent/],
  ['v1.2.3-rc.01', { pre: true }, null, /invalid pre-release/],
  ['v1.2.3-', { pre: true }, null, /invalid pre-release/],
  ['v1.2.3a1', { pre: true }, null, /PEP 440 spelling/],
  ['v1.2.3.dev1', { pre: true }, null, /PEP 440 spelling/],
  ['v1.2.3rc1', { pre: true }, null, /PEP 440 spelling/],
  ['v1.2.3_1', {}, null, /not a semantic version/],
  ['v1.2.x', {}, null, /MAJOR\.MINOR\.PATCH/],
  ['v1.2.3\u200b', {}, null, /whitespace or control/],
];

describe('checkVersionTag', () => {
  it('has a table of at least 40 tags', () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
  });

  it.each(table)('%j %j', (tag, opts, semver, expected) => {
    const r = checkVersionTag(tag, { allowPrerelease: opts.pre ?? false, requireV: !opts.noV });
    if (semver === null) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(expected);
    } else {
      expect(r).toMatchObject({ ok: true, semver, pep440: expected });
      // The two spellings must round-trip, or npm and PyPI would disagree on what was released.
      expect(pep440ToSemver(expected as string)).toBe(semver);
      expect(semverToPep440(semver)).toBe(expected);
    }
  });
});

describe('pep440ToSemver', () => {
  it('accepts only the four mappable pre-release forms', () => {
    expect(pep440ToSemver('1.2.3.post1')).toBeUndefined();
    expect(pep440ToSemver('1.2.3+local')).toBeUndefined();
    expect(pep440ToSemver('1.2')).toBeUndefined();
    expect(pep440ToSemver('01.2.3')).toBeUndefined();
  });
});
