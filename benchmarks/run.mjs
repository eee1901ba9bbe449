#!/usr/bin/env node
// End-to-end benchmark (what `pnpm bench` runs): pubguard as a process against the I/O +
// literal-search floor (gzip -dc, then rg over the unpacked tree) and against secretlint, on
// real npm packages and on generated artifacts of 10 MB, 100 MB and 1 GB. Prints one table
// and issue 8's targets, and saves both as JSON in benchmarks/results/.
//
// Usage: node benchmarks/run.mjs [--quick] [--only NAME] [--runs N]
//   --quick      skip the 1 GB artifact and secretlint
//   --only NAME  only inputs whose name contains NAME (e.g. typescript, gen-100MB, empty-dir)
//   --runs N     timed runs per measurement, the median is kept (default 3; 1 for ≥ 500 MB)
import { mkdirSync, writeFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtinRuleset } from '@pubguard/rules';
import { canMeasureRss, ensureCommand, measure, runOrThrow } from './lib/proc.mjs';
import { GENERATED, PACKAGES, ensureGenerated, ensurePacked, ensureUnpacked, packFileName } from './lib/inputs.mjs';
import { formatRows } from './lib/table.mjs';
import { judgeTargets, median } from './lib/targets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const CACHE = join(HERE, '.cache');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'pubguard.js');
const SPIN = join(HERE, 'lib', 'spin.mjs');
/** Matching per copy in the machine-ceiling rows: about a second of work on one core. */
const SPIN_MB = 600;
const SECRETLINT_VERSION = '13.0.6';
const PRESET_VERSION = '13.1.0';

// A failure to prepare inputs (no network, a full disk) ends the run with its message only.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}

function usage(message) {
  console.error(`${message}\nusage: node benchmarks/run.mjs [--quick] [--only NAME] [--runs N]`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, runs: { type: 'string', default: '3' } } }).values;
} catch (error) {
  usage(error.message);
}
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) usage(`--runs takes a whole number ≥ 1, got '${args.runs}'`);
const selected = (name) => args.only === undefined || name.includes(args.only);
const log = (message) => console.error(`bench: ${message}`);

if (!existsSync(join(ROOT, 'packages', 'cli', 'dist', 'bin.js'))) {
  usage('pubguard is not built: run `corepack pnpm build` first (or use `corepack pnpm bench`)');
}

// ---- tools ------------------------------------------------------------------------------
ensureCommand('/usr/bin/time', 'time', log);
if (!canMeasureRss()) log('GNU time is missing: peak RSS is not measured (shown as —)');
const haveRg = ensureCommand('rg', 'ripgrep', log);
if (!haveRg) log('ripgrep is missing: the floor cannot be measured, ratios to it are shown as —');
for (const tool of ['gzip', 'tar', 'npm']) {
  if (!ensureCommand(tool, tool, log)) usage(`${tool} is needed to prepare the inputs`);
}
const haveZip = ensureCommand('zip', 'zip', log);
if (!haveZip) log('zip is missing: the package of many small files is not measured as a zip');

mkdirSync(CACHE, { recursive: true });
const keywordsFile = join(CACHE, 'keywords.txt');
const keywords = builtinRuleset().keywords;
writeFileSync(keywordsFile, `${keywords.join('\n')}\n`);

