import { describe, expect, it } from 'vitest';
import { RULES, emptyInput, finding, goldenInput, withUtf16Column } from './__fixtures__/input.js';
import { type JsonReport, ReportFormatError, ReportMergeError, formatJson, mergeReports, parseJsonReport, toJsonReport } from './index.js';

describe('formatJson', () => {
  it('writes version 1 with the documented key order, 2-space indent and a trailing newline', () => {
    const text = formatJson(goldenInput());
    expect(text.endsWith('}\n')).toBe(true);
    const data = JSON.parse(text) as JsonReport;
    expect(Object.keys(data)).toEqual(['version', 'tool', 'findings', 'errors', 'stats']);
    expect(Object.keys(data.findings[0]!)).toEqual(['ruleId', 'title', 'severity', 'confidence', 'path', 'location', 'secret', 'fingerprint']);
    const keys = (path: string) => Object.keys(data.findings.find((f) => f.path === path)!.location);
    expect(keys('dist/bundle.zip!inner/pkg-1.0.0.tgz!package/vendor/lib-1.0-py3-none-any.whl!lib/settings.py')).toEqual(['artifact', 'entry', 'line', 'column', 'byteOffset']);
    // Only where the engine knew it.
    expect(keys('dist/app/config.js')).toEqual(['artifact', 'entry', 'line', 'column', 'utf16Column', 'byteOffset']);
    expect(text).toContain('\n  "version": 1,\n');
  });

  it('sorts findings by path, line, column, rule id', () => {
    const input = emptyInput();
    input.findings = [
      finding('b.js', [], 1, 1, RULES[0]!, 'label-1'),
      finding('a.js', [], 2, 1, RULES[0]!, 'label-2'),
      finding('a.js', [], 1, 9, RULES[0]!, 'label-3'),
      finding('a.js', [], 1, 9, RULES[1]!, 'label-4'),
      finding('a.js', [], 1, 2, RULES[0]!, 'label-5'),
    ];
    const order = toJsonReport(input).findings.map((f) => `${f.path}:${f.location.line}:${f.location.column}:${f.ruleId}`);
    expect(order).toEqual([
      'a.js:1:2:github-classic-token',
      'a.js:1:9:aws-access-key-id',
      'a.js:1:9:github-classic-token',
      'a.js:2:1:github-classic-token',
      'b.js:1:1:github-classic-token',
    ]);
  });

  it('omits rule metadata (not part of version 1)', () => {
    expect(JSON.parse(formatJson(goldenInput()))).not.toHaveProperty('rules');
  });
});

