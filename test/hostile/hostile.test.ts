import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarBuffer, tgzBuffer, zipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doubleGzipBomb, githubToken, largeTgz, manyEntriesTgz, nestedZipBomb, padding, patchHeader, repeatedSecretZip, templateHeader } from './fixtures.js';
import { hasStackTrace, type JsonReport, type MeasuredRun, parseReport, runMeasured } from './measure.js';

/** Peak RSS any hostile input may cost, workers included. */
const MAX_RSS_MIB = 300;
/**
 * Wall-time bound of a run on a small fixture: they take well under a second alone; the
 * margin absorbs a loaded CI machine, while a bomb that was not stopped takes minutes.
 */
const SMALL_MS = 10_000;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-hostile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `pubguard scan --format json` on files in the fixture directory and checks what every hostile run must satisfy. */
async function scanHostile(args: string[], bounds: { maxMs: number }): Promise<{ run: MeasuredRun; report: JsonReport }> {
  const run = await runMeasured(['scan', '--format', 'json', ...args], { cwd: dir });
  const report = parseReport(run);
  // Printed so a slow or fat run shows its numbers even when it passes.
  console.log(`pubguard ${args.join(' ')}: exit ${run.code}, ${Math.round(run.wallMs)} ms, peak RSS ${run.peakRssMiB.toFixed(0)} MiB`);
  expect(hasStackTrace(run.stderr), run.stderr).toBe(false);
  expect(hasStackTrace(run.stdout)).toBe(false);
  expect(run.peakRssMiB).toBeLessThan(MAX_RSS_MIB);
  expect(run.wallMs).toBeLessThan(bounds.maxMs);
  expect(report.errors.filter((e) => e.kind === 'internal')).toEqual([]);
  return { run, report };
}

/** Replaces every occurrence of `from` by `to` (same length) in a copy of `buf`. */
function renameAll(buf: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new RangeError('renameAll keeps lengths');
  const out = Buffer.from(buf);
  for (let i = out.indexOf(from, 0, 'latin1'); i >= 0; i = out.indexOf(from, i + from.length, 'latin1')) out.write(to, i, 'latin1');
  return out;
}

const ruleIds = (r: JsonReport) => [...new Set(r.findings.map((f) => f.ruleId))].sort();

describe('decompression bombs', () => {
  let gzBomb: Uint8Array;
  let zipBomb: Uint8Array;
  beforeAll(async () => {
    gzBomb = await doubleGzipBomb(1024 ** 3);
    await writeFile(join(dir, 'bomb.gz'), gzBomb);
    // 4 levels of 8 copies, 64 MiB of zeros at the bottom: 32 GiB in all.
    zipBomb = await nestedZipBomb(4, 8, 64 * 1024 * 1024);
    await writeFile(join(dir, '42.zip'), zipBomb);
  });

  it('a ~1 KB double gzip that inflates to 1 GiB of zeros is stopped by the ratio limit', async () => {
    expect(gzBomb.length).toBeLessThan(4096);
    const { run, report } = await scanHostile(['bomb.gz'], { maxMs: SMALL_MS });
    expect(report.findings).toEqual([]);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ kind: 'limit', limit: 'maxCompressionRatio' });
    expect(report.errors[0]?.path).toMatch(/^bomb\.gz!/);
    expect(report.errors[0]?.message).toMatch(/--max-ratio/);
    // Read only a little past the ratio threshold, not the gigabyte.
    expect(report.stats.bytes).toBeLessThan(64 * 1024 * 1024);
    expect(run.code).toBe(2);
  });

  it('with the ratio limit raised, the artifact byte limit stops the same bomb', async () => {
    const { run, report } = await scanHostile(['--max-ratio', '100000000', '--max-artifact-bytes', '32MiB', 'bomb.gz'], { maxMs: SMALL_MS });
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ path: 'bomb.gz', kind: 'limit', limit: 'maxArtifactBytes' });
    expect(run.code).toBe(2);
  });

  it('a 42.zip-style nested zip bomb is stopped entry by entry without inflating the bottom', async () => {
    expect(zipBomb.length).toBeLessThan(1024 * 1024);
    const { run, report } = await scanHostile(['42.zip'], { maxMs: SMALL_MS });
    expect(report.findings).toEqual([]);
    // Every bottom entry is refused from its directory sizes before a byte of it is inflated.
    expect(report.errors).toHaveLength(8 ** 3);
    for (const e of report.errors) {
      expect(e).toMatchObject({ kind: 'limit', limit: 'maxCompressionRatio' });
      expect(e.path).toMatch(/^42\.zip!l3-\d\.zip!l2-\d\.zip!l1-\d\.zip!zeros\.bin$/);
    }
    expect(report.stats.bytes).toBe(0);
    expect(run.code).toBe(2);
  });

  it('the same bomb nested deeper than --max-depth is cut off by depth', async () => {
    // The artifact is depth 0, so with --max-depth 1 the l2 zips (depth 2) are not opened.
    const { run, report } = await scanHostile(['--max-depth', '1', '42.zip'], { maxMs: SMALL_MS });
    expect(report.errors).toHaveLength(8 ** 2);
    for (const e of report.errors) {
      expect(e).toMatchObject({ kind: 'limit', limit: 'maxDepth' });
      expect(e.path).toMatch(/^42\.zip!l3-\d\.zip!l2-\d\.zip$/);
    }
    expect(run.code).toBe(2);
  });
});