function ensureSecretlint() {
  const dir = join(CACHE, 'secretlint');
  const bin = join(dir, 'node_modules', 'secretlint', 'bin', 'secretlint.js');
  const installed = () => {
    try {
      const v = (p) => JSON.parse(readFileSync(join(dir, 'node_modules', ...p.split('/'), 'package.json'), 'utf8')).version;
      return v('secretlint') === SECRETLINT_VERSION && v('@secretlint/secretlint-rule-preset-recommend') === PRESET_VERSION;
    } catch {
      return false;
    }
  };
  if (!installed()) {
    log(`installing secretlint ${SECRETLINT_VERSION} + preset-recommend ${PRESET_VERSION} into ${relative(ROOT, dir)}`);
    mkdirSync(dir, { recursive: true });
    // Exact versions: a range lets npm pick 12.x on Node 20, which is far slower.
    runOrThrow('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `secretlint@${SECRETLINT_VERSION}`, `@secretlint/secretlint-rule-preset-recommend@${PRESET_VERSION}`]);
  }
  const rc = join(dir, '.secretlintrc.json');
  writeFileSync(rc, `${JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }, null, 2)}\n`);
  return { bin, rc, out: join(dir, 'last-output.json') };
}

// ---- measuring --------------------------------------------------------------------------
// NODE_EXTRA_CA_CERTS makes Node build its root certificate store and parse the named file
// before any script runs: on a machine whose shell sets it, that is tens of milliseconds of
// every Node start (pubguard's, secretlint's), which gzip and rg never pay. No measured
// command makes a TLS connection, so the Node processes run without it; the start-up rows
// show the cost with it as well.
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS;
const nodeEnv = { ...process.env };
delete nodeEnv.NODE_EXTRA_CA_CERTS;

/** measure() of a Node process, in the environment above. */
function measureNode(args, options = {}) {
  return measure('node', args, { ...options, env: nodeEnv });
}

/** Median wall and CPU, and the largest peak, of several measure() results. */
function summarise(results) {
  return {
    wallS: median(results.map((r) => r.wallS)),
    cpuS: median(results.map((r) => r.cpuS)),
    peakMB: Math.max(...results.map((r) => r.peakMB)),
  };
}

/** One floor measurement: gzip -dc of the tarball, then rg over the unpacked tree. */
async function floorOnce(tgz, dir) {
  const gz = await measure('gzip', ['-dc', tgz]);
  // -uuu: hidden, ignored and binary files too, so rg reads the same bytes pubguard does.
  const rg = await measure('rg', ['-i', '-F', '-c', '-uuu', '-f', keywordsFile, dir]);
  return { wallS: gz.wallS + rg.wallS, cpuS: gz.cpuS + rg.cpuS, peakMB: Math.max(gz.peakMB, rg.peakMB), gzipS: gz.wallS, rgS: rg.wallS };
}

/** One pubguard run as a process, with its findings counted from the JSON report. */
async function pubguardOnce(target, extra = []) {
  const r = await measureNode([CLI, 'scan', '--format', 'json', '-q', ...extra, target], { stdout: 'capture' });
  let findings = Number.NaN;
  let note = '';
  try {
    const report = JSON.parse(r.stdout.toString('utf8'));
    findings = report.findings.length;
    if (report.errors.length > 0) note = `${report.errors.length} errors: ${report.errors[0].message}`;
  } catch {
    note = `no JSON report (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`;
  }
  if (r.code === 2 && !note) note = 'exit 2';
  return { ...r, findings, note };
}

async function secretlint(tools, dir) {
  const r = await measureNode([tools.bin, '**/*', '--secretlintrc', tools.rc, '--format', 'json', '--maskSecrets'], { cwd: dir, stdout: tools.out });
  let findings = Number.NaN;
  let note = '';
  try {
    const results = JSON.parse(readFileSync(tools.out, 'utf8'));
    findings = results.reduce((a, f) => a + f.messages.length, 0);
    // secretlint leaves binary files unread (no sourceContent): say how much text it read.
    const chars = results.reduce((a, f) => a + (typeof f.sourceContent === 'string' ? f.sourceContent.length : 0), 0);
    note = `read ${(chars / 1e6).toFixed(1)} M chars of text`;
  } catch {
    note = `no JSON output (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`;
  }
  return { wallS: r.wallS, cpuS: r.cpuS, peakMB: r.peakMB, findings, note };
}

const rows = [];
function addRow(group, tool, input, MB, m, floorOf) {
  const row = {
    group,
    tool,
    input,
    MB,
    wallS: m.wallS,
    cpuS: m.cpuS ?? Number.NaN,
    mbps: MB / m.wallS,
    peakMB: m.peakMB,
    ratioToFloor: floorOf ? m.wallS / floorOf.wallS : Number.NaN,
    // CPU seconds against the floor's: steadier than wall time when others load the machine.
    cpuRatioToFloor: floorOf ? m.cpuS / floorOf.cpuS : Number.NaN,
    findings: m.findings ?? Number.NaN,
    note: m.note ?? '',
    ...(m.processes !== undefined ? { processes: m.processes } : {}),
  };
  rows.push(row);
  log(`${tool.padEnd(18)} ${input.padEnd(34)} ${row.wallS.toFixed(3)} s${m.note ? `  (${m.note})` : ''}`);
  return row;
}

async function measureInput(group, name, tgz, dir, bytes, n, tools, expected) {
  const MB = bytes / 1e6;
  // Floor and pubguard alternate, so load that comes and goes on a shared machine hits both.
  const floors = [];
  const scans = [];
  for (let i = 0; i < n; i++) {
    if (haveRg) floors.push(await floorOnce(tgz, dir));
    scans.push(await pubguardOnce(tgz));
  }
  const fl = floors.length > 0 ? { ...summarise(floors), gzipS: median(floors.map((f) => f.gzipS)), rgS: median(floors.map((f) => f.rgS)) } : undefined;
  if (fl) addRow(group, 'floor (gzip+rg)', name, MB, { ...fl, note: `gzip ${fl.gzipS.toFixed(2)} s + rg ${fl.rgS.toFixed(2)} s` }, fl);
  const last = scans[scans.length - 1];
  const pg = { ...summarise(scans), findings: last.findings, note: last.note };
  if (expected !== undefined && pg.findings !== expected && !pg.note) pg.note = `expected ${expected} planted`;
  addRow(group, 'pubguard', name, MB, pg, fl);
  if (tools) {
    // The secretlint target compares both tools on the same unpacked tree: pubguard reads the
    // tree here as secretlint does, alternating with it, rather than the tarball.
    const trees = [];
    const lints = [];
    for (let i = 0; i < n; i++) {
      trees.push(await pubguardOnce(dir));
      lints.push(await secretlint(tools, dir));
    }
    const lastTree = trees[trees.length - 1];
    const pt = { ...summarise(trees), findings: lastTree.findings, note: ['the unpacked tree, as secretlint reads it', lastTree.note].filter(Boolean).join('; ') };
    addRow(group, 'pubguard (tree)', name, MB, pt, undefined);
    const lastLint = lints[lints.length - 1];
    const sl = { ...summarise(lints), findings: lastLint.findings };
    sl.note = [lastLint.note, `pubguard ${(sl.wallS / pt.wallS).toFixed(1)}× faster on the same tree`].filter(Boolean).join('; ');
    addRow(group, 'secretlint', name, MB, sl, fl);
  }
}

// ---- the run ----------------------------------------------------------------------------
const started = Date.now();
const loadBefore = loadavg()[0];
// Which code was measured: the commit, and whether built sources differed from it.
const git = (...a) => {
  try {
    return runOrThrow('git', ['-C', ROOT, ...a]).trim();
  } catch {
    return null;
  }
};
const commit = git('rev-parse', '--short', 'HEAD');
const dirty = (git('status', '--porcelain', '--', 'packages') ?? '') !== '';
const anyPackage = PACKAGES.some((pkg) => selected(packFileName(pkg.spec).replace(/\.tgz$/, '')));
const tools = args.quick || !anyPackage ? undefined : ensureSecretlint();

for (const pkg of PACKAGES) {
  const name = packFileName(pkg.spec).replace(/\.tgz$/, '');
  if (!selected(name)) continue;
  const tgz = ensurePacked(pkg.spec, join(CACHE, 'packs'));
  const { dir, bytes } = ensureUnpacked(tgz, join(CACHE, 'trees', name));
  await measureInput('package', name, tgz, dir, bytes, runs, tools);
  if (pkg.spec.startsWith('date-fns@') && haveZip) {
    // The same files as a zip, the format of wheels and jars: its entries are read one by one
    // from a random-access file, a different road from a tarball's stream.
    const zip = join(CACHE, 'packs', `${name}.zip`);
    if (!existsSync(zip)) {
      // Made under another name first, so an interrupted run never leaves half a zip behind.
      const partial = join(CACHE, 'packs', `${name}.partial.zip`);
      rmSync(partial, { force: true });
      runOrThrow('zip', ['-q', '-r', '-6', partial, '.'], { cwd: dir });
      renameSync(partial, zip);
    }
    const scans = [];
    for (let i = 0; i < runs; i++) scans.push(await pubguardOnce(zip));
    const floorRow = rows.find((r) => r.tool === 'floor (gzip+rg)' && r.input === name);
    addRow('variant', 'pubguard (as .zip)', name, bytes / 1e6, { ...summarise(scans), findings: scans[0].findings, note: ['same files zipped (zip -6); ×floor against the tarball\'s floor', scans[0].note].filter(Boolean).join('; ') }, floorRow);
  }
  if (pkg.spec === 'typescript@5.9.3') {
    // The same scan without workers: shows what starting them costs on one tarball.
    const scans = [];
    for (let i = 0; i < runs; i++) scans.push(await pubguardOnce(tgz, ['--jobs', '0']));
    const floorRow = rows.find((r) => r.tool === 'floor (gzip+rg)' && r.input === name);
    addRow('variant', 'pubguard --jobs 0', name, bytes / 1e6, { ...summarise(scans), findings: scans[0].findings, note: scans[0].note }, floorRow);
  }
}

/** Node's start with and without NODE_EXTRA_CA_CERTS, when the machine sets it (from the start-up rows). */
let extraCaCost;
let largest;
for (const gen of GENERATED) {
  if (!selected(gen.label) || (args.quick && gen.bytes >= 1e9)) continue;
  const art = ensureGenerated(gen.label, gen.bytes, CACHE, log);
  await measureInput('linearity', gen.label, art.tgz, art.dir, art.bytes, gen.bytes >= 500e6 ? 1 : runs, undefined, art.planted);
  largest = { label: gen.label, ...art };
}
if (largest) {
  // Both cores against one thread, on the unpacked tree: a tarball's single gzip stream is
  // inflated by one thread whatever the worker count, so only uncompressed input shows how
  // matching scales. Alternate the two settings, so load that comes and goes hits both alike.
  // Five pairs: the verdict sits near its threshold, and three moved it by ±0.04 from run to run.
  const n = Math.max(5, largest.bytes >= 500e6 ? 1 : runs);
  const settings = { 'one thread': ['--jobs', '0'], 'both cores': [] };
  const results = { 'one thread': [], 'both cores': [] };
  // One untimed scan first: the tree was last read when it was generated, and the first of
  // the timed runs would otherwise pay for reading it back into the page cache.
  await pubguardOnce(largest.dir, ['--jobs', '0']);
  for (let i = 0; i < n; i++) {
    for (const [name, flags] of Object.entries(settings)) results[name].push(await pubguardOnce(largest.dir, flags));
  }
  // Each pair ran back to back under the same load: the spread of their ratios shows how far
  // the verdict, a ratio of medians, can be trusted on this machine.
  const pairs = results['both cores'].map((r, i) => r.wallS / results['one thread'][i].wallS).sort((a, b) => a - b);
  const spread = `ratio per pair ${pairs[0].toFixed(2)}–${pairs[pairs.length - 1].toFixed(2)}`;
  for (const name of Object.keys(settings)) {
    const list = results[name];
    const m = {
      ...summarise(list),
      findings: list[list.length - 1].findings,
      note: [list[list.length - 1].note, `unpacked tree; median of ${n}, alternating`, name === 'both cores' ? spread : ''].filter(Boolean).join('; '),
    };
    addRow('jobs', `pubguard ${name}`, largest.label, largest.bytes / 1e6, m);
  }
  // What this machine allows: the same pure matching, one copy alone and one copy per CPU at
  // once, alternating. The copies share nothing, so their slowdown is the machine's.
  const copies = availableParallelism();
  const alone = [];
  const together = [];
  for (let i = 0; i < 3; i++) {
    alone.push((await measureNode([SPIN, String(SPIN_MB)])).wallS);
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: copies }, () => measureNode([SPIN, String(SPIN_MB)])));
    together.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  const note = `lib/spin.mjs, ${SPIN_MB} MB of matching per copy, no I/O; median of 3, alternating`;
  addRow('ceiling', 'matcher, one copy alone', `${SPIN_MB} MB`, SPIN_MB, { wallS: median(alone), cpuS: Number.NaN, peakMB: Number.NaN, findings: Number.NaN, note, processes: 1 });
  addRow('ceiling', `matcher, ${copies} copies at once`, `${copies} × ${SPIN_MB} MB`, copies * SPIN_MB, { wallS: median(together), cpuS: Number.NaN, peakMB: Number.NaN, findings: Number.NaN, note, processes: copies });
}

