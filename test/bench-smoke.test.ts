import { describe, expect, it } from 'vitest';
// Plain ESM helpers of the benchmark runner; no network, no processes.
import { formatCell, formatRows } from '../benchmarks/lib/table.mjs';
import { type BenchRow, judgeTargets, median } from '../benchmarks/lib/targets.mjs';

function row(group: string, tool: string, input: string, MB: number, wallS: number, extra: Partial<BenchRow> = {}): BenchRow {
  return { group, tool, input, MB, wallS, mbps: MB / wallS, peakMB: 100, ratioToFloor: Number.NaN, findings: 0, ...extra };
}

describe('benchmark table', () => {
  it('formats numbers by magnitude and missing values as a dash', () => {
    expect([formatCell(1234.56), formatCell(23.61), formatCell(0.834), formatCell(0.0042), formatCell(7), formatCell(Number.NaN), formatCell(undefined), formatCell('x')]).toEqual([
      '1235', '23.6', '0.83', '0.004', '7', '—', '—', 'x',
    ]);
  });

  it('aligns numeric columns right and text columns left', () => {
    const text = formatRows([
      { tool: 'floor', MB: 23.6 },
      { tool: 'pubguard', MB: 1000.4 },
    ]);
    expect(text.split('\n')).toEqual(['tool        MB', '--------  ----', 'floor     23.6', 'pubguard  1000']);
  });
});

describe('benchmark targets', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('judges each target from the rows and skips the ones not measured', () => {
    const rows = [
      row('package', 'pubguard', 'typescript-5.9.3', 23.6, 0.45, { ratioToFloor: 1.4 }),
      row('package', 'pubguard (tree)', 'typescript-5.9.3', 23.6, 0.5),
      row('package', 'secretlint', 'typescript-5.9.3', 23.6, 9),
      row('package', 'pubguard', 'lodash-4.18.1', 1.4, 0.2, { ratioToFloor: 1.8 }),
      row('linearity', 'pubguard', 'gen-10MB', 10, 0.1),
      row('linearity', 'pubguard', 'gen-100MB', 100, 1),
      row('jobs', 'pubguard one thread', 'gen-100MB', 100, 2),
      row('jobs', 'pubguard both cores', 'gen-100MB', 100, 1.3),
      row('startup', 'pubguard', 'empty-dir', 0, 0.12),
    ];
    const status = Object.fromEntries(judgeTargets(rows).map((t) => [t.target.split(' (')[0], t.status]));
    const memory = (peak1GB: number) =>
      judgeTargets([row('linearity', 'pubguard', 'gen-10MB', 10, 0.1, { peakMB: 60 }), row('linearity', 'pubguard', 'gen-1GB', 1000, 5, { peakMB: peak1GB })]).find((t) =>
        t.target.startsWith('1 GB peak RSS within'),
      );
    const cores = (ceilingWall: number | undefined) =>
      judgeTargets([
        row('jobs', 'pubguard one thread', 'gen-1GB', 1000, 2),
        row('jobs', 'pubguard both cores', 'gen-1GB', 1000, 1.3),
        ...(ceilingWall === undefined ? [] : [row('ceiling', 'matcher, one copy alone', '600 MB', 600, 1, { processes: 1 }), row('ceiling', 'matcher, 2 copies at once', '2 × 600 MB', 1200, ceilingWall, { processes: 2 })]),
      ]).find((t) => t.target.startsWith('both cores'));
    // Judged against pubguard on the same tree (9 / 0.5), not on the tarball (9 / 0.45 = 20).
    const lint = (treeWall: number) =>
      judgeTargets([
        row('package', 'pubguard', 'typescript-5.9.3', 23.6, 0.45),
        row('package', 'pubguard (tree)', 'typescript-5.9.3', 23.6, treeWall),
        row('package', 'secretlint', 'typescript-5.9.3', 23.6, 9),
      ]).find((t) => t.target.startsWith('≥ 15×'));
    expect(lint(0.5)).toMatchObject({ status: 'PASS', measured: '18.0× (worst package 18.0×)' });
    expect(lint(0.7)?.status).toBe('FAIL');
    expect(cores(1.3)).toMatchObject({ status: 'FAIL', measured: "0.65×; this machine's ceiling 0.65×" });
    expect(cores(undefined)).toMatchObject({ status: 'FAIL', measured: '0.65×' });
    expect(memory(88)).toMatchObject({ status: 'PASS', measured: '1.47× (88 / 60 MB)' });
    expect(memory(92)?.status).toBe('FAIL');
    expect(status).toEqual({
      'typescript-5.9.3 within 2× floor': 'PASS',
      'typescript-5.9.3 within 1.5× floor': 'PASS',
      'every package within 1.5× floor': 'FAIL',
      '≥ 15× faster than secretlint': 'PASS',
      'MB/s within ±20% across sizes': 'PASS',
      '1 GB scan peak RSS ≤ 200 MB': 'SKIP',
      '1 GB peak RSS within 1.5× of 10 MB': 'SKIP',
      'both cores ≤ 0.6× of one thread': 'FAIL',
      'empty-directory start-up < 150 ms': 'PASS',
    });
  });
});
