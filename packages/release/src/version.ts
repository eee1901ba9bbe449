/** How a tag is read. */
export interface VersionTagOptions {
  /** Accept `-alpha.N`, `-beta.N`, `-rc.N`, `-dev.N` (default false). */
  allowPrerelease?: boolean;
  /** Require the leading `v` (default true); when false both `1.2.3` and `v1.2.3` pass. */
  requireV?: boolean;
}

/** The pre-release kinds that map one-to-one onto PEP 440. */
export type PrereleaseKind = 'alpha' | 'beta' | 'rc' | 'dev';

/** A tag that passed the gate, with the version in both ecosystems' spellings. */
export interface AcceptedTag {
  ok: true;
  tag: string;
  /** The semver version (npm's `version`). */
  semver: string;
  /** The PEP 440 normal form (wheel/sdist `Version:`). */
  pep440: string;
  prerelease?: { kind: PrereleaseKind; number: number };
}

/** A refused tag and why. */
export interface RefusedTag {
  ok: false;
  tag: string;
  reason: string;
}

/** The outcome of `checkVersionTag`. */
export type VersionTagResult = AcceptedTag | RefusedTag;

// semver.org's own regex: numeric identifiers without leading zeros.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const MAPPABLE_PRE = /^(alpha|beta|rc|dev)\.(0|[1-9]\d*)$/;
const PEP440_MARK: Record<PrereleaseKind, string> = { alpha: 'a', beta: 'b', rc: 'rc', dev: '.dev' };

/** Checks a release tag against the strict grammar: `v` + semver core, optional mappable pre-release. */
export function checkVersionTag(tag: string, options: VersionTagOptions = {}): VersionTagResult {
  const refuse = (reason: string): RefusedTag => ({ ok: false, tag, reason });
  const requireV = options.requireV ?? true;
  if (tag.length === 0) return refuse('the tag is empty');
  if (/[\s\p{C}]/u.test(tag)) return refuse('the tag contains whitespace or control characters');
  let rest = tag;
  if (rest.startsWith('refs/tags/')) rest = rest.slice('refs/tags/'.length);
  else if (rest.startsWith('refs/')) return refuse(`unknown ref prefix in '${tag}': only refs/tags/ is accepted`);
  if (rest.includes('/')) return refuse(`'${rest}' has a path prefix; only refs/tags/ is accepted`);
  if (rest.startsWith('v')) rest = rest.slice(1);
  else if (requireV) {
    return refuse(
      /^V\d/.test(rest)
        ? `the tag must start with a lowercase 'v', not 'V'`
        : `the tag must be 'v' followed by a version such as v1.2.3 (or pass --no-v-prefix)`,
    );
  }
  const m = SEMVER.exec(rest);
  if (!m) return refuse(explainBadVersion(rest));
  const core = `${m[1]}.${m[2]}.${m[3]}`;
  const pre = m[4];
  // npm refuses a larger MAJOR, MINOR or PATCH, and compares a larger pre-release number as text.
  const huge = [m[1]!, m[2]!, m[3]!, ...(pre === undefined ? [] : pre.split('.'))].find((n) => /^\d+$/.test(n) && Number(n) > Number.MAX_SAFE_INTEGER);
  if (huge !== undefined) return refuse(`'${rest}' holds the number ${huge}, larger than npm accepts (${Number.MAX_SAFE_INTEGER})`);
  if (m[5] !== undefined) {
    return refuse(`build metadata '+${m[5]}' is not allowed: npm drops it and PyPI refuses local versions`);
  }
  if (pre === undefined) return { ok: true, tag, semver: core, pep440: core };
  const p = MAPPABLE_PRE.exec(pre);
  // Checked before the flag: suggesting --allow-prerelease for a tag it would not let through misleads.
  if (p && !options.allowPrerelease) return refuse(`'${rest}' is a pre-release; pass --allow-prerelease to release it`);
  if (!p) {
    return refuse(
      `pre-release '-${pre}' has no exact PEP 440 equivalent and would sort differently on npm and PyPI; ` +
        'use -alpha.N, -beta.N, -rc.N or -dev.N',
    );
  }
  const kind = p[1] as PrereleaseKind;
  const number = Number(p[2]);
  return { ok: true, tag, semver: `${core}-${pre}`, pep440: `${core}${PEP440_MARK[kind]}${number}`, prerelease: { kind, number } };
}

/** True when `version` is one exact semver version (no `v`, no range): what npm names a single release by. */
export function isExactSemver(version: string): boolean {
  return SEMVER.test(version);
}

function explainBadVersion(v: string): string {
  if (v === '') return 'no version after the v';
  if (!/^\d/.test(v)) return `'${v}' is not a version: it must start with MAJOR.MINOR.PATCH`;
  const core = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v);
  if (core && core[3] === undefined) return `'${v}' needs all three numbers MAJOR.MINOR.PATCH`;
  if (core && [core[1], core[2], core[3]].some((n) => n !== undefined && n.length > 1 && n.startsWith('0'))) {
    return `'${v}' has a number with a leading zero`;
  }
  if (/^\d+\.\d+\.\d+(a|b|rc|\.dev|\.post)\d+$/.test(v)) {
    return `'${v}' is a PEP 440 spelling; tag with the semver one (-alpha.N, -beta.N, -rc.N, -dev.N)`;
  }
  if (/^\d+\.\d+\.\d+\.\d/.test(v)) return `'${v}' has more than three numbers`;
  if (/^\d+\.\d+\.\d+-/.test(v)) return `'${v}' has an invalid pre-release part`;
  return `'${v}' is not a semantic version MAJOR.MINOR.PATCH`;
}

/** Converts a semver version that `checkVersionTag` accepts into its PEP 440 normal form; undefined if there is none. */
export function semverToPep440(version: string): string | undefined {
  const r = checkVersionTag(version, { allowPrerelease: true, requireV: false });
  return r.ok && !version.startsWith('v') ? r.pep440 : undefined;
}

/** Converts a PEP 440 normal form (`1.2.3`, `1.2.3a1`, `1.2.3b1`, `1.2.3rc1`, `1.2.3.dev1`) back to semver. */
export function pep440ToSemver(version: string): string | undefined {
  const m = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:(a|b|rc)(0|[1-9]\d*)|\.dev(0|[1-9]\d*))?$/.exec(version);
  if (!m) return undefined;
  const core = `${m[1]}.${m[2]}.${m[3]}`;
  if (m[4] !== undefined) return `${core}-${{ a: 'alpha', b: 'beta', rc: 'rc' }[m[4] as 'a' | 'b' | 'rc']}.${m[5]}`;
  if (m[6] !== undefined) return `${core}-dev.${m[6]}`;
  return core;
}
