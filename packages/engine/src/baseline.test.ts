import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BaselineError, loadBaseline } from './baseline.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-engine-baseline-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadBaseline', () => {
  it('reads fingerprints from a baseline and from a JSON report', async () => {
    const baseline = file('b.json', JSON.stringify({ version: 1, fingerprints: ['sha256:1'], findings: [{ ruleId: 'r', path: 'a.js', fingerprint: 'sha256:2' }] }, null, 2));
    expect([...(await loadBaseline(baseline))].sort()).toEqual(['sha256:1', 'sha256:2']);
  });

  it('says which field has the wrong type, what it is and what is expected, instead of calling it missing', async () => {
    const error = async (text: string): Promise<string> => {
      const path = file('typed.json', text);
      const e = await loadBaseline(path).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(BaselineError);
      return (e as Error).message.replace(path, 'B');
    };
    expect(await error('{"fingerprints": "x"}')).toBe('baseline B: "fingerprints" must be an array of fingerprint strings; got a string');
    expect(await error('{"fingerprints": {"sha256:1": true}, "findings": []}')).toBe('baseline B: "fingerprints" must be an array of fingerprint strings; got an object');
    expect(await error('{"fingerprints": null}')).toBe('baseline B: "fingerprints" must be an array of fingerprint strings; got null');
    expect(await error('{"fingerprints": ["sha256:1"], "findings": 3}')).toBe('baseline B: "findings" must be an array of findings (as a JSON report writes them); got a number');
    expect(await error('{"fingerprints": ["sha256:1", {"fingerprint": "sha256:2"}]}')).toBe('baseline B: "fingerprints[1]" must be a fingerprint string; got an object');
    expect(await error('["sha256:1"]')).toBe('baseline B must be a JSON object with "fingerprints" (a baseline) or "findings" (a JSON report); got an array');
    expect(await error('"sha256:1"')).toBe('baseline B must be a JSON object with "fingerprints" (a baseline) or "findings" (a JSON report); got a string');
    expect(await error('{"version": 1}')).toBe('baseline B has neither "fingerprints" nor "findings"');
  });

  it('refuses a key written twice, which JSON.parse would read as the last one', async () => {
    const lines = ['{', '  "version": 1,', '  "fingerprints": ["sha256:1"],', '  "findings": [', '    { "ruleId": "r", "path": "a.js", "fingerprint": "sha256:1" }', '  ],', '  "fingerprints": ["sha256:1", "sha256:2"]', '}'];
    const twice = file('twice.json', lines.join('\n'));
    await expect(loadBaseline(twice)).rejects.toThrow(BaselineError);
    await expect(loadBaseline(twice)).rejects.toThrow(`baseline ${twice}:7:3: key "fingerprints" is written twice (first on line 3)`);
    const entry = file('entry.json', '{"findings": [{"fingerprint": "sha256:1", "fingerprint": "sha256:2"}]}');
    await expect(loadBaseline(entry)).rejects.toThrow(/key "findings\[0\]\.fingerprint" is written twice/);
  });
});
