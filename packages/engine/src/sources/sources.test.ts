import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import yazl from 'yazl';
import { gzipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../limits.js';
import type { ScanLimits } from '../types.js';
import { COLLECT_EVERY_BYTES, freshBytesNoted, noteFreshBytes, wantCollections } from './collect.js';
import { enumerate, joinChain, type EnumerateOptions } from './index.js';
import { BATCH_ITEMS } from './held.js';
import { readPlainFileSync } from './plain.js';
import { BufferPool } from './stream.js';
import type { SourceItem } from './types.js';

/**
 * `enumerate`, with the items of each batch handed out one by one, as the scan takes them, less
 * the names of archive entries (`entryNames` below), which every entry has.
 */
async function* items(inputs: string[], o: EnumerateOptions): AsyncGenerator<Exclude<SourceItem, { kind: 'batch' | 'entry' }>, void, undefined> {
  for await (const item of enumerate(inputs, o)) {
    for (const one of item.kind === 'batch' ? item.items : [item]) if (one.kind !== 'entry') yield one;
  }
}

/** The chains of the `entry` items of `enumerate`, joined, in order. */
async function entryNames(inputs: string[], o: EnumerateOptions): Promise<string[]> {
  const names: string[] = [];
  for await (const item of enumerate(inputs, o)) {
    for (const one of item.kind === 'batch' ? item.items : [item]) {
      if (one.kind === 'entry') names.push(joinChain(one.chain));
      else if (one.kind === 'file') for await (const _ of one.bytes);
    }
  }
  return names;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-sources-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---------- fixture builders ----------

interface TarSpec {
  name: string;
  data?: string | Buffer;
  type?: 'file' | 'symlink' | 'link' | 'directory' | 'character-device' | 'block-device' | 'fifo';
  mode?: number;
  linkname?: string;
}

async function tarOf(entries: TarSpec[]): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) parts.push(c);
  })();
  for (const e of entries) {
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    const header = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, linkname: e.linkname, size: data?.length ?? 0 };
    await new Promise<void>((res, rej) => {
      if (data) p.entry(header, data, (err) => (err ? rej(err) : res()));
      // streamx's types ask end() for a chunk it does not need.
      else p.entry(header, (err) => (err ? rej(err) : res())).end(undefined);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

interface ZipSpec {
  name: string;
  data: string | Buffer;
  compress?: boolean;
  mode?: number;
}

async function zipOf(entries: ZipSpec[], zip64 = false): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const e of entries) {
    if (e.name.endsWith('/')) {
      z.addEmptyDirectory(e.name, e.mode !== undefined ? { mode: e.mode } : {});
      continue;
    }
    z.addBuffer(Buffer.from(e.data), e.name, {
      compress: e.compress ?? true,
      forceZip64Format: zip64,
      ...(e.mode !== undefined ? { mode: e.mode } : {}),
    });
  }
  z.end();
  const parts: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** Offsets of every central directory header in a zip. */
function centralHeaders(zip: Buffer): number[] {
  const out: number[] = [];
  let i = zip.indexOf('PK\x01\x02', 0, 'latin1');
  while (i >= 0) {
    out.push(i);
    i = zip.indexOf('PK\x01\x02', i + 4, 'latin1');
  }
  return out;
}

function replaceAll(buf: Buffer, from: string, to: Buffer): Buffer {
  const out = Buffer.from(buf);
  const needle = Buffer.from(from);
  let i = out.indexOf(needle);
  while (i >= 0) {
    to.copy(out, i);
    i = out.indexOf(needle, i + needle.length);
  }
  return out;
}

/** Recomputes the checksum of the 512-byte tar header at `at` after a test edited it. */
function fixTarChecksum(tar: Buffer, at = 0): void {
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += tar[i]!;
  tar.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 'latin1');
}

async function put(name: string, data: Buffer | string): Promise<string> {
  const p = join(dir, name);
  await mkdir(join(p, '..'), { recursive: true });
  await writeFile(p, data);
  return p;
}

// ---------- running enumerate ----------

type Seen =
  | { t: 'artifact'; path: string }
  | { t: 'file'; path: string; text: string; size?: number }
  | { t: 'error'; path: string; kind: string; limit?: string; message: string }
  | { t: 'link'; path: string; name: string }
  | { t: 'structure'; path: string; ruleId: string; detail: string };

function opts(limits: Partial<ScanLimits> = {}, extra: Partial<EnumerateOptions> = {}): EnumerateOptions {
  return { cwd: dir, ignore: [], limits: { ...DEFAULT_LIMITS, ...limits }, tmpDir: dir, ...extra };
}

async function collect(inputs: string[], o: EnumerateOptions = opts(), read = true): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const item of items(inputs, o)) out.push(await see(item, read));
  return out;
}

async function see(item: SourceItem, read: boolean): Promise<Seen> {
  switch (item.kind) {
    case 'artifact':
      return { t: 'artifact', path: item.path };
    case 'file': {
      const parts: Buffer[] = [];
      if (read) for await (const c of item.bytes) parts.push(Buffer.from(c));
      // A file held whole offers the very bytes it yields.
      if (read && item.whole !== undefined) expect(Buffer.from(item.whole).equals(Buffer.concat(parts))).toBe(true);
      const s: Seen = { t: 'file', path: joinChain(item.chain), text: Buffer.concat(parts).toString('latin1') };
      if (item.size !== undefined) s.size = item.size;
      return s;
    }
    case 'error': {
      const e: Seen = { t: 'error', path: item.error.path, kind: item.error.kind, message: item.error.message };
      if (item.error.limit !== undefined) e.limit = item.error.limit;
      return e;
    }
    case 'structure':
      return { t: 'structure', path: joinChain(item.chain), ruleId: item.ruleId, detail: item.detail };
    case 'link':
      return { t: 'link', path: item.path, name: item.name };
    case 'disk-files':
      throw new Error('these tests never ask for disk-files items');
    case 'batch':
      throw new Error('items() hands out the items of a batch one by one');
    case 'entry':
      throw new Error('items() leaves out the names of entries');
  }
}

const files = (s: Seen[]): string[] => s.filter((x) => x.t === 'file').map((x) => x.path);
const errors = (s: Seen[]) => s.filter((x): x is Extract<Seen, { t: 'error' }> => x.t === 'error');
const structures = (s: Seen[]) => s.filter((x): x is Extract<Seen, { t: 'structure' }> => x.t === 'structure');

// ---------- tests ----------

describe('joinChain', () => {
  it('joins outermost first with !', () => {
    expect(joinChain(['dist/a.tgz', 'package/x.whl', 'x/y.py'])).toBe('dist/a.tgz!package/x.whl!x/y.py');
  });
});

