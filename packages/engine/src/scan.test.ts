import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { compileRules, type RuleDefinition } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprint } from './redact.js';
import { ArtifactFindings, FileState, scan, scanAll } from './scan.js';
import { FIRST_READ_BYTES, READ_BYTES } from './sources/disk.js';
import { base62Crc32, Prng } from '@pubguard/corpus';
import { TEST_TOKEN_RULE } from './testing.js';

const rules: RuleDefinition[] = [
  TEST_TOKEN_RULE,
  {
    id: 'test-assignment',
    title: 'Test assignment',
    severity: 'medium',
    keywords: ['apikey'],
    flags: 'i',
    pattern: 'apikey\\s{0,3}=\\s{0,3}"([A-Za-z0-9]{16,64})"',
    maxLength: 120,
    examples: [],
    negative_examples: [],
  },
];
const ruleset = compileRules(rules);

// A deterministic generator, so a failure can be replayed from the seed alone.
function prng(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

function token(rand: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[Math.floor(rand() * ALNUM.length)];
  return out;
}

/** Text with planted secrets and the exact line, column and offset of each, computed from the text. */
function plantedText(seed: number, size: number): { text: string; expected: string[] } {
  const rand = prng(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const r = rand();
    let piece: string;
    if (r < 0.03) piece = `const t = "tok_${token(rand, 24)}";\n`;
    else if (r < 0.05) piece = `ApiKey = "${token(rand, 32)}"`;
    else if (r < 0.5) piece = `${'word '.repeat(Math.floor(rand() * 20))}\n`;
    else piece = token(rand, Math.floor(rand() * 200));
    parts.push(piece);
    length += piece.length;
  }
  const text = parts.join('');
  return { text, expected: plantedIn(text) };
}

/** Where the test rules find secrets in `text`: rule, offset, line and column, sorted. */
function plantedIn(text: string): string[] {
  const expected: string[] = [];
  for (const [id, re] of [
    ['test-token', /\b(tok_[A-Za-z0-9]{24})\b/g],
    ['test-assignment', /apikey\s{0,3}=\s{0,3}"([A-Za-z0-9]{16,64})"/gi],
  ] as const) {
    for (const m of text.matchAll(re)) {
      const at = (m.index ?? 0) + m[0].indexOf(m[1] ?? '');
      const before = text.slice(0, at);
      const line = before.split('\n').length;
      const column = at - before.lastIndexOf('\n');
      expected.push(`${id}@${at}:${line}:${column}`);
    }
  }
  return expected.sort();
}

/** A tar of `files`, made with tar-stream's packer. */
async function tarOf(files: { name: string; data: string }[]): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) parts.push(c);
  })();
  for (const f of files) p.entry({ name: f.name }, Buffer.from(f.data, 'latin1'));
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

const keyOf = (f: { ruleId: string; location: { byteOffset: number; line: number; column: number } }) =>
  `${f.ruleId}@${f.location.byteOffset}:${f.location.line}:${f.location.column}`;

