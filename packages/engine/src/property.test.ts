import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { base62Crc32 } from '@pubguard/corpus';
import { builtinRuleDefinitions, compileRules } from '@pubguard/rules';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanAll, type ScanOptions } from './scan.js';
import type { Finding } from './types.js';

/**
 * Fixed seed so every run checks the same cases; set PUBGUARD_PROPERTY_SEED to explore
 * others. On a failure fast-check prints the seed and the shrink path to replay it with.
 */
const SEED = Number(process.env.PUBGUARD_PROPERTY_SEED ?? 0x5eed_2026);
const run = (numRuns: number) => ({ seed: SEED, numRuns, verbose: 1 as const });

/** Cases per property: enough to cover the shapes, bounded so the file runs in seconds on two cores. */
const RUNS = { offset: 150, chunks: 80, workers: 10, bulk: 20, stdin: 80, packing: 120 };

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-property-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh directory per property run, so cases never see each other's files. */
async function caseDir(): Promise<string> {
  const d = join(dir, `case-${counter++}`);
  await mkdir(d, { recursive: true });
  return d;
}

/** A fresh case directory holding `tree` under `t/`. */
async function treeDir(tree: readonly TreeFile[]): Promise<string> {
  const d = await caseDir();
  for (const f of tree) {
    await mkdir(dirname(join(d, 't', f.path)), { recursive: true });
    await writeFile(join(d, 't', f.path), f.text);
  }
  return d;
}

// ---------- planted secrets ----------

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The body of a token from a 32-bit seed (mulberry32): high-entropy, so no placeholder check rejects it. */
function randomBody(seed: number, n: number): string {
  let s = seed >>> 0;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out += ALNUM[((t ^ (t >>> 14)) >>> 0) % ALNUM.length];
  }
  return out;
}

/** A token whose last 6 characters are the base62 CRC-32 of the 30 before them (GitHub and npm). */
function checksummed(prefix: string, seed: number): string {
  const body = randomBody(seed, 30);
  // The corpus computes the checksum on its own, as an oracle independent of the validators.
  return `${prefix}_${body}${base62Crc32(body)}`;
}

const RULE_OF: Record<string, string> = { ghp: 'github-classic-token', gho: 'github-classic-token', npm: 'npm-access-token' };

/** A planted secret: the rule that must report it and the token itself. */
interface Secret {
  ruleId: string;
  token: string;
}

const secretArb: fc.Arbitrary<Secret> = fc
  .tuple(fc.constantFrom('ghp', 'gho', 'npm'), fc.integer({ min: 1, max: 0x7fffffff }))
  .map(([prefix, seed]) => ({ ruleId: RULE_OF[prefix] as string, token: checksummed(prefix, seed) }));

/**
 * Filler text: words, spaces, line ends (Unix, Windows and classic Mac OS), punctuation and multi-byte
 * characters, so columns (counted in bytes) are exercised too. No letters or digits touch
 * a planted token: separators are put around it.
 */
const fillerArb: fc.Arbitrary<string> = fc
  .array(fc.constantFrom('lorem', 'ipsum', ' ', ' ', '\n', '\r\n', '\r', '\t', '= ', ';', '{}', '//', 'é', '日本', '🙂', 'x1', '"'), { maxLength: 400 })
  .map((parts) => parts.join(''));

/** A file of filler with secrets between separators, and where each secret is (line, byte column). */
interface Planted {
  text: string;
  expected: { ruleId: string; line: number; column: number }[];
}

const plantedArb: fc.Arbitrary<Planted> = fc
  .array(fc.tuple(fillerArb, secretArb, fc.constantFrom(' ', '\n', '"', "'", '=', ':')), { minLength: 0, maxLength: 4 })
  .chain((pieces) => fillerArb.map((tail) => ({ pieces, tail })))
  .map(({ pieces, tail }) => {
    let text = '';
    const expected: Planted['expected'] = [];
    for (const [filler, secret, sep] of pieces) {
      text += `${filler}${sep}`;
      const bytes = Buffer.from(text);
      const lastNl = Math.max(bytes.lastIndexOf(0x0a), bytes.lastIndexOf(0x0d));
      expected.push({ ruleId: secret.ruleId, line: 1 + countLineBreaks(bytes), column: bytes.length - lastNl });
      text += `${secret.token}${sep}`;
    }
    return { text: text + tail, expected };
  });

/** Line breaks as editors count them: LF, CR, and CR LF as one. */
function countLineBreaks(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a || (b[i] === 0x0d && b[i + 1] !== 0x0a)) n++;
  return n;
}

// ---------- archives ----------

/** A file of a tree: relative path and content. */
interface TreeFile {
  path: string;
  text: string;
}

async function tarOf(files: readonly TreeFile[]): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) parts.push(c);
  })();
  for (const f of files) {
    const data = Buffer.from(f.text);
    await new Promise<void>((res, rej) => p.entry({ name: f.path, size: data.length, mode: 0o644 }, data, (err) => (err ? rej(err) : res())));
  }
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

async function zipOf(files: readonly { path: string; data: Uint8Array }[]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const f of files) z.addBuffer(Buffer.from(f.data), f.path, { compress: f.data.length % 2 === 0 });
  z.end();
  const parts: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

