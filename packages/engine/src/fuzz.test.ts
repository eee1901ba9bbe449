import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { base62Crc32 } from '@pubguard/corpus';
import { pack } from 'tar-stream';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan, type ScanOptions } from './scan.js';
import type { ScanEvent } from './types.js';

/**
 * The suite runs a bounded number of iterations from a fixed seed; `pnpm fuzz` runs the
 * same code with more iterations and a random seed. A failure names its seed and iteration;
 * PUBGUARD_FUZZ_SEED and PUBGUARD_FUZZ_ONLY replay exactly that case.
 */
const SEED = Number(process.env.PUBGUARD_FUZZ_SEED ?? 0xf0220001) >>> 0;
const ITERATIONS = Number(process.env.PUBGUARD_FUZZ_ITERATIONS ?? 400);
const ONLY = process.env.PUBGUARD_FUZZ_ONLY === undefined ? undefined : Number(process.env.PUBGUARD_FUZZ_ONLY);
/** Wall time one scan of one mutated artifact may take; the inputs are a few tens of KB. */
const RUN_BOUND_MS = Number(process.env.PUBGUARD_FUZZ_BOUND_MS ?? 10_000);

/** mulberry32: the same sequence for the same seed on every machine. */
function prng(seed: number): { int: (min: number, max: number) => number } {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

// ---------- valid artifacts to start from ----------

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A GitHub-style token with a valid checksum, derived from `n` so nothing real-looking is committed. */
function token(n: number): string {
  const r = prng(n);
  let body = '';
  for (let i = 0; i < 30; i++) body += BASE62[r.int(0, 61)];
  // The corpus computes the checksum on its own, as an oracle independent of the validators.
  return `ghp_${body}${base62Crc32(body)}`;
}

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) parts.push(c);
  })();
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    await new Promise<void>((res, rej) => p.entry({ name, size: data.length, mode: 0o644 }, data, (err) => (err ? rej(err) : res())));
  }
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

async function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  let i = 0;
  // Alternate stored and deflated entries so both decoders are fuzzed.
  for (const [name, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), name, { compress: i++ % 3 !== 2 });
  z.end();
  const parts: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

function code(lines: number, seed: number): string {
  const r = prng(seed);
  let out = '';
  for (let i = 0; i < lines; i++) out += `export const v${i} = ${r.int(0, 1e6)}; // ${'abcdefgh'.slice(0, r.int(1, 8))}\n`;
  return out;
}

/** A valid artifact; for a tgz also its tar, so mutations can reach the tar parser through a valid gzip layer. */
interface Base {
  name: string;
  bytes: Buffer;
  tar?: Buffer;
}

/** Valid tgz, zip and whl artifacts (some nested), each with planted secrets. */
async function baseArtifacts(): Promise<Base[]> {
  const npm = await tarOf({
    'package/package.json': '{"name":"pkg","version":"1.0.0"}\n',
    'package/index.js': `module.exports = { token: "${token(1)}" };\n`,
    'package/lib/util.js': code(400, 2),
    'package/README.md': '# pkg\n',
  });
  const wheel = await zipOf({
    'pkg/__init__.py': `TOKEN = "${token(3)}"\n`,
    'pkg/core.py': code(300, 4),
    'pkg-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n',
    'pkg-1.0.dist-info/RECORD': 'pkg/__init__.py,,\n',
  });
  const zip = await zipOf({ 'a.txt': `key ${token(5)}\n`, 'b/c.json': JSON.stringify({ t: token(6), pad: code(50, 7) }) });
  const withWheel = await tarOf({ 'package/dist/pkg.whl': wheel, 'package/x.js': `"${token(8)}"` });
  return [
    { name: 'tgz', bytes: gzipSync(npm), tar: npm },
    { name: 'whl', bytes: wheel },
    { name: 'zip', bytes: zip },
    { name: 'tgz-with-whl', bytes: gzipSync(withWheel), tar: withWheel },
    { name: 'whl-with-tgz', bytes: await zipOf({ 'pkg/data/vendored.tgz': gzipSync(npm), 'pkg/__init__.py': '' }) },
  ];
}

// ---------- mutations ----------

type Mutation = { kind: string; apply: (b: Buffer, donor: Buffer, r: ReturnType<typeof prng>) => Buffer };