describe('parseJsonReport', () => {
  it('reads back what formatJson writes', () => {
    const text = formatJson(goldenInput());
    const report = parseJsonReport(text);
    expect(formatJson(report)).toBe(text);
  });

  it('reads back the encoding of a decoded secret, and only a known one', () => {
    const text = formatJson(goldenInput({ decoded: true }));
    expect(parseJsonReport(text).findings.filter((f) => f.encoding === 'base64')).toHaveLength(1);
    expect(formatJson(parseJsonReport(text))).toBe(text);
    const data = JSON.parse(text) as { findings: { encoding?: string }[] };
    const decoded = data.findings.find((f) => f.encoding !== undefined);
    if (decoded) decoded.encoding = 'rot13';
    expect(() => parseJsonReport(JSON.stringify(data))).toThrowError(/encoding/);
  });

  it('writes and reads back that a secret was found in a name, and only that place', () => {
    const text = formatJson(goldenInput({ named: true }));
    const report = parseJsonReport(text);
    expect(report.findings.filter((f) => f.in === 'name').map((f) => f.path)).toEqual(['dist/pkg-1.0.0.tgz!package/keys/ghp_…0006']);
    expect(formatJson(report)).toBe(text);
    // Absent on every other finding, so their reports keep their bytes.
    expect(text.match(/"in": /g)).toHaveLength(1);
    const data = JSON.parse(text) as { findings: { in?: string }[] };
    const named = data.findings.find((f) => f.in !== undefined);
    if (named) named.in = 'content';
    expect(() => parseJsonReport(JSON.stringify(data), 'x.json')).toThrowError(/x\.json: findings\[\d\]\.in: expected one of name, found "content"/);
  });

  it('reads back a column in UTF-16 code units where there is one, and only a positive integer', () => {
    const text = formatJson(goldenInput());
    const report = parseJsonReport(text);
    expect(formatJson(report)).toBe(text);
    expect(report.findings.filter((f) => f.location.utf16Column !== undefined).map((f) => [f.location.column, f.location.utf16Column])).toEqual([[5, 5], [9, 7]]);
    for (const bad of [0, '7', 1.5]) {
      const data = JSON.parse(text) as { findings: { location: { utf16Column?: unknown } }[] };
      const at = data.findings.findIndex((f) => f.location.utf16Column !== undefined);
      data.findings[at]!.location.utf16Column = bad;
      expect(() => parseJsonReport(JSON.stringify(data), 'x.json')).toThrowError(`x.json: findings[${at}].location.utf16Column: expected a positive integer, found ${JSON.stringify(bad)}`);
    }
  });

  it('keeps the column in UTF-16 code units through a merge', () => {
    const input = emptyInput();
    input.findings = [withUtf16Column(finding('a.js', [], 1, 12, RULES[0]!, 'label-1'), 9), finding('b.js', [], 1, 12, RULES[0]!, 'label-2')];
    const merged = mergeReports([parseJsonReport(formatJson(input))]);
    expect(merged.findings.map((f) => f.location.utf16Column)).toEqual([9, undefined]);
  });

  it('reads back every error kind, an interrupted scan included', () => {
    const input = emptyInput();
    input.errors = [{ path: 'dist/a.tgz', kind: 'interrupted', message: 'scan interrupted before it finished: the results are incomplete' }];
    expect(parseJsonReport(formatJson(input)).errors).toEqual(input.errors);
  });

  it('refuses another version with a clear message', () => {
    const data = JSON.parse(formatJson(emptyInput())) as Record<string, unknown>;
    data.version = 2;
    expect(() => parseJsonReport(JSON.stringify(data), 'shard-1.json')).toThrowError(
      /shard-1\.json: unsupported report version 2; this pubguard reads version 1/,
    );
  });

  it('names the field that is wrong', () => {
    const data = JSON.parse(formatJson(goldenInput())) as { findings: { location: { line: unknown } }[] };
    data.findings[2]!.location.line = '3';
    expect(() => parseJsonReport(JSON.stringify(data), 'x.json')).toThrowError(
      'x.json: findings[2].location.line: expected a positive integer, found "3"',
    );
  });

  it('rejects broken JSON and non-objects with a typed error', () => {
    expect(() => parseJsonReport('{"version": 1,', 'a.json')).toThrowError(ReportFormatError);
    expect(() => parseJsonReport('{"version": 1,', 'a.json')).toThrowError(/a\.json: not valid JSON/);
    expect(() => parseJsonReport('[]', 'a.json')).toThrowError('a.json: top level: expected an object, found []');
    const bad = JSON.parse(formatJson(goldenInput())) as { errors: { kind: string }[] };
    bad.errors[0]!.kind = 'oops';
    expect(() => parseJsonReport(JSON.stringify(bad))).toThrowError(/errors\[0\]\.kind: expected one of not-found, /);
  });
});

