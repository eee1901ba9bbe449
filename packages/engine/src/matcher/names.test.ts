import { base62Crc32, Prng } from '@pubguard/corpus';
import { builtinRuleset, compileRules, redact } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN_RULE } from '../testing.js';
import { matchesNames, NameMatcher, nameRuleIndexes } from './names.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const rng = new Prng(73);
const checksummed = (prefix: string): string => {
  const body = rng.string(BASE62, 30);
  return `${prefix}_${body}${base62Crc32(body)}`;
};
const ghp = checksummed('ghp');
const npm = checksummed('npm');
const aws = `AKIA${rng.string('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;

const ruleset = builtinRuleset();
const names = new NameMatcher(ruleset, nameRuleIndexes(ruleset));
const idOf = (index: number): string => ruleset.rules[index]?.id ?? '?';
const found = (name: string, from?: number) => names.find(name, from).map((m) => ({ rule: idOf(m.rule), start: m.start, end: m.end, secret: m.secret }));

describe('matchesNames', () => {
  const picked = new Set(ruleset.rules.filter(matchesNames).map((r) => r.id));

  it('takes the tokens whose shape alone says what they are', () => {
    for (const id of ['github-classic-token', 'github-fine-grained-token', 'npm-access-token', 'pypi-upload-token', 'aws-access-key-id', 'slack-bot-token', 'slack-user-token', 'stripe-live-secret-key', 'gitlab-personal-access-token']) {
      expect(picked.has(id), id).toBe(true);
    }
  });

  it('leaves out assignments, provider names nearby, path rules and shapes a digest can take', () => {
    for (const id of ['generic-api-key-assignment', 'generic-password-assignment', 'aws-secret-access-key', 'url-with-password', 'dotenv-secret', 'dotenv-file', 'mailgun-api-key', 'lob-live-api-key', 'jwt-token']) {
      expect(picked.has(id), id).toBe(false);
    }
  });
});

describe('NameMatcher', () => {
  it('finds a token that a file or directory is named after, where it sits in the path', () => {
    const name = `package/${ghp}.json`;
    expect(found(name)).toEqual([{ rule: 'github-classic-token', start: 8, end: 8 + ghp.length, secret: ghp }]);
    expect(found(`creds/${npm}/config.json`)).toEqual([{ rule: 'npm-access-token', start: 6, end: 6 + npm.length, secret: npm }]);
    expect(found(`keys/${aws}`)).toEqual([{ rule: 'aws-access-key-id', start: 5, end: 5 + aws.length, secret: aws }]);
  });

  it('finds nothing in ordinary names, in tokens whose checksum is wrong, or in documented examples', () => {
    expect(found('package/lib/index.js')).toEqual([]);
    expect(found('node_modules/.cache/3f2a9c1d0b8e7f6a5d4c3b2a1f0e9d8c7b6a5f4e.json')).toEqual([]);
    expect(found(`lib/${ghp.slice(0, -1)}${ghp.endsWith('A') ? 'B' : 'A'}.js`)).toEqual([]);
    expect(found('docs/AKIAIOSFODNN7EXAMPLE.md')).toEqual([]);
  });

  it('reports only what starts at `from` or later, with what comes before still its context', () => {
    const name = `${ghp}/${npm}.txt`;
    expect(found(name, ghp.length + 1).map((m) => m.rule)).toEqual(['npm-access-token']);
    // The token's first characters are before `from`: it is not reported again, nor its tail.
    expect(found(name, 4)).toEqual([{ rule: 'npm-access-token', start: ghp.length + 1, end: ghp.length + 1 + npm.length, secret: npm }]);
  });

  it('ends a token at a path separator or an archive separator, even where its alphabet holds `/`', () => {
    // Fly.io's tokens may hold `/`: a directory named `fo1_…` followed by more directories is no token.
    expect(found('lib/fo1_legacy/components/buttons/primary-button/variants/large/index.js')).toEqual([]);
    expect(found('pkg.tgz!fo1_legacy!components/buttons/primary-button/variants/large/index.js')).toEqual([]);
    const fly = 'fo1_NN43re5wM5xyNyCGbIzlS0q7SINDhQeTf50JtZa1zRJ';
    for (const name of [`pkg/${fly}/config/b.json`, `pkg\\${fly}\\config\\b.json`, `pkg.tgz!${fly}!config/b.json`]) {
      expect(found(name), name).toEqual([{ rule: 'flyio-access-token', start: name.indexOf(fly), end: name.indexOf(fly) + fly.length, secret: fly }]);
    }
  });

  it('keeps offsets of the name whatever script its other characters are in', () => {
    const name = `文档/Łódź/${ghp}`;
    expect(found(name)).toEqual([{ rule: 'github-classic-token', start: name.length - ghp.length, end: name.length, secret: ghp }]);
    // A character outside latin1 is no letter of a token, even where its low byte would be one.
    expect(found(`\u0167${ghp}`)).toHaveLength(1);
  });

  it('tells in one pass which names hold a keyword, and so are worth matching', () => {
    const list = ['lib/index.js', `creds/${npm}/a.txt`, 'README.md', `${ghp}.json`, 'x', '', 'docs/AKIA', 'npm_', 'lib/util.js'];
    expect([...names.withKeywords(list)]).toEqual([0, 1, 0, 1, 0, 0, 1, 1, 0]);
    expect([...names.withKeywords([])]).toEqual([]);
    // Every name that find() finds something in is flagged.
    for (const [i, flag] of names.withKeywords(list).entries()) if (found(list[i] as string).length > 0) expect(flag).toBe(1);
  });

  it('does not decode base64 in a name', () => {
    const encoded = Buffer.from(`token=${ghp}`).toString('base64');
    expect(found(`dist/${encoded}.txt`)).toEqual([]);
  });

  it('masks each token found as reports shorten secrets, and leaves other text as it is', () => {
    const path = `dist/pkg.tgz!creds/${npm}/${ghp}.json`;
    expect(names.mask(path)).toBe(`dist/pkg.tgz!creds/${redact(npm)}/${redact(ghp)}.json`);
    expect(names.mask(`cannot read ${path}: permission denied`)).toBe(`cannot read dist/pkg.tgz!creds/${redact(npm)}/${redact(ghp)}.json: permission denied`);
    const plain = 'dist/pkg.tgz!package/index.js';
    expect(names.mask(plain)).toBe(plain);
  });

  it('holds only the rules it is given: none, or a ruleset without a rule for names', () => {
    const none = new NameMatcher(ruleset, []);
    expect(none.empty).toBe(true);
    expect(none.find(`x/${ghp}`)).toEqual([]);
    const custom = compileRules([{ ...TEST_TOKEN_RULE, confidence: 'high' }]);
    // A rule from elsewhere is left out when the caller does not trust it.
    expect(nameRuleIndexes(custom, () => false)).toEqual([]);
    expect(nameRuleIndexes(custom)).toEqual([0]);
  });
});