const zipFiles = (files: readonly TreeFile[]) => zipOf(files.map((f) => ({ path: f.path, data: Buffer.from(f.text) })));

/** Ways to pack a tree into one artifact. */
const PACKERS: Record<string, (files: readonly TreeFile[]) => Promise<Buffer>> = {
  tar: tarOf,
  tgz: async (files) => gzipSync(await tarOf(files)),
  zip: zipFiles,
  'tgz in zip': async (files) => zipOf([{ path: 'inner/pkg.tgz', data: gzipSync(await tarOf(files)) }]),
  'zip in tgz': async (files) => gzipSync(await tarBinary('package/dist/pkg.whl', await zipFiles(files))),
  'zip in zip in tar': async (files) => tarBinary('a/b.jar', await zipOf([{ path: 'lib/inner.zip', data: await zipFiles(files) }])),
};

/** A tar holding one binary member. */
async function tarBinary(name: string, data: Buffer): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) parts.push(c);
  })();
  await new Promise<void>((res, rej) => p.entry({ name, size: data.length }, data, (err) => (err ? rej(err) : res())));
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

/** Distinct relative paths for a tree: a small set of directories and names. */
const treeArb: fc.Arbitrary<TreeFile[]> = fc.uniqueArray(
  fc.record({
    path: fc.tuple(fc.constantFrom('', 'lib/', 'src/deep/er/', '.config/'), fc.constantFrom('a', 'b', 'index', 'x'), fc.constantFrom('.js', '.py', '.env', '.json')).map((p) => p.join('')),
    text: plantedArb.map((p) => p.text),
  }),
  { minLength: 1, maxLength: 6, selector: (f) => f.path },
);

/**
 * The built-in rules plus one that never matches: a ruleset that is not the built-in one only
 * ever runs on workers, which a watchdog can stop, so they alone read a directory in bulk.
 */
const UNTRUSTED_BUILTIN = compileRules([
  ...builtinRuleDefinitions(),
  { id: 'never-matches', title: 'Never matches', severity: 'low', keywords: ['qqzzqqzz'], pattern: '(qqzzqqzz[0-9]{40})', maxLength: 48, examples: [], negative_examples: [] },
]);

// ---------- comparing findings ----------

/** What identifies a finding independent of how the bytes were delivered: rule, innermost path, line, column, offset. */
function key(f: Finding, strip = ''): string {
  const inner = f.location.entry.at(-1) ?? f.location.artifact.slice(strip.length);
  return `${f.ruleId} ${inner}:${f.location.line}:${f.location.column}@${f.location.byteOffset}`;
}
const keys = (findings: Finding[], strip = '') => findings.map((f) => key(f, strip)).sort();

/** Cases whose scan found something: a property that only ever compared empty sets proves nothing. */
let nonEmpty = 0;
function counted(k: string[]): string[] {
  if (k.length > 0) nonEmpty++;
  return k;
}
function expectMostlyNonEmpty(before: number, runs: number): void {
  expect(nonEmpty - before, 'too few cases had findings').toBeGreaterThan(runs / 2);
}

async function scanKeys(inputs: string[], options: ScanOptions): Promise<string[]> {
  const result = await scanAll(inputs, options);
  expect(result.errors).toEqual([]);
  return keys(result.findings);
}

/** Feeds bytes as an async iterable in slices of the given sizes, cycling through them. */
async function* sliced(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let at = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? 1);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

// ---------- properties ----------