const MUTATIONS: Mutation[] = [
  {
    kind: 'bit flips',
    apply: (b, _d, r) => {
      const out = Buffer.from(b);
      for (let n = r.int(1, 16); n > 0; n--) {
        const at = r.int(0, out.length - 1);
        out[at] = (out[at] as number) ^ (1 << r.int(0, 7));
      }
      return out;
    },
  },
  {
    kind: 'byte overwrite',
    apply: (b, _d, r) => {
      const out = Buffer.from(b);
      const at = r.int(0, out.length - 1);
      out.fill([0x00, 0xff, 0x7f, 0x80][r.int(0, 3)] as number, at, Math.min(out.length, at + r.int(1, 64)));
      return out;
    },
  },
  {
    // The end of a zip holds its central directory: the structure yauzl trusts most.
    kind: 'bit flips in the last 10%',
    apply: (b, _d, r) => {
      const out = Buffer.from(b);
      for (let n = r.int(1, 8); n > 0; n--) {
        const at = r.int(Math.floor(out.length * 0.9), out.length - 1);
        out[at] = (out[at] as number) ^ (1 << r.int(0, 7));
      }
      return out;
    },
  },
  { kind: 'truncation', apply: (b, _d, r) => b.subarray(0, r.int(0, b.length - 1)) },
  {
    kind: 'duplicated region',
    apply: (b, _d, r) => {
      const from = r.int(0, b.length - 1);
      const region = b.subarray(from, Math.min(b.length, from + r.int(1, 4096)));
      const at = r.int(0, b.length);
      return Buffer.concat([b.subarray(0, at), region, b.subarray(at)]);
    },
  },
  {
    kind: 'spliced region',
    apply: (b, d, r) => {
      const from = r.int(0, d.length - 1);
      const region = d.subarray(from, Math.min(d.length, from + r.int(1, 8192)));
      const at = r.int(0, b.length - 1);
      const cut = r.int(0, 8192);
      return Buffer.concat([b.subarray(0, at), region, b.subarray(Math.min(b.length, at + cut))]);
    },
  },
];

/** One fuzz case, fully determined by the seed and the iteration. */
interface Case {
  iteration: number;
  base: string;
  mutations: string[];
  viaStdin: boolean;
  spill: boolean;
  bytes: Buffer;
}

function makeCase(bases: Base[], iteration: number): Case {
  const r = prng((SEED ^ Math.imul(iteration + 1, 0x9e3779b9)) >>> 0);
  const base = bases[r.int(0, bases.length - 1)]!;
  const donor = bases[r.int(0, bases.length - 1)]!;
  // Half the time a tgz's tar is mutated and gzipped again, so the damage gets past the gzip checks.
  const inner = base.tar !== undefined && r.int(0, 1) === 0;
  const original = inner ? (base.tar as Buffer) : base.bytes;
  let bytes = original;
  const mutations: string[] = [];
  for (let n = r.int(1, 3); n > 0; n--) {
    const m = MUTATIONS[r.int(0, MUTATIONS.length - 1)]!;
    bytes = m.apply(bytes, donor.tar ?? donor.bytes, r);
    if (bytes.length === 0) bytes = Buffer.from(original.subarray(0, 1));
    mutations.push(inner ? `${m.kind} (in the tar)` : m.kind);
  }
  if (inner) bytes = gzipSync(bytes);
  return { iteration, base: base.name, mutations, viaStdin: r.int(0, 2) === 0, spill: r.int(0, 3) === 0, bytes };
}

// ---------- running ----------

let dir: string;
let spillDir: string;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => void unhandled.push(err);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-fuzz-'));
  spillDir = await mkdtemp(join(tmpdir(), 'pubguard-fuzz-spill-'));
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await rm(dir, { recursive: true, force: true });
  await rm(spillDir, { recursive: true, force: true });
});

async function* once(bytes: Buffer): AsyncGenerator<Uint8Array> {
  // Odd-sized slices, as a pipe delivers them.
  for (let at = 0; at < bytes.length; at += 4093) yield bytes.subarray(at, at + 4093);
}