if (selected('empty-dir')) {
  const empty = join(CACHE, 'empty-dir');
  mkdirSync(empty, { recursive: true });
  /** Ten empty-directory scans and ten bare Node starts, alternating, in `env`. */
  const startup = async (env) => {
    const times = [];
    const cpu = [];
    const bare = [];
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      const r = await measure('node', [CLI, 'scan', '-q', empty], { env });
      times.push(r.wallS);
      cpu.push(r.cpuS);
      peak = Math.max(peak, r.peakMB);
      bare.push((await measure('node', ['-e', '0'], { env })).wallS);
    }
    return { wallS: median(times), cpuS: median(cpu), peakMB: peak, findings: 0, bareMs: median(bare) * 1000 };
  };
  const st = await startup(nodeEnv);
  addRow('startup', 'pubguard', 'empty-dir (median of 10)', 0, { ...st, note: `node -e 0 alone: ${st.bareMs.toFixed(0)} ms` });
  if (EXTRA_CA !== undefined) {
    const withCa = await startup(process.env);
    extraCaCost = { withMs: withCa.bareMs, withoutMs: st.bareMs };
    addRow('startup-env', 'pubguard', 'empty-dir, NODE_EXTRA_CA_CERTS set', 0, { ...withCa, note: `as this machine's shell runs it; node -e 0 alone: ${withCa.bareMs.toFixed(0)} ms` });
  }
}

