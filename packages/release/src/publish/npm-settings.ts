import type { NpmPublishFields } from '../artifacts.js';

/** How `npm publish` is told to publish one tarball: every setting pubguard passes on its command line. */
export interface NpmPublishPlan {
  /** The dist-tag: passed as `--tag` unless it is npm's own default (`distTagFrom` 'default'). */
  distTag: string;
  /** Where the dist-tag came from: `--tag`, the package.json, or npm's default `latest`. */
  distTagFrom: 'option' | 'package.json' | 'default';
  /** `--access`, when the command or the package.json asks for one. */
  access?: 'public' | 'restricted';
  /** `--provenance` or `--no-provenance`, when the package.json's publishConfig says which. */
  provenance?: boolean;
}

/** What `planNpmPublish` decides from: the version, the package.json's fields and the options given. */
export interface NpmPlanInput {
  /** The version being published (semver); one with a pre-release part may not be tagged `latest`. */
  version: string;
  /** The package.json fields `npm publish` reads as settings. */
  fields: NpmPublishFields;
  /** `--tag` as given. */
  distTag?: string;
  /** `--access` as given. */
  access?: string;
}

/** The outcome of `planNpmPublish`: the settings, or why the tarball cannot be published as asked. */
export type NpmPlanResult = { ok: true; plan: NpmPublishPlan } | { ok: false; reason: string };

/**
 * Why npm would refuse this dist-tag or nobody could install by it, or undefined when it is fine.
 * npm publish refuses a tag that semver reads as a range (`v1.2`, `1.x`, `~1`, `*`), and
 * npm-package-arg one that encodeURIComponent changes; with no semver at hand, a tag is refused
 * when it starts as a range does, which refuses a few names npm would take (`2fa`) too, names
 * npm's own docs advise against.
 */
export function distTagProblem(tag: string): string | undefined {
  if (tag === '') return 'the dist-tag is empty';
  if (encodeURIComponent(tag) !== tag) return "a dist-tag holds only letters, digits and - _ . ! ~ * ' ( ), no space or other character";
  if (/^~?v*(?:[0-9*]|[xX](?:$|\.))/.test(tag)) {
    return 'npm refuses a dist-tag that reads as a version or range; use a name that starts with neither a digit nor v and a digit, such as next or beta';
  }
  return undefined;
}

// npm reads every key of publishConfig as one of its settings, over the userconfig pubguard
// writes; only its command-line flags outrank them (npm 10.6 and later). These would send the
// package or the token elsewhere than the registry given, or hand npm other credentials or
// another route to the registry, so a package.json that holds one is refused, not overridden.
const WHERE_KEYS = new Set(['registry', 'scope']);
const CREDENTIAL_KEYS = new Set(['username', 'password', 'email', 'otp', 'auth-type', 'always-auth', 'certfile', 'keyfile', 'cert', 'key', 'token']);
const CONNECTION_KEYS = new Set(['proxy', 'https-proxy', 'http-proxy', 'noproxy', 'no-proxy', 'ca', 'cafile', 'strict-ssl', 'local-address']);

type KeyKind = 'where' | 'credentials' | 'connection';

function publishConfigKeyKind(key: string): KeyKind | undefined {
  // npm matches `@scope:registry` without regard to case.
  const lower = key.toLowerCase();
  // Settings for one registry (`//host/:_authToken`): npm copies them whatever follows.
  if (lower.startsWith('//')) return 'credentials';
  const last = lower.slice(lower.lastIndexOf(':') + 1);
  if (last === 'registry' || WHERE_KEYS.has(lower)) return 'where';
  // npm's private auth keys (`_auth`, `_authToken`, `_password`), alone or for a scope.
  if (last.startsWith('_') || CREDENTIAL_KEYS.has(last)) return 'credentials';
  if (CONNECTION_KEYS.has(lower)) return 'connection';
  return undefined;
}

const KIND_TEXT: Record<KeyKind, string> = {
  where: 'where the package goes',
  credentials: 'credentials',
  connection: 'how npm reaches the registry',
};

