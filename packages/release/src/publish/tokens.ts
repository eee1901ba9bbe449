import { decodeBase64, githubChecksumValid, parseMacaroonV2, pypiMacaroonValid } from '@pubguard/rules';

/** Which registry a token is meant for. */
export type Ecosystem = 'npm' | 'pypi';

/** The default npm registry. */
export const NPM_REGISTRY = 'https://registry.npmjs.org/';
/** The default PyPI upload endpoint (legacy upload API). */
export const PYPI_REPOSITORY = 'https://upload.pypi.org/legacy/';

/** Options of `checkPublishToken`. */
export interface TokenCheckOptions {
  ecosystem: Ecosystem;
  /** Registry (npm) or repository (PyPI) URL the token will be sent to. */
  registry: string;
  /** Name of the environment variable the token came from, for messages. */
  envName: string;
  /** Projects being uploaded (PyPI), to refuse a token scoped to others. */
  projects?: readonly string[];
  now?: Date;
}

/** The outcome of `checkPublishToken`; `reason` never contains the token. */
export type TokenCheck = { ok: true; reason: string; notes: string[] } | { ok: false; reason: string };

const GITHUB_PREFIX = /^(?:gh[pousr]_|github_pat_)/;

/** The public registry a URL points at, or undefined for any other (private, local) registry. */
export function publicRegistry(url: string): 'npmjs' | 'pypi' | 'testpypi' | undefined {
  let host: string;
  try {
    // A fully qualified name may end in a dot (`registry.npmjs.org.`): the same host.
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return undefined;
  }
  if (host === 'registry.npmjs.org') return 'npmjs';
  if (host === 'pypi.org' || host === 'upload.pypi.org') return 'pypi';
  if (host === 'test.pypi.org') return 'testpypi';
  return undefined;
}