describe('properties (fast-check, fixed seed)', () => {
  it('a secret at any offset is found with the right line and column, whatever the chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(plantedArb, fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 3000 }), async (planted, padding, chunkSize) => {
        // Padding moves the secrets to every offset relative to chunk boundaries.
        const pad = ' '.repeat(padding);
        const text = pad + planted.text;
        const d = await caseDir();
        await writeFile(join(d, 'f.txt'), text);
        const result = await scanAll(['f.txt'], { cwd: d, jobs: 0, chunkSize });
        expect(result.errors).toEqual([]);
        const want = planted.expected.map((e) => `${e.ruleId} ${e.line}:${e.line === 1 ? e.column + padding : e.column}`).sort();
        const got = result.findings.filter((f) => f.ruleId in { 'github-classic-token': 1, 'npm-access-token': 1 }).map((f) => `${f.ruleId} ${f.location.line}:${f.location.column}`);
        expect(got.sort()).toEqual(want);
      }),
      run(RUNS.offset),
    );
  });

  it('the same findings whatever the chunk size', async () => {
    const before = nonEmpty;
    await fc.assert(
      fc.asyncProperty(treeArb, fc.integer({ min: 16, max: 4096 }), async (tree, chunkSize) => {
        const d = await treeDir(tree);
        const whole = counted(await scanKeys(['t'], { cwd: d, jobs: 0 }));
        expect(await scanKeys(['t'], { cwd: d, jobs: 0, chunkSize })).toEqual(whole);
      }),
      run(RUNS.chunks),
    );
    expectMostlyNonEmpty(before, RUNS.chunks);
  });

  it('the same findings with 0, 1 or 2 worker threads', async () => {
    const before = nonEmpty;
    await fc.assert(
      fc.asyncProperty(treeArb, fc.integer({ min: 64, max: 2048 }), async (tree, chunkSize) => {
        const d = await treeDir(tree);
        // inlineBytes 0: every batch really goes to the workers; small chunks make many batches finish out of order.
        const inline = counted(await scanKeys(['t'], { cwd: d, jobs: 0, chunkSize }));
        expect(await scanKeys(['t'], { cwd: d, jobs: 1, inlineBytes: 0, chunkSize })).toEqual(inline);
        expect(await scanKeys(['t'], { cwd: d, jobs: 2, inlineBytes: 0, chunkSize })).toEqual(inline);
      }),
      run(RUNS.workers),
    );
    expectMostlyNonEmpty(before, RUNS.workers);
  });

  it('a directory gives the same findings, problems and totals read in bulk on every thread (or on the workers alone, for rules from a config file) as read file by file', async () => {
    const before = nonEmpty;
    await fc.assert(
      fc.asyncProperty(treeArb, fc.integer({ min: 64, max: 4096 }), async (tree, chunkSize) => {
        const d = await treeDir(tree);
        // Beside the small plain files every thread reads: files the usual path must read
        // instead (larger than one chunk, archives, an unsupported format) and an empty one.
        const all = tree.map((f) => f.text).join('\n');
        await writeFile(join(d, 't', 'big.txt'), all.repeat(Math.ceil((3 * chunkSize) / Math.max(1, all.length))));
        await writeFile(join(d, 't', 'pkg.tgz'), gzipSync(await tarOf(tree)));
        await writeFile(join(d, 't', 'data.bz2'), 'BZh91AY&SY');
        await writeFile(join(d, 't', 'empty.js'), '');
        // Path rules: one reports the file by its name alone, one runs only in such files.
        await writeFile(join(d, 't', '.env'), `${tree[0]?.text ?? ''}\nAPI_TOKEN=${randomBody(chunkSize, 24)}\n`);
        const fileByFile = await scanAll(['t'], { cwd: d, jobs: 0, chunkSize, bulkDirectories: false });
        const expected = { keys: counted(keys(fileByFile.findings)), errors: fileByFile.errors, files: fileByFile.stats.files, bytes: fileByFile.stats.bytes, artifacts: fileByFile.stats.artifacts };
        expect(expected.errors.map((e) => e.kind)).toEqual(['unsupported']);
        for (const options of [{ jobs: 0 }, { jobs: 1, inlineBytes: 0 }, { jobs: 2, inlineBytes: 0 }, { jobs: 1, ruleset: UNTRUSTED_BUILTIN }]) {
          const bulk = await scanAll(['t'], { cwd: d, chunkSize, ...options });
          expect({ keys: keys(bulk.findings), errors: bulk.errors, files: bulk.stats.files, bytes: bulk.stats.bytes, artifacts: bulk.stats.artifacts }).toEqual(expected);
        }
      }),
      run(RUNS.bulk),
    );
    expectMostlyNonEmpty(before, RUNS.bulk);
  });

  it('stdin gives the same findings fed in 1-byte, odd-sized or large slices, for plain, tgz and zip input', async () => {
    const before = nonEmpty;
    const slicing = fc.oneof(
      fc.constant([1]),
      fc.array(fc.integer({ min: 1, max: 777 }), { minLength: 1, maxLength: 8 }),
      fc.constant([1 << 20]),
    );
    await fc.assert(
      fc.asyncProperty(treeArb, fc.constantFrom('plain', 'tgz', 'zip'), slicing, async (tree, kind, sizes) => {
        const bytes = kind === 'plain' ? Buffer.from(tree.map((f) => f.text).join('\n')) : kind === 'tgz' ? await PACKERS.tgz!(tree) : await PACKERS.zip!(tree);
        const whole = counted(await scanKeys(['-'], { jobs: 0, stdin: sliced(bytes, [bytes.length || 1]) }));
        expect(await scanKeys(['-'], { jobs: 0, stdin: sliced(bytes, sizes) })).toEqual(whole);
      }),
      run(RUNS.stdin),
    );
    expectMostlyNonEmpty(before, RUNS.stdin);
  });

  it('packing a tree into tar, tgz, zip or nested archives gives the same findings as the directory', async () => {
    const before = nonEmpty;
    await fc.assert(
      fc.asyncProperty(treeArb, fc.constantFrom(...Object.keys(PACKERS)), async (tree, packer) => {
        const d = await treeDir(tree);
        const fromDir = await scanAll(['t'], { cwd: d, jobs: 0 });
        expect(fromDir.errors).toEqual([]);
        await writeFile(join(d, 'artifact'), await PACKERS[packer]!(tree));
        const fromArchive = await scanAll(['artifact'], { cwd: d, jobs: 0 });
        expect(fromArchive.errors).toEqual([]);
        expect(keys(fromArchive.findings)).toEqual(counted(keys(fromDir.findings, 't/')));
      }),
      run(RUNS.packing),
    );
    expectMostlyNonEmpty(before, RUNS.packing);
  });
});
