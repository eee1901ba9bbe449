import type { NpmPublishFields } from '../artifacts.js';

/** How `npm publish` is told to publish one tarball: the settings pubguard passes on its command line. */
export interface NpmPublishPlan {
  /** The dist-tag (`--tag`), always given, so that no config npm reads can choose another. */
  distTag: string;
  /** Where the dist-tag came from: `--tag`, the package.json, or npm's default `latest`. */
  distTagFrom: 'option' | 'package.json' | 'default';
}

/** What `planNpmPublish` decides from: the version, the package.json's fields and the options given. */
export interface NpmPlanInput {
  /** The version being published (semver); one with a pre-release part may not be tagged `latest`. */
  version: string;
  /** The package.json fields `npm publish` reads as settings. */
  fields: NpmPublishFields;
  /** `--tag` as given. */
  distTag?: string;
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

const quoted = (key: string): string => JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
// A value as a message shows it: a short string quoted, anything else by its type only.
const shownValue = (value: unknown): string => (typeof value === 'string' ? quoted(value) : value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`);

/**
 * Decides the dist-tag `npm publish` is given for a tarball, from the option and the
 * package.json's `publishConfig.tag` and `tag`, which npm would otherwise act on: refuses
 * dist-tags that differ from one another, and a pre-release tagged `latest`.
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

  return { ok: true, plan: { distTag, distTagFrom } };
}
