import picomatch from 'picomatch';
import type { CompiledRule } from './types.js';

type Matcher = (path: string) => boolean;

// Rules are plain data (posted to workers), so matchers are built lazily and kept per glob
// list; keyed by the array itself, since this runs once per file for every path rule.
const cache = new WeakMap<readonly string[], Matcher>();

function matcherFor(globs: string[]): Matcher {
  let m = cache.get(globs);
  if (!m) {
    // dot: true because the files that matter most here (.env, .npmrc, .git/) are dotfiles.
    m = picomatch(globs, { dot: true });
    cache.set(globs, m);
  }
  return m;
}

/**
 * One regex source matching what any of `globs` matches, with the options the rules' matchers
 * use; compiling it costs several milliseconds for the built-in rules' globs.
 */
export function globsPattern(globs: readonly string[]): string {
  return globs.map((g) => `(?:${picomatch.makeRe(g, { dot: true }).source})`).join('|');
}

/**
 * An entry path as rules' globs see it: forward slashes, no leading `./` or `../` segments (a
 * directory scanned as `..` names its files `../.env`, which no `**` glob matches). Runs for
 * every file, so it only pays for replacing when there is something to replace.
 */
export function normaliseEntryPath(entryPath: string): string {
  const slashed = entryPath.includes('\\') ? entryPath.replace(/\\/g, '/') : entryPath;
  if (slashed.charCodeAt(0) !== 0x2e) return slashed;
  return slashed.replace(/^(?:\.\.?\/+)+/, '');
}

/**
 * Whether a rule applies to an entry path (the innermost path inside an archive, `/`-separated):
 * true for rules without `paths`; otherwise the path must match a glob and no exclusion.
 */
export function ruleAppliesToPath(rule: CompiledRule, entryPath: string): boolean {
  if (!rule.paths?.length) return true;
  const path = normaliseEntryPath(entryPath);
  if (!matcherFor(rule.paths)(path)) return false;
  return !(rule.pathsExclude?.length && matcherFor(rule.pathsExclude)(path));
}

/** True for rules that report a file by its path alone, with no content pattern. */
export function isPathOnlyRule(rule: CompiledRule): boolean {
  return rule.source === '' && (rule.paths?.length ?? 0) > 0;
}

/** How many of an entry path's leading directories `pathFindingTarget` tries as the target. */
export const MAX_TARGET_DEPTH = 64;

/** The longest parent, in characters, that `pathFindingTarget` tries as the target. */
export const MAX_TARGET_LENGTH = 4096;

/**
 * What a path-only rule reports for an entry path: the entry itself, or, for a rule about a
 * whole directory (`.git/`), the shortest parent whose every child the rule matches, so the
 * directory is reported once rather than for every file in it. Only parents among the first
 * `MAX_TARGET_DEPTH` directories and up to `MAX_TARGET_LENGTH` characters are tried; a
 * directory deeper than that is reported file by file.
 */
export function pathFindingTarget(rule: CompiledRule, entryPath: string): string {
  // Each parent tried costs a glob match over its length, so trying all of them is quadratic
  // in the path; an archive entry's name can hold millions of segments (a PAX path of
  // `a/a/a/…`), while real directories sit far above both limits.
  let slash = entryPath.indexOf('/');
  for (let depth = 1; slash >= 0 && depth <= MAX_TARGET_DEPTH && slash <= MAX_TARGET_LENGTH; depth++) {
    const parent = entryPath.slice(0, slash);
    if (ruleAppliesToPath(rule, `${parent}/x`)) return parent;
    slash = entryPath.indexOf('/', slash + 1);
  }
  return entryPath;
}