describe('scan', () => {
  let dir: string;
  let file: string;
  let expected: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-scan-'));
    file = join(dir, 'big.txt');
    const planted = plantedText(42, 300_000);
    expected = planted.expected;
    await writeFile(file, planted.text, 'latin1');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plants enough secrets for the comparison to mean something', () => {
    expect(expected.length).toBeGreaterThan(50);
  });

  it.each([
    [64, 0],
    [1000, 0],
    [4093, 1],
    [65536, 2],
    [1 << 20, 2],
  ])('finds the same secrets at the same places with chunk size %i and %i workers', async (chunkSize, jobs) => {
    const result = await scanAll([file], { ruleset, chunkSize, jobs, inlineBytes: 0 });
    expect(result.errors).toEqual([]);
    expect(result.findings.map(keyOf).sort()).toEqual(expected);
    expect(result.stats).toMatchObject({ artifacts: 1, files: 1, bytes: 300_000 + (result.stats.bytes - 300_000) });
  });

  it.each([
    [1000, 0],
    [1000, 1],
    [1 << 20, 0],
  ])('finds the same secrets at the same places in the files of a tarball, read whole, with chunk size %i and %i workers', async (chunkSize, jobs) => {
    // Files on both sides of one segment's size (chunk size plus overlap) at chunk size 1000.
    const { text } = plantedText(7, 200_000);
    const sizes = [1, 60, 700, 999, 1000, 1001, 1400, 1800, 2300, 3000, 5000];
    const files: { name: string; data: string }[] = [];
    for (let at = 0, i = 0; at < text.length; i++) {
      const n = sizes[i % sizes.length] as number;
      files.push({ name: `p/f${i}.txt`, data: text.slice(at, at + n) });
      at += n;
    }
    const tgz = join(dir, `whole-${chunkSize}-${jobs}.tgz`);
    await writeFile(tgz, gzipSync(await tarOf(files)));
    const want = files.flatMap((f) => plantedIn(f.data).map((k) => `${tgz}!${f.name}|${k}`)).sort();
    expect(want.length).toBeGreaterThan(50);
    const result = await scanAll([tgz], { ruleset, chunkSize, jobs, inlineBytes: 0 });
    expect(result.errors).toEqual([]);
    expect(result.findings.map((f) => `${f.path}|${keyOf(f)}`).sort()).toEqual(want);
    expect(result.stats).toMatchObject({ files: files.length, bytes: text.length });
  });

  it.each([
    [0, 1000],
    [1, 1000],
    [0, 1 << 20],
  ])('gives the UTF-16 column of a secret whose line starts in the bytes matched with it (%i workers, chunk size %i)', async (jobs, chunkSize) => {
    const rand = prng(7);
    const tok = () => `tok_${token(rand, 24)}`;
    const wide = 'héllo wörld ✓ 😀 ';
    // With chunks of 1000 bytes (and an overlap of some 370 before each): a line far longer
    // than a chunk, a line starting in the overlap before the owned bytes of the chunk holding
    // its secret (at 4000), and a line starting within them.
    const long = `// ${wide}const t = "${tok()}"; ${'ü'.repeat(1200)} ${tok()}\n`;
    const pad = 'x'.repeat(3950 - Buffer.byteLength(long));
    const text = `${long}${pad}\n${wide}${'é'.repeat(40)}${tok()}\n${wide}${tok()}\n`;
    const path = join(dir, `wide-${jobs}-${chunkSize}.js`);
    await writeFile(path, text);
    const result = await scanAll([path], { ruleset, chunkSize, jobs, inlineBytes: 0, showSecrets: true });
    expect(result.errors).toEqual([]);
    const got = result.findings.map((f) => [f.location.line, f.location.utf16Column]);
    const want = [...text.matchAll(/tok_/g)].map((m): [number, number | undefined] => {
      const at = m.index ?? 0;
      return [text.slice(0, at).split('\n').length, at - text.lastIndexOf('\n', at - 1)];
    });
    // The second secret is some 2500 bytes into its line: in chunks of 1000, the line starts
    // before the bytes matched with it, and its column in units is not known.
    if (chunkSize === 1000) want[1] = [1, undefined];
    expect(got).toEqual(want);
  });

  it('redacts secrets unless asked not to', async () => {
    const redacted = await scanAll([file], { ruleset, jobs: 0 });
    const full = await scanAll([file], { ruleset, jobs: 0, showSecrets: true });
    expect(full.findings[0]?.secret).toMatch(/^(tok_)?[A-Za-z0-9]{16,64}$/);
    expect(redacted.findings[0]?.secret).toContain('…');
    expect(redacted.findings[0]?.secret.length).toBeLessThan(full.findings[0]?.secret.length ?? 0);
    expect(redacted.findings[0]?.fingerprint).toBe(full.findings[0]?.fingerprint);
  });

  it('reports a secret once when an archive holds its file twice under one name', async () => {
    const secret = `tok_${'Zk8qW3rT9vB2nL5xC7mP1sD4'}`;
    const data = `const a = 1;\nconst t = "${secret}";\n`;
    // `tar -r` appending the same file again; a second file with the same secret elsewhere still counts.
    await writeFile(join(dir, 'twice.tar'), await tarOf([{ name: 'package/a.js', data }, { name: 'package/a.js', data }, { name: 'package/b.js', data }]));
    const { findings } = await scanAll([join(dir, 'twice.tar')], { ruleset, jobs: 0 });
    expect(findings.map((f) => `${f.ruleId} ${f.location.entry.join('!')}:${f.location.line}`)).toEqual(['test-token package/a.js:2', 'test-token package/b.js:2']);
  });

  it('leaves out findings whose fingerprints are in the baseline', async () => {
    const all = await scanAll([file], { ruleset, jobs: 0 });
    const baseline = new Set(all.findings.slice(0, 5).map((f) => f.fingerprint));
    const rest = await scanAll([file], { ruleset, jobs: 0, baseline });
    expect(rest.findings.length).toBe(all.findings.filter((f) => !baseline.has(f.fingerprint)).length);
    expect(rest.findings.some((f) => baseline.has(f.fingerprint))).toBe(false);
  });

  it('counts the findings the baseline leaves out, and names the entries they matched', async () => {
    const all = await scanAll([file], { ruleset, jobs: 0 });
    expect(all.stats.baselined).toBeUndefined();
    const baseline = new Set([...all.findings.slice(0, 3).map((f) => f.fingerprint), 'sha256:stale']);
    const accepted = all.findings.filter((f) => baseline.has(f.fingerprint)).length;
    const matched = new Set<string>();
    const rest = await scanAll([file], { ruleset, jobs: 0, baseline, onBaselined: (print) => matched.add(print) });
    expect(rest.stats.baselined).toBe(accepted);
    expect(rest.findings.length + accepted).toBe(all.findings.length);
    expect([...matched].sort()).toEqual([...baseline].filter((p) => p !== 'sha256:stale').sort());
    const none = await scanAll([file], { ruleset, jobs: 0, baseline: new Set() });
    expect(none.stats.baselined).toBe(0);
  });

  it('fingerprints a file found by its path the same whatever directory holds it', async () => {
    const keyFile = compileRules([{ id: 'test-key-file', title: 'Key file', severity: 'high', keywords: [], paths: ['**/id_test'], examples: [], negative_examples: [] }]);
    for (const version of ['1.0.0', '1.0.1']) {
      await mkdir(join(dir, `build-${version}`, 'package', 'keys'), { recursive: true });
      await writeFile(join(dir, `build-${version}`, 'package', 'keys', 'id_test'), 'key');
    }
    const prints = async (input: string, options: { bulkDirectories?: boolean; jobs?: number } = {}) => {
      const result = await scanAll([input], { ruleset: keyFile, jobs: 0, ...options });
      expect(result.findings).toHaveLength(1);
      return result.findings.map((f) => f.fingerprint);
    };
    const first = await prints(join(dir, 'build-1.0.0'));
    // Read in bulk (on this thread or a worker) and the usual way alike.
    expect(await prints(join(dir, 'build-1.0.1'))).toEqual(first);
    expect(await prints(join(dir, 'build-1.0.1'), { bulkDirectories: false })).toEqual(first);
    expect(await prints(join(dir, 'build-1.0.1'), { jobs: 1 })).toEqual(first);
    // Given directly, a file is named by its base name, wherever it is.
    const direct = await prints(join(dir, 'build-1.0.0', 'package', 'keys', 'id_test'));
    expect(await prints(join(dir, 'build-1.0.1', 'package', 'keys', 'id_test'))).toEqual(direct);
    const later = await scanAll([join(dir, 'build-1.0.1')], { ruleset: keyFile, jobs: 0, baseline: new Set(first) });
    expect(later.findings).toEqual([]);
  });

  it('gives a private key one fingerprint in a .pem file, in a JSON string with \\n escapes and with CRLF line ends', async () => {
    const pem = (generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string).trim();
    await mkdir(join(dir, 'pem'), { recursive: true });
    await writeFile(join(dir, 'pem', 'k.pem'), `${pem}\n`);
    await writeFile(join(dir, 'pem', 'crlf.pem'), `${pem.replace(/\n/g, '\r\n')}\r\n`);
    await writeFile(join(dir, 'pem', 'sa.json'), `${JSON.stringify({ type: 'x', private_key: `${pem}\n` })}\n`);
    const { findings } = await scanAll([join(dir, 'pem')], { jobs: 0 });
    const keys = findings.filter((f) => f.ruleId === 'pem-private-key');
    expect(keys.map((f) => f.location.artifact.split(/[\\/]/).pop()).sort()).toEqual(['crlf.pem', 'k.pem', 'sa.json']);
    const body = pem.split('\n').slice(1, -1).join('');
    expect(new Set(keys.map((f) => f.fingerprint))).toEqual(new Set([fingerprint('pem-private-key', body)]));
    // Baselines made before hold the fingerprint of the body as found; they still apply.
    const escaped = await scanAll([join(dir, 'pem', 'sa.json')], { jobs: 0, baseline: new Set([fingerprint('pem-private-key', pem.split('\n').slice(1, -1).join('\\n'))]) });
    expect(escaped.findings.filter((f) => f.ruleId === 'pem-private-key')).toEqual([]);
  });

  it('scans standard input', async () => {
    const text = 'x = "tok_Q7mZ2rT9vK4pL8wX3nB6cY1h"\n';
    const stdin = (async function* () {
      yield Buffer.from(text.slice(0, 10));
      yield Buffer.from(text.slice(10));
    })();
    const result = await scanAll(['-'], { ruleset, jobs: 0, stdin });
    expect(result.findings.map((f) => [f.path, f.location.line, f.location.column])).toEqual([['-', 1, 6]]);
  });

  it('stops cleanly when the consumer leaves early', async () => {
    let seen = 0;
    for await (const event of scan([file, file, file], { ruleset, jobs: 2, inlineBytes: 0, chunkSize: 4096, progressIntervalMs: 0 })) {
      if (event.type === 'finding' && ++seen === 3) break;
    }
    expect(seen).toBe(3);
  });

  it('reports an interruption when its signal is aborted', async () => {
    const controller = new AbortController();
    const events: string[] = [];
    for await (const event of scan([file, file], { ruleset, jobs: 0, chunkSize: 4096, signal: controller.signal, progressIntervalMs: 0 })) {
      if (event.type === 'finding') controller.abort();
      if (event.type === 'error') events.push(event.error.kind);
      if (event.type === 'done') events.push('done');
    }
    expect(events).toEqual(['interrupted', 'done']);
  });

  it('stops when its signal is aborted while standard input waits for a silent writer', async () => {
    const controller = new AbortController();
    // A pipe whose writer has sent a little and says nothing more, as `producer | pubguard scan -`.
    const stdin: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield Buffer.from('some text\n');
        await new Promise(() => undefined);
      },
    };
    setTimeout(() => controller.abort(), 50);
    const events: string[] = [];
    for await (const event of scan(['-'], { ruleset, jobs: 0, stdin, signal: controller.signal, progressIntervalMs: 0 })) {
      if (event.type === 'error') events.push(event.error.kind);
      if (event.type === 'done') events.push('done');
    }
    expect(events).toEqual(['interrupted', 'done']);
  }, 5000);

  it('matches what standard input gave before the stop, shorter than its kind takes to tell and without a newline', async () => {
    const controller = new AbortController();
    const secret = `tok_${token(prng(7), 24)}`;
    const text = `const t = "${secret}"`;
    // The writer sends a line it has not ended yet and thinks; the stop comes meanwhile.
    const stdin: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield Buffer.from(text);
        controller.abort();
        await new Promise(() => undefined);
      },
    };
    const events: string[] = [];
    let bytes = -1;
    for await (const event of scan(['-'], { ruleset, jobs: 0, stdin, signal: controller.signal, progressIntervalMs: 0, showSecrets: true })) {
      if (event.type === 'finding') events.push(`${event.finding.ruleId} ${event.finding.secret} at ${event.finding.location.byteOffset}`);
      if (event.type === 'error') events.push(event.error.kind);
      if (event.type === 'done') bytes = event.stats.bytes;
    }
    expect(events).toEqual([`test-token ${secret} at 11`, 'interrupted']);
    expect(bytes).toBe(text.length);
  }, 5000);

  it('stops a rule that backtracks catastrophically, names it, and still finds the rest', async () => {
    const runaway = compileRules([
      ...rules,
      {
        id: 'custom-runaway',
        title: 'Runaway custom rule',
        severity: 'low',
        keywords: ['aaaa'],
        pattern: '((?:a{1,20}){1,20})!',
        maxLength: 400,
        examples: [],
        negative_examples: [],
      },
    ]);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, `${'a'.repeat(300)}\nconst t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY1h";\n`);
    const result = await scanAll([victim], { ruleset: runaway, jobs: 1, ruleTimeoutMs: 1000 });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ path: victim, kind: 'rule-error' });
    expect(result.errors[0]?.message).toContain("'custom-runaway'");
    expect(result.findings.map((f) => [f.ruleId, f.location.line])).toEqual([['test-token', 2]]);
  });

  it('stops such a rule in a directory read in bulk on the workers, and reads the files it held up again without it', async () => {
    const runaway = compileRules([
      ...rules,
      { id: 'custom-runaway', title: 'Runaway custom rule', severity: 'low', keywords: ['aaaa'], pattern: '((?:a{1,20}){1,20})!', maxLength: 400, examples: [], negative_examples: [] },
    ]);
    const tree = join(dir, 'runaway-tree');
    await mkdir(tree);
    for (let i = 0; i < 40; i++) await writeFile(join(tree, `f${String(i).padStart(2, '0')}.js`), `const t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY${String(i).padStart(2, '0')}";\n`);
    await writeFile(join(tree, 'f17.js'), `${'a'.repeat(300)}\nconst t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY17";\n`);
    // The watchdog's time has to leave room for a loaded machine: a file of the others taking
    // longer than it to match would be stopped too.
    const result = await scanAll([tree], { ruleset: runaway, jobs: 2, ruleTimeoutMs: 1500 });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ path: tree, kind: 'rule-error' });
    expect(result.errors[0]?.message).toContain("'custom-runaway'");
    expect(result.findings.map((f) => f.path).sort()).toEqual(Array.from({ length: 40 }, (_, i) => join(tree, `f${String(i).padStart(2, '0')}.js`)));
    expect(result.stats.files).toBe(40);
  });

  it('with jobs 0, still matches rules that are not built-in on a worker, where such a rule is stopped', async () => {
    // Slow enough to cross the watchdog's time, and still finite on a thread nothing can stop.
    const runaway = compileRules([
      ...rules,
      { id: 'custom-runaway', title: 'Runaway custom rule', severity: 'low', keywords: ['aaaa'], pattern: '((a+)+)!', maxLength: 400, examples: [], negative_examples: [] },
    ]);
    const victim = join(dir, 'victim-jobs0.txt');
    await writeFile(victim, `${'a'.repeat(26)}\nconst t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY1h";\n`);
    const tree = join(dir, 'runaway-tree-jobs0');
    await mkdir(tree);
    await writeFile(join(tree, 'f.js'), `${'a'.repeat(26)}\nconst t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY2h";\n`);
    for (const input of [victim, tree]) {
      let workers = 0;
      const started = performance.now();
      const result = await scanAll([input], { ruleset: runaway, jobs: 0, ruleTimeoutMs: 1000, onWorkerStart: () => (workers++, () => undefined) });
      expect(workers).toBeGreaterThan(0);
      expect(result.errors.map((e) => [e.path, e.kind])).toEqual([[input, 'rule-error']]);
      expect(result.errors[0]?.message).toContain("'custom-runaway'");
      expect(result.findings.map((f) => [f.ruleId, f.location.line])).toEqual([['test-token', 2]]);
      expect(performance.now() - started).toBeLessThan(15_000);
    }
    // The built-in rules alone stay on the calling thread.
    let workers = 0;
    await scanAll([victim], { jobs: 0, onWorkerStart: () => (workers++, () => undefined) });
    expect(workers).toBe(0);
  }, 40_000);

  it('splits a run by path with select: shards together scan every file and report every problem once', async () => {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    for (let i = 0; i < 12; i++) await writeFile(join(tree, `f${i}.js`), `const t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY${String(i).padStart(2, '0')}";\n`);
    const inputs = [tree, join(dir, 'missing-1.tgz'), join(dir, 'missing-2.tgz')];
    const whole = await scanAll(inputs, { ruleset, jobs: 0 });
    const byShard: (typeof whole)[] = [];
    for (const index of [0, 1, 2]) {
      // A stand-in for the CLI's sha256 selector: deterministic and spread over the three.
      const select = (path: string) => [...path].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 3 === index;
      byShard.push(await scanAll(inputs, { ruleset, jobs: 0, select }));
    }
    const paths = (rs: typeof byShard) => rs.flatMap((r) => r.findings.map((f) => f.path)).sort();
    expect(whole.findings).toHaveLength(12);
    expect(paths(byShard)).toEqual(paths([whole]));
    expect(byShard.flatMap((r) => r.errors.map((e) => e.path)).sort()).toEqual(whole.errors.map((e) => e.path).sort());
    expect(byShard.every((r) => r.stats.files < 12)).toBe(true);
    expect(byShard.reduce((n, r) => n + r.stats.files, 0)).toBe(12);
  });

  it('scans only the files onlyFiles lists below a directory, reported as a plain scan reports them', async () => {
    const pkg = join(dir, 'listed');
    await mkdir(join(pkg, 'lib', 'deep'), { recursive: true });
    await mkdir(join(pkg, 'fixtures'));
    await mkdir(join(pkg, 'vendor'));
    const files: Record<string, string> = {
      'lib/a.js': 'tok_A7mZ2rT9vK4pL8wX3nB6cY01',
      'lib/deep/b.js': 'tok_B7mZ2rT9vK4pL8wX3nB6cY02',
      '.env': 'tok_C7mZ2rT9vK4pL8wX3nB6cY03',
      'fixtures/c.js': 'tok_D7mZ2rT9vK4pL8wX3nB6cY04',
      'vendor/d.js': 'tok_E7mZ2rT9vK4pL8wX3nB6cY05',
    };
    for (const [rel, secret] of Object.entries(files)) await writeFile(join(pkg, rel), `const t = "${secret}";\n`);
    const listed = new Set(['lib/a.js', 'lib/deep/b.js', 'vendor/d.js', 'lib/gone.js', 'fixtures/c.js']);
    const key = (f: { path: string; fingerprint: string; ruleId: string }) => `${f.ruleId} ${f.path} ${f.fingerprint}`;
    for (const bulkDirectories of [true, false]) {
      const options = { ruleset, jobs: 0, cwd: dir, ignore: ['fixtures/'], bulkDirectories };
      const plain = await scanAll(['listed'], options);
      const only = await scanAll(['listed'], { ...options, onlyFiles: new Map([['listed', listed]]) });
      const shipped = plain.findings.filter((f) => ['listed/lib/a.js', 'listed/lib/deep/b.js', 'listed/vendor/d.js'].includes(f.path));
      expect(shipped).toHaveLength(3);
      // A listed file ships whatever the ignore globs say (fixtures/c.js, which a plain scan
      // leaves out), reported as a plain scan without the glob would report it.
      const unignored = await scanAll(['listed'], { ...options, ignore: [] });
      const listedFindings = unignored.findings.filter((f) => ['listed/lib/a.js', 'listed/lib/deep/b.js', 'listed/vendor/d.js', 'listed/fixtures/c.js'].includes(f.path));
      expect(listedFindings).toHaveLength(4);
      expect(only.findings.map(key).sort()).toEqual(listedFindings.map(key).sort());
      // The one gone since it was listed is an error.
      expect(only.errors).toMatchObject([{ path: 'listed/lib/gone.js', kind: 'not-found' }]);
      expect(only.stats.files).toBe(4);

      // Another input below reads its files itself: none of them is missing, none read twice.
      const nested = await scanAll(['listed', 'listed/vendor'], { ...options, onlyFiles: new Map([['listed', listed]]) });
      expect(nested.findings.map(key).sort()).toEqual(listedFindings.map(key).sort());
      expect(nested.errors.map((e) => e.path)).toEqual(['listed/lib/gone.js']);

      // A listed directory below reads only its own list: a file the outer list holds and the
      // inner one leaves out (another package's tarball) is still read, for the outer one.
      for (const innerList of [[], ['d.js']]) {
        const lists = new Map([['listed', listed], ['listed/vendor', new Set(innerList)]]);
        const twoLists = await scanAll(['listed', 'listed/vendor'], { ...options, onlyFiles: lists });
        expect(twoLists.findings.map(key).sort(), innerList.join()).toEqual(listedFindings.map(key).sort());
        expect(twoLists.stats.files, innerList.join()).toBe(4);
      }

      // Shards split the listed files and the missing one as they split a plain scan.
      const shards = [0, 1].map((index) => scanAll(['listed'], { ...options, onlyFiles: new Map([['listed', listed]]), select: (p: string) => (p.length % 2 === index) }));
      const both = await Promise.all(shards);
      expect(both.flatMap((r) => r.findings.map(key)).sort()).toEqual(listedFindings.map(key).sort());
      expect(both.flatMap((r) => r.errors.map((e) => e.path))).toEqual(['listed/lib/gone.js']);
    }
  });
});


