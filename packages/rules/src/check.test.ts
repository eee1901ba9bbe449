import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { builtinRuleDefinitions, builtinRuleset } from './builtin.js';
import { checkRuleOverlaps, checkRules, everyMatchHoldsKeyword, findUnboundedQuantifier, matchRule, type RuleProblem } from './check.js';
import { compileRules } from './compile.js';
import type { RuleDefinition } from './types.js';

const good: RuleDefinition = {
  id: 'demo-token',
  title: 'Demo token',
  severity: 'high',
  keywords: ['demo_'],
  pattern: '(demo_[A-Za-z0-9]{12})(?![A-Za-z0-9])',
  validators: [{ type: 'entropy', min: 3 }],
  references: ['https://example.invalid/format'],
  examples: ['key=demo_Q2w9Zr7LmX4p', 'demo_K8vB1nT6aZ3q'],
  negative_examples: ['key=demo_aaaaaaaaaaaa', 'key=demo_short'],
};

describe('checkRules', () => {
  it('passes a well-formed rule', () => {
    expect(checkRules([good])).toEqual([]);
  });
  it('reports missing examples, reported negatives, unmatched examples and unbounded patterns', () => {
    const problems = checkRules([
      { ...good, examples: ['key=demo_aaaaaaaaaaaa'], negative_examples: ['demo_Q2w9Zr7LmX4p', 'x'] },
      { ...good, id: 'unbounded', pattern: '(demo_[A-Za-z0-9]+)' },
      { ...good, id: 'no-refs', references: [] },
      good,
      good,
    ]);
    const text = problems.map((p) => `${p.ruleId}: ${p.message}`);
    expect(text).toContain('demo-token: has 1 example(s); at least 2 are needed');
    expect(text.some((t) => /^demo-token: example 1 is not reported \(rejected: placeholder/.test(t))).toBe(true);
    expect(text.some((t) => /^demo-token: negative example 1 is reported/.test(t))).toBe(true);
    expect(text.some((t) => /^unbounded: pattern has an unbounded quantifier '\+'/.test(t))).toBe(true);
    expect(text).toContain('no-refs: has no reference to the published format');
    expect(text).toContain('demo-token: duplicate rule id');
  });
  it('shows a reported negative example by number and a short form of its secret, never the secret', () => {
    const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
    // 11 characters (what a 12-character prefix printed whole) and a long one.
    for (const [secret, shown] of [
      [`demo_${alnum(6)}`, (s: string) => `${s.slice(0, 2)}…${s.slice(-1)}`],
      [`demo_${alnum(30)}`, (s: string) => `${s.slice(0, 6)}…${s.slice(-4)}`],
    ] as const) {
      const loose = { ...good, pattern: '(demo_[A-Za-z0-9]{6,40})(?![A-Za-z0-9])', validators: [], examples: ['key=demo_Q2w9Zr7LmX4p', 'demo_K8vB1nT6aZ3q'] };
      const problems = checkRules([{ ...loose, negative_examples: ['x', `key=${secret}`] }]).map((p) => p.message);
      expect(problems).toEqual([`negative example 2 is reported (secret ${JSON.stringify(shown(secret))})`]);
      expect(problems.join('\n')).not.toContain(secret.slice(0, 7));
    }
  });
  it('reports an example whose checksum is wrong', () => {
    const problems = checkRules([
      {
        ...good,
        id: 'gh',
        keywords: ['ghp_'],
        pattern: '(ghp_[A-Za-z0-9]{36})',
        validators: [{ type: 'checksum', scheme: 'github-crc32' }],
        examples: ['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', 'ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18'],
      },
    ]);
    expect(problems.map((p) => p.message)).toContain('example 2: a token has an invalid checksum');
  });
  it('reports a match that contains none of the keywords', () => {
    const problems = checkRules([{ ...good, keywords: ['zzz'] }]);
    expect(problems.map((p) => p.message)).toContain('example 1: match contains none of the keywords');
  });
  it('warns of a rule without examples none of whose keywords is literal text in its pattern', () => {
    const bare = { ...good, examples: [], negative_examples: [] };
    const keywordWarning = (def: RuleDefinition): RuleProblem[] => checkRules([def], { relaxed: true }).filter((p) => p.message.startsWith('no keyword is literal text'));
    expect(keywordWarning({ ...bare, keywords: ['zzz'], pattern: '(abc)' })).toEqual([expect.objectContaining({ ruleId: 'demo-token', level: 'warning' })]);
    expect(keywordWarning({ ...bare, keywords: ['demo_'], pattern: '(dem[^x]_[A-Za-z0-9]{12})' })).toHaveLength(1);
    expect(keywordWarning({ ...bare, keywords: ['demo_'], pattern: '(demo[0-9a-z]_[A-Za-z0-9]{12})' })).toHaveLength(1);
    expect(keywordWarning(bare)).toEqual([]);
    expect(keywordWarning({ ...bare, keywords: ['acme_', 'zzz'], pattern: '(?<![a-z])(ACME\\x5f[0-9a-f]{32})' })).toEqual([]);
    expect(keywordWarning({ ...bare, keywords: ['api.acme'], pattern: 'https://api\\.acme\\.io/([a-z]{8})' })).toEqual([]);
    expect(keywordWarning({ ...bare, keywords: ['demo_'], pattern: '((?:demo|DEMO)_[A-Za-z0-9]{12})' })).toEqual([]);
    // With examples, checkRuleExamples shows whether the match holds a keyword.
    expect(keywordWarning({ ...good, keywords: ['demo_'], pattern: '(dem[^x]_[A-Za-z0-9]{12})' })).toEqual([]);
    // Every built-in rule's keywords are found in its pattern: the check is not noise.
    for (const def of builtinRuleDefinitions().filter((d) => d.pattern)) {
      expect(keywordWarning({ ...def, examples: [] }), def.id).toEqual([]);
    }
  });
  it('reports an example whose first keyword starts past keywordWithin', () => {
    expect(checkRules([{ ...good, keywordWithin: 0 }])).toEqual([]);
    const late = { ...good, keywords: ['demo_', 'q2w9'], keywordWithin: 0, pattern: '(?:key=)?(demo_[A-Za-z0-9]{12})(?![A-Za-z0-9])', secretGroup: 1 };
    expect(checkRules([late]).map((p) => p.message)).toEqual(['example 1: the first keyword starts 4 bytes into the match, past keywordWithin 0']);
  });
});

describe('checkRules, keyword warning', () => {
  const bare = { id: 'bare', title: 'B', severity: 'high' as const, keywords: ['acme_'], examples: [], negative_examples: [], references: ['https://example.invalid'] };
  const warned = (pattern: string, keywords = bare.keywords): boolean =>
    checkRules([{ ...bare, pattern, keywords }], { relaxed: true }).some((p) => p.level === 'warning' && p.message.startsWith('no keyword is literal text'));
  it('warns of a keyword found only in a negative look-around, not of one in a positive look-around or in the match', () => {
    expect(warned('(?<!acme_)\\b(k_[0-9a-f]{32})')).toBe(true);
    expect(warned('(q_[0-9a-f]{32})(?!zed_)', ['zed_'])).toBe(true);
    expect(warned('(?<=acme_)(k_[0-9a-f]{32})')).toBe(false);
    expect(warned('(acme_[0-9a-f]{32})')).toBe(false);
  });
  it('warns of a keyword only in an optional part or in one branch of an alternation', () => {
    expect(warned('(?:acme_)?([0-9a-f]{32})')).toBe(true);
    expect(warned('(?:acme_)*([0-9a-f]{32})')).toBe(true);
    expect(warned('(?:acme_){0,2}([0-9a-f]{32})')).toBe(true);
    expect(warned('(?:acme_key){0}tok_([0-9a-f]{32})')).toBe(true);
    expect(warned('tok_([0-9a-f]{32})|acme_key')).toBe(true);
    expect(warned('(?:tok|acme)_([0-9a-f]{32})')).toBe(true);
    expect(warned('(?:x-)?acme_([0-9a-f]{32})')).toBe(false);
    expect(warned('(?:acme_){1,3}([0-9a-f]{32})')).toBe(false);
    expect(warned('(?:acme_|ACME-)([0-9a-f]{32})', ['acme_', 'acme-'])).toBe(false);
    expect(warned('acme[_-]?([0-9a-f]{32})', ['acme'])).toBe(false);
    expect(warned('tok_([0-9a-f]{32})|acme_key=([0-9a-f]{32})', ['tok_', 'acme_'])).toBe(false);
  });
  it('follows a match through an optional part whose text is unknown, and through back-references', () => {
    const holds = everyMatchHoldsKeyword;
    expect(holds('AccountName=[a-z0-9]{3,24};\\s{0,2}AccountKey=([A-Za-z0-9+/]{86}==)', ['accountkey='])).toBe(true);
    expect(holds('(?:mysql|mariadb)(?:\\+[a-z0-9]{1,20})?://([^@]{1,64})@', ['mysql', 'mariadb://'])).toBe(false);
    expect(holds('(?:mysql|mariadb)(?:\\+[a-z0-9]{1,20})?://([^@]{1,64})@', ['mysql', 'mariadb://', 'mariadb+'])).toBe(true);
    expect(holds('(?:Password|Pwd)\\s{0,2}=([^;]{4,128})', ['password=', 'pwd='])).toBe(false);
    expect(holds('(?:Password|Pwd) {0,2}=([^;]{4,128})', ['password=', 'pwd=', 'password ', 'pwd '])).toBe(true);
    expect(holds('(["\'])-----BEGIN KEY-----\\1', ['key-----"', "key-----'"])).toBe(true);
    expect(holds('(?:(["\'])x)?-----BEGIN KEY-----\\1', ['key-----"', "key-----'"])).toBe(false);
  });
  it('reads a keyword that a bounded repeat of at least one joins (Basic {1,4}, key[ ]{1,4}=)', () => {
    expect(warned('(?<![A-Za-z])Basic {1,4}([A-Za-z0-9+/]{8,64})', ['basic '])).toBe(false);
    expect(warned('acme[_-]{1,2}([0-9a-f]{32})', ['acme_'])).toBe(true);
  });
});

describe('checkRules, relaxed', () => {
  it('turns too few examples and a missing reference into warnings, and nothing else', () => {
    const sparse = { ...good, examples: ['demo_K8vB1nT6aZ3q'], negative_examples: [], references: [] };
    const strict = checkRules([sparse]);
    expect(strict.length).toBe(3);
    expect(strict.every((p) => p.level === undefined)).toBe(true);
    const relaxed = checkRules([sparse], { relaxed: true });
    expect(relaxed.map((p) => p.message)).toEqual([
      'has 1 example(s); 2 or more are advised, so `rules check` can tell that the rule finds what it should',
      'has 0 negative example(s); 2 or more are advised, so `rules check` can tell that it leaves alone what it should',
      'has no reference to the published format',
    ]);
    expect(relaxed.every((p) => p.level === 'warning')).toBe(true);
    const broken = checkRules([{ ...sparse, pattern: '(demo_[A-Za-z0-9]+)', negative_examples: ['demo_Q2w9Zr7LmX4p'] }], { relaxed: true });
    expect(broken.filter((p) => p.level === undefined).map((p) => p.message)).toEqual([
      expect.stringMatching(/^pattern has an unbounded quantifier/),
      expect.stringMatching(/^negative example 1 is reported/),
    ]);
  });
});

describe('checkRuleOverlaps', () => {
  const compiled = (def: RuleDefinition) => {
    const rule = compileRules([def]).rules[0];
    if (!rule) throw new Error('no rule');
    return rule;
  };
  // A second rule for the same tokens, ranking below `good` (lower confidence).
  const loose: RuleDefinition = { ...good, id: 'loose-token', confidence: 'low', pattern: 'key=(demo_[A-Za-z0-9]{12})', examples: ['key=demo_Q2w9Zr7LmX4p'] };
  it('warns when another rule reports a secret overlapping every example, naming the rule a scan keeps', () => {
    expect(checkRuleOverlaps(loose, compiled(loose), [compiled(good)])).toEqual([
      { ruleId: 'loose-token', message: "every example is also reported by rule 'demo-token'; a scan reports such a secret once, as 'demo-token'", level: 'warning' },
    ]);
    expect(checkRuleOverlaps(good, compiled(good), [compiled(loose)])).toEqual([]);
    const both = { ...good, examples: ['key=demo_Q2w9Zr7LmX4p'] };
    expect(checkRuleOverlaps(both, compiled(both), [compiled(loose)]).map((p) => p.message)).toEqual([
      "every example is also reported by rule 'loose-token'; a scan reports such a secret once, as 'demo-token'",
    ]);
  });
  it('says nothing when one example is left to the rule alone, or for a rule limited to some files', () => {
    const partly = { ...loose, examples: ['key=demo_Q2w9Zr7LmX4p', 'key=demo_K8vB1nT6aZ3q'] };
    const other = { ...good, examples: ['demo_Q2w9Zr7LmX4p', 'demo_Q2w9Zr7LmX4p'], pattern: '(demo_Q2w9[A-Za-z0-9]{8})' };
    expect(checkRuleOverlaps(partly, compiled(partly), [compiled(other)])).toEqual([]);
    expect(checkRuleOverlaps(partly, compiled(partly), [compiled({ ...good, paths: ['**/*.env'] })])).toEqual([]);
    expect(checkRuleOverlaps({ ...loose, examples: [] }, compiled(loose), [compiled(good)])).toEqual([]);
  });
});

describe('findUnboundedQuantifier', () => {
  it('ignores escaped and class characters', () => {
    expect(findUnboundedQuantifier('a\\+b[+*]c{1,5}')).toBeUndefined();
    expect(findUnboundedQuantifier('a{2,}')).toBe("'{2,}' at offset 1");
    expect(findUnboundedQuantifier('x*')).toBe("'*' at offset 1");
  });
});

describe('matchRule', () => {
  it('returns every match with its verdict', () => {
    const rule = compileRules([good]).rules[0];
    if (!rule) throw new Error('no rule');
    const matches = matchRule(rule, 'demo_Q2w9Zr7LmX4p demo_aaaaaaaaaaaa');
    expect(matches.map((m) => [m.secret, m.index, m.acceptance.ok])).toEqual([
      ['demo_Q2w9Zr7LmX4p', 0, true],
      ['demo_aaaaaaaaaaaa', 18, false],
    ]);
    const keyed = compileRules([{ ...good, pattern: 'key=(demo_[A-Za-z0-9]{12})' }]).rules[0];
    if (!keyed) throw new Error('no rule');
    expect(matchRule(keyed, 'x key=demo_Q2w9Zr7LmX4p').map((m) => [m.index, m.secretIndex])).toEqual([[2, 6]]);
  });
});

describe('built-in rules', () => {
  const defs = builtinRuleDefinitions();
  it('pass rules check', () => {
    const problems = checkRules(defs).map((p) => `${p.ruleId ?? '*'}: ${p.message}`);
    expect(problems).toEqual([]);
  });
  it('are compiled ahead of time, identically to compiling the definitions now', () => {
    expect(builtinRuleset()).toEqual(compileRules(defs));
  });
  it('cover the first rule families', () => {
    const ids = new Set(defs.map((d) => d.id));
    for (const id of [
      'aws-access-key-id',
      'aws-secret-access-key',
      'github-classic-token',
      'github-fine-grained-token',
      'npm-access-token',
      'pypi-upload-token',
      'slack-bot-token',
      'slack-webhook-url',
      'stripe-live-secret-key',
      'google-api-key',
      'gcp-service-account-key',
      'pem-private-key',
      'url-with-password',
      'npmrc-auth-token',
      'pypirc-password',
    ]) {
      expect(ids.has(id), id).toBe(true);
    }
  });
  it('keep every pattern fast on adversarial input', () => {
    // Long runs of characters each pattern accepts, with no closing delimiter, are where
    // backtracking would show; the matcher never hands a regex more than its window.
    const ruleset = builtinRuleset();
    const fillers = ['A', 'a1', '0', 'x-', '/+', ' ', '\n', '\\n', ':', '@'];
    for (const rule of ruleset.rules) {
      if (!rule.source) continue;
      const re = new RegExp(rule.source, `${rule.flags}g`);
      const window = rule.maxLength * 2;
      for (const keyword of rule.keywords ?? []) {
        for (const f of fillers) {
          const text = `${keyword}${f.repeat(Math.ceil(window / f.length))}`.slice(0, window + keyword.length);
          const start = performance.now();
          re.lastIndex = 0;
          while (re.exec(text)) {
            /* drain */
          }
          expect(performance.now() - start, `${rule.id} with ${JSON.stringify(f)}`).toBeLessThan(250);
        }
      }
    }
  });
});

describe('path-only rules', () => {
  const envRule: RuleDefinition = {
    id: 'env-file',
    title: 'Environment file',
    severity: 'high',
    keywords: [],
    paths: ['**/.env', '**/.env.*', '!**/.env.example', '!**/.env.sample'],
    references: ['https://example.invalid/dotenv'],
    examples: ['.env', 'package/config/.env.production'],
    negative_examples: ['.env.example', 'package/src/env.ts'],
  };
  it('checks examples as entry paths', () => {
    expect(checkRules([envRule])).toEqual([]);
    const problems = checkRules([{ ...envRule, examples: ['.env', 'src/env.js'], negative_examples: ['.env.local', 'x'] }]);
    expect(problems.map((p) => p.message)).toEqual([
      'example 2 (path "src/env.js") is not matched by `paths`',
      'negative example 1 (path ".env.local") is matched by `paths`',
    ]);
  });
});
