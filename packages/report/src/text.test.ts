import { describe, expect, it } from 'vitest';
import { emptyInput, goldenInput } from './__fixtures__/input.js';
import { formatText, summaryLine, useColor } from './index.js';

describe('useColor', () => {
  const cases: [Record<string, string | undefined>, boolean, boolean][] = [
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true], // empty NO_COLOR means unset (no-color.org)
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '' }, false, true],
    [{ FORCE_COLOR: '3' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false], // NO_COLOR wins
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, false, false],
    [{ TERM: 'dumb' }, true, false],
    [{ TERM: 'dumb', FORCE_COLOR: '1' }, false, true],
  ];
  for (const [env, tty, expected] of cases) {
    it(`${JSON.stringify(env)} on ${tty ? 'a TTY' : 'a pipe'} -> ${expected}`, () => {
      expect(useColor(env, tty)).toBe(expected);
    });
  }
});

describe('summaryLine', () => {
  it('reads N artifacts, M files, X.X MB in T.TT s: K findings, E errors', () => {
    expect(summaryLine({ artifacts: 3, files: 120, bytes: 4_250_000, durationMs: 312 }, 2, 0)).toBe(
      'Scanned 3 artifacts, 120 files, 4.3 MB in 0.31 s: 2 findings, 0 errors',
    );
    expect(summaryLine({ artifacts: 1, files: 1, bytes: 0, durationMs: 0 }, 1, 1)).toBe(
      'Scanned 1 artifact, 1 file, 0.0 MB in 0.00 s: 1 finding, 1 error',
    );
    expect(summaryLine({ artifacts: 1, files: 2, bytes: 0, durationMs: 0, baselined: 3 }, 0, 0)).toBe(
      'Scanned 1 artifact, 2 files, 0.0 MB in 0.00 s: 0 findings (3 accepted by the baseline), 0 errors',
    );
  });
});

describe('formatText', () => {
  it('prints no secret line for a finding about a file itself', () => {
    const golden = goldenInput();
    const [first] = golden.findings;
    if (!first) throw new Error('golden input has findings');
    const input = { ...golden, findings: [{ ...first, ruleId: 'dotenv-file', title: 'Environment file (.env) in the package', secret: '' }] };
    const text = formatText(input, { color: false });
    expect(text).toContain('Environment file (.env) in the package (dotenv-file)');
    expect(text).not.toContain('secret:');
  });

  it('shows a secret found in a name with the path alone, no line and column, and says where it was', () => {
    const input = emptyInput();
    input.findings = [{ ...goldenInput().findings[0]!, path: 'dist/keys/ghp_…0007', location: { artifact: 'dist/keys/ghp_…0007', entry: [], line: 1, column: 1, byteOffset: 0 }, secret: 'ghp_…0007', in: 'name' }];
    const text = formatText(input, { color: false });
    expect(text).toContain('\n           dist/keys/ghp_…0007\n           secret: ghp_…0007 (in the name)\n');
    expect(text).not.toContain(':1:1');
  });

  it('prints only the summary line when nothing was found', () => {
    expect(formatText(emptyInput(), { color: false })).toBe('Scanned 1 artifact, 3 files, 0.0 MB in 0.01 s: 0 findings, 0 errors\n');
  });

  it('uses ANSI colours only when asked', () => {
    expect(formatText(goldenInput(), { color: false })).not.toContain('\u001b[');
    const coloured = formatText(goldenInput(), { color: true });
    expect(coloured).toContain('\u001b[1;31mCRITICAL');
    // Stripping the colour codes gives the plain report back.
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(formatText(goldenInput(), { color: false }));
  });

  it('never lets an entry name drive the terminal', () => {
    const text = formatText(goldenInput(), { color: false });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(text).toContain('evil\\x0aname\\x07\\x1b[31m.js:2:9');
  });

  it('shows confidence and fingerprint when verbose', () => {
    const text = formatText(goldenInput(), { color: false, verbose: true });
    expect(text).toContain('confidence: high');
    expect(text).toMatch(/fingerprint: sha256:[0-9a-f]{64}/);
    expect(text).toContain('[limit: maxEntryBytes]');
  });

  it('groups findings under their artifact', () => {
    const text = formatText(goldenInput(), { color: false });
    const headers = text.split('\n').filter((l) => /^\S.*\(\d+ findings?\)$/.test(l));
    expect(headers).toEqual([
      'dist/app/config.js (2 findings)',
      'dist/bundle.zip (1 finding)',
      'dist/we<i>rd & "q\'uote", 100%: #1.tgz (1 finding)',
    ]);
  });
});