// ---- report -----------------------------------------------------------------------------
const display = rows.map((r) => ({
  tool: r.tool,
  input: r.input,
  MB: r.MB,
  'wall s': r.wallS,
  'cpu s': r.cpuS,
  'MB/s': r.MB > 0 ? r.mbps : Number.NaN,
  'peak MB': r.peakMB,
  '×floor': r.ratioToFloor,
  'cpu ×floor': r.cpuRatioToFloor,
  findings: r.findings,
  note: r.note,
}));
const targets = judgeTargets(rows);
const machine = {
  nproc: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  rg: haveRg ? runOrThrow('rg', ['--version']).split('\n')[0] : null,
  // Other work on the machine inflates wall times; a 1-minute load near nproc or above says so.
  loadavg1: { before: loadBefore, after: loadavg()[0] },
  commit,
  packagesModified: dirty,
  // Set on the machine, unset for every Node process measured (see measureNode).
  nodeExtraCaCerts: EXTRA_CA === undefined ? null : { path: EXTRA_CA, ...(extraCaCost ? { nodeStartMs: { with: extraCaCost.withMs, without: extraCaCost.withoutMs } } : {}) },
};
console.log(`\npubguard benchmark — ${new Date(started).toISOString()} — ${machine.nproc} CPUs, ${machine.cpu}, Node ${machine.node}`);
console.log(`code: ${commit ?? 'unknown commit'}${dirty ? ' with uncommitted changes under packages/' : ''}`);
console.log(`load average (1 min): ${loadBefore.toFixed(2)} at the start, ${machine.loadavg1.after.toFixed(2)} at the end`);
if (EXTRA_CA !== undefined) {
  const cost = extraCaCost ? ` (node -e 0: ${extraCaCost.withMs.toFixed(0)} ms with it, ${extraCaCost.withoutMs.toFixed(0)} ms without)` : '';
  console.log(`NODE_EXTRA_CA_CERTS=${EXTRA_CA} is set here and was unset for the Node processes measured${cost}: no measured command uses TLS`);
}
console.log(`MB = 10^6 bytes of uncompressed files; wall s = median of ${runs} runs (1 run for ≥ 500 MB), floor and pubguard alternating;`);
console.log(`cpu s = user + system CPU of the process, all threads (cpu ×floor: its ratio to the floor's); peak MB = max RSS (GNU time %M)\n`);
console.log(formatRows(display));
console.log('\nTargets (issue 8; issue 2 for the 2× line)');
console.log(formatRows(targets.map((t) => ({ target: t.target, measured: t.measured, status: t.status }))));

const resultsDir = join(HERE, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${new Date(started).toISOString().replace(/:/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ startedAt: new Date(started).toISOString(), durationS: (Date.now() - started) / 1000, machine, options: { quick: args.quick, only: args.only ?? null, runs }, keywords: keywords.length, rows, targets }, null, 2)}\n`);
console.log(`\nsaved ${relative(ROOT, file)}`);