describe('read buffers', () => {
  let dir: string;
  let text: Buffer;
  /** What the same bytes give when read from standard input, where no buffer is reused. */
  let reference: string[];
  // Some 1000 secrets in one file: more than a file is allowed by default.
  const limits = { maxFindingsPerFile: 100_000 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-reads-'));
    const rand = prng(7);
    const parts: string[] = [];
    let length = 0;
    while (length < 8 * READ_BYTES) {
      const piece = rand() < 0.02 ? `const t = "tok_${token(rand, 24)}";\n` : `${token(rand, Math.floor(rand() * 120))} ${'word '.repeat(Math.floor(rand() * 12))}\n`;
      parts.push(piece);
      length += piece.length;
    }
    text = Buffer.from(parts.join(''), 'latin1');
    const stdin = (async function* () {
      for (let at = 0; at < text.length; at += 300_000) yield Buffer.from(text.subarray(at, at + 300_000));
    })();
    reference = (await scanAll(['-'], { ruleset, jobs: 0, stdin, limits })).findings.map(keyOf).sort();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Buffers of `size` bytes that Node allocated while `run` ran, with its result. zlib's output
   * buffers are not counted: they can have the same size, and they are not read buffers.
   */
  async function allocations<T>(size: number, run: () => Promise<T>): Promise<{ count: number; result: T }> {
    let count = 0;
    const spies = (['allocUnsafe', 'allocUnsafeSlow', 'alloc'] as const).map((name) => {
      const original = Buffer[name].bind(Buffer) as (bytes: number, ...rest: unknown[]) => Buffer;
      return vi.spyOn(Buffer, name).mockImplementation(((bytes: number, ...rest: unknown[]) => {
        if (bytes === size && !new Error().stack?.includes('node:zlib')) count++;
        return original(bytes, ...rest);
      }) as never);
    });
    try {
      const result = await run();
      return { count, result };
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }

  it('plants enough secrets for the comparison to mean something', () => {
    expect(reference.length).toBeGreaterThan(1000);
  });

  it.each([
    ['plain', 0],
    ['plain', 1],
    ['gzip', 0],
    ['gzip', 1],
  ] as const)('reuses the read buffers of a large %s file (%i workers) and finds what reading it from stdin finds', async (kind, jobs) => {
    const data = kind === 'gzip' ? gzipSync(text, { level: 1 }) : text;
    // Enough reads that one fresh buffer per read could not pass for reuse.
    expect(Math.floor((data.length - FIRST_READ_BYTES) / READ_BYTES)).toBeGreaterThanOrEqual(4);
    const file = join(dir, kind === 'gzip' ? 'big.txt.gz' : 'big.txt');
    await writeFile(file, data);
    const { count, result } = await allocations(READ_BYTES, () => scanAll([file], { ruleset, jobs, inlineBytes: 0, limits }));
    expect(result.errors).toEqual([]);
    expect(result.findings.map(keyOf).sort()).toEqual(reference);
    // One read buffer being filled while the one before is consumed.
    expect(count).toBeLessThanOrEqual(2);
  });

  it('reuses the first-read buffers from one file of a directory to the next', async () => {
    const tree = join(dir, 'many');
    await mkdir(tree);
    for (let i = 0; i < 40; i++) await writeFile(join(tree, `f${String(i).padStart(2, '0')}.js`), `// ${'x'.repeat(5000)}\nconst t = "tok_Q7mZ2rT9vK4pL8wX3nB6cY${String(i).padStart(2, '0')}";\n`);
    const { count, result } = await allocations(FIRST_READ_BYTES, () => scanAll([tree], { ruleset, jobs: 0 }));
    expect(result.findings).toHaveLength(40);
    // The files opened ahead of time and the one being read, not one per file.
    expect(count).toBeLessThan(10);
  });
});

describe('a directory read on every thread', () => {
  let tree: string;
  const FILES = 300;

  beforeAll(async () => {
    tree = await mkdtemp(join(tmpdir(), 'pubguard-scan-tree-'));
    const line = 'export const value = compute(input, options) + offset;\n';
    for (let i = 0; i < FILES; i++) await writeFile(join(tree, `f${String(i).padStart(3, '0')}.js`), line.repeat(1200));
  });
  afterAll(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  it('reports progress while it reads, not only once it is done', async () => {
    const seen: number[] = [];
    for await (const event of scan([tree], { jobs: 1, inlineBytes: 0, progressIntervalMs: 1 })) {
      if (event.type === 'progress') seen.push(event.stats.files);
      if (event.type === 'done') expect(event.stats.files).toBe(FILES);
    }
    expect(seen.filter((n) => n > 0 && n < FILES).length).toBeGreaterThanOrEqual(2);
  });

  // With the workers alone, they may have read everything by the time the first progress
  // arrives; only this thread's reading is sure to stop short.
  it.each([
    ['built-in rules, every thread', {}, true],
    ['rules from a config file, the workers alone', { ruleset }, false],
  ])('stops at an interrupt and says so (%s)', async (_, extra, short) => {
    const controller = new AbortController();
    const events: string[] = [];
    let files = 0;
    for await (const event of scan([tree], { jobs: 1, inlineBytes: 0, signal: controller.signal, progressIntervalMs: 1, ...extra })) {
      if (event.type === 'progress' && event.stats.files > 0) controller.abort();
      if (event.type === 'error') events.push(event.error.kind);
      if (event.type === 'done') {
        events.push('done');
        files = event.stats.files;
      }
    }
    expect(events).toEqual(['interrupted', 'done']);
    if (short) expect(files).toBeLessThan(FILES);
  });

  it('stops cleanly when the consumer leaves early', async () => {
    let progress = 0;
    for await (const event of scan([tree], { jobs: 2, inlineBytes: 0, progressIntervalMs: 1 })) {
      if (event.type === 'progress' && ++progress === 2) break;
    }
    expect(progress).toBe(2);
  });
});

describe('findings kept per file', () => {
  let dir: string;
  const rand = prng(11);
  const tokens = Array.from({ length: 50 }, () => `tok_${token(rand, 24)}`);
  // 50 distinct secrets, then the first one repeated: the usual shape of a file with thousands.
  const text = `${tokens.map((t) => `const t = "${t}";\n`).join('')}${`x = "${tokens[0]}";\n`.repeat(150)}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-cap-'));
    await mkdir(join(dir, 'tree'));
    await writeFile(join(dir, 'tree', 'many.js'), text);
    await writeFile(join(dir, 'many.tar'), await tarOf([{ name: 'package/many.js', data: text }, { name: 'package/one.js', data: `t = "${tokens[1]}"\n` }]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['a file', 'tree/many.js', 'tree/many.js', 1 << 20, 0],
    ['a file cut into chunks', 'tree/many.js', 'tree/many.js', 300, 1],
    ['a directory read in bulk', 'tree', 'tree/many.js', 1 << 20, 0],
    ['a tar entry', 'many.tar', 'many.tar!package/many.js', 1 << 20, 1],
  ])('reports the first maxFindingsPerFile findings of %s and counts the rest in a limit event', async (_, input, path, chunkSize, jobs) => {
    const { findings, errors } = await scanAll([input], { cwd: dir, ruleset, jobs, chunkSize, inlineBytes: 0, limits: { maxFindingsPerFile: 10 } });
    const inFile = findings.filter((f) => f.path === path);
    expect(inFile.map((f) => f.location.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(errors).toEqual([
      {
        path,
        kind: 'limit',
        limit: 'maxFindingsPerFile',
        message:
          'file has more than 10 findings; the first 10 were kept, 190 more were counted and not reported (limit maxFindingsPerFile = 10); raise it with --max-findings of pubguard scan and baseline create or limits.maxFindingsPerFile in pubguard.config.json if the input is trusted',
      },
    ]);
    // Other files keep their own count.
    if (input === 'many.tar') expect(findings.filter((f) => f.path !== path)).toHaveLength(1);
  });

  it('reports every finding and no event up to the limit', async () => {
    const { findings, errors } = await scanAll(['tree/many.js'], { cwd: dir, ruleset, jobs: 0, limits: { maxFindingsPerFile: 200 } });
    expect(findings).toHaveLength(200);
    expect(errors).toEqual([]);
  });

  it('holds no more matches than the limit needs, however many a file has', () => {
    const held: number[] = [];
    const state = new FileState(['f'], (_, matches) => held.push(matches.length), 10);
    // 100 segments of 1000 matches each, 50 bytes apart: 100 000 matches in all.
    const segment = {
      matches: Array.from({ length: 1000 }, (_, i) => ({ rule: 0, start: 50 * i, end: 50 * i + 28, secretStart: 50 * i, secretEnd: 50 * i + 28, newlinesBefore: i, lastNewline: 50 * i - 1, secret: 'x' })),
      newlines: 1000,
      lastNewline: 49_999,
      suppressed: 0,
    };
    for (let k = 0; k < 100; k++) state.deliver(k, 50_000 * k, segment);
    state.close(100);
    expect(held).toEqual([20]);
    expect(state.unheld).toBe(100_000 - 20);
  });
});

describe('findings kept per artifact', () => {
  let dir: string;
  const rand = prng(13);
  /** `n` lines of distinct tokens. */
  const tokens = (n: number) => Array.from({ length: n }, () => `t = "tok_${token(rand, 24)}";\n`).join('');
  const names = Array.from({ length: 30 }, (_, i) => `package/f${String(i).padStart(2, '0')}.js`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-artifact-cap-'));
    await writeFile(join(dir, 'ten.tar'), await tarOf(names.map((name) => ({ name, data: tokens(10) }))));
    await writeFile(join(dir, 'six.tar'), await tarOf(names.slice(0, 5).map((name) => ({ name, data: tokens(6) }))));
    await mkdir(join(dir, 'tree'));
    for (const name of ['a.js', 'b.js']) await writeFile(join(dir, 'tree', name), tokens(3));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const where = (f: { path: string; location: { line: number } }) => `${f.path}:${f.location.line}`;

  it.each([
    [0, 1 << 20],
    [1, 256],
    [2, 256],
  ])('keeps the first maxFindingsPerArtifact findings in file order and counts the rest in one event (%i workers, chunk size %i)', async (jobs, chunkSize) => {
    const { findings, errors } = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs, chunkSize, inlineBytes: 0, limits: { maxFindingsPerArtifact: 25 } });
    // Files come back from the threads in any order; the first 25 in the tarball's order are kept.
    const want = [...names.slice(0, 2).flatMap((n) => Array.from({ length: 10 }, (_, i) => `ten.tar!${n}:${i + 1}`)), ...[1, 2, 3, 4, 5].map((l) => `ten.tar!${names[2]}:${l}`)];
    expect(findings.map(where).sort()).toEqual(want.sort());
    expect(errors).toEqual([
      {
        path: 'ten.tar',
        kind: 'limit',
        limit: 'maxFindingsPerArtifact',
        message:
          'artifact has more than 25 findings; the first 25 were kept, 275 more were counted and not reported (limit maxFindingsPerArtifact = 25); raise it with --max-artifact-findings of pubguard scan and baseline create or limits.maxFindingsPerArtifact in pubguard.config.json if the input is trusted',
      },
    ]);
  });

  it('counts in each file event the findings past its own limit until the artifact is full, and the rest in the artifact event', async () => {
    const { findings, errors } = await scanAll(['six.tar'], { cwd: dir, ruleset, jobs: 0, limits: { maxFindingsPerFile: 4, maxFindingsPerArtifact: 10 } });
    // 4 and 4 kept, 2 and 2 counted by their files; 2 of the third kept, its other 4 and 6 each of the last two counted by the artifact.
    expect(findings.map(where)).toHaveLength(10);
    expect(findings.filter((f) => f.path === `six.tar!${names[2]}`).map((f) => f.location.line)).toEqual([1, 2]);
    expect(errors.map((e) => [e.path, e.limit, e.message.replace(/ \(limit .*$/, '')])).toEqual([
      [`six.tar!${names[0]}`, 'maxFindingsPerFile', 'file has more than 4 findings; the first 4 were kept, 2 more were counted and not reported'],
      [`six.tar!${names[1]}`, 'maxFindingsPerFile', 'file has more than 4 findings; the first 4 were kept, 2 more were counted and not reported'],
      ['six.tar', 'maxFindingsPerArtifact', 'artifact has more than 10 findings; the first 10 were kept, 16 more were counted and not reported'],
    ]);
  });

  it.each([0, 2])('counts no finding the allowlist or the baseline takes against the limit (%i workers)', async (jobs) => {
    const last = `ten.tar!${names[29]}`;
    const all = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs: 0 });
    // 290 findings of fixtures the allowlist covers, then 10 new ones: the new ones are reported.
    const allowed = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs, limits: { maxFindingsPerArtifact: 25 }, exclude: (f) => f.path !== last });
    expect(allowed.errors).toEqual([]);
    expect(allowed.findings.map(where).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${last}:${i + 1}`).sort());
    const baseline = new Set(all.findings.filter((f) => f.path !== last).map((f) => f.fingerprint));
    const accepted = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs, baseline, limits: { maxFindingsPerArtifact: 25 } });
    expect(accepted.errors).toEqual([]);
    expect(accepted.findings).toHaveLength(10);
    expect(accepted.stats.baselined).toBe(290);
    // Past the limit, what the allowlist takes is still not counted.
    const crossed = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs, limits: { maxFindingsPerArtifact: 5 }, exclude: (f) => f.path !== last });
    expect(crossed.findings).toHaveLength(5);
    expect(crossed.errors.map((e) => e.message.replace(/ \(limit .*$/, ''))).toEqual(['artifact has more than 5 findings; the first 5 were kept, 5 more were counted and not reported']);
    // One kept, one counted: said in the singular.
    const one = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs, limits: { maxFindingsPerArtifact: 1 }, exclude: (f) => f.path !== last || f.location.line > 2 });
    expect(one.errors.map((e) => e.message.replace(/ \(limit .*$/, ''))).toEqual(['artifact has more than 1 finding; the first was kept, 1 more was counted and not reported']);
  });

  it('keeps the findings on entry names within the limit too', async () => {
    const ghp = (): string => {
      const body = token(rand, 30);
      return `ghp_${body}${base62Crc32(body)}`;
    };
    await writeFile(join(dir, 'named.tar'), await tarOf(Array.from({ length: 40 }, () => ({ name: `package/${ghp()}.json`, data: '{}' }))));
    const { findings, errors } = await scanAll(['named.tar'], { cwd: dir, jobs: 0, limits: { maxFindingsPerArtifact: 10 } });
    expect(findings).toHaveLength(10);
    expect(findings.every((f) => f.in === 'name')).toBe(true);
    expect(errors.map((e) => [e.path, e.limit, e.message.replace(/ \(limit .*$/, '')])).toEqual([['named.tar', 'maxFindingsPerArtifact', 'artifact has more than 10 findings; the first 10 were kept, 30 more were counted and not reported']]);
  });

  it('reports every finding and no event up to the limit', async () => {
    const { findings, errors } = await scanAll(['ten.tar'], { cwd: dir, ruleset, jobs: 0, limits: { maxFindingsPerArtifact: 300 } });
    expect(findings).toHaveLength(300);
    expect(errors).toEqual([]);
  });

  it.each([true, false])('takes each file of a directory as an artifact of its own (read in bulk: %s)', async (bulkDirectories) => {
    const { findings, errors } = await scanAll(['tree'], { cwd: dir, ruleset, jobs: 0, bulkDirectories, limits: { maxFindingsPerArtifact: 2 } });
    expect(findings.map(where).sort()).toEqual(['tree/a.js:1', 'tree/a.js:2', 'tree/b.js:1', 'tree/b.js:2']);
    expect(errors.map((e) => [e.path, e.limit]).sort()).toEqual([
      ['tree/a.js', 'maxFindingsPerArtifact'],
      ['tree/b.js', 'maxFindingsPerArtifact'],
    ]);
  });

  it('takes files matched out of order in the order read, each holding no more than its own limit', () => {
    const kept: string[] = [];
    const events: string[] = [];
    const backlog = { candidates: 0 };
    const artifact = new ArtifactFindings(
      'a.tar',
      { maxFindingsPerFile: 100, maxFindingsPerArtifact: 5 },
      (state, m, room) => {
        kept.push(...m.slice(0, room).map((p) => `${state.chain[1]}@${p.start}`));
        return m.length;
      },
      (e) => events.push(e.message),
      backlog,
    );
    const placed = (n: number) => Array.from({ length: n }, (_, i) => ({ rule: 0, start: 10 * i, end: 10 * i + 5, line: i + 1, column: 1, secret: 'x' }));
    const files = ['a', 'b', 'c'].map((name) => new FileState(['a.tar', name], () => undefined, 100, artifact));
    // c and b are matched before a: they wait for it, each holding at most its own 100 (how many the
    // baseline and allowlists take is known only when they are reported).
    artifact.settle(files[2] as FileState, placed(150));
    artifact.settle(files[1] as FileState, placed(3));
    expect(backlog.candidates).toBe(103);
    expect(kept).toEqual([]);
    artifact.end();
    expect(events).toEqual([]);
    artifact.settle(files[0] as FileState, placed(4));
    expect(kept).toEqual(['a@0', 'a@10', 'a@20', 'a@30', 'b@0']);
    expect(backlog.candidates).toBe(0);
    expect(events).toEqual([expect.stringMatching(/^artifact has more than 5 findings; the first 5 were kept, 152 more were counted/)]);
  });
});

