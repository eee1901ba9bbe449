import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PUBGUARD_BIN } from '../helpers.js';

/** What a measured `pubguard` process left behind, plus its cost. */
export interface MeasuredRun {
  code: number | null;
  stdout: string;
  /** stderr without the measurement line. */
  stderr: string;
  /** Peak resident set size of the process in MiB (all threads together). */
  peakRssMiB: number;
  /** Wall time in ms, spawn to exit. */
  wallMs: number;
}

const GNU_TIME = '/usr/bin/time';
const MARK = 'pubguard-peak-rss-kib';

/**
 * GNU time reads the peak RSS from wait4(), outside the measured process. Where it is
 * missing, the process reports its own peak (getrusage via process.resourceUsage) on exit;
 * both count every thread, workers included.
 */
const useGnuTime = existsSync(GNU_TIME);
const EXIT_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\n${MARK} '+process.resourceUsage().maxRSS+'\\n'))`;

/** Runs `pubguard` as a real process and measures its peak RSS and wall time. */
export function runMeasured(args: string[], options: { cwd?: string; input?: Uint8Array } = {}): Promise<MeasuredRun> {
  const node = [process.execPath, PUBGUARD_BIN, ...args];
  const [cmd, ...argv] = useGnuTime ? [GNU_TIME, '-f', `\n${MARK} %M`, ...node] : [process.execPath, '--import', EXIT_HOOK, PUBGUARD_BIN, ...args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv, {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const stderrAll = Buffer.concat(err).toString('utf8');
      const m = new RegExp(`\\n?${MARK} (\\d+)\\s*$`).exec(stderrAll);
      if (!m) {
        reject(new Error(`no peak RSS measurement in stderr (exit ${code}):\n${stderrAll.slice(-2000)}`));
        return;
      }
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: stderrAll.slice(0, m.index),
        peakRssMiB: Number(m[1]) / 1024,
        wallMs,
      });
    });
    child.stdin.end(options.input);
  });
}

/** The JSON report's parts the hostile tests look at. */
export interface JsonReport {
  findings: Array<{ ruleId: string; path: string; location: { entry: string[]; line: number; column: number } }>;
  errors: Array<{ path: string; kind: string; message: string; limit?: string }>;
  stats: { artifacts: number; files: number; bytes: number; durationMs: number };
}

/** Parses `--format json` output, with the process's stderr in the message when it is not JSON. */
export function parseReport(run: MeasuredRun): JsonReport {
  try {
    return JSON.parse(run.stdout) as JsonReport;
  } catch {
    throw new Error(`stdout is not a JSON report (exit ${run.code}); stderr:\n${run.stderr.slice(-2000)}`);
  }
}

/** True when text looks like a JavaScript stack trace (a frame line or a bare error dump). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(\.[cm]?js|\.ts):\d+/m.test(text) || /^\s+at (async )?\S+ \(node:/m.test(text) || /\bnode:internal\b/.test(text);
}