/** PEP 503 normal form of a project name. */
export function normaliseProject(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The caveats of a PyPI macaroon token, or undefined when it is not one. */
export function pypiTokenCaveats(token: string): { location: string; caveats: unknown[] } | undefined {
  if (!token.startsWith('pypi-')) return undefined;
  const bytes = decodeBase64(token.slice(5));
  const mac = bytes && parseMacaroonV2(bytes);
  if (!mac) return undefined;
  const caveats: unknown[] = [];
  for (const c of mac.caveats) {
    try {
      caveats.push(JSON.parse(c));
    } catch {
      return undefined;
    }
  }
  return { location: mac.location, caveats };
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** Reads a PyPI token's caveats: refuses one scoped to other projects or outside its validity window. */
function checkPypiCaveats(caveats: unknown[], projects: readonly string[], now: Date): { problem?: string; notes: string[] } {
  const notes: string[] = [];
  const want = projects.map(normaliseProject);
  const seconds = Math.floor(now.getTime() / 1000);
  // A token with no project caveat (PyPI writes `"permissions": "user"` for one made for the
  // whole account) can upload to every project the account owns: it works, but is not the
  // dedicated token a release job should hold.
  let projectScoped = false;
  for (const c of caveats) {
    let scoped: string[] | undefined;
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [tag, a, b] = c as [number, unknown, unknown];
      if (tag === 0 && typeof a === 'number' && typeof b === 'number') {
        if (seconds >= a) return { problem: `the token expired at ${new Date(a * 1000).toISOString()}`, notes };
        if (seconds < b) return { problem: `the token is not valid before ${new Date(b * 1000).toISOString()}`, notes };
      } else if (tag === 1) {
        scoped = stringList(a);
        if (!scoped) return { problem: 'the token has a malformed project caveat', notes };
      } else if (tag === 2) {
        projectScoped = true;
        notes.push('the token is scoped to project IDs, which cannot be checked offline');
      }
    } else if (c && typeof c === 'object') {
      const perms = (c as { permissions?: unknown }).permissions;
      if (perms && typeof perms === 'object') {
        scoped = stringList((perms as { projects?: unknown }).projects);
        if (!scoped) return { problem: 'the token has a malformed project caveat', notes };
      }
    }
    if (scoped) {
      projectScoped = true;
      const allowed = new Set(scoped.map(normaliseProject));
      const others = want.filter((p) => !allowed.has(p));
      if (others.length) {
        return { problem: `the token is scoped to ${scoped.join(', ') || 'no project'}, not to ${others.join(', ')}`, notes };
      }
      notes.push(`scoped to ${scoped.join(', ')}`);
    }
  }
  if (!projectScoped) {
    const these = projects.length ? projects.join(', ') : 'this project';
    notes.push(`the token is not scoped to ${these}: it can upload to every project of its account; create one scoped to ${projects.length === 1 ? 'the project' : 'these projects'}`);
  }
  return { notes };
}

/**
 * Decides whether a token may be used to publish: refuses a missing token, any GitHub token,
 * and, for the public registries, a token of the wrong kind (or, on PyPI, for another project).
 */
export function checkPublishToken(token: string | undefined, options: TokenCheckOptions): TokenCheck {
  const { envName } = options;
  if (token === undefined || token === '') return { ok: false, reason: `no publishing token: set ${envName} (a secret of the publish job only)` };
  if (/\s/.test(token)) return { ok: false, reason: `${envName} contains whitespace or a line break; copy the token again` };
  if (GITHUB_PREFIX.test(token)) {
    return {
      ok: false,
      reason: `${envName} holds a GitHub token (${token.slice(0, token.indexOf('_') + 1)}…), not a registry token: create a dedicated ${options.ecosystem === 'npm' ? 'npm automation/granular' : 'PyPI API'} token`,
    };
  }
  const where = publicRegistry(options.registry);
  if (options.ecosystem === 'npm') {
    if (where === 'pypi' || where === 'testpypi') return { ok: false, reason: `${options.registry} is a PyPI URL, not an npm registry` };
    if (where === 'npmjs') {
      if (!token.startsWith('npm_')) return { ok: false, reason: `${envName} is not an npm token (npm_…); registry.npmjs.org needs a granular access token` };
      if (!githubChecksumValid(token)) return { ok: false, reason: `${envName} looks like an npm token but its checksum is wrong (truncated or mistyped?)` };
      return { ok: true, reason: 'npm token with a valid checksum', notes: [] };
    }
    if (token.startsWith('pypi-')) return { ok: false, reason: `${envName} holds a PyPI token, not a token for ${options.registry}` };
    // Only registry.npmjs.org mints npm_ tokens: sent to a mistyped or look-alike --registry,
    // a live one would go to a stranger.
    if (token.startsWith('npm_') && githubChecksumValid(token)) {
      return { ok: false, reason: `${envName} is a token for registry.npmjs.org, and ${safeHost(options.registry)} is not registry.npmjs.org: check --registry, or use a token of that registry` };
    }
    return { ok: true, reason: 'token present (private registry: shape not checked)', notes: [] };
  }
  if (where === 'npmjs') return { ok: false, reason: `${options.registry} is the npm registry, not a PyPI repository` };
  if (where === 'pypi' || where === 'testpypi') {
    const location = where === 'pypi' ? 'pypi.org' : 'test.pypi.org';
    if (!token.startsWith('pypi-')) return { ok: false, reason: `${envName} is not a PyPI API token (pypi-…)` };
    const parsed = pypiTokenCaveats(token);
    if (!parsed || !pypiMacaroonValid(token)) return { ok: false, reason: `${envName} is not a well-formed PyPI token (truncated or mistyped?)` };
    if (parsed.location !== location) return { ok: false, reason: `${envName} is a token for ${parsed.location}, not ${location}` };
    const { problem, notes } = checkPypiCaveats(parsed.caveats, options.projects ?? [], options.now ?? new Date());
    if (problem) return { ok: false, reason: `${envName}: ${problem}` };
    return { ok: true, reason: `PyPI token for ${location}`, notes };
  }
  if (token.startsWith('npm_')) return { ok: false, reason: `${envName} holds an npm token, not a token for ${options.registry}` };
  // A token minted by pypi.org names that index inside itself: sent anywhere else (a mistyped
  // --repository-url, a look-alike host), it hands a live PyPI credential to a stranger.
  const minted = pypiTokenCaveats(token);
  if (minted && pypiMacaroonValid(token) && (minted.location === 'pypi.org' || minted.location === 'test.pypi.org')) {
    return { ok: false, reason: `${envName} is a token for ${minted.location}, and ${safeHost(options.registry)} is not ${minted.location}: check the repository URL, or use a token of that repository` };
  }
  return { ok: true, reason: 'token present (private repository: shape not checked)', notes: [] };
}

/** The host of a URL, for messages (never its user or password). */
function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'that URL';
  }
}