describe('the time limit within a file', () => {
  // Keywords of many built-in rules, one after another: matching this runs at some 10 MB/s a
  // thread where reading it from memory takes no time, so only a check between the blocks a
  // file is matched in can stop it.
  const keywords = 'secret token api_key password ghp_ AKIA xoxb- npm_ ';
  const body = new Prng(14).string(ALNUM, 30);
  const last = `\nconst t = "ghp_${body}${base62Crc32(body)}";\n`;

  /** `copies` of the keywords then a GitHub token. */
  const content = (copies: number) => Buffer.from(keywords.repeat(copies) + last, 'latin1');

  /** Standard input of one slice, `data` (made before the scan starts its clock), after `pauseMs`. */
  async function* stdin(data: Buffer, pauseMs = 0): AsyncGenerator<Uint8Array> {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    yield data;
  }

  // The limit has to cover the scan's start (and a worker's, which takes hundreds of ms on a
  // loaded machine) with room to spare: one that ran out before the first block would test
  // nothing here, so the content is large enough that no machine matches it all in that time.
  it.each([
    [0, 300],
    [1, 500],
  ])('stops a file of dense keywords between blocks once maxArtifactMs is up, and says at which byte (%i workers)', async (jobs, ms) => {
    const copies = 1_000_000;
    const { findings, errors, stats } = await scanAll(['-'], { stdin: stdin(content(copies)), jobs, inlineBytes: 0, chunkSize: 64 * 1024, limits: { maxArtifactMs: ms } });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: '-', kind: 'limit', limit: 'maxArtifactMs' });
    const secs = String(ms / 1000).replace('.', '\\.');
    const at = Number(new RegExp(`^reading this artifact took longer than ${secs} s; it stopped at byte (\\d+) of -, and the rest was not read \\(limit maxArtifactMs = ${ms} ms\\); raise it with --max-artifact-seconds`).exec(errors[0]?.message ?? '')?.[1]);
    // Stopped at a block's start, before the token at the end; only what was matched is counted.
    expect(at % (64 * 1024)).toBe(0);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(copies * keywords.length);
    expect(stats.bytes).toBe(at);
    expect(findings).toEqual([]);
  });

  it('matches none of a file that arrives once the time is up', async () => {
    const { findings, errors, stats } = await scanAll(['-'], { stdin: stdin(content(1000), 80), jobs: 0, limits: { maxArtifactMs: 20 } });
    expect(errors.map((e) => [e.path, e.limit, e.message.replace(/ \(limit .*/, '')])).toEqual([['-', 'maxArtifactMs', 'reading this artifact took longer than 0.02 s; the rest of it was not read']]);
    expect(findings).toEqual([]);
    expect(stats.files).toBe(0);
  });

  it('does not stop a file matched within the limit', async () => {
    const { findings, errors } = await scanAll(['-'], { stdin: stdin(content(1000)), jobs: 0, chunkSize: 4096, limits: { maxArtifactMs: 60_000 } });
    expect(errors).toEqual([]);
    expect(findings.map((f) => f.ruleId)).toEqual(['github-classic-token']);
  });
});