describe('mergeReports', () => {
  // One scan over four artifacts, and the same scan split in three shards by artifact.
  function shards(): { whole: JsonReport; parts: JsonReport[] } {
    const input = goldenInput();
    const whole = toJsonReport(input);
    const byArtifact = (names: string[]) => ({
      ...input,
      findings: input.findings.filter((f) => names.includes(f.location.artifact)),
      errors: input.errors.filter((e) => names.some((n) => e.path.startsWith(n))),
    });
    const a = byArtifact(['dist/app/config.js']);
    const b = byArtifact(['dist/bundle.zip', 'dist/broken.whl']);
    const c = byArtifact(['dist/we<i>rd & "q\'uote", 100%: #1.tgz', 'dist/bomb.tgz']);
    a.stats = { artifacts: 1, files: 1, bytes: 1_000_000, durationMs: 400 };
    b.stats = { artifacts: 2, files: 30, bytes: 2_000_000, durationMs: 500 };
    c.stats = { artifacts: 1, files: 26, bytes: 456_789, durationMs: 334 };
    return { whole, parts: [c, a, b].map((p) => parseJsonReport(formatJson(p))) };
  }

  it('three shards merge to the same report as one unsharded scan', () => {
    const { whole, parts } = shards();
    expect(parts.map((p) => p.findings.length)).toEqual([1, 2, 1]);
    expect(formatJson(mergeReports(parts))).toBe(formatJson(whole));
  });

  it('writes, reads back and sums the findings a baseline left out, and has no such field without one', () => {
    const { parts } = shards();
    expect(parts.some((p) => 'baselined' in p.stats)).toBe(false);
    expect('baselined' in mergeReports(parts).stats).toBe(false);
    const given = parts.map((p, i) => parseJsonReport(formatJson({ ...p, stats: { ...p.stats, baselined: i + 1 } })));
    expect(given.map((p) => p.stats.baselined)).toEqual([1, 2, 3]);
    expect(mergeReports(given).stats).toMatchObject({ baselined: 6 });
    expect(() => parseJsonReport(JSON.stringify({ ...given[0], stats: { ...given[0]!.stats, baselined: -1 } }))).toThrow(ReportFormatError);
  });

  it('drops duplicates (same fingerprint, path, line, column) and duplicate errors', () => {
    const { whole, parts } = shards();
    const again = { ...parts[1]!, stats: { artifacts: 0, files: 0, bytes: 0, durationMs: 0 } };
    const merged = mergeReports([...parts, again]);
    expect(merged.findings).toHaveLength(whole.findings.length);
    expect(merged.errors).toHaveLength(whole.errors.length);
  });

  it('keeps the same secret found at two places', () => {
    const input = emptyInput();
    const one = finding('a.js', [], 1, 1, RULES[0]!, 'same-label');
    const two = finding('a.js', [], 5, 1, RULES[0]!, 'same-label');
    const merged = mergeReports([toJsonReport({ ...input, findings: [one] }), toJsonReport({ ...input, findings: [two, one] })]);
    expect(merged.findings.map((f) => f.location.line)).toEqual([1, 5]);
    expect(merged.stats.artifacts).toBe(2);
  });

  it('refuses an empty list', () => {
    expect(() => mergeReports([])).toThrowError(ReportMergeError);
  });
});