const quoted = (key: string): string => JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
// A value as a message shows it: a short string quoted, anything else by its type only.
const shownValue = (value: unknown): string => (typeof value === 'string' ? quoted(value) : value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`);

/**
 * Decides the dist-tag, access and provenance `npm publish` is given for a tarball, from the
 * options and the package.json's `publishConfig` and `tag`, which npm would otherwise act on:
 * refuses a publishConfig that could send the package or the token elsewhere, settings given
 * twice with different values, and a pre-release tagged `latest`.
 */
export function planNpmPublish(input: NpmPlanInput): NpmPlanResult {
  const refuse = (reason: string): NpmPlanResult => ({ ok: false, reason });
  const { fields } = input;
  let config: Record<string, unknown> = {};
  // npm ignores a publishConfig that is null or false; any other non-object is nobody's intent.
  if (fields.publishConfig !== undefined && fields.publishConfig !== null && fields.publishConfig !== false) {
    if (typeof fields.publishConfig !== 'object' || Array.isArray(fields.publishConfig)) return refuse("package.json's publishConfig is not an object: fix it and pack again");
    config = fields.publishConfig as Record<string, unknown>;
  }

  const steering = Object.keys(config)
    .map((key) => ({ key, kind: publishConfigKeyKind(key) }))
    .filter((k): k is { key: string; kind: KeyKind } => k.kind !== undefined);
  if (steering.length) {
    const keys = steering.map((k) => `${quoted(k.key)} (${KIND_TEXT[k.kind]})`).join(', ');
    const them = steering.length === 1 ? 'it' : 'them';
    return refuse(
      `package.json's publishConfig sets ${keys}: npm would take ${them} over the registry and the token pubguard gives it, so the package or the token could go elsewhere. Remove ${them} from publishConfig and pack again; pubguard publishes to the registry given (--registry) with the token it is given`,
    );
  }

  const fromConfig = (key: string): unknown => (Object.hasOwn(config, key) ? config[key] : undefined);
  const tags: { where: string; value: unknown }[] = [
    ...(input.distTag === undefined ? [] : [{ where: '--tag', value: input.distTag }]),
    ...(fromConfig('tag') === undefined ? [] : [{ where: "package.json's publishConfig.tag", value: fromConfig('tag') }]),
    ...(fields.tag === undefined ? [] : [{ where: 'package.json\'s "tag"', value: fields.tag }]),
  ];
  for (const t of tags) {
    if (typeof t.value !== 'string') return refuse(`${t.where} is ${shownValue(t.value)}, not a dist-tag name: make it one, such as next, or remove it`);
    const problem = distTagProblem(t.value);
    if (problem !== undefined) return refuse(`${t.where} ${shownValue(t.value)}: ${problem}`);
  }
  const named = [...new Set(tags.map((t) => t.value as string))];
  if (named.length > 1) {
    // npm itself would take the top-level "tag" over --tag, and --tag over publishConfig.tag.
    return refuse(
      `the dist-tag is not the same everywhere: ${tags.map((t) => `${t.where} says ${shownValue(t.value)}`).join(', ')}; make them agree, or leave out all but one${fields.tag === undefined ? '' : ' (npm tags the version with package.json\'s "tag" whatever --tag says)'}`,
    );
  }
  const distTag = named[0] ?? 'latest';
  const distTagFrom: NpmPublishPlan['distTagFrom'] = input.distTag !== undefined ? 'option' : tags.length ? 'package.json' : 'default';
  // Whoever runs `npm install` without a version gets `latest`: a pre-release must not become it.
  if (distTag === 'latest' && input.version.includes('-')) {
    const inPackage = tags.filter((t) => t.where !== '--tag').map((t) => t.where);
    const how = inPackage.length
      ? `${inPackage.join(' and ')} ${inPackage.length === 1 ? 'says' : 'say'} "latest": set ${inPackage.length === 1 ? 'it' : 'them'} to another dist-tag, such as next, and pack again, or remove ${inPackage.length === 1 ? 'it' : 'them'} and give --tag next`
      : 'give it another dist-tag with --tag, such as --tag next';
    return refuse(`${input.version} is a pre-release, and tagged latest it would be what \`npm install\` picks by default: ${how}`);
  }

  const accesses: { where: string; value: unknown }[] = [
    ...(input.access === undefined ? [] : [{ where: '--access', value: input.access }]),
    ...(fromConfig('access') === undefined ? [] : [{ where: "package.json's publishConfig.access", value: fromConfig('access') }]),
  ];
  for (const a of accesses) {
    if (a.value !== 'public' && a.value !== 'restricted') return refuse(`${a.where} is ${shownValue(a.value)}, not public or restricted: fix it and run again`);
  }
  const levels = [...new Set(accesses.map((a) => a.value as 'public' | 'restricted'))];
  if (levels.length > 1) return refuse(`the access is not the same everywhere: ${accesses.map((a) => `${a.where} says ${a.value as string}`).join(', ')}; make them agree, or leave out one`);

  const provenance = fromConfig('provenance');
  if (provenance !== undefined && typeof provenance !== 'boolean') return refuse(`package.json's publishConfig.provenance is ${shownValue(provenance)}, not true or false: fix it and pack again`);

  return {
    ok: true,
    plan: { distTag, distTagFrom, ...(levels[0] ? { access: levels[0] } : {}), ...(provenance === undefined ? {} : { provenance }) },
  };
}