describe('byte limits on a plain file', () => {
  let dir: string;
  const rand = prng(12);
  const early = `tok_${token(rand, 24)}`;
  const late = `tok_${token(rand, 24)}`;
  /** `size` bytes of filler with `early` at `at1` and `late` at `at2`. */
  const fileWith = (size: number, at1: number, at2: number) => {
    const b = Buffer.alloc(size, 'x');
    b[at1 - 1] = 0x0a;
    b.write(`${early}\n`, at1);
    b[at2 - 1] = 0x0a;
    b.write(`${late}\n`, at2);
    return b;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-cut-'));
    await writeFile(join(dir, 'small.js'), fileWith(5000, 500, 3000));
    // Past the first read, in the second one, on both sides of the limit.
    await writeFile(join(dir, 'large.js'), fileWith(FIRST_READ_BYTES + 5000, FIRST_READ_BYTES + 200, FIRST_READ_BYTES + 3000));
    await writeFile(join(dir, 'two.tar'), await tarOf([{ name: 'a.txt', data: 'y'.repeat(600) }, { name: 'b.js', data: fileWith(5000, 100, 3000).toString('latin1') }]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['maxEntryBytes', 'small.js', { maxEntryBytes: 1024 }],
    ['maxEntryBytes', 'large.js', { maxEntryBytes: FIRST_READ_BYTES + 1024 }],
    ['maxArtifactBytes', 'small.js', { maxArtifactBytes: 1024 }],
    ['maxArtifactBytes', 'large.js', { maxArtifactBytes: FIRST_READ_BYTES + 1024 }],
    ['maxArtifactBytes', 'two.tar', { maxArtifactBytes: 600 + 1024 }],
  ])('%s on %s: the bytes up to the limit are matched, none past it', async (limit, input, limits) => {
    for (const jobs of [0, 1]) {
      const { findings, errors } = await scanAll([input], { cwd: dir, ruleset, jobs, limits, showSecrets: true });
      expect(findings.map((f) => f.secret)).toEqual([early]);
      expect(errors.map((e) => e.limit)).toEqual([limit]);
    }
  });
});