describe('kinds', () => {
  it('reads gzip data inflated at once or streamed alike: members, concatenated members, tarballs, large output', async () => {
    const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i % 997} of the text, with words that repeat\n`).join('');
    const small = lines(50, 'small');
    // Under a mebibyte compressed, but more than the few mebibytes inflated at once.
    const large = lines(200_000, 'large');
    expect(Buffer.byteLength(large)).toBeGreaterThan(4 * 1024 * 1024);
    expect(gzipSync(large).length).toBeLessThan(1024 * 1024);
    await put('wholegz/small.txt.gz', gzipSync(small));
    await put('wholegz/large.txt.gz', gzipSync(large));
    await put('wholegz/two.txt.gz', Buffer.concat([gzipSync('first member\n'), gzipSync('second member\n')]));
    await put('wholegz/pkg.tgz', gzipSync(await tarOf([{ name: 'package/a.txt', data: small }])));
    const s = await collect(['wholegz/small.txt.gz', 'wholegz/large.txt.gz', 'wholegz/two.txt.gz', 'wholegz/pkg.tgz']);
    expect(errors(s)).toEqual([]);
    const text = (path: string) => (s.find((x) => x.t === 'file' && x.path === path) as { text: string } | undefined)?.text;
    expect(text('wholegz/small.txt.gz!small.txt')).toBe(small);
    expect(text('wholegz/large.txt.gz!large.txt')).toBe(large);
    expect(text('wholegz/two.txt.gz!two.txt')).toBe('first member\nsecond member\n');
    expect(text('wholegz/pkg.tgz!package/a.txt')).toBe(small);
  });

  it('tells when a stream is inflated on the thread pool and when it stops, also when the consumer breaks out', async () => {
    const MiB = 1024 * 1024;
    const noise = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0x7f));
    const text = Array.from({ length: 200_000 }, (_, i) => `line ${i % 997} of the text, with words that repeat\n`).join('');
    await put('inflating/small.txt.gz', gzipSync('a few words\n'));
    await put('inflating/large.txt.gz', gzipSync(text));
    await put('inflating/pkg.tgz', gzipSync(await tarOf([{ name: 'package/a.txt', data: text }])));
    await put(
      'inflating/entries.zip',
      await zipOf([
        { name: 'small.txt', data: noise(1000, 1) },
        { name: 'deflated.txt', data: noise(MiB + 1, 2) },
        { name: 'stored.txt', data: noise(MiB + 1, 3), compress: false },
      ]),
    );
    const told = async (inputs: string[], consume: (items: AsyncGenerator<SourceItem>) => Promise<void>) => {
      const seen = { started: 0, running: 0, most: 0 };
      const onInflating = (delta: 1 | -1) => {
        if (delta > 0) seen.started++;
        seen.running += delta;
        seen.most = Math.max(seen.most, seen.running);
      };
      await consume(items(inputs, opts({}, { onInflating })));
      return seen;
    };
    const readAll = async (items: AsyncGenerator<SourceItem>) => {
      for await (const item of items) await see(item, true);
    };
    // Small data is inflated at once on this thread; stored entries are not inflated at all.
    expect(await told(['inflating/small.txt.gz'], readAll)).toEqual({ started: 0, running: 0, most: 0 });
    expect(await told(['inflating/large.txt.gz'], readAll)).toEqual({ started: 1, running: 0, most: 1 });
    expect(await told(['inflating/pkg.tgz'], readAll)).toEqual({ started: 1, running: 0, most: 1 });
    expect(await told(['inflating/entries.zip'], readAll)).toEqual({ started: 1, running: 0, most: 1 });
    // Leaves in the middle of the named member, after its first chunk.
    const breakOutOf = (name: string) => async (items: AsyncGenerator<SourceItem>) => {
      for await (const item of items) {
        if (item.kind === 'file' && item.chain[item.chain.length - 1] === name) {
          for await (const _ of item.bytes) break;
          break;
        }
      }
    };
    expect(await told(['inflating/pkg.tgz'], breakOutOf('package/a.txt'))).toEqual({ started: 1, running: 0, most: 1 });
    expect(await told(['inflating/entries.zip'], breakOutOf('deflated.txt'))).toEqual({ started: 1, running: 0, most: 1 });
  });

  it('reads zip entries on both sides of the size read whole, stored or deflated, from a file, memory or a spill file', async () => {
    const MiB = 1024 * 1024;
    const noise = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0x7f));
    const entries: ZipSpec[] = [
      { name: 'small.txt', data: noise(1000, 1) },
      { name: 'stored.txt', data: noise(3000, 2), compress: false },
      { name: 'exact.txt', data: noise(MiB, 3) },
      { name: 'over.txt', data: noise(MiB + 1, 4) },
      { name: 'over-stored.txt', data: noise(MiB + 7, 5), compress: false },
      { name: 'inner.tgz', data: gzipSync(await tarOf([{ name: 'in.txt', data: 'inner text' }])) },
      { name: 'empty.txt', data: '' },
    ];
    const zip = await zipOf(entries);
    await put('wholezip/top.zip', zip);
    // The same zip nested in a tar: read from memory, or from a spill file past the limit.
    await put('wholezip/nested.tar', await tarOf([{ name: 'pkg.zip', data: zip }]));
    const expected = (prefix: string) => [
      ...entries.filter((e) => !e.name.endsWith('.tgz')).map((e) => [`${prefix}${e.name}`, Buffer.from(e.data).toString('latin1')]),
      [`${prefix}inner.tgz!in.txt`, 'inner text'],
    ];
    const contents = (s: Seen[]) =>
      s
        .filter((x): x is Extract<Seen, { t: 'file' }> => x.t === 'file')
        .map((x) => [x.path, x.text])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    const sorted = (rows: string[][]) => rows.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    const top = await collect(['wholezip/top.zip']);
    expect(errors(top)).toEqual([]);
    expect(contents(top)).toEqual(sorted(expected('wholezip/top.zip!')));
    const inMemory = await collect(['wholezip/nested.tar']);
    expect(errors(inMemory)).toEqual([]);
    expect(contents(inMemory)).toEqual(sorted(expected('wholezip/nested.tar!pkg.zip!')));
    const spilled = await collect(['wholezip/nested.tar'], opts({ maxInMemoryArchiveBytes: 1024 }));
    expect(errors(spilled)).toEqual([]);
    expect(contents(spilled)).toEqual(sorted(expected('wholezip/nested.tar!pkg.zip!')));
  });

  it('reads tar entries on both sides of the size read whole, nested archives included', async () => {
    const MiB = 1024 * 1024;
    // Bytes that gzip cannot shrink, so the large nested tgz is large inside the tar too.
    const noise = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0x7f));
    const small = noise(1000, 1);
    const exact = noise(MiB, 2);
    const over = noise(MiB + 1, 3);
    const inner = gzipSync(await tarOf([{ name: 'in.txt', data: 'inner text' }]));
    const bigInner = gzipSync(await tarOf([{ name: 'big.txt', data: over }]), { level: 0 });
    expect(bigInner.length).toBeGreaterThan(MiB);
    await put(
      'whole/mix.tar',
      await tarOf([
        { name: 'small.txt', data: small },
        { name: 'exact.txt', data: exact },
        { name: 'over.txt', data: over },
        { name: 'inner.tgz', data: inner },
        { name: 'big-inner.tgz', data: bigInner },
        { name: 'empty.txt', data: '' },
      ]),
    );
    const s = await collect(['whole/mix.tar']);
    expect(errors(s)).toEqual([]);
    const text = (path: string) => (s.find((x) => x.t === 'file' && x.path === path) as { text: string } | undefined)?.text;
    expect(files(s)).toEqual(['whole/mix.tar!small.txt', 'whole/mix.tar!exact.txt', 'whole/mix.tar!over.txt', 'whole/mix.tar!inner.tgz!in.txt', 'whole/mix.tar!big-inner.tgz!big.txt', 'whole/mix.tar!empty.txt']);
    expect(text('whole/mix.tar!small.txt')).toBe(small.toString('latin1'));
    expect(text('whole/mix.tar!exact.txt')).toBe(exact.toString('latin1'));
    expect(text('whole/mix.tar!over.txt')).toBe(over.toString('latin1'));
    expect(text('whole/mix.tar!inner.tgz!in.txt')).toBe('inner text');
    expect(text('whole/mix.tar!big-inner.tgz!big.txt')).toBe(over.toString('latin1'));
    expect(text('whole/mix.tar!empty.txt')).toBe('');
  });

  it('reads a tar of many entries in order, whatever is read whole, streamed, skipped or left unread', async () => {
    const MiB = 1024 * 1024;
    const specs: TarSpec[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 700; i++) {
      const name = `pkg/f${i}.txt`;
      if (i % 97 === 5 && i < 300) {
        // Larger than what is read whole: handed out as a stream. The last 400 entries (5 MB)
        // hold none, so the reader fills its queue and waits for the consumer.
        specs.push({ name, data: Buffer.alloc(MiB + 3 + i, 65 + (i % 26)) });
      } else if (i % 131 === 7) {
        // Over maxEntryBytes: skipped, with an error.
        specs.push({ name, data: Buffer.alloc(2 * MiB, 0x41) });
        continue;
      } else if (i % 50 === 3) {
        specs.push({ name: `pkg/d${i}/`, type: 'directory' });
        specs.push({ name: `pkg/l${i}`, type: 'symlink', linkname: `f${i - 1}.txt` });
        continue;
      } else {
        specs.push({ name, data: `file ${i} `.repeat((i * 37) % 3000) });
      }
      expected.push(`many/big.tar!${name}`);
    }
    const tar = await tarOf(specs);
    const limits = { maxEntryBytes: 1.5 * MiB };
    await put('many/big.tar', tar);
    // A consumer that now and then falls behind, so the reader's queue fills up and waits.
    const s: Seen[] = [];
    for await (const item of items(['many/big.tar'], opts(limits))) {
      s.push(await see(item, true));
      if (s.length % 100 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    expect(files(s)).toEqual(expected);
    expect(errors(s).map((e) => e.limit)).toEqual(specs.filter((e) => Buffer.byteLength(e.data ?? '') === 2 * MiB).map(() => 'maxEntryBytes'));
    const byPath = new Map(s.flatMap((x) => (x.t === 'file' ? [[x.path, x.text] as const] : [])));
    for (const e of specs) {
      if (e.data !== undefined && Buffer.byteLength(e.data) <= limits.maxEntryBytes) expect(byPath.get(`many/big.tar!${e.name}`)).toBe(Buffer.from(e.data).toString('latin1'));
    }
    // A consumer that reads no file's bytes gets the same entries: streamed ones are drained.
    const unread = await collect(['many/big.tar'], opts(limits), false);
    expect(files(unread)).toEqual(expected);
    expect(errors(unread)).toEqual(errors(s));
    // The small files at hand come in batches, not one item each.
    let handedOut = 0;
    for await (const item of enumerate(['many/big.tar'], opts(limits))) {
      handedOut++;
      if (item.kind === 'batch') expect(item.items.every((i) => i.kind !== 'file' || i.whole !== undefined)).toBe(true);
      if (item.kind === 'file') for await (const _ of item.bytes) continue;
    }
    expect(handedOut).toBeLessThan(expected.length / 4);
  });

  it('parses a tar only a bounded way ahead of the consumer', async () => {
    const tar = await tarOf(Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.alloc(8192, 97) })));
    let pulled = 0;
    async function* stdin(): AsyncGenerator<Buffer> {
      for (let i = 0; i < tar.length; i += 65536) {
        const c = tar.subarray(i, i + 65536);
        pulled += c.length;
        yield c;
      }
    }
    const found = items(['-'], opts({}, { stdin: stdin() }));
    for await (const item of found) {
      if (item.kind !== 'file') continue;
      // Time for the reader to run as far ahead as it would.
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      break;
    }
    expect(tar.length).toBeGreaterThan(16 * 1024 * 1024);
    expect(pulled).toBeLessThan(4 * 1024 * 1024);
  });

  it('reads a zip of many entries in order, from disk or spilled, in batches', async () => {
    const KiB = 1024;
    const noise = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0x7f));
    const specs: ZipSpec[] = [];
    for (let i = 0; i < 600; i++) {
      // Sizes on both sides of the span read at once (256 KiB), stored and deflated.
      const data = i % 150 === 7 ? noise(300 * KiB + i, i) : `zip entry ${i} `.repeat((i * 53) % 900);
      specs.push({ name: `pkg/f${i}.txt`, data, compress: i % 3 !== 0 });
    }
    const zip = await zipOf(specs);
    await put('manyzip/big.zip', zip);
    await put('manyzip/outer.tar', await tarOf([{ name: 'inner.zip', data: zip }]));
    for (const [input, prefix, o] of [
      ['manyzip/big.zip', 'manyzip/big.zip!', opts()],
      ['manyzip/outer.tar', 'manyzip/outer.tar!inner.zip!', opts({ maxInMemoryArchiveBytes: 64 * KiB })],
    ] as const) {
      const s = await collect([input], o);
      expect(errors(s)).toEqual([]);
      expect(files(s)).toEqual(specs.map((e) => `${prefix}${e.name}`));
      const byPath = new Map(s.flatMap((x) => (x.t === 'file' ? [[x.path, x.text] as const] : [])));
      for (const e of specs) expect(byPath.get(`${prefix}${e.name}`), e.name).toBe(Buffer.from(e.data).toString('latin1'));
    }
    // In batches of bounded size, each holding only files held whole.
    const sizes: number[] = [];
    for await (const item of enumerate(['manyzip/big.zip'], opts())) {
      if (item.kind === 'batch') {
        // Entry names go with their files and do not count.
        sizes.push(item.items.filter((i) => i.kind !== 'entry').length);
        expect(item.items.every((i) => i.kind !== 'file' || i.whole !== undefined)).toBe(true);
      } else if (item.kind === 'file') {
        for await (const _ of item.bytes) continue;
      }
    }
    expect(sizes.length).toBeGreaterThan(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(BATCH_ITEMS);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(specs.length * 0.9);
  });

  it('lets a timer through while it reads a zip of many small entries', async () => {
    await put('manyzip/small.zip', await zipOf(Array.from({ length: 5000 }, (_, i) => ({ name: `f${i}.txt`, data: `small ${i}` }))));
    const ac = new AbortController();
    let seen = 0;
    for await (const item of items(['manyzip/small.zip'], opts({}, { signal: ac.signal }))) {
      // Set once the zip is being read: it fires only if the reading lets the event loop turn.
      if (item.kind === 'file' && seen++ === 0) setTimeout(() => ac.abort(), 1);
    }
    expect(ac.signal.aborted).toBe(true);
    expect(seen).toBeLessThan(5000);
  });

  it('reads a plain file and an empty file', async () => {
    await put('plain/a.txt', 'hello');
    await put('plain/empty.txt', '');
    const s = await collect(['plain/a.txt', 'plain/empty.txt']);
    expect(s).toEqual([
      { t: 'artifact', path: 'plain/a.txt' },
      { t: 'file', path: 'plain/a.txt', text: 'hello', size: 5 },
      { t: 'artifact', path: 'plain/empty.txt' },
      { t: 'file', path: 'plain/empty.txt', text: '', size: 0 },
    ]);
  });

  it('reads a .tgz without an extra level for the gzip layer', async () => {
    const tgz = gzipSync(await tarOf([{ name: 'package/package.json', data: '{"name":"x"}' }, { name: 'package/lib/a.js', data: 'A' }]));
    await put('kinds/pkg-1.0.0.tgz', tgz);
    const s = await collect(['kinds/pkg-1.0.0.tgz']);
    expect(s).toEqual([
      { t: 'artifact', path: 'kinds/pkg-1.0.0.tgz' },
      { t: 'file', path: 'kinds/pkg-1.0.0.tgz!package/package.json', text: '{"name":"x"}', size: 12 },
      { t: 'file', path: 'kinds/pkg-1.0.0.tgz!package/lib/a.js', text: 'A', size: 1 },
    ]);
  });

  it('reads a plain tar and an old v7 tar (no ustar magic, valid checksum)', async () => {
    const t = await tarOf([{ name: 'a.txt', data: 'old' }]);
    // Turn the ustar header into a v7 one: clear magic/version and recompute the checksum.
    const v7 = Buffer.from(t);
    v7.fill(0, 257, 265);
    fixTarChecksum(v7);
    await put('kinds/a.tar', t);
    await put('kinds/v7.data', v7);
    expect(files(await collect(['kinds/a.tar', 'kinds/v7.data']))).toEqual(['kinds/a.tar!a.txt', 'kinds/v7.data!a.txt']);
  });

  it('reads a tar entry with a type flag it does not know, as GNU tar and Python extract it: a regular file', async () => {
    const t = Buffer.from(await tarOf([{ name: 'odd.txt', data: 'shipped anyway' }, { name: 'b.txt', data: 'b' }]));
    t[156] = 0x41; // 'A': no POSIX or GNU type
    fixTarChecksum(t);
    await put('kinds/odd.tar', t);
    const s = await collect(['kinds/odd.tar']);
    expect(errors(s)).toEqual([]);
    expect(s.filter((x) => x.t === 'file')).toEqual([
      { t: 'file', path: 'kinds/odd.tar!odd.txt', text: 'shipped anyway', size: 14 },
      { t: 'file', path: 'kinds/odd.tar!b.txt', text: 'b', size: 1 },
    ]);
  });

  it('names a .gz member after the file, or after FNAME when the header has it', async () => {
    await put('kinds/notes.txt.gz', gzipSync('the notes'));
    const body = Buffer.from('named content');
    const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(body), 0);
    trailer.writeUInt32LE(body.length, 4);
    await put('kinds/blob', Buffer.concat([header, Buffer.from('original.cfg\0', 'latin1'), deflateRawSync(body), trailer]));
    const s = await collect(['kinds/notes.txt.gz', 'kinds/blob']);
    expect(s.filter((x) => x.t === 'file')).toEqual([
      { t: 'file', path: 'kinds/notes.txt.gz!notes.txt', text: 'the notes' },
      { t: 'file', path: 'kinds/blob!original.cfg', text: 'named content' },
    ]);
  });

  it('reads concatenated gzip members as one stream', async () => {
    await put('kinds/multi.gz', Buffer.concat([gzipSync('one '), gzipSync('two')]));
    expect((await collect(['kinds/multi.gz']))[1]).toEqual({ t: 'file', path: 'kinds/multi.gz!multi', text: 'one two' });
  });

  describe('gzip data followed by other bytes', () => {
    const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i % 997} of the text, with words that repeat\n`).join('');
    // Bytes that deflate cannot shrink: over a mebibyte compressed, so streamed for its input size.
    const noise = (n: number) => {
      const out = Buffer.alloc(n);
      let x = 2463534242;
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = 0x20 + ((x >>> 0) % 90);
      }
      return out;
    };
    const garbage = Buffer.from('garbage!');
    // Read at once (small), streamed for the size it inflates to, streamed for its own size.
    const small = lines(50, 'small');
    const large = lines(200_000, 'large');
    const wide = noise(1536 * 1024).toString('latin1');
    const cases: [string, string][] = [
      ['small.txt', small],
      ['large.txt', large],
      ['wide.txt', wide],
    ];
    const textOf = (s: Seen[], path: string) => (s.find((x) => x.t === 'file' && x.path === path) as { text: string } | undefined)?.text;

    it('scans the gzip data, then reports the trailing garbage and where it starts, whichever way it is inflated', async () => {
      expect(gzipSync(wide, { level: 1 }).length).toBeGreaterThan(1024 * 1024);
      for (const [name, text] of cases) {
        const gz = gzipSync(text, { level: 1 });
        await put(`trail/${name}.gz`, Buffer.concat([gz, garbage]));
        const s = await collect([`trail/${name}.gz`]);
        expect(textOf(s, `trail/${name}.gz!${name}`)).toBe(text);
        expect(errors(s)).toEqual([
          { t: 'error', path: `trail/${name}.gz`, kind: 'corrupt', message: expect.stringMatching(new RegExp(`^trailing garbage after the gzip data: the bytes from offset ${gz.length} on .*the gzip data before them was`)) },
        ]);
        // The same bytes from stdin, in odd slices that cut the headers and trailers.
        const data = Buffer.concat([gz, garbage]);
        const slices = Array.from({ length: Math.ceil(data.length / 4093) }, (_, i) => data.subarray(i * 4093, (i + 1) * 4093));
        const fromStdin = await collect(['-'], opts({}, { stdin: Readable.from(slices) }));
        expect(textOf(fromStdin, '-!-')).toBe(text);
        expect(errors(fromStdin)).toMatchObject([{ path: '-', kind: 'corrupt', message: expect.stringContaining(`from offset ${gz.length} on`) }]);
      }
    });

    it('reads every member and a tarball before the garbage, also garbage that starts like a gzip header or after zeros', async () => {
      const tar = await tarOf([{ name: 'package/a.txt', data: small }]);
      const two = Buffer.concat([gzipSync('one '), gzipSync('two')]);
      const inputs: [string, Buffer, number][] = [
        ['two.gz', Buffer.concat([two, garbage]), two.length],
        ['pkg.tgz', Buffer.concat([gzipSync(tar), garbage]), gzipSync(tar).length],
        ['magic.gz', Buffer.concat([two, Buffer.from([0x1f, 0x8b, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7])]), two.length],
        ['cut.gz', Buffer.concat([two, Buffer.from([0x1f])]), two.length],
        ['zeros.gz', Buffer.concat([two, Buffer.alloc(3), Buffer.from('xx')]), two.length],
      ];
      for (const [name, data, at] of inputs) {
        await put(`trail/${name}`, data);
        const s = await collect([`trail/${name}`]);
        expect(errors(s)).toMatchObject([{ path: `trail/${name}`, kind: 'corrupt', message: expect.stringContaining(`from offset ${at} on`) }]);
        if (name === 'pkg.tgz') expect(textOf(s, 'trail/pkg.tgz!package/a.txt')).toBe(small);
        else expect(textOf(s, `trail/${name}!${name.replace(/\.gz$/, '')}`)).toBe('one two');
      }
    });

    it('accepts zero padding after the last member quietly, as GNU gzip does', async () => {
      for (const [name, text] of cases) {
        await put(`pad/${name}.gz`, Buffer.concat([gzipSync(text, { level: 1 }), Buffer.alloc(10240)]));
        const s = await collect([`pad/${name}.gz`]);
        expect(errors(s)).toEqual([]);
        expect(textOf(s, `pad/${name}.gz!${name}`)).toBe(text);
      }
    });

    it('still reports a damaged member trailer, whichever way it is inflated', async () => {
      for (const [name, text] of cases) {
        const gz = Buffer.from(gzipSync(text, { level: 1 }));
        gz[gz.length - 8] = gz[gz.length - 8]! ^ 0xff;
        await put(`badcrc/${name}.gz`, gz);
        const s = await collect([`badcrc/${name}.gz`]);
        expect(errors(s)).toMatchObject([{ path: `badcrc/${name}.gz`, kind: 'corrupt', message: expect.stringMatching(/^corrupt gzip data .*incorrect data check/) }]);
      }
    });
  });

  describe('a zip with other bytes in front (self-extracting archives)', () => {
    const inner = 'deflated inner text, deflated inner text, deflated inner text\n'.repeat(20);
    const zipped = () => zipOf([{ name: 'inner.txt', data: inner }, { name: 'stored.txt', data: 'stored', compress: false }]);
    /** The zip with every offset moved by `by`, as `zip -A` leaves a zip behind a stub. */
    const adjusted = (zip: Buffer, by: number): Buffer => {
      const out = Buffer.from(zip);
      for (const at of centralHeaders(out)) out.writeUInt32LE(out.readUInt32LE(at + 42) + by, at + 42);
      const eocd = out.lastIndexOf('PK\x05\x06', undefined, 'latin1');
      out.writeUInt32LE(out.readUInt32LE(eocd + 16) + by, eocd + 16);
      return out;
    };
    const textOf = (s: Seen[], path: string) => (s.find((x) => x.t === 'file' && x.path === path) as { text: string } | undefined)?.text;

    it('scans the file as it is, then the zip it ends with, whether its offsets were adjusted or not', async () => {
      const zip = await zipped();
      const smallStub = Buffer.from('MZ stub text\n'.repeat(10));
      // Larger than the first read of a file, so its end is read apart.
      const largeStub = Buffer.from('MZ stub text\n'.repeat(30_000));
      const inputs: [string, Buffer][] = [
        ['small.exe', Buffer.concat([smallStub, zip])],
        ['large.exe', Buffer.concat([largeStub, zip])],
        ['adjusted.exe', Buffer.concat([smallStub, adjusted(zip, smallStub.length)])],
        ['adjusted-large.exe', Buffer.concat([largeStub, adjusted(zip, largeStub.length)])],
      ];
      for (const [name, data] of inputs) {
        await put(`sfx/${name}`, data);
        // On disk, and inside a tar, where it is read whole.
        await put(`sfx/${name}.tar`, await tarOf([{ name, data }]));
        for (const [path, file] of [[`sfx/${name}`, `sfx/${name}`], [`sfx/${name}.tar`, `sfx/${name}.tar!${name}`]]) {
          const s = await collect([path!]);
          expect(errors(s)).toEqual([]);
          expect(files(s)).toEqual([file, `${file}!inner.txt`, `${file}!stored.txt`]);
          expect(textOf(s, file!)).toBe(data.toString('latin1'));
          expect(textOf(s, `${file}!inner.txt`)).toBe(inner);
        }
      }
      // The quick road of directory scans leaves such a file to the usual one.
      const buf = Buffer.alloc(1024 * 1024 + 1);
      expect(readPlainFileSync(join(dir, 'sfx/small.exe'), buf, 0, 1024 * 1024)).toBe(-1);
    });

    it('opens a zip behind a script line or a binary head, not behind text', async () => {
      const zip = await zipped();
      const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'), Buffer.alloc(40, 7)]);
      await put('sfx/app.pyz', Buffer.concat([Buffer.from('#!/usr/bin/env python3\n'), zip]));
      await put('sfx/image.png', Buffer.concat([png, zip]));
      // Text first (more than the 512 bytes looked at): no stub, and not searched.
      await put('sfx/notes.txt', Buffer.concat([Buffer.from('release notes\n'.repeat(40)), zip]));
      const s = await collect(['sfx/app.pyz', 'sfx/image.png', 'sfx/notes.txt']);
      expect(errors(s)).toEqual([]);
      expect(files(s)).toEqual(['sfx/app.pyz', 'sfx/app.pyz!inner.txt', 'sfx/app.pyz!stored.txt', 'sfx/image.png', 'sfx/image.png!inner.txt', 'sfx/image.png!stored.txt', 'sfx/notes.txt']);
    });

    it('reports a zip end record whose zip cannot be read, and still scans the file; ignores the signature elsewhere', async () => {
      const zip = await zipped();
      const broken = Buffer.from(zip);
      const cd = centralHeaders(broken)[0]!;
      broken.write('XX', cd, 'latin1');
      await put('sfx/broken.exe', Buffer.concat([Buffer.from('MZ stub\n'), broken]));
      const s = await collect(['sfx/broken.exe']);
      expect(files(s)).toEqual(['sfx/broken.exe']);
      expect(errors(s)).toMatchObject([{ path: 'sfx/broken.exe', kind: 'corrupt', message: expect.stringMatching(/^the file ends with a zip's end-of-central-directory record .*cannot be read/) }]);
      // The signature in the middle, or at the end with a comment length that does not fit.
      const eocd = zip.subarray(zip.lastIndexOf('PK\x05\x06', undefined, 'latin1'));
      await put('sfx/middle.bin', Buffer.concat([Buffer.from('a '), eocd, Buffer.from(' b')]));
      const s2 = await collect(['sfx/middle.bin']);
      expect(errors(s2)).toEqual([]);
      expect(files(s2)).toEqual(['sfx/middle.bin']);
      const buf = Buffer.alloc(1024);
      expect(readPlainFileSync(join(dir, 'sfx/middle.bin'), buf, 0, 1000)).toBe(eocd.length + 4);
    });

    it('says so when such a zip streams past unopened (over 64 KiB of stdin, an entry over 1 MiB), and reads a short stream', async () => {
      const zip = await zipped();
      // Over 1 MiB, so a tar streams it instead of reading it whole.
      const stub = Buffer.concat([Buffer.from('MZ\0\0'), Buffer.alloc(1024 * 1024 + 100, 0x41)]);
      const sfx = Buffer.concat([stub, zip]);
      const plain = Buffer.concat([stub, Buffer.from('no zip here')]);
      await put('sfx/big.tar', await tarOf([{ name: 'big.exe', data: sfx }, { name: 'plain.exe', data: plain }]));
      const s = await collect(['sfx/big.tar']);
      expect(files(s)).toEqual(['sfx/big.tar!big.exe', 'sfx/big.tar!plain.exe']);
      expect(textOf(s, 'sfx/big.tar!big.exe')).toBe(sfx.toString('latin1'));
      expect(errors(s)).toMatchObject([{ path: 'sfx/big.tar!big.exe', kind: 'unsupported', message: expect.stringMatching(/^ends with a zip behind a stub .*not scanned.*a large archive entry, read as a stream/) }]);
      // In odd slices, so the kept tail spans chunks.
      const slices = [sfx.subarray(0, 5), sfx.subarray(5, sfx.length - 70), sfx.subarray(sfx.length - 70, sfx.length - 3), sfx.subarray(sfx.length - 3)];
      const fromStdin = await collect(['-'], opts({}, { stdin: Readable.from(slices) }));
      expect(files(fromStdin)).toEqual(['-']);
      expect(errors(fromStdin)).toMatchObject([{ path: '-', kind: 'unsupported', message: expect.stringContaining('arrived on standard input') }]);
      // A stream short enough to be kept whole is read as a file held whole is.
      const small = Buffer.concat([Buffer.from('#!/usr/bin/env python3\n'), zip]);
      const smallFromStdin = await collect(['-'], opts({}, { stdin: Readable.from([small.subarray(0, 30), small.subarray(30)]) }));
      expect(errors(smallFromStdin)).toEqual([]);
      expect(files(smallFromStdin)).toEqual(['-', '-!inner.txt', '-!stored.txt']);
      expect(textOf(smallFromStdin, '-!inner.txt')).toBe(inner);
      // Text, or a stub with no zip after it, says nothing.
      expect(errors(await collect(['-'], opts({}, { stdin: Readable.from([plain]) })))).toEqual([]);
      expect(errors(await collect(['-'], opts({}, { stdin: Readable.from([Buffer.concat([Buffer.from('notes\n'.repeat(100)), zip])]) })))).toEqual([]);
    });
  });

  it('detects by content, not extension: a wheel named .bin, a text file named .tgz', async () => {
    await put('kinds/wheel.bin', await zipOf([{ name: 'pkg/__init__.py', data: 'X = 1' }]));
    await put('kinds/fake.tgz', 'just text');
    const s = await collect(['kinds/wheel.bin', 'kinds/fake.tgz']);
    expect(files(s)).toEqual(['kinds/wheel.bin!pkg/__init__.py', 'kinds/fake.tgz']);
  });

  it('gives the exact chain for a .whl inside a .tgz inside a .zip', async () => {
    const whl = await zipOf([{ name: 'pkg/secret.py', data: 'TOKEN' }]);
    const tgz = gzipSync(await tarOf([{ name: 'package/dist/pkg-1.0-py3-none-any.whl', data: whl }]));
    await put('kinds/outer.zip', await zipOf([{ name: 'inner.tgz', data: tgz, compress: false }]));
    const s = await collect(['kinds/outer.zip']);
    expect(s).toEqual([
      { t: 'artifact', path: 'kinds/outer.zip' },
      { t: 'file', path: 'kinds/outer.zip!inner.tgz!package/dist/pkg-1.0-py3-none-any.whl!pkg/secret.py', text: 'TOKEN', size: 5 },
    ]);
  });

  it('reads zip64 archives', async () => {
    await put('kinds/z64.zip', await zipOf([{ name: 'a.txt', data: 'sixty-four' }], true));
    expect((await collect(['kinds/z64.zip']))[1]).toEqual({ t: 'file', path: 'kinds/z64.zip!a.txt', text: 'sixty-four', size: 10 });
  });

  it('reports bzip2, xz and zstd as unsupported, naming the format', async () => {
    await put('kinds/a.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]));
    await put('kinds/a.bz2', Buffer.from('BZh91AY&SY'));
    await put('kinds/a.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]));
    const e = errors(await collect(['kinds/a.xz', 'kinds/a.bz2', 'kinds/a.zst']));
    expect(e.map((x) => [x.path, x.kind])).toEqual([
      ['kinds/a.xz', 'unsupported'],
      ['kinds/a.bz2', 'unsupported'],
      ['kinds/a.zst', 'unsupported'],
    ]);
    expect(e[0]!.message).toBe('xz-compressed data is not supported; decompress it first');
  });

  it('reads stdin given as -', async () => {
    const tgz = gzipSync(await tarOf([{ name: 'package/i.js', data: 'from stdin' }]));
    const s = await collect(['-'], opts({}, { stdin: Readable.from([tgz.subarray(0, 7), tgz.subarray(7)]) }));
    expect(s).toEqual([
      { t: 'artifact', path: '-' },
      { t: 'file', path: '-!package/i.js', text: 'from stdin', size: 10 },
    ]);
  });

  it('reports a missing input as not-found and goes on', async () => {
    await put('kinds/ok.txt', 'ok');
    const s = await collect(['kinds/nope.tgz', 'kinds/ok.txt']);
    expect(s[0]).toMatchObject({ t: 'error', path: 'kinds/nope.tgz', kind: 'not-found' });
    expect(files(s)).toEqual(['kinds/ok.txt']);
  });

  it('skips what the consumer leaves unread, for every container kind', async () => {
    const tar = await tarOf([{ name: 'a', data: 'x'.repeat(5000) }, { name: 'b', data: 'y' }]);
    await put('skip/a.tgz', gzipSync(tar));
    await put('skip/a.tar', tar);
    await put('skip/a.zip', await zipOf([{ name: 'a', data: 'x'.repeat(5000) }, { name: 'b', data: 'y' }]));
    await put('skip/a.gz', gzipSync('z'.repeat(100000)));
    // A file named twice is read once: a copy stands for the second reading.
    await put('skip/again.tar', tar);
    const s = await collect(['skip/a.tgz', 'skip/a.tar', 'skip/a.zip', 'skip/a.gz', 'skip/again.tar'], opts(), false);
    expect(files(s)).toEqual(['skip/a.tgz!a', 'skip/a.tgz!b', 'skip/a.tar!a', 'skip/a.tar!b', 'skip/a.zip!a', 'skip/a.zip!b', 'skip/a.gz!a', 'skip/again.tar!a', 'skip/again.tar!b']);
    expect(errors(s)).toEqual([]);
  });
});

describe('directories', () => {
  it('walks with dotfiles, ignores and sorted paths; joins chains with the input as given', async () => {
    await put('walk/dist/.env', 'SECRET=1');
    await put('walk/dist/b.js', 'b');
    await put('walk/dist/sub/a.js', 'a');
    await put('walk/dist/node_modules/m/index.js', 'm');
    await put('walk/dist/x.map', 'map');
    await put('walk/dist/pkg-1.0.0.tgz', gzipSync(await tarOf([{ name: 'package/i.js', data: 'i' }])));
    const s = await collect(['walk/dist/'], opts({}, { ignore: ['node_modules/**', '**/*.map'] }));
    expect(s.filter((x) => x.t === 'artifact').map((x) => x.path)).toEqual([
      'walk/dist/.env',
      'walk/dist/b.js',
      'walk/dist/pkg-1.0.0.tgz',
      'walk/dist/sub/a.js',
    ]);
    expect(files(s)).toContain('walk/dist/pkg-1.0.0.tgz!package/i.js');
  });

  it('names and reads the files below a directory however the directory is spelled', async () => {
    await put('spelled/dir/a.txt', 'alpha');
    await put('spelled/dir/sub/b.txt', 'beta');
    const inputs: Array<[string, Partial<EnumerateOptions>]> = [
      ['spelled/dir', {}],
      ['./spelled/dir/', {}],
      ['spelled//dir/../dir', {}],
      ['.', { cwd: join(dir, 'spelled', 'dir') }],
      [join(dir, 'spelled', 'dir'), {}],
    ];
    for (const [input, extra] of inputs) {
      const s = await collect([input], opts({}, extra));
      const seen = s.filter((x): x is Extract<Seen, { t: 'file' }> => x.t === 'file').map((x) => [x.path, x.text]);
      expect(seen, input).toEqual([
        [posix.join(input, 'a.txt'), 'alpha'],
        [posix.join(input, 'sub/b.txt'), 'beta'],
      ]);
    }
  });

  it('does not read a symlink into the root twice and reports one pointing outside', async () => {
    await put('links/root/real.txt', 'real');
    await put('links/outside.txt', 'outside');
    await symlink(join(dir, 'links/root/real.txt'), join(dir, 'links/root/alias.txt'));
    await symlink(join(dir, 'links/outside.txt'), join(dir, 'links/root/out.txt'));
    await symlink(join(dir, 'links'), join(dir, 'links/root/updir'));
    const s = await collect(['links/root']);
    expect(files(s)).toEqual(['links/root/real.txt']);
    const e = errors(s);
    expect(e.map((x) => x.path)).toEqual(['links/root/out.txt', 'links/root/updir']);
    expect(e[0]!.message).toMatch(/not followed/);
    // Every link is named, each before what is said of it, so that its own name is matched.
    expect(s.filter((x) => x.t === 'link' || x.t === 'error').map((x) => `${x.t} ${x.path}`)).toEqual([
      'link links/root/alias.txt',
      'link links/root/out.txt',
      'error links/root/out.txt',
      'link links/root/updir',
      'error links/root/updir',
    ]);
    expect(s.find((x) => x.t === 'link')).toEqual({ t: 'link', path: 'links/root/alias.txt', name: 'alias.txt' });
  });

  it('reads a file several inputs name once, under the most specific of them', async () => {
    await put('overlap/top.txt', 'top');
    await put('overlap/dist/a.txt', 'alpha');
    await put('overlap/dist/sub/b.txt', 'beta');
    await symlink(join(dir, 'overlap'), join(dir, 'overlap-link'));
    const s = await collect(['overlap', 'overlap/dist/sub/b.txt', 'overlap-link/dist/', './overlap/dist', join(dir, 'overlap/dist/sub/b.txt')]);
    expect(s.filter((x) => x.t === 'artifact').map((x) => x.path)).toEqual(['overlap/top.txt', 'overlap/dist/sub/b.txt', 'overlap-link/dist/a.txt']);
    expect(errors(s)).toEqual([]);
  });

  it('reads an input that a directory around it ignores, as that input alone is read', async () => {
    await put('ignoring/keep.txt', 'keep');
    await put('ignoring/node_modules/m/index.js', 'm');
    await put('ignoring/node_modules/m/node_modules/n/index.js', 'n');
    await put('ignoring/build/out.map', 'map');
    const s = await collect(['ignoring', 'ignoring/node_modules/m', 'ignoring/build/out.map'], opts({}, { ignore: ['node_modules/**', '**/*.map'] }));
    expect(s.filter((x) => x.t === 'artifact').map((x) => x.path)).toEqual(['ignoring/keep.txt', 'ignoring/node_modules/m/index.js', 'ignoring/build/out.map']);
  });

  it('tells apart directories whose names differ in case only, where the file system does', async ({ skip }) => {
    await put('cased/dist/a.txt', 'lower');
    const foldsCase = await stat(join(dir, 'cased/DIST')).then(
      () => true,
      () => false,
    );
    if (foldsCase) skip('the file system folds case');
    await put('cased/Dist/a.txt', 'upper');
    const s = await collect(['cased', 'cased/Dist']);
    expect(s.filter((x): x is Extract<Seen, { t: 'file' }> => x.t === 'file').map((x) => [x.path, x.text])).toEqual([
      ['cased/dist/a.txt', 'lower'],
      ['cased/Dist/a.txt', 'upper'],
    ]);
  });

  it('reports no link out of a directory to what another input reads', async () => {
    await put('linked/pkg/a.txt', 'a');
    await put('linked/shared/s.txt', 's');
    await put('linked/shared/t.map', 't');
    await put('linked/other/o.txt', 'o');
    await symlink(join(dir, 'linked/shared'), join(dir, 'linked/pkg/shared'));
    await symlink(join(dir, 'linked/shared/s.txt'), join(dir, 'linked/pkg/s.txt'));
    await symlink(join(dir, 'linked/shared/t.map'), join(dir, 'linked/pkg/t'));
    await symlink(join(dir, 'linked/other/o.txt'), join(dir, 'linked/pkg/o.txt'));
    const s = await collect(['linked/pkg', 'linked/shared'], opts({}, { ignore: ['*.map'] }));
    expect(files(s)).toEqual(['linked/pkg/a.txt', 'linked/shared/s.txt']);
    // t.map is a file the ignore globs leave out, o.txt one no input names.
    expect(errors(s).map((x) => x.path)).toEqual(['linked/pkg/o.txt', 'linked/pkg/t']);
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable directory and walks on', async () => {
    await put('locked/ok.txt', 'ok');
    await put('locked/closed/x.txt', 'x');
    await chmod(join(dir, 'locked/closed'), 0o000);
    try {
      const s = await collect(['locked']);
      expect(files(s)).toEqual(['locked/ok.txt']);
      expect(errors(s)).toMatchObject([{ path: 'locked/closed', kind: 'unreadable' }]);
    } finally {
      await chmod(join(dir, 'locked/closed'), 0o755);
    }
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file and goes on', async () => {
    await put('lockedfile/a.txt', 'a');
    await put('lockedfile/b.txt', 'b');
    await chmod(join(dir, 'lockedfile/a.txt'), 0o000);
    const s = await collect(['lockedfile']);
    expect(errors(s)).toMatchObject([{ path: 'lockedfile/a.txt', kind: 'unreadable' }]);
    expect(files(s)).toEqual(['lockedfile/b.txt']);
  });
});

describe('broken inputs', () => {
  const one = async (name: string, data: Buffer) => {
    await put(`broken/${name}`, data);
    const s = await collect([`broken/${name}`, 'broken/after.txt']);
    expect(files(s)).toContain('broken/after.txt');
    return s;
  };
  beforeAll(async () => {
    await put('broken/after.txt', 'next input still read');
  });

  it('truncated gzip: entries read so far, then one corrupt event', async () => {
    const tgz = gzipSync(await tarOf([{ name: 'a.txt', data: 'first' }, { name: 'b.txt', data: Buffer.alloc(200000, 7) }]), { level: 0 });
    const s = await one('trunc.tgz', tgz.subarray(0, tgz.length - 50000));
    expect(files(s)).toContain('broken/trunc.tgz!a.txt');
    const e = errors(s);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ path: 'broken/trunc.tgz', kind: 'corrupt' });
    expect(e[0]!.message).toMatch(/^truncated gzip stream after \d+ bytes: the file is incomplete/);
  });

  it('bad gzip header', async () => {
    const s = await one('badhdr.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x09, 0]), Buffer.alloc(40, 1)]));
    expect(errors(s)).toMatchObject([{ path: 'broken/badhdr.gz', kind: 'corrupt', message: expect.stringMatching(/gzip header/) }]);
  });

  it('corrupt deflate data', async () => {
    const gz = Buffer.from(gzipSync('hello world, hello world, hello world'.repeat(20)));
    gz.fill(0xff, 10, 20);
    const s = await one('deflate.gz', gz);
    expect(errors(s)).toMatchObject([{ path: 'broken/deflate.gz', kind: 'corrupt', message: expect.stringMatching(/corrupt gzip data/) }]);
  });

  it('tar with a bad header checksum', async () => {
    const t = Buffer.from(await tarOf([{ name: 'a.txt', data: 'aaa' }, { name: 'b.txt', data: 'bbb' }]));
    t[1024 + 10] = 0x41; // second header's name changes, its checksum no longer matches
    const s = await one('badsum.tar', t);
    expect(files(s)).toContain('broken/badsum.tar!a.txt');
    expect(errors(s)).toMatchObject([{ path: 'broken/badsum.tar', kind: 'corrupt', message: expect.stringMatching(/invalid tar header/) }]);
  });

  it('tar cut in the middle of an entry: the bytes before the cut are read, then one corrupt event', async () => {
    for (const [size, cut] of [
      [3000, 1500],
      [3 * 1024 * 1024, 2 * 1024 * 1024],
    ] as const) {
      const data = `KEY = before the cut\n${'a'.repeat(size - 21)}`;
      const t = await tarOf([{ name: 'a.txt', data }]);
      const name = `cut-${size}.tar`;
      const s = await one(name, t.subarray(0, cut));
      expect(s.filter((x) => x.t === 'file' && x.path.startsWith(`broken/${name}`))).toEqual([{ t: 'file', path: `broken/${name}!a.txt`, text: data.slice(0, cut - 512), size: expect.any(Number) }]);
      expect(errors(s)).toMatchObject([{ path: `broken/${name}`, kind: 'corrupt', message: expect.stringMatching(/truncated tar archive/) }]);
    }
    // Inside a gzip stream too.
    const tgz = gzipSync(await tarOf([{ name: 'b.txt', data: `KEY = in the tgz\n${'b'.repeat(3000)}` }]), { level: 0 });
    const s = await one('cut-entry.tgz', tgz.subarray(0, 1200));
    expect(s.filter((x) => x.t === 'file' && x.path.startsWith('broken/cut-entry.tgz')).map((x) => (x as { text: string }).text)).toEqual([expect.stringMatching(/^KEY = in the tgz\nb+$/)]);
    expect(errors(s)).toMatchObject([{ path: 'broken/cut-entry.tgz', kind: 'corrupt' }]);
  });

  it('zip with a bad central directory', async () => {
    const z = Buffer.from(await zipOf([{ name: 'a.txt', data: 'a' }]));
    z.writeUInt32LE(0x09014b50, centralHeaders(z)[0]!);
    const s = await one('badcd.zip', z);
    expect(errors(s)).toMatchObject([{ path: 'broken/badcd.zip', kind: 'corrupt', message: expect.stringMatching(/damaged zip structure/) }]);
  });

  it('zip whose directory points past the end, and a zip cut short', async () => {
    const z = Buffer.from(await zipOf([{ name: 'a.txt', data: 'a' }, { name: 'b.txt', data: 'b' }]));
    z.writeUInt32LE(z.length + 1000, centralHeaders(z)[0]! + 42);
    const s = await one('pastend.zip', z);
    expect(files(s)).toContain('broken/pastend.zip!b.txt');
    // a.txt's own local entry is then listed by no directory record.
    expect(errors(s)).toMatchObject([
      { path: 'broken/pastend.zip!a.txt', kind: 'corrupt' },
      { path: 'broken/pastend.zip', kind: 'corrupt', message: expect.stringMatching(/^\d+ bytes of the zip belong to no entry its directory lists \(bytes 0-/) },
    ]);
    const cut = await one('cut.zip', z.subarray(0, z.length - 10));
    expect(errors(cut)).toMatchObject([{ path: 'broken/cut.zip', kind: 'corrupt', message: expect.stringMatching(/end-of-central-directory/) }]);
  });

  describe('zip entries that share bytes, and bytes no entry lists', () => {
    /** A zip of one deflated local entry that `records` directory records (f0.txt, f1.txt, …) all point at. */
    function sharedZip(records: number, data: Buffer): Buffer {
      const comp = deflateRawSync(data);
      const local = Buffer.alloc(30 + 6);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(8, 8);
      local.writeUInt32LE(crc32(data), 14);
      local.writeUInt32LE(comp.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(6, 26);
      local.write('f0.txt', 30, 'latin1');
      const central = Array.from({ length: records }, (_, i) => {
        const name = Buffer.from(`f${i}.txt`);
        const c = Buffer.alloc(46);
        c.writeUInt32LE(0x02014b50, 0);
        c.writeUInt16LE(20, 4);
        c.writeUInt16LE(20, 6);
        c.writeUInt16LE(8, 10);
        c.writeUInt32LE(crc32(data), 16);
        c.writeUInt32LE(comp.length, 20);
        c.writeUInt32LE(data.length, 24);
        c.writeUInt16LE(name.length, 28);
        return Buffer.concat([c, name]);
      });
      const cd = Buffer.concat(central);
      const eocd = Buffer.alloc(22);
      eocd.writeUInt32LE(0x06054b50, 0);
      eocd.writeUInt16LE(records, 8);
      eocd.writeUInt16LE(records, 10);
      eocd.writeUInt32LE(cd.length, 12);
      eocd.writeUInt32LE(local.length + comp.length, 16);
      return Buffer.concat([local, comp, cd, eocd]);
    }

    /** `zip` with `bytes` inserted at `at`, and the offsets of what follows moved to match. */
    function inserted(zip: Buffer, at: number, bytes: Buffer): Buffer {
      const out = Buffer.concat([zip.subarray(0, at), bytes, zip.subarray(at)]);
      for (const c of centralHeaders(out)) {
        const off = out.readUInt32LE(c + 42);
        if (off >= at) out.writeUInt32LE(off + bytes.length, c + 42);
      }
      const eocd = out.lastIndexOf('PK\x05\x06', undefined, 'latin1');
      out.writeUInt32LE(out.readUInt32LE(eocd + 16) + bytes.length, eocd + 16);
      return out;
    }

    it('reads entries that share one local entry once, and reports them', async () => {
      const data = Buffer.from('shared entry text '.repeat(1000));
      const s = await one('shared.zip', sharedZip(50, data));
      expect(files(s).filter((f) => f.startsWith('broken/shared.zip!'))).toEqual(['broken/shared.zip!f0.txt']);
      expect(errors(s)).toMatchObject([
        {
          path: 'broken/shared.zip',
          kind: 'corrupt',
          message: expect.stringMatching(/^zip entries overlap: "f1\.txt" \(bytes 0-\d+\) shares bytes with "f0\.txt" .*; 49 entries in all overlap another and were not read/),
        },
      ]);
    });

    it('reports an entry whose local entry starts inside another', async () => {
      const data = Buffer.from('x'.repeat(200));
      const z = sharedZip(2, data);
      const c1 = centralHeaders(z)[1]!;
      z.writeUInt32LE(20, c1 + 42);
      const s = await one('inside.zip', z);
      expect(errors(s)).toMatchObject([{ path: 'broken/inside.zip', kind: 'corrupt', message: expect.stringMatching(/^zip entries overlap: "f1\.txt" \(bytes 20-50\)/) }]);
    });

    it('accepts entries listed in another order than their data, in many blocks', async () => {
      const specs = Array.from({ length: 1500 }, (_, i) => ({ name: `e${i}.txt`, data: `entry ${i}` }));
      const z = await zipOf(specs);
      const heads = centralHeaders(z);
      const eocd = z.lastIndexOf('PK\x05\x06', undefined, 'latin1');
      const records = heads.map((h, i) => z.subarray(h, heads[i + 1] ?? eocd));
      // Middle-out order: every insert lands between spans already seen.
      const order = records.map((_, i) => i).sort((a, b) => Math.abs(a - 750) - Math.abs(b - 750) || a - b);
      const out = Buffer.concat([z.subarray(0, heads[0]), ...order.map((i) => records[i]!), z.subarray(eocd)]);
      const s = await one('order.zip', out);
      expect(errors(s)).toEqual([]);
      expect(files(s).filter((f) => f.startsWith('broken/order.zip!'))).toHaveLength(1500);
    });

    it('reports a local entry the directory leaves out, wherever it is, and data between entries', async () => {
      const good = await zipOf([{ name: 'ok.txt', data: 'hello' }, { name: 'two.txt', data: 'world' }]);
      const hidden = await zipOf([{ name: 'hidden.js', data: 'const hidden = 1;\n' }]);
      const local = hidden.subarray(0, centralHeaders(hidden)[0]);
      const [c0, c1] = centralHeaders(good);
      const second = good.readUInt32LE(c1! + 42);
      const cases: [string, Buffer, number][] = [
        ['first', inserted(good, 0, local), 0],
        ['between', inserted(good, second, local), second],
        ['last', inserted(good, c0!, local), c0!],
        ['plain', inserted(good, second, Buffer.from('plain text between entries')), second],
      ];
      for (const [name, z, at] of cases) {
        const s = await one(`gap-${name}.zip`, z);
        expect(files(s)).toContain(`broken/gap-${name}.zip!ok.txt`);
        expect(files(s)).toContain(`broken/gap-${name}.zip!two.txt`);
        expect(errors(s)).toMatchObject([{ path: `broken/gap-${name}.zip`, kind: 'corrupt', message: expect.stringContaining(`of the zip belong to no entry its directory lists (bytes ${at}-`) }]);
      }
      // Data descriptors after each entry's data (yazl writes them) are no gap.
      expect(errors(await one('gap-none.zip', good))).toEqual([]);
    });
  });

  it('zip entry with a wrong CRC', async () => {
    const z = Buffer.from(await zipOf([{ name: 'a.txt', data: 'content' }]));
    z.writeUInt32LE(0x12345678, centralHeaders(z)[0]! + 16);
    const s = await one('crc.zip', z);
    expect(files(s)).toContain('broken/crc.zip!a.txt');
    expect(errors(s)).toMatchObject([{ path: 'broken/crc.zip!a.txt', kind: 'corrupt', message: expect.stringMatching(/CRC-32 mismatch/) }]);
  });

  it('zip entry whose inflated size differs from the directory', async () => {
    const z = Buffer.from(await zipOf([{ name: 'a.txt', data: 'x'.repeat(100) }]));
    z.writeUInt32LE(150, centralHeaders(z)[0]! + 24);
    const s = await one('size.zip', z);
    expect(errors(s)).toMatchObject([{ path: 'broken/size.zip!a.txt', kind: 'corrupt', message: expect.stringMatching(/size does not match the zip directory/) }]);
  });

  it('encrypted zip entries and unsupported compression methods', async () => {
    const z = Buffer.from(await zipOf([{ name: 'enc.txt', data: 'secret' }, { name: 'bz.txt', data: 'bzip' }, { name: 'ok.txt', data: 'ok' }]));
    const [c0, c1] = centralHeaders(z);
    z.writeUInt16LE(z.readUInt16LE(c0! + 8) | 1, c0! + 8);
    z.writeUInt16LE(12, c1! + 10);
    const s = await one('enc.zip', z);
    expect(files(s)).toContain('broken/enc.zip!ok.txt');
    expect(errors(s)).toMatchObject([
      { path: 'broken/enc.zip!enc.txt', kind: 'encrypted', message: expect.stringMatching(/^encrypted entry cannot be scanned/) },
      { path: 'broken/enc.zip!bz.txt', kind: 'unsupported', message: expect.stringMatching(/method 12 \(bzip2\)/) },
    ]);
  });

  it('entry names that are not UTF-8 are shown as latin1 and still scanned', async () => {
    const z = replaceAll(await zipOf([{ name: 'cafX.txt', data: 'menu' }]), 'cafX', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const t = Buffer.from(await tarOf([{ name: 'cafX.txt', data: 'menu' }]));
    const tt = replaceAll(t, 'cafX', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    fixTarChecksum(tt);
    await put('broken/names.zip', z);
    await put('broken/names.tar', tt);
    const s = await collect(['broken/names.zip', 'broken/names.tar']);
    expect(s.filter((x) => x.t === 'file')).toEqual([
      { t: 'file', path: 'broken/names.zip!café.txt', text: 'menu', size: 4 },
      { t: 'file', path: 'broken/names.tar!café.txt', text: 'menu', size: 4 },
    ]);
  });

  it('a zip symlink entry whose data is damaged is reported, not passed over', async () => {
    const z = Buffer.from(await zipOf([{ name: 'link', data: '../'.repeat(20) + 'etc/shadow', mode: 0o120777 }, { name: 'ok.txt', data: 'ok' }]));
    const dataAt = 30 + z.readUInt16LE(26) + z.readUInt16LE(28);
    z.fill(0xff, dataAt, dataAt + 4);
    const s = await one('badlink.zip', z);
    expect(files(s)).toContain('broken/badlink.zip!ok.txt');
    expect(errors(s)).toMatchObject([{ path: 'broken/badlink.zip!link', kind: 'corrupt' }]);
  });

  it('a read error on standard input is reported with its message', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial ');
      throw new Error('pipe broke');
    }
    const s = await collect(['-'], opts({}, { stdin: failing() }));
    expect(errors(s)).toEqual([{ t: 'error', path: '-', kind: 'unreadable', message: 'cannot read standard input: pipe broke' }]);
  });

  it('zero-length files and empty archives', async () => {
    await put('broken/zero.tgz', Buffer.alloc(0));
    await put('broken/empty.zip', await zipOf([]));
    await put('broken/empty.gz', gzipSync(Buffer.alloc(0)));
    const s = await collect(['broken/zero.tgz', 'broken/empty.zip', 'broken/empty.gz']);
    // Named as an input, an empty file is no tarball (a failed download leaves one): said, and scanned.
    expect(errors(s)).toEqual([
      {
        t: 'error',
        path: 'broken/zero.tgz',
        kind: 'corrupt',
        message: 'named like a gzip-compressed tarball (gzip) but it is no archive: its first bytes look like nothing (the file is empty); scanned as a plain file',
      },
    ]);
    expect(s.filter((x) => x.t === 'file')).toEqual([
      { t: 'file', path: 'broken/zero.tgz', text: '', size: 0 },
      { t: 'file', path: 'broken/empty.gz!empty', text: '' },
    ]);
  });
});

describe('suspicious structure', () => {
  it('tar: traversal, absolute paths, links outside, devices, FIFOs, setuid files (not directories or links), duplicates', async () => {
    const t = await tarOf([
      { name: '../evil.sh', data: 'x' },
      { name: '/etc/cron.d/job', data: 'x' },
      { name: 'package/lnk', type: 'symlink', linkname: '../../etc/passwd' },
      { name: 'package/ok-lnk', type: 'symlink', linkname: '../package/a' },
      { name: 'package/hard', type: 'link', linkname: '../outside' },
      { name: 'package/dev', type: 'character-device' },
      { name: 'package/pipe', type: 'fifo' },
      { name: 'package/suid', data: 'x', mode: 0o4755 },
      // setgid on a directory hands its group down; on a link no extractor applies it.
      { name: 'package/shared/', type: 'directory', mode: 0o2775 },
      { name: 'package/suid-lnk', type: 'symlink', linkname: 'a', mode: 0o6777 },
      { name: 'package/a', data: 'one' },
      { name: 'package/a', data: 'three' },
      { name: 'package/b', data: 'same' },
      { name: 'package/b', data: 'same' },
    ]);
    await put('struct/s.tar', t);
    const st = structures(await collect(['struct/s.tar']));
    expect(st.map((x) => [x.path, x.ruleId])).toEqual([
      ['struct/s.tar!../evil.sh', 'archive-path-traversal'],
      ['struct/s.tar!/etc/cron.d/job', 'archive-path-traversal'],
      ['struct/s.tar!package/lnk', 'archive-link-outside'],
      ['struct/s.tar!package/hard', 'archive-link-outside'],
      ['struct/s.tar!package/dev', 'archive-device-file'],
      ['struct/s.tar!package/pipe', 'archive-device-file'],
      ['struct/s.tar!package/suid', 'archive-setuid'],
      ['struct/s.tar!package/a', 'archive-duplicate-entry'],
    ]);
    expect(st[7]!.detail).toMatch(/first 3 bytes, then 5 bytes/);
  });

  it('zip: traversal, symlink out, setuid files (not setgid directories), duplicate names with different CRC', async () => {
    const z = replaceAll(
      await zipOf([
        { name: 'zz/evil.py', data: 'x' },
        { name: 'link', data: '../../../etc/shadow', mode: 0o120777 },
        { name: 'suid', data: 'x', mode: 0o104755 },
        { name: 'shared/', data: '', mode: 0o042777 },
        { name: 'dup.txt', data: 'aaaa' },
        { name: 'dup.txt', data: 'bbbb' },
      ]),
      'zz/evil',
      Buffer.from('../evil'),
    );
    await put('struct/s.zip', z);
    const s = await collect(['struct/s.zip']);
    expect(structures(s).map((x) => [x.path, x.ruleId])).toEqual([
      ['struct/s.zip!../evil.py', 'archive-path-traversal'],
      ['struct/s.zip!link', 'archive-link-outside'],
      ['struct/s.zip!suid', 'archive-setuid'],
      ['struct/s.zip!dup.txt', 'archive-duplicate-entry'],
    ]);
    expect(files(s)).toEqual(['struct/s.zip!../evil.py', 'struct/s.zip!link', 'struct/s.zip!suid', 'struct/s.zip!dup.txt', 'struct/s.zip!dup.txt']);
  });

  it('zip: a symlink entry is read as a file too, as pip writes one, whatever its size, and its target is still checked', async () => {
    const long = `KEY = 'deep'\n${'# padding\n'.repeat(500)}`;
    await put(
      'struct/links.whl',
      await zipOf([
        { name: 'acme/settings.py', data: "KEY = 'value in a link'\n", mode: 0o120644 },
        { name: 'acme/long.py', data: long, mode: 0o120644 },
        { name: 'acme/out', data: '../../etc/passwd', mode: 0o120777, compress: false },
      ]),
    );
    const s = await collect(['struct/links.whl']);
    expect(errors(s)).toEqual([]);
    expect(structures(s).map((x) => [x.path, x.ruleId])).toEqual([['struct/links.whl!acme/out', 'archive-link-outside']]);
    expect(s.filter((x) => x.t === 'file').map((x) => [x.path, (x as { text: string }).text])).toEqual([
      ['struct/links.whl!acme/settings.py', "KEY = 'value in a link'\n"],
      ['struct/links.whl!acme/long.py', long],
      ['struct/links.whl!acme/out', '../../etc/passwd'],
    ]);
  });
  it('zip: a local header naming an entry otherwise is reported with both names, and its name checked and matched', async () => {
    const z = await zipOf([
      { name: 'lib/x/evil.js', data: 'evil()' },
      { name: 'lib/ok.js', data: 'ok()' },
    ]);
    // Only the local header's copy of the name, which comes first, is changed.
    const at = z.indexOf('lib/x/evil.js');
    expect(at).toBeLessThan(centralHeaders(z)[0]!);
    const lying = Buffer.from(z);
    lying.write('../../evil.js', at, 'latin1');
    await put('struct/local.zip', lying);
    const s = await collect(['struct/local.zip']);
    expect(errors(s)).toEqual([
      {
        t: 'error',
        path: 'struct/local.zip!lib/x/evil.js',
        kind: 'corrupt',
        message: expect.stringMatching(/^the zip directory names this entry "lib\/x\/evil\.js" but its local header "\.\.\/\.\.\/evil\.js": Python's zipfile refuses/),
      },
    ]);
    expect(structures(s).map((x) => [x.path, x.ruleId])).toEqual([['struct/local.zip!../../evil.js', 'archive-path-traversal']]);
    expect(files(s)).toEqual(['struct/local.zip!lib/x/evil.js', 'struct/local.zip!lib/ok.js']);
    expect(await entryNames(['struct/local.zip'], opts())).toEqual(['struct/local.zip!lib/x/evil.js', 'struct/local.zip!../../evil.js', 'struct/local.zip!lib/ok.js']);
    // An archive whose names agree says nothing.
    await put('struct/agree.zip', z);
    expect(errors(await collect(['struct/agree.zip']))).toEqual([]);
  });

  it('zip: a directory entry that carries data has its data read, and an empty one is not', async () => {
    const z = await zipOf([
      { name: 'pkg/', data: '' },
      { name: 'pkg/ok.js', data: 'ok()' },
    ]);
    // yazl writes directories without data: the second one is given some, stored.
    const hidden = Buffer.from('KEY = hidden in a directory entry\n');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc32(hidden), 14);
    local.writeUInt32LE(hidden.length, 18);
    local.writeUInt32LE(hidden.length, 22);
    local.writeUInt16LE(5, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc32(hidden), 16);
    central.writeUInt32LE(hidden.length, 20);
    central.writeUInt32LE(hidden.length, 24);
    central.writeUInt16LE(5, 28);
    const cd = centralHeaders(z)[0]!;
    const eocd = z.lastIndexOf('PK\x05\x06', undefined, 'latin1');
    const entry = Buffer.concat([local, Buffer.from('data/'), hidden]);
    central.writeUInt32LE(cd, 42);
    const directory = Buffer.concat([z.subarray(cd, eocd), central, Buffer.from('data/')]);
    const end = Buffer.from(z.subarray(eocd));
    end.writeUInt16LE(3, 8);
    end.writeUInt16LE(3, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(cd + entry.length, 16);
    await put('struct/dirdata.zip', Buffer.concat([z.subarray(0, cd), entry, directory, end]));
    const s = await collect(['struct/dirdata.zip']);
    expect(errors(s)).toEqual([]);
    expect(s.filter((x) => x.t === 'file').map((x) => [x.path, (x as { text: string }).text])).toEqual([
      ['struct/dirdata.zip!pkg/ok.js', 'ok()'],
      ['struct/dirdata.zip!data/', hidden.toString()],
    ]);
  });

  it('zip: entries whose mode says device, FIFO, socket or directory are still read, as extractors write them as files', async () => {
    await put(
      'struct/modes.zip',
      await zipOf([
        { name: 'dev', data: 'device data', mode: 0o020644 },
        { name: 'pipe', data: 'fifo data', mode: 0o010644 },
        { name: 'sock', data: 'socket data', mode: 0o140644 },
        { name: 'odd', data: 'odd type data', mode: 0o170644 },
        { name: 'notdir', data: 'directory data', mode: 0o040755 },
        { name: 'emptydir', data: '', mode: 0o040755 },
      ]),
    );
    const s = await collect(['struct/modes.zip']);
    expect(errors(s)).toEqual([]);
    expect(structures(s).map((x) => [x.path, x.ruleId])).toEqual([
      ['struct/modes.zip!dev', 'archive-device-file'],
      ['struct/modes.zip!pipe', 'archive-device-file'],
    ]);
    expect(s.filter((x) => x.t === 'file').map((x) => [x.path, (x as { text: string }).text])).toEqual([
      ['struct/modes.zip!dev', 'device data'],
      ['struct/modes.zip!pipe', 'fifo data'],
      ['struct/modes.zip!sock', 'socket data'],
      ['struct/modes.zip!odd', 'odd type data'],
      ['struct/modes.zip!notdir', 'directory data'],
    ]);
  });
});

describe('entry names', () => {
  it('names every entry of a tar once, as stored, files or not, and entries not read', async () => {
    await put(
      'names/pkg.tar',
      await tarOf([
        { name: 'package/a.txt', data: 'a' },
        { name: 'package/keys/', type: 'directory' },
        { name: 'package/link', type: 'symlink', linkname: 'a.txt' },
        { name: 'package/dev', type: 'character-device' },
        { name: 'package/big.bin', data: 'x'.repeat(4096) },
        { name: 'package/inner.tgz', data: gzipSync(await tarOf([{ name: 'in.txt', data: 'in' }])) },
      ]),
    );
    expect(await entryNames(['names/pkg.tar'], opts({ maxEntryBytes: 2048 }))).toEqual([
      'names/pkg.tar!package/a.txt',
      'names/pkg.tar!package/keys/',
      'names/pkg.tar!package/link',
      'names/pkg.tar!package/dev',
      'names/pkg.tar!package/big.bin',
      'names/pkg.tar!package/inner.tgz',
      'names/pkg.tar!package/inner.tgz!in.txt',
    ]);
  });

  it('names every entry of a zip once, directories and nested archives too', async () => {
    const inner = await zipOf([{ name: 'in.txt', data: 'in' }]);
    await put('names/pkg.zip', await zipOf([{ name: 'keys/', data: '' }, { name: 'keys/a.txt', data: 'a' }, { name: 'inner.zip', data: inner, compress: false }]));
    expect(await entryNames(['names/pkg.zip'], opts())).toEqual(['names/pkg.zip!keys/', 'names/pkg.zip!keys/a.txt', 'names/pkg.zip!inner.zip', 'names/pkg.zip!inner.zip!in.txt']);
  });

  it("names a gzip member by the name its header stores, and not by one made from the file's own", async () => {
    await put('names/stored.gz', Buffer.from(gzipBuffer('text\n', 'stored-name.txt')));
    await put('names/plain.txt.gz', gzipSync('text\n'));
    expect(await entryNames(['names/stored.gz'], opts())).toEqual(['names/stored.gz!stored-name.txt']);
    expect(await entryNames(['names/plain.txt.gz'], opts())).toEqual([]);
  });
});

describe('limits', () => {
  it('maxDepth: a nested archive past the limit is reported and not opened', async () => {
    const inner = await zipOf([{ name: 'deep.txt', data: 'deep' }]);
    const mid = gzipSync(await tarOf([{ name: 'inner.zip', data: inner }]));
    await put('lim/outer.zip', await zipOf([{ name: 'mid.tgz', data: mid }]));
    const s = await collect(['lim/outer.zip'], opts({ maxDepth: 1 }));
    expect(files(s)).toEqual([]);
    expect(errors(s)).toMatchObject([{ path: 'lim/outer.zip!mid.tgz!inner.zip', kind: 'limit', limit: 'maxDepth', message: expect.stringMatching(/--max-depth/) }]);
    expect(files(await collect(['lim/outer.zip'], opts({ maxDepth: 2 })))).toEqual(['lim/outer.zip!mid.tgz!inner.zip!deep.txt']);
  });

  it('maxEntries stops the archive', async () => {
    await put('lim/many.tar', await tarOf([1, 2, 3, 4, 5].map((i) => ({ name: `f${i}`, data: String(i) }))));
    await put('lim/many.zip', await zipOf([1, 2, 3, 4, 5].map((i) => ({ name: `f${i}`, data: String(i) }))));
    const s = await collect(['lim/many.tar', 'lim/many.zip'], opts({ maxEntries: 3 }));
    expect(files(s)).toEqual(['lim/many.tar!f1', 'lim/many.tar!f2', 'lim/many.tar!f3', 'lim/many.zip!f1', 'lim/many.zip!f2', 'lim/many.zip!f3']);
    expect(errors(s)).toMatchObject([
      { path: 'lim/many.tar', limit: 'maxEntries', message: expect.stringMatching(/--max-entries/) },
      { path: 'lim/many.zip', limit: 'maxEntries' },
    ]);
  });

  it('maxEntryBytes skips the entry and goes on, for tar, zip, gzip members and plain files', async () => {
    const big = 'B'.repeat(3000);
    await put('lim/big.tar', await tarOf([{ name: 'big', data: big }, { name: 'small', data: 's' }]));
    await put('lim/big.zip', await zipOf([{ name: 'big', data: big }, { name: 'small', data: 's' }]));
    await put('lim/big.gz', gzipSync(big));
    await put('lim/big.txt', big);
    const s = await collect(['lim/big.tar', 'lim/big.zip', 'lim/big.gz', 'lim/big.txt'], opts({ maxEntryBytes: 1000 }));
    expect(s.filter((x) => x.t === 'file' && x.text === 's').map((x) => x.path)).toEqual(['lim/big.tar!small', 'lim/big.zip!small']);
    expect(errors(s).map((e) => [e.path, e.limit])).toEqual([
      ['lim/big.tar!big', 'maxEntryBytes'],
      ['lim/big.zip!big', 'maxEntryBytes'],
      ['lim/big.gz!big', 'maxEntryBytes'],
      ['lim/big.txt', 'maxEntryBytes'],
    ]);
    expect(errors(s)[0]!.message).toMatch(/--max-entry-bytes/);
  });

  it('maxArtifactBytes stops the artifact', async () => {
    await put('lim/total.tar', await tarOf([1, 2, 3].map((i) => ({ name: `f${i}`, data: 'x'.repeat(600) }))));
    const s = await collect(['lim/total.tar'], opts({ maxArtifactBytes: 1000 }));
    expect(errors(s)).toMatchObject([{ path: 'lim/total.tar', kind: 'limit', limit: 'maxArtifactBytes', message: expect.stringMatching(/--max-artifact-bytes/) }]);
    expect(files(s)).toEqual(['lim/total.tar!f1', 'lim/total.tar!f2']);
  });

  it('a gzip inflating to 1 GiB of zeros is stopped by the ratio limit, fast and with flat memory', async () => {
    // 1024 concatenated members of 1 MiB of zeros: about 1 MiB on disk, 1 GiB inflated.
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    await put('lim/bomb.gz', Buffer.concat(new Array<Buffer>(1024).fill(member)));
    const before = process.memoryUsage().rss;
    const t0 = Date.now();
    const s = await collect(['lim/bomb.gz']);
    const ms = Date.now() - t0;
    expect(errors(s)).toMatchObject([{ path: 'lim/bomb.gz', kind: 'limit', limit: 'maxCompressionRatio', message: expect.stringMatching(/--max-ratio/) }]);
    expect(ms).toBeLessThan(3000);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    const read = s.filter((x) => x.t === 'file').reduce((n, x) => n + (x as { text: string }).text.length, 0);
    expect(read).toBeLessThan(64 * 1024 * 1024);
  });

  it('the ratio limit applies to zip entries from their directory sizes', async () => {
    await put('lim/bomb.zip', await zipOf([{ name: 'zeros', data: Buffer.alloc(8 * 1024 * 1024) }, { name: 'ok', data: 'ok' }]));
    const s = await collect(['lim/bomb.zip']);
    expect(errors(s)).toMatchObject([{ path: 'lim/bomb.zip!zeros', limit: 'maxCompressionRatio' }]);
    expect(files(s)).toEqual(['lim/bomb.zip!ok']);
  });

  it('maxArtifactMs stops an artifact that takes too long', async () => {
    await put('lim/slow.tar', await tarOf([1, 2, 3, 4, 5, 6].map((i) => ({ name: `f${i}`, data: 'x' }))));
    const out: Seen[] = [];
    for await (const item of items(['lim/slow.tar'], opts({ maxArtifactMs: 30 }))) {
      out.push(await see(item, true));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(errors(out)).toMatchObject([{ path: 'lim/slow.tar', limit: 'maxArtifactMs', message: expect.stringMatching(/--max-artifact-seconds/) }]);
    expect(files(out).length).toBeLessThan(6);
  });

  /**
   * Reads `input` as the scan does with a time limit of 20 ms, asking each file's clock before
   * its first block, and in `slow` after a pause of 40 ms at byte 5: what was read, and the events.
   */
  async function stoppedAt(input: string, slow: string): Promise<{ read: string[]; errors: Seen[] }> {
    const read: string[] = [];
    const out: Seen[] = [];
    for await (const item of items([input], opts({ maxArtifactMs: 20 }))) {
      if (item.kind !== 'file') {
        out.push(await see(item, false));
        continue;
      }
      const path = joinChain(item.chain);
      expect(item.overdue).toBeDefined();
      if (item.overdue?.(0) === true) continue;
      read.push(path);
      for await (const _ of item.bytes) {
        if (path !== slow) continue;
        await new Promise((r) => setTimeout(r, 40));
        expect(item.overdue?.(5)).toBe(true);
        break;
      }
    }
    return { read, errors: errors(out) };
  }

  it.each([
    ['a zip of files held whole', 'lim/held.zip', async () => zipOf(['a', 'b', 'c'].map((n) => ({ name: `${n}.txt`, data: `${n}\n` })))],
    ['a tar entry read as a stream', 'lim/stream.tar', async () => tarOf([{ name: 'a.txt', data: 'a\n' }, { name: 'b.txt', data: Buffer.alloc(3 * 1024 * 1024, 'x') }, { name: 'c.txt', data: 'c\n' }])],
  ])('a consumer that finds the time up between the blocks of a file stops %s there, and the event says where', async (_, input, make) => {
    await put(input, await make());
    const { read, errors: events } = await stoppedAt(input, `${input}!b.txt`);
    expect(read).toEqual([`${input}!a.txt`, `${input}!b.txt`]);
    expect(events).toMatchObject([
      { path: input, limit: 'maxArtifactMs', message: expect.stringMatching(new RegExp(`^reading this artifact took longer than 0\\.02 s; it stopped at byte 5 of ${input.replace('.', '\\.')}!b\\.txt, and the rest was not read \\(limit maxArtifactMs = 20 ms\\); raise it with --max-artifact-seconds`)) },
    ]);
  });

  it('a file read from disk is stopped the same way, and one never asked about has no clock without a time limit', async () => {
    await put('lim/big.txt', Buffer.alloc(3 * 1024 * 1024, 'y'));
    const { read, errors: events } = await stoppedAt('lim/big.txt', 'lim/big.txt');
    expect(read).toEqual(['lim/big.txt']);
    expect(events).toMatchObject([{ path: 'lim/big.txt', limit: 'maxArtifactMs', message: expect.stringMatching(/; it stopped at byte 5 of lim\/big\.txt, and the rest was not read /) }]);
    for await (const item of items(['lim/big.txt'], opts())) if (item.kind === 'file') expect(item.overdue).toBeUndefined();
  });
});

describe('spill files and early exits', () => {
  const spillDirs = async (tmp: string) => (await readdir(tmp)).filter((n) => n.startsWith('pubguard-'));

  async function nestedZipFixture(name: string): Promise<string> {
    const inner = await zipOf([
      { name: 'a.txt', data: 'inside the spilled zip' },
      { name: 'b.txt', data: 'second' },
    ]);
    await put(`spill/${name}`, gzipSync(await tarOf([{ name: 'package/x.whl', data: inner }])));
    return `spill/${name}`;
  }

  it('spills a nested zip over maxInMemoryArchiveBytes to a 0600 temp file, removed afterwards', async () => {
    const input = await nestedZipFixture('n.tgz');
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const seenModes: number[] = [];
    const out: string[] = [];
    for await (const item of items([input], opts({ maxInMemoryArchiveBytes: 16 }, { tmpDir: tmp }))) {
      if (item.kind !== 'file') continue;
      for await (const c of item.bytes) out.push(Buffer.from(c).toString());
      for (const d of await spillDirs(tmp)) {
        for (const f of readdirSync(join(tmp, d))) seenModes.push((await stat(join(tmp, d, f))).mode & 0o777);
      }
    }
    expect(out).toEqual(['inside the spilled zip', 'second']);
    expect(seenModes).toEqual([0o600, 0o600]);
    expect(await spillDirs(tmp)).toEqual([]);
  });

  it('removes the spill file when the consumer breaks out early', async () => {
    const input = await nestedZipFixture('m.tgz');
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    let spilled = 0;
    for await (const item of items([input], opts({ maxInMemoryArchiveBytes: 16 }, { tmpDir: tmp }))) {
      if (item.kind === 'file') {
        spilled = (await spillDirs(tmp)).length;
        break;
      }
    }
    expect(spilled).toBe(1);
    expect(await spillDirs(tmp)).toEqual([]);
  });

  it('refuses to spill past maxSpillBytes', async () => {
    const input = await nestedZipFixture('s.tgz');
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const s = await collect([input], opts({ maxInMemoryArchiveBytes: 16, maxSpillBytes: 64 }, { tmpDir: tmp }));
    expect(errors(s)).toMatchObject([{ path: `${input}!package/x.whl`, limit: 'maxSpillBytes' }]);
    expect(await spillDirs(tmp)).toEqual([]);
  });

  it('blames a missing temp directory, not the input, and reads the rest of the artifact', async () => {
    const inner = await zipOf([{ name: 'a.txt', data: 'inside the spilled zip' }]);
    const input = 'spill/t.tgz';
    await put(input, gzipSync(await tarOf([{ name: 'package/x.whl', data: inner }, { name: 'package/after.js', data: 'after the zip' }])));
    const tmp = join(dir, 'no-such-tmp');
    const s = await collect([input], opts({ maxInMemoryArchiveBytes: 16 }, { tmpDir: tmp }));
    expect(errors(s)).toEqual([
      {
        t: 'error',
        path: `${input}!package/x.whl`,
        kind: 'unreadable',
        message: `cannot spill the nested zip (over 16 bytes) to the temporary directory ${tmp}: no such directory; it was not read: set TMPDIR to a writable directory with room for it`,
      },
    ]);
    expect(s).toContainEqual(expect.objectContaining({ t: 'file', path: `${input}!package/after.js`, text: 'after the zip' }));
  });

  it('closes every file when the consumer breaks out mid-file, in each kind', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    await put('early/a.zip', await zipOf([{ name: 'a', data: 'x'.repeat(100000) }, { name: 'b', data: 'y' }]));
    await put('early/a.tgz', gzipSync(await tarOf([{ name: 'a', data: 'x'.repeat(100000) }, { name: 'b', data: 'y' }])));
    await put('early/big.txt', Buffer.alloc(3 * 1024 * 1024, 0x61));
    await put('early/dir/one.txt', '1');
    await put('early/dir/two.txt', '2');
    const before = fds();
    for (const input of ['early/a.zip', 'early/a.tgz', 'early/big.txt', 'early/dir']) {
      for await (const item of items([input], opts())) {
        if (item.kind === 'file') {
          for await (const _ of item.bytes) break;
          break;
        }
      }
    }
    // Stopping at the artifact marker, before its bytes: prefetched files must be closed too.
    for await (const item of items(['early/dir'], opts())) if (item.kind === 'artifact') break;
    await new Promise((r) => setTimeout(r, 50));
    expect(fds()).toBe(before);
  });

  it('an abort signal ends the enumeration quietly', async () => {
    await put('abort/a.txt', 'a');
    await put('abort/b.txt', 'b');
    const ac = new AbortController();
    const out: Seen[] = [];
    for await (const item of items(['abort'], opts({}, { signal: ac.signal }))) {
      out.push(await see(item, true));
      ac.abort();
    }
    expect(out).toEqual([{ t: 'artifact', path: 'abort/a.txt' }]);
  });
});

describe('BufferPool', () => {
  it('reuses a buffer given back whole or as a view of it, once, and ignores memory it did not lend', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take();
    const b = pool.take();
    pool.give(a.subarray(0, 10));
    pool.give(a); // already back: must not be handed out twice
    pool.give(Buffer.alloc(1024));
    pool.give(Buffer.from(b)); // a copy, not b's memory
    expect(pool.take().buffer).toBe(a.buffer);
    const c = pool.take();
    expect([a.buffer, b.buffer]).not.toContain(c.buffer);
    expect(c.length).toBe(1024);
    expect(pool.allocated).toBe(3);
  });

  it('keeps no more than it was told to', () => {
    const pool = new BufferPool(16, 1);
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const t of taken) pool.give(t);
    pool.take();
    pool.take();
    expect(pool.allocated).toBe(4);
  });
});

describe('noteFreshBytes', () => {
  it('collects without leaving gc exposed to the caller or to contexts created later', () => {
    wantCollections(1);
    try {
      noteFreshBytes(COLLECT_EVERY_BYTES);
    } finally {
      wantCollections(-1);
    }
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
  it('counts what standard input reads, so piped input is collected like files', async () => {
    const before = freshBytesNoted();
    const chunks = [Buffer.alloc(300_000, 0x61), Buffer.alloc(200_000, 0x62)];
    const s = await collect(['-'], opts({}, { stdin: Readable.from(chunks) }));
    expect(files(s)).toEqual(['-']);
    expect(freshBytesNoted() - before).toBeGreaterThanOrEqual(500_000);
  });
  it('collects only while a scan asked for collections', async () => {
    // GC entries arrive later but carry their start time: count those inside the call.
    const collectionsDuring = async (fn: () => void): Promise<number> => {
      const entries: PerformanceEntry[] = [];
      const observer = new PerformanceObserver((list) => void entries.push(...list.getEntries()));
      observer.observe({ entryTypes: ['gc'] });
      const start = performance.now();
      fn();
      const end = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
      observer.disconnect();
      return entries.filter((e) => e.startTime >= start && e.startTime <= end).length;
    };
    const fourTimes = () => {
      for (let i = 0; i < 4; i++) noteFreshBytes(COLLECT_EVERY_BYTES);
    };
    expect(await collectionsDuring(fourTimes)).toBe(0);
    wantCollections(1);
    try {
      expect(await collectionsDuring(fourTimes)).toBeGreaterThanOrEqual(4);
    } finally {
      wantCollections(-1);
    }
    expect(await collectionsDuring(fourTimes)).toBe(0);
  });
});
