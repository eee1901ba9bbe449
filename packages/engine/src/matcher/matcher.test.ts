import { builtinRuleset, type CompiledRule, compileRules, type RuleDefinition } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { Matcher } from './matcher.js';
import { TEST_TOKEN_RULE } from '../testing.js';

const rule: RuleDefinition = TEST_TOKEN_RULE;
const TOKEN = 'tok_Q7mZ2rT9vK4pL8wX3nB6cY1h';
const whole = { ownedStart: 0, ownedEnd: 0, atFileStart: true, atFileEnd: true };

function matcher(): Matcher {
  return new Matcher(compileRules([rule]));
}

describe('Matcher', () => {
  it('searches from keywordWithin bytes before a keyword hit when the rule bounds it', () => {
    // The pattern could start anywhere in the 200 letters; the bound is what limits it.
    const loose: RuleDefinition = { ...rule, id: 'scheme', keywords: ['://'], pattern: '([a-z]{1,300})://', maxLength: 400 };
    const letters = Array.from({ length: 200 }, (_, i) => String.fromCharCode(97 + ((i * 7 + (i >> 3)) % 26))).join('');
    const text = `${letters}://host`;
    const spec = { ...whole, ownedEnd: text.length };
    const unbounded = new Matcher(compileRules([loose])).matchSegment(text, spec).matches;
    expect(unbounded.map((m) => m.secret.length)).toEqual([200]);
    const bounded = new Matcher(compileRules([{ ...loose, keywordWithin: 10 }])).matchSegment(text, spec).matches;
    // 10 bytes plus the window's fixed margin of context before it.
    expect(bounded).toHaveLength(1);
    expect(bounded[0]?.secret.length).toBeLessThan(100);
    expect(bounded[0]?.secretEnd).toBe(200);
  });
  it('finds what a rule bounding its keyword finds when searched at every position, only at fewer of them', () => {
    // The built-in URL rule bounds where `://` sits in its matches; without the bound, its
    // regex walks the whole window around every hit.
    const bounded = builtinRuleset();
    const url = bounded.rules.findIndex((r) => r.id === 'url-with-password');
    expect(bounded.rules[url]?.keywordWithin).toBeGreaterThan(0);
    const { keywordWithin: _, ...unboundedRule } = bounded.rules[url] as CompiledRule;
    const unbounded = { ...bounded, rules: bounded.rules.map((r, i) => (i === url ? unboundedRule : r)) };
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const pieces = [
      'https://ci-bot:s3cr3T-Pa55-2024@git.internal.test/r.git',
      'ftp://deploy:Kq7vR2pLx9wZ@files.internal.test',
      'smtps://mailer:Zr8%21uQ3mKx@smtp.internal.test:465',
      'https://example.com/docs',
      'git+ssh://git@github.com/o/r.git',
      'postgres://app:Pw9xQ2vLm7@db.internal.test/x',
      'https://user:password@example.com',
      '://:',
      'x'.repeat(40),
      ' ',
      '\n',
      'a:b@c',
    ];
    let found = 0;
    for (let round = 0; round < 300; round++) {
      let text = '';
      while (text.length < 600) text += pieces[rand(pieces.length)] + (rand(3) === 0 ? '' : ' ');
      const specs = [
        { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true },
        { ownedStart: rand(200), ownedEnd: 300 + rand(300), atFileStart: rand(2) === 0, atFileEnd: rand(2) === 0 },
      ];
      for (const spec of specs) {
        const a = new Matcher(bounded).matchSegment(text, spec).matches;
        const b = new Matcher(unbounded).matchSegment(text, spec).matches;
        expect(a, text).toEqual(b);
        found += a.filter((m) => m.rule === url).length;
      }
    }
    expect(found).toBeGreaterThan(100);
  });

  it('finds a token with its exact position and line bookkeeping', () => {
    const text = `line one\nconst a = "${TOKEN}";\n`;
    const result = matcher().matchSegment(text, { ...whole, ownedEnd: text.length });
    expect(result.matches).toHaveLength(1);
    const [m] = result.matches;
    expect(m?.secret).toBe(TOKEN);
    expect(m?.secretStart).toBe(text.indexOf(TOKEN));
    expect(m?.newlinesBefore).toBe(1);
    expect(m?.lastNewline).toBe(8);
    // A file's last segment: its totals are not needed, so not counted.
    expect(result.newlines).toBe(0);
    expect(result.lastNewline).toBe(-1);
    const middle = matcher().matchSegment(text, { ...whole, ownedEnd: text.length, atFileEnd: false });
    expect(middle.newlines).toBe(2);
    expect(middle.lastNewline).toBe(text.length - 1);
  });

  it('places every match of a file\'s last segment on its line, before and after newlines, with or without totals', () => {
    const other = TOKEN.replace('Q7', 'R8');
    const text = `\n\n${TOKEN}\nx\n  ${other}\n${TOKEN}\n\nend\n`;
    const lines = (spec: typeof whole) => matcher().matchSegment(text, spec).matches.map((m) => [m.secretStart, m.newlinesBefore, m.lastNewline]);
    const expected = [text.indexOf(TOKEN), text.indexOf(other), text.lastIndexOf(TOKEN)].map((at) => {
      const before = text.slice(0, at);
      return [at, before.split('\n').length - 1, before.lastIndexOf('\n')];
    });
    expect(lines({ ...whole, ownedEnd: text.length })).toEqual(expected);
    expect(lines({ ...whole, ownedEnd: text.length, atFileEnd: false })).toEqual(expected);
  });

  it('ends a line at a line feed, a carriage return, or both together, wherever a segment is cut', () => {
    const other = TOKEN.replace('Q7', 'R8');
    // CR alone (classic Mac OS), CR LF, LF, a CR LF cut between segments, and blank lines of each.
    const text = `a\rb ${TOKEN}\r\r\n\n${other} c\r\nd\n\r\r${TOKEN}\r`;
    const at = [...text.matchAll(/tok_/g)].map((m) => m.index ?? 0);
    // Lines as an editor shows them: each CR LF, lone CR and lone LF ends one.
    const breaks = (s: string) => s.match(/\r\n|\r|\n/g)?.length ?? 0;
    const lastBreak = (s: string) => Math.max(s.lastIndexOf('\n'), s.lastIndexOf('\r'));
    const expected = at.map((i) => [i, breaks(text.slice(0, i)), lastBreak(text.slice(0, i)), i - lastBreak(text.slice(0, i))]);
    expect(expected.map(([, lines, , column]) => [lines, column])).toEqual([[1, 3], [4, 1], [8, 1]]);
    const placed = (spec: typeof whole) => matcher().matchSegment(text, spec).matches.map((m) => [m.secretStart, m.newlinesBefore, m.lastNewline, m.utf16Column]);
    expect(placed({ ...whole, ownedEnd: text.length })).toEqual(expected);
    expect(placed({ ...whole, ownedEnd: text.length, atFileEnd: false })).toEqual(expected);
    // Two segments cut between every pair of bytes: their totals and the second's lines add up.
    for (let cut = 1; cut < text.length; cut++) {
      const first = matcher().matchSegment(text, { ...whole, ownedEnd: cut, atFileEnd: false });
      expect(first.newlines, `cut at ${cut}`).toBe(breaks(text.slice(0, cut)) - (text[cut - 1] === '\r' && text[cut] === '\n' ? 1 : 0));
      const second = matcher().matchSegment(text, { ownedStart: cut, ownedEnd: text.length, atFileStart: true, atFileEnd: true });
      const got = [...first.matches, ...second.matches.map((m) => ({ ...m, newlinesBefore: m.newlinesBefore + first.newlines, lastNewline: m.lastNewline >= 0 ? m.lastNewline : first.lastNewline }))];
      expect(got.map((m) => [m.secretStart, m.newlinesBefore, m.lastNewline, m.utf16Column]), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('counts the UTF-16 code units before a secret on its line, for 2-, 3- and 4-byte characters', () => {
    // é and ö are 2 bytes and 1 unit, ✓ 3 bytes and 1 unit, 😀 4 bytes and 2 units (a surrogate pair).
    const text = `x\n// héllo wörld ✓ 😀 const t = "${TOKEN}"; ${TOKEN.replace('Q7', 'R8')}\n€ ${TOKEN.replace('Q7', 'S9')}\n`;
    const bytes = Buffer.from(text, 'utf8');
    const at = [...text.matchAll(/tok_/g)].map((m) => m.index ?? 0);
    // A JavaScript string's length counts UTF-16 code units.
    const expected = at.map((i) => [Buffer.byteLength(text.slice(0, i)), i - text.lastIndexOf('\n', i - 1)]);
    const byteColumns = at.map((i) => Buffer.byteLength(text.slice(text.lastIndexOf('\n', i - 1) + 1, i)) + 1);
    // Bytes beyond units: é and ö one each, ✓ two, 😀 two; € two.
    expect(expected.map(([, units], i) => (byteColumns[i] as number) - (units as number))).toEqual([6, 6, 2]);
    const columns = (spec: typeof whole) => matcher().matchSegment(bytes, spec).matches.map((m) => [m.secretStart, m.utf16Column]);
    expect(columns({ ...whole, ownedEnd: bytes.length })).toEqual(expected);
    expect(columns({ ...whole, ownedEnd: bytes.length, atFileEnd: false })).toEqual(expected);
  });

  it("leaves a byte-order mark opening the file out of its first line's UTF-16 column, as editors do", () => {
    const text = `\ufeffé = "${TOKEN}"\nx = "${TOKEN.replace('Q7', 'R8')}"`;
    const bytes = Buffer.from(text, 'utf8');
    const columns = (spec: typeof whole) => matcher().matchSegment(bytes, spec).matches.map((m) => m.utf16Column);
    // é, space, =, space, quote: the token is the sixth character an editor shows on line 1.
    expect(columns({ ...whole, ownedEnd: bytes.length })).toEqual([6, 6]);
    // Not the file's start: those three bytes are text of the file, and counted.
    expect(columns({ ...whole, ownedEnd: bytes.length, atFileStart: false })).toEqual([undefined, 6]);
  });

  it('counts UTF-16 columns only where the line starts in the segment, context included', () => {
    const line = `ä 😀 const t = "${TOKEN}"`;
    const bytes = Buffer.from(`${line}\n${line}`, 'utf8');
    const first = Buffer.byteLength(line.slice(0, line.indexOf('tok_')));
    const second = first + Buffer.byteLength(line) + 1;
    const units = line.indexOf('tok_') + 1;
    const columns = (spec: typeof whole) => matcher().matchSegment(bytes, spec).matches.map((m) => [m.secretStart, m.utf16Column]);
    // A later segment owning only the second secret: its line's start is in the context before it.
    expect(columns({ ownedStart: second - 3, ownedEnd: bytes.length, atFileStart: false, atFileEnd: true })).toEqual([[second, units]]);
    // The first line starts where the segment does, which is not the file's start: unknown.
    const early = { ownedStart: first - 3, ownedEnd: second - 3, atFileEnd: false };
    expect(columns({ ...early, atFileStart: false })).toEqual([[first, undefined]]);
    // The same bytes at the file's start: known.
    expect(columns({ ...early, atFileStart: true })).toEqual([[first, units]]);
  });

  it('matches keywords case-insensitively but applies the regex as written', () => {
    const text = `TOK_${TOKEN.slice(4)} ${TOKEN}`;
    const result = matcher().matchSegment(text, { ...whole, ownedEnd: text.length });
    expect(result.matches.map((m) => m.secret)).toEqual([TOKEN]);
  });

  it('reports only matches that start in the owned range', () => {
    const text = `${TOKEN} ${TOKEN.replace('Q7', 'R8')}`;
    const second = text.lastIndexOf('tok_');
    const owned = matcher().matchSegment(text, { ownedStart: 0, ownedEnd: second, atFileStart: true, atFileEnd: true });
    expect(owned.matches.map((m) => m.secretStart)).toEqual([0]);
    const rest = matcher().matchSegment(text, { ownedStart: second, ownedEnd: text.length, atFileStart: true, atFileEnd: true });
    expect(rest.matches.map((m) => m.secretStart)).toEqual([second]);
  });

  it('does not trust a match cut by an artificial segment edge', () => {
    // The token continues past the end of this segment, so `\b` at the cut must not count.
    const text = `x ${TOKEN}`;
    const cut = matcher().matchSegment(text, { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: false });
    expect(cut.matches).toHaveLength(0);
    const real = matcher().matchSegment(text, { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true });
    expect(real.matches).toHaveLength(1);
  });

  it('honours inline ignore markers, ours and other tools', () => {
    for (const marker of ['pubguard:allow', 'gitleaks:allow', 'pragma: allowlist secret']) {
      const text = `key = "${TOKEN}" # ${marker}\n`;
      expect(matcher().matchSegment(text, { ...whole, ownedEnd: text.length }).matches).toHaveLength(0);
    }
    const next = `# pubguard:allow-next-line\nkey = "${TOKEN}"\n`;
    expect(matcher().matchSegment(next, { ...whole, ownedEnd: next.length }).matches).toHaveLength(0);
    const far = `# pubguard:allow-next-line\n\nkey = "${TOKEN}"\n`;
    expect(matcher().matchSegment(far, { ...whole, ownedEnd: far.length }).matches).toHaveLength(1);
  });
});