describe('many entries', () => {
  beforeAll(async () => {
    await manyEntriesTgz(join(dir, 'many.tgz'), 200_000);
  });

  it('a tar with 200 000 tiny entries stops at maxEntries with one event', async () => {
    const { run, report } = await scanHostile(['many.tgz'], { maxMs: 15_000 });
    expect(report.findings).toEqual([]);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ path: 'many.tgz', kind: 'limit', limit: 'maxEntries' });
    expect(report.errors[0]?.message).toMatch(/--max-entries/);
    expect(report.stats.files).toBe(100_000);
    // Memory must not grow with the entry count: when every tiny file shared one matching
    // batch, this run peaked at about 230 MiB; now at about 150.
    expect(run.peakRssMiB).toBeLessThan(200);
    expect(run.code).toBe(2);
  });

  it('a lower --max-entries stops it sooner', async () => {
    const { report } = await scanHostile(['--max-entries', '1000', 'many.tgz'], { maxMs: SMALL_MS });
    expect(report.errors).toEqual([expect.objectContaining({ kind: 'limit', limit: 'maxEntries' })]);
    expect(report.stats.files).toBe(1000);
  });
});

describe('many findings', () => {
  it('a zip of 500 entries holding one token 1000 times each keeps 10 000 findings and counts the rest', async () => {
    // Each entry stays within its own limit of 1000: only the artifact's bounds the findings
    // kept. Without it this 160 KB zip kept 500 000, in 2 GB of peak RSS.
    const zip = await repeatedSecretZip(500, 1000, githubToken(14));
    expect(zip.length).toBeLessThan(1024 * 1024);
    await writeFile(join(dir, 'tokens.zip'), zip);
    const { run, report } = await scanHostile(['tokens.zip'], { maxMs: 60_000 });
    expect(report.findings).toHaveLength(10_000);
    expect(report.errors).toEqual([expect.objectContaining({ path: 'tokens.zip', kind: 'limit', limit: 'maxFindingsPerArtifact' })]);
    expect(report.errors[0]?.message).toMatch(/^artifact has more than 10000 findings; the first 10000 were kept, 490000 more were counted and not reported .*--max-artifact-findings/);
    // Nothing left unread.
    expect(report.stats.files).toBe(500);
    expect(run.code).toBe(1);
  }, 90_000);
});

