import { compileRules, type RuleDefinition } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { isInlineIgnored, MARKER_DISTANCE } from './ignore.js';
import { Matcher } from './matcher.js';
import { TEST_TOKEN_RULE } from '../testing.js';

const rule: RuleDefinition = TEST_TOKEN_RULE;
const TOKEN = 'tok_Q7mZ2rT9vK4pL8wX3nB6cY1h';
const matcher = new Matcher(compileRules([rule]));

/** Whether the token in `text` is reported, through the matcher and the context it gives. */
function reported(text: string): boolean {
  const found = matcher.matchSegment(text, { ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true }).matches;
  expect(found.length).toBeLessThanOrEqual(1);
  return found.length === 1;
}

describe('inline ignore markers', () => {
  it('honour every documented form', () => {
    for (const text of [
      `key = "${TOKEN}" # pubguard:allow\n`,
      `const key = "${TOKEN}"; // gitleaks:allow\n`,
      `key: ${TOKEN}  # trufflehog:ignore\n`,
      `KEY = "${TOKEN}"  # pragma: allowlist secret\n`,
      `KEY = "${TOKEN}"  # pragma:allowlist secret\n`,
      `const key = "${TOKEN}"; // secretlint-disable-line\n`,
      `<a data-key="${TOKEN}"><!--pubguard:allow--></a>\n`,
      `key = '${TOKEN}' -- pubguard:allow\n`,
      // Before the match, as a comment of its own.
      `/* pubguard:allow */ const key = "${TOKEN}";\n`,
      `<!-- gitleaks:allow --> <a data-key="${TOKEN}">\n`,
      // The line above.
      `# pubguard:allow-next-line\nkey = "${TOKEN}"\n`,
      `// secretlint-disable-next-line\nconst key = "${TOKEN}";\n`,
      `# pragma: allowlist nextline secret\nKEY = "${TOKEN}"\n`,
      // CRLF line ends.
      `x = 1\r\n# pubguard:allow-next-line\r\nkey = "${TOKEN}"\r\n`,
      `key = "${TOKEN}" # pubguard:allow\r\n`,
      // CR line ends (classic Mac OS), alone and mixed with the others.
      `x = 1\r# pubguard:allow-next-line\rkey = "${TOKEN}"\r`,
      `x = 1\n# pubguard:allow-next-line\rkey = "${TOKEN}"\r\n`,
      `x = 1\r# pubguard:allow-next-line\r\nkey = "${TOKEN}"\n`,
      `key = "${TOKEN}" # pubguard:allow\r`,
    ]) {
      expect(reported(text), text).toBe(false);
    }
  });

  it('count only as whole words', () => {
    for (const text of [
      `const j = "${TOKEN}"; // not pubguard:allowed\n`,
      `const j = "${TOKEN}"; // xgitleaks:allow\n`,
      `const j = "${TOKEN}"; // pubguard:allow_list\n`,
      `const j = "${TOKEN}"; // pubguard:allow-listed\n`,
      `const j = "${TOKEN}"; # pragma: allowlist secrets\n`,
      `# pubguard:allow-next-lines\nkey = "${TOKEN}"\n`,
      // A next-line marker says nothing about its own line.
      `key = "${TOKEN}" # pubguard:allow-next-line\n`,
    ]) {
      expect(reported(text), text).toBe(true);
    }
  });

  it('do not reach a key farther along a minified line', () => {
    const pad = 'x=1;'.repeat(50);
    // Before the key and not a comment: a regex or string that mentions a marker.
    expect(reported(`var re=/gitleaks:allow/;${pad}var k="${TOKEN}";${pad}\n`)).toBe(true);
    expect(reported(`var re=/gitleaks:allow/;var k="${TOKEN}";\n`)).toBe(true);
    expect(reported(`var s="pubguard:allow",k="${TOKEN}";\n`)).toBe(true);
    // A comment before the key, but farther than the marker distance.
    const far = 'x=1;'.repeat(MARKER_DISTANCE / 4 + 1);
    expect(reported(`/* pubguard:allow */${far}var k="${TOKEN}";\n`)).toBe(true);
    expect(reported(`/* pubguard:allow */${'x=1;'.repeat(MARKER_DISTANCE / 4 - 4)}var k="${TOKEN}";\n`)).toBe(false);
    // After the key: within the distance it is the key's own statement, beyond it other code.
    expect(reported(`var k="${TOKEN}";${far}/* pubguard:allow */\n`)).toBe(true);
    expect(reported(`var k="${TOKEN}";${'x=1;'.repeat(MARKER_DISTANCE / 4 - 4)}// pubguard:allow\n`)).toBe(false);
  });

  it('look at the match line and the line just above only', () => {
    expect(reported(`key = "${TOKEN}"\n# pubguard:allow\n`)).toBe(true);
    expect(reported(`# pubguard:allow\nkey = "${TOKEN}"\n`)).toBe(true);
    expect(reported(`# pubguard:allow-next-line\n\nkey = "${TOKEN}"\n`)).toBe(true);
    // A carriage return ends a line as a line feed does.
    expect(reported(`key = "${TOKEN}"\r# pubguard:allow\r`)).toBe(true);
    expect(reported(`# pubguard:allow\rkey = "${TOKEN}"\r`)).toBe(true);
    expect(reported(`# pubguard:allow-next-line\r\rkey = "${TOKEN}"\r`)).toBe(true);
    expect(reported(`# pubguard:allow-next-line\r\n\rkey = "${TOKEN}"\r`)).toBe(true);
  });

  it('take offsets of the match in the text given', () => {
    const text = `a\nkey = "${TOKEN}" # pubguard:allow\nb`;
    const start = text.indexOf(TOKEN);
    expect(isInlineIgnored(text, start, start + TOKEN.length)).toBe(true);
    expect(isInlineIgnored(text, 0, 1)).toBe(false);
  });
});
