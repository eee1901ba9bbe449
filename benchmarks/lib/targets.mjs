// Issue 8's performance targets (and issue 2's first one), judged from one run's rows.
// Pure functions over the result rows, so the verdicts can be checked on fixed numbers.

/** Median of a non-empty list of numbers (mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function verdict(holds) {
  if (holds === undefined) return 'SKIP';
  return holds ? 'PASS' : 'FAIL';
}

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/**
 * Judges the targets. `rows` are the table rows ({ tool, input, MB, wallS, cpuS, mbps, peakMB,
 * ratioToFloor, cpuRatioToFloor, findings, group }) where `group` is 'package', 'linearity', 'jobs' or
 * 'startup'. Returns { target, measured, status } per target; status PASS, FAIL or SKIP
 * (not measured in this run).
 */
export function judgeTargets(rows) {
  const out = [];
  const find = (tool, input) => rows.find((r) => r.tool === tool && r.input === input);
  const packages = rows.filter((r) => r.group === 'package' && r.tool === 'pubguard' && Number.isFinite(r.ratioToFloor));
  const ts = packages.find((r) => r.input.startsWith('typescript-5.9.3'));

  // The CPU ratio rides along: it moves less than wall time when others load the machine.
  const tsMeasured = ts ? `${fmt(ts.ratioToFloor)}× wall (${fmt(ts.cpuRatioToFloor)}× CPU)` : '—';
  out.push({ target: 'typescript-5.9.3 within 2× floor (issue 2)', measured: tsMeasured, status: verdict(ts ? ts.ratioToFloor <= 2 : undefined) });
  out.push({ target: 'typescript-5.9.3 within 1.5× floor', measured: tsMeasured, status: verdict(ts ? ts.ratioToFloor <= 1.5 : undefined) });
  if (packages.length > 0) {
    const worst = packages.reduce((a, b) => (b.ratioToFloor > a.ratioToFloor ? b : a));
    const failing = packages.filter((r) => r.ratioToFloor > 1.5).map((r) => r.input);
    out.push({
      target: `every package within 1.5× floor (${packages.length} packages)`,
      measured: `worst ${fmt(worst.ratioToFloor)}× (${worst.input}); ${failing.length} over`,
      status: verdict(failing.length === 0),
    });
  } else {
    out.push({ target: 'every package within 1.5× floor', measured: '—', status: 'SKIP' });
  }

  // Against secretlint: total wall over the unpacked trees both tools scanned (pubguard's
  // `pubguard (tree)` rows, not its scans of the tarballs).
  const pairs = rows
    .filter((r) => r.tool === 'secretlint' && Number.isFinite(r.wallS))
    .map((s) => ({ s, p: find('pubguard (tree)', s.input) }))
    .filter(({ p }) => p && Number.isFinite(p.wallS));
  if (pairs.length > 0) {
    const speedup = pairs.reduce((a, { s }) => a + s.wallS, 0) / pairs.reduce((a, { p }) => a + p.wallS, 0);
    const worst = Math.min(...pairs.map(({ s, p }) => s.wallS / p.wallS));
    out.push({ target: '≥ 15× faster than secretlint (total wall, same unpacked trees)', measured: `${fmt(speedup, 1)}× (worst package ${fmt(worst, 1)}×)`, status: verdict(speedup >= 15) });
  } else {
    out.push({ target: '≥ 15× faster than secretlint', measured: '—', status: 'SKIP' });
  }

  const lin = rows.filter((r) => r.group === 'linearity' && r.tool === 'pubguard' && Number.isFinite(r.mbps));
  if (lin.length >= 2) {
    const mean = lin.reduce((a, r) => a + r.mbps, 0) / lin.length;
    const dev = Math.max(...lin.map((r) => Math.abs(r.mbps - mean) / mean));
    // Without the fixed start-up cost, for information: shows whether the scan itself is linear.
    const startup = rows.find((r) => r.group === 'startup');
    const net = startup ? ` (${lin.map((r) => fmt(r.MB / (r.wallS - startup.wallS), 0)).join(' / ')} MB/s without start-up)` : '';
    out.push({
      target: `MB/s within ±20% across sizes (${lin.map((r) => r.input).join(', ')})`,
      measured: `${lin.map((r) => fmt(r.mbps, 0)).join(' / ')} MB/s: ±${fmt(dev * 100, 0)}% of the mean${net}`,
      status: verdict(dev <= 0.2),
    });
  } else {
    out.push({ target: 'MB/s within ±20% across sizes', measured: '—', status: 'SKIP' });
  }
  const gb = lin.find((r) => r.input === 'gen-1GB');
  out.push({
    target: '1 GB scan peak RSS ≤ 200 MB',
    measured: gb && Number.isFinite(gb.peakMB) ? `${fmt(gb.peakMB, 0)} MB` : '—',
    status: verdict(gb && Number.isFinite(gb.peakMB) ? gb.peakMB <= 200 : undefined),
  });
  // Issue 5: memory does not grow with the artifact (streaming), the 10 MB scan as the yardstick.
  const small = lin.find((r) => r.input === 'gen-10MB');
  const grows = gb && small && Number.isFinite(gb.peakMB) && Number.isFinite(small.peakMB) ? gb.peakMB / small.peakMB : undefined;
  out.push({
    target: '1 GB peak RSS within 1.5× of 10 MB (issue 5)',
    measured: grows === undefined ? '—' : `${fmt(grows)}× (${fmt(gb.peakMB, 0)} / ${fmt(small.peakMB, 0)} MB)`,
    status: verdict(grows === undefined ? undefined : grows <= 1.5),
  });

  const j1 = rows.find((r) => r.group === 'jobs' && r.tool === 'pubguard one thread');
  const j2 = rows.find((r) => r.group === 'jobs' && r.tool === 'pubguard both cores');
  const jr = j1 && j2 ? j2.wallS / j1.wallS : undefined;
  // The machine's own ceiling, from copies of pure matching run alone and all at once: the
  // best wall ratio any program of this kind can reach here, shown beside the verdict.
  const c1 = rows.find((r) => r.group === 'ceiling' && r.processes === 1);
  const cn = rows.find((r) => r.group === 'ceiling' && (r.processes ?? 0) > 1);
  const ceiling = c1 && cn ? cn.wallS / (c1.wallS * (cn.processes ?? 1)) : undefined;
  const ceilingNote = ceiling === undefined ? '' : `; this machine's ceiling ${fmt(ceiling)}×`;
  out.push({
    target: `both cores ≤ 0.6× of one thread${j1 ? ` (${j1.input}, unpacked)` : ''}`,
    measured: jr === undefined ? '—' : `${fmt(jr)}×${ceilingNote}`,
    status: verdict(jr === undefined ? undefined : jr <= 0.6),
  });

  const st = rows.find((r) => r.group === 'startup');
  out.push({ target: 'empty-directory start-up < 150 ms', measured: st ? `${fmt(st.wallS * 1000, 0)} ms` : '—', status: verdict(st ? st.wallS < 0.15 : undefined) });
  return out;
}
