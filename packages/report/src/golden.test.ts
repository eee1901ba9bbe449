import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goldenInput } from './__fixtures__/input.js';
import { type ReportFormat, formatReport } from './index.js';

// UPDATE_GOLDEN=1 rewrites the files instead of comparing; review the diff before committing.
const update = process.env.UPDATE_GOLDEN === '1';

const FILES: Record<ReportFormat, string> = {
  text: 'report.txt',
  json: 'report.json',
  sarif: 'report.sarif',
  junit: 'report.junit.xml',
  github: 'report.github.txt',
};

describe('golden files', () => {
  for (const [format, file] of Object.entries(FILES) as [ReportFormat, string][]) {
    it(`${format} matches __golden__/${file}`, () => {
      const url = new URL(`./__golden__/${file}`, import.meta.url);
      const actual = formatReport(format, goldenInput({ decoded: true, named: true }), { color: false });
      if (update) writeFileSync(url, actual);
      expect(existsSync(url), `missing golden file; run with UPDATE_GOLDEN=1`).toBe(true);
      expect(actual).toBe(readFileSync(url, 'utf8'));
    });
  }

  it('does not depend on the order of the input', () => {
    const input = goldenInput({ decoded: true, named: true });
    const reversed = { ...input, findings: [...input.findings].reverse(), errors: [...input.errors].reverse() };
    for (const format of Object.keys(FILES) as ReportFormat[]) {
      expect(formatReport(format, reversed)).toBe(formatReport(format, input));
    }
  });
});
