import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { builtinRuleset } from './builtin.js';
import { matchRule } from './check.js';
import { ruleAppliesToPath } from './paths.js';

// Leaks that gitleaks or trufflehog report and the built-in rules once missed, in the forms
// packages ship them. Tokens are generated here, so no fixed fake can drift into the rules' examples.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const rand = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** The secrets each built-in rule reports in `text`, as a file at `path`, by rule id. */
function reported(text: string, path: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of builtinRuleset().rules) {
    if (rule.source === '' || !ruleAppliesToPath(rule, path)) continue;
    const secrets = matchRule(rule, text)
      .filter((m) => m.acceptance.ok)
      .map((m) => m.secret);
    if (secrets.length) out[rule.id] = secrets;
  }
  return out;
}

describe('formats found since the comparison with gitleaks and trufflehog', () => {
  it("a PuTTY key's secret ends with its own lines, not on the Private-MAC line", () => {
    const lines = [rand(`${ALNUM}+/`, 64), rand(`${ALNUM}+/`, 64), `${rand(`${ALNUM}+/`, 30)}=`];
    const ppk = [
      'PuTTY-User-Key-File-2: ssh-rsa',
      'Encryption: none',
      'Comment: deploy',
      'Public-Lines: 1',
      `AAAAB3NzaC1yc2EAAAADAQABAAAAgQ${rand(ALNUM, 34)}`,
      'Private-Lines: 3',
      ...lines,
      `Private-MAC: ${rand(HEX, 40)}`,
      '',
    ];
    for (const eol of ['\n', '\r\n']) {
      expect(reported(ppk.join(eol), 'keys/deploy.ppk')['putty-private-key']).toEqual([lines.join(eol)]);
    }
  });
});