/** Scans one case with a wall-time bound; resolves with its events or rejects saying why. */
async function runCase(c: Case): Promise<ScanEvent[]> {
  const controller = new AbortController();
  const options: ScanOptions = { jobs: 0, progressIntervalMs: 0, signal: controller.signal, cwd: dir, tmpDir: spillDir };
  // Small in-memory limit now and then, so nested zips go through the spill file.
  if (c.spill) options.limits = { maxInMemoryArchiveBytes: 1024 };
  let input = '-';
  if (c.viaStdin) options.stdin = once(c.bytes);
  else {
    input = `case-${c.iteration}.bin`;
    await writeFile(join(dir, input), c.bytes);
  }
  const events: ScanEvent[] = [];
  const work = (async () => {
    for await (const e of scan([input], options)) events.push(e);
    return events;
  })();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`scan did not finish within ${RUN_BOUND_MS} ms`));
    }, RUN_BOUND_MS);
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

function describeCase(c: Case): string {
  return `seed=${SEED} iteration=${c.iteration} (${c.base}: ${c.mutations.join(', ')}; ${c.viaStdin ? 'stdin' : 'file'}${c.spill ? ', spill' : ''}); replay with PUBGUARD_FUZZ_SEED=${SEED} PUBGUARD_FUZZ_ONLY=${c.iteration}`;
}

/** Checks one case; returns what went wrong, or undefined. */
async function check(c: Case, seen: { errors: number; normal: number }): Promise<string | undefined> {
  let events: ScanEvent[];
  const before = unhandled.length;
  try {
    events = await runCase(c);
  } catch (err) {
    return `threw: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (events.some((e) => e.type === 'error')) seen.errors++;
  else seen.normal++;
  // Let stray rejections from this case surface before judging it.
  await new Promise((r) => setImmediate(r));
  if (unhandled.length > before) return `unhandled: ${String(unhandled[unhandled.length - 1])}`;
  const last = events.at(-1);
  if (last?.type !== 'done') return 'the scan did not end with a done event';
  if (events.filter((e) => e.type === 'done').length !== 1) return 'more than one done event';
  for (const e of events) {
    if (e.type !== 'error') continue;
    // An internal error is an exception no reader anticipated: a bug, even if reported politely.
    if (e.error.kind === 'internal') return `internal error: ${e.error.path}: ${e.error.message}`;
    if (/\n\s+at /.test(e.error.message)) return `stack trace in a message: ${e.error.message}`;
    if (e.error.message.length === 0) return 'empty error message';
  }
  const left = await readdir(spillDir);
  if (left.length > 0) return `spill files left behind: ${left.join(', ')}`;
  return undefined;
}

describe(`fuzz: mutated tgz, zip and whl artifacts (seed ${SEED})`, () => {
  it('the valid artifacts scan cleanly and yield their planted secrets', async () => {
    for (const base of await baseArtifacts()) {
      const events = await runCase({ iteration: -1, base: base.name, mutations: [], viaStdin: false, spill: false, bytes: base.bytes });
      expect(events.filter((e) => e.type === 'error'), base.name).toEqual([]);
      expect(events.filter((e) => e.type === 'finding').length, base.name).toBeGreaterThan(0);
    }
  });

  it(`${ONLY === undefined ? ITERATIONS : 1} mutated artifacts: no crash, no hang, errors or a normal result, always done`, async () => {
    const bases = await baseArtifacts();
    const iterations = ONLY === undefined ? Array.from({ length: ITERATIONS }, (_, i) => i) : [ONLY];
    const failures: string[] = [];
    const seen = { errors: 0, normal: 0 };
    for (const i of iterations) {
      const c = makeCase(bases, i);
      const problem = await check(c, seen);
      if (problem !== undefined) {
        failures.push(`${describeCase(c)}: ${problem}`);
        if (failures.length >= 5) break;
      }
    }
    console.log(`fuzz seed ${SEED}: ${seen.errors} cases reported errors, ${seen.normal} scanned normally`);
    if (failures.length > 0) console.error(`fuzz failures:\n${failures.join('\n')}`);
    expect(failures).toEqual([]);
    if (ONLY === undefined && ITERATIONS >= 100) {
      // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
      expect(seen.errors).toBeGreaterThan(ITERATIONS / 10);
      expect(seen.normal).toBeGreaterThan(0);
    }
  }, Math.max(60_000, ITERATIONS * 200));
});
