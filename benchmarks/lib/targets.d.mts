/** One row of the benchmark table, as run.mjs records it. */
export interface BenchRow {
  group: 'package' | 'linearity' | 'jobs' | 'ceiling' | 'startup' | string;
  tool: string;
  input: string;
  MB: number;
  wallS: number;
  cpuS?: number;
  mbps: number;
  peakMB: number;
  ratioToFloor: number;
  cpuRatioToFloor?: number;
  findings: number;
  note?: string;
  /** Copies run at once, for the machine-ceiling rows (group 'ceiling'). */
  processes?: number;
}
/** A target's verdict: PASS, FAIL, or SKIP when this run did not measure it. */
export interface TargetVerdict {
  target: string;
  measured: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
}
/** Median of a non-empty list of numbers. */
export declare function median(values: readonly number[]): number;
/** Judges issue 8's targets (and issue 2's 2× line) from one run's rows. */
export declare function judgeTargets(rows: readonly BenchRow[]): TargetVerdict[];