describe('shard reports', () => {
  const scanA = `sha256:${'a'.repeat(64)}`;
  const scanB = `sha256:${'b'.repeat(64)}`;
  // The three parts of one scan, as `scan --shard I/3 --format json` writes them.
  function parts(inputs = scanA, count = 3): JsonReport[] {
    const input = goldenInput();
    return Array.from({ length: count }, (_, i) => i + 1).map((index) =>
      parseJsonReport(formatJson({ ...input, shard: { index, count, inputs }, findings: input.findings.filter((_, i) => i % count === index - 1) })),
    );
  }
  const names = ['s1.json', 's2.json', 's3.json', 's4.json'];

  it('records the shard after the tool and reads it back; an unsharded report has no such field', () => {
    const text = formatJson({ ...emptyInput(), shard: { index: 2, count: 3, inputs: scanA } });
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['version', 'tool', 'shard', 'findings', 'errors', 'stats']);
    expect(parseJsonReport(text).shard).toEqual({ index: 2, count: 3, inputs: scanA });
    expect(formatJson(parseJsonReport(text))).toBe(text);
    expect(parseJsonReport(formatJson(emptyInput()))).not.toHaveProperty('shard');
  });

  it('refuses a malformed shard field, naming it', () => {
    const withShard = (shard: unknown): string => JSON.stringify({ ...(JSON.parse(formatJson(emptyInput())) as object), shard });
    expect(() => parseJsonReport(withShard({ index: 4, count: 3, inputs: scanA }), 'x.json')).toThrowError('x.json: shard.index: expected at most shard.count (3), found 4');
    expect(() => parseJsonReport(withShard({ index: 0, count: 3, inputs: scanA }), 'x.json')).toThrowError(/x\.json: shard\.index: expected a positive integer/);
    expect(() => parseJsonReport(withShard({ index: 1, count: 3, inputs: 'abc' }), 'x.json')).toThrowError(/shard\.inputs: expected "sha256:" and 64 hex digits/);
    expect(() => parseJsonReport(withShard('1/3'), 'x.json')).toThrowError(/x\.json: shard: expected an object/);
  });

  it('merges every shard of one scan, in any order, into a report of the whole scan', () => {
    const [a, b, c] = parts();
    const merged = mergeReports([c!, a!, b!], names);
    expect(merged).not.toHaveProperty('shard');
    expect(formatJson(merged)).toBe(formatJson({ ...toJsonReport(goldenInput()), stats: merged.stats }));
  });

  it('refuses when a shard is missing, naming it', () => {
    const [, b] = parts();
    expect(() => mergeReports([b!], names)).toThrowError(
      'shards 1/3 and 3/3 are missing, so what they scanned would be left out of the merged report: merge exactly one report of each of the 3 shards of the scan',
    );
    const [a, , c] = parts();
    expect(() => mergeReports([a!, c!], names)).toThrowError(/^shard 2\/3 is missing, so what it scanned/);
  });

  it('names the first ten shards missing of many, counting the rest', () => {
    const one = parseJsonReport(formatJson({ ...emptyInput(), shard: { index: 5, count: 1_000_000_000_000, inputs: scanA } }));
    expect(() => mergeReports([one], names)).toThrowError(
      /^shards 1\/1000000000000, 2\/1000000000000, 3\/1000000000000, 4\/1000000000000, 6\/1000000000000, .*11\/1000000000000 and 999999999989 more are missing/,
    );
  });

  it('refuses a shard given twice, naming the reports', () => {
    const [a, b, c] = parts();
    expect(() => mergeReports([a!, b!, c!, b!], names)).toThrowError(
      'shard 2/3 is given more than once (s2.json, s4.json): merge exactly one report of each of the 3 shards of the scan',
    );
    // Twice one shard and another left out: both are said.
    expect(() => mergeReports([a!, b!, b!], names)).toThrowError(/^shard 2\/3 is given more than once \(s2\.json, s3\.json\); shard 3\/3 is missing/);
  });

  it('refuses shards of different scans: another count or other inputs', () => {
    const [a, b] = parts(scanA, 3);
    const other = parts(scanA, 2)[1]!;
    expect(() => mergeReports([a!, b!, other], names)).toThrowError(
      's1.json is the report of shard 1/3, s3.json of shard 2/2: the shards of one scan all have the same --shard I/N count; merge the reports of one scan',
    );
    const [, , c] = parts(scanB);
    expect(() => mergeReports([a!, b!, c!], names)).toThrowError(/^s1\.json \(shard 1\/3\) and s3\.json \(shard 3\/3\) are shards of different scans/);
  });

  it('refuses shard reports mixed with a report of a whole scan', () => {
    const whole = toJsonReport(emptyInput());
    expect(() => mergeReports([whole, ...parts()], names)).toThrowError(
      's2.json is the report of shard 1/3 of a scan, s1.json of a scan without --shard: merge either the reports of every shard of one scan or reports of scans without --shard',
    );
  });

  it('names reports by position when no names are given', () => {
    expect(() => mergeReports([toJsonReport(emptyInput()), parts()[0]!])).toThrowError(/^report 2 is the report of shard 1\/3 of a scan, report 1 of a scan without --shard/);
  });
});