describe('broken archives', () => {
  it('a truncated tgz: findings before the cut are kept, the cut is reported, exit 1', async () => {
    const token = githubToken(11);
    const noise = Buffer.alloc(200_000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const tgz = await tgzBuffer([
      { path: 'package/index.js', content: `module.exports = "${token}";\n` },
      { path: 'package/blob.bin', content: noise },
    ]);
    await writeFile(join(dir, 'cut-secret.tgz'), tgz.subarray(0, Math.floor(tgz.length * 0.6)));
    const { run, report } = await scanHostile(['cut-secret.tgz'], { maxMs: SMALL_MS });
    expect(ruleIds(report)).toEqual(['github-classic-token']);
    expect(report.findings[0]?.path).toBe('cut-secret.tgz!package/index.js');
    expect(report.errors).toEqual([expect.objectContaining({ path: 'cut-secret.tgz', kind: 'corrupt' })]);
    expect(report.errors[0]?.message).toMatch(/truncated/);
    expect(run.code).toBe(1);
  });

  it('a truncated tgz without secrets exits 2', async () => {
    const tgz = await tgzBuffer([{ path: 'package/a.js', content: 'x'.repeat(50_000) + Math.random().toString(36).repeat(3000) }]);
    await writeFile(join(dir, 'cut.tgz'), tgz.subarray(0, tgz.length - 100));
    const { run, report } = await scanHostile(['cut.tgz'], { maxMs: SMALL_MS });
    expect(report.findings).toEqual([]);
    expect(report.errors).toEqual([expect.objectContaining({ path: 'cut.tgz', kind: 'corrupt' })]);
    expect(run.code).toBe(2);
  });

  it('a zip whose central directory points past the end is reported as damaged', async () => {
    const zip = Buffer.from(await zipBuffer([{ path: 'a.txt', content: 'hello\n' }, { path: 'b.txt', content: 'world\n' }]));
    const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    expect(eocd).toBeGreaterThan(0);
    zip.writeUInt32LE(zip.length + 10_000, eocd + 16);
    await writeFile(join(dir, 'cd-past-end.zip'), zip);
    const { run, report } = await scanHostile(['cd-past-end.zip'], { maxMs: SMALL_MS });
    expect(report.findings).toEqual([]);
    expect(report.errors).toEqual([expect.objectContaining({ path: 'cd-past-end.zip', kind: 'corrupt' })]);
    expect(report.errors[0]?.message).toMatch(/rebuild|download/);
    expect(run.code).toBe(2);
  });

  it('the same damaged zip nested in a tgz is reported at its full path, and the tgz goes on', async () => {
    const zip = Buffer.from(await zipBuffer([{ path: 'a.txt', content: 'hello\n' }]));
    const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    zip.writeUInt32LE(zip.length + 10_000, eocd + 16);
    const token = githubToken(12);
    await writeFile(
      join(dir, 'nested-broken.tgz'),
      await tgzBuffer([
        { path: 'package/bad.zip', content: zip },
        { path: 'package/after.js', content: `t = "${token}"\n` },
      ]),
    );
    const { run, report } = await scanHostile(['nested-broken.tgz'], { maxMs: SMALL_MS });
    expect(report.errors).toEqual([expect.objectContaining({ path: 'nested-broken.tgz!package/bad.zip', kind: 'corrupt' })]);
    expect(report.findings.map((f) => f.path)).toEqual(['nested-broken.tgz!package/after.js']);
    expect(run.code).toBe(1);
  });
});

describe('suspicious structure', () => {
  it('tar: traversal, absolute path, links out, device files, setuid, duplicates are findings', async () => {
    const t = await templateHeader();
    const file = (name: string, content: string, mode = 0o644) => [patchHeader(t, { name, size: content.length, mode }), Buffer.from(content), padding(content.length)];
    const special = (name: string, type: string, linkname = '') => [patchHeader(t, { name, type, linkname, size: 0 })];
    const tar = Buffer.concat([
      ...file('package/ok.js', 'ok\n'),
      ...file('package/../../etc/cron.d/evil', '* * * * * root sh\n'),
      ...file('/etc/passwd', 'root::0:0::/root:/bin/sh\n'),
      ...special('package/link-out', '2', '../../../etc/shadow'),
      ...special('package/abs-link', '2', '/etc/shadow'),
      ...special('package/hard-out', '1', '../outside'),
      ...special('package/link-in', '2', 'ok.js'),
      ...special('package/dev-null', '3'),
      ...special('package/disk', '4'),
      ...special('package/pipe', '6'),
      ...file('package/bin/run', '#!/bin/sh\n', 0o4755),
      ...file('package/dup.js', 'first\n'),
      ...file('package/dup.js', 'second, longer\n'),
      Buffer.alloc(1024),
    ]);
    await writeFile(join(dir, 'structure.tgz'), gzipSync(tar));
    const { run, report } = await scanHostile(['structure.tgz'], { maxMs: SMALL_MS });
    expect(report.errors).toEqual([]);
    const got = report.findings.map((f) => `${f.ruleId} ${f.path}`).sort();
    expect(got).toEqual(
      [
        'archive-path-traversal structure.tgz!package/../../etc/cron.d/evil',
        'archive-path-traversal structure.tgz!/etc/passwd',
        'archive-link-outside structure.tgz!package/link-out',
        'archive-link-outside structure.tgz!package/abs-link',
        'archive-link-outside structure.tgz!package/hard-out',
        'archive-device-file structure.tgz!package/dev-null',
        'archive-device-file structure.tgz!package/disk',
        'archive-device-file structure.tgz!package/pipe',
        'archive-setuid structure.tgz!package/bin/run',
        'archive-duplicate-entry structure.tgz!package/dup.js',
      ].sort(),
    );
    expect(run.code).toBe(1);
  });

  it('zip: traversal, symlink out, setuid and duplicate names are findings', async () => {
    // Zip writers refuse names that escape, so the fixture renames entries after writing
    // (same length, in the local headers and the central directory alike).
    const written = await zipBuffer([
      { path: 'pkg/ok.py', content: 'ok\n' },
      { path: 'XX/evil.py', content: 'import os\n' },
      { path: 'Yetc/cron', content: '* * * * *\n' },
      { path: 'pkg/link', type: 'symlink', linkname: '../../../home/user/.ssh/id_rsa' },
      { path: 'pkg/fine-link', type: 'symlink', linkname: 'ok.py' },
      { path: 'pkg/tool', content: '#!/bin/sh\n', mode: 0o6755 },
      { path: 'pkg/dup.py', content: 'a = 1\n' },
      { path: 'pkg/dup.py', content: 'a = 2\n' },
    ]);
    const zip = renameAll(renameAll(Buffer.from(written), 'XX/evil.py', '../evil.py'), 'Yetc/cron', '/etc/cron');
    await writeFile(join(dir, 'structure.whl'), zip);
    const { run, report } = await scanHostile(['structure.whl'], { maxMs: SMALL_MS });
    expect(report.errors).toEqual([]);
    expect(report.findings.map((f) => `${f.ruleId} ${f.path}`).sort()).toEqual(
      [
        'archive-path-traversal structure.whl!../evil.py',
        'archive-path-traversal structure.whl!/etc/cron',
        'archive-link-outside structure.whl!pkg/link',
        'archive-setuid structure.whl!pkg/tool',
        'archive-duplicate-entry structure.whl!pkg/dup.py',
      ].sort(),
    );
    expect(run.code).toBe(1);
  });

  it('identical duplicates are not reported; a plain tar with nothing suspicious exits 0', async () => {
    const tar = await tarBuffer([
      { path: 'package/a.js', content: 'same\n' },
      { path: 'package/a.js', content: 'same\n' },
      { path: 'package/lib', type: 'dir' },
      { path: 'package/lib/x.js', type: 'symlink', linkname: '../a.js' },
    ]);
    await writeFile(join(dir, 'benign.tar'), tar);
    const { run, report } = await scanHostile(['benign.tar'], { maxMs: SMALL_MS });
    expect(report.findings).toEqual([]);
    expect(report.errors).toEqual([]);
    expect(run.code).toBe(0);
  });
});

describe('memory stays flat', () => {
  it('a 300 MB tgz streamed from disk scans fully with peak RSS under 300 MB', async (ctx) => {
    const size = 300 * 1024 * 1024;
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    if (free < 3 * size) {
      ctx.skip(`only ${Math.round(free / 1024 ** 2)} MiB free in ${dir}; the 300 MB tgz needs about ${Math.round((3 * size) / 1024 ** 2)} MiB`);
    }
    const token = githubToken(13);
    const onDisk = await largeTgz(join(dir, 'large.tgz'), size, token);
    expect(onDisk).toBeGreaterThan(size);
    const { run, report } = await scanHostile(['large.tgz'], { maxMs: 30_000 });
    expect(report.errors).toEqual([]);
    expect(report.stats.bytes).toBe(size);
    expect(report.findings).toContainEqual(expect.objectContaining({ ruleId: 'github-classic-token', path: 'large.tgz!package/data.bin' }));
    expect(run.code).toBe(1);
  }, 90_000);
});
