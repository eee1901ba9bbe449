import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Prng, tarBuffer, zipBuffer } from '@pubguard/corpus';
import { compileRules } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScanOptions, scanAll } from './scan.js';
import type { Finding } from './types.js';
import { TEST_TOKEN_RULE } from './testing.js';

const ruleset = compileRules([TEST_TOKEN_RULE]);

// A deterministic generator, so a failure can be replayed from the seed alone.
function prng(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const token = (rand: () => number): string => {
  let out = 'tok_';
  for (let i = 0; i < 24; i++) out += ALNUM[Math.floor(rand() * ALNUM.length)];
  return out;
};

/**
 * Text of about `size` characters with secrets planted among ASCII, accented letters, CJK and
 * emoji (surrogate pairs in UTF-16, four bytes in UTF-8), as a PowerShell script might hold.
 */
function plantedText(seed: number, size: number): string {
  const rand = prng(seed);
  const parts: string[] = ['# settings\r\n'];
  let length = 0;
  while (length < size) {
    const r = rand();
    let piece: string;
    if (r < 0.04) piece = `$token = "${token(rand)}"\r\n`;
    else if (r < 0.08) piece = `😀${token(rand)}😀 `;
    else if (r < 0.12) piece = '日本語 café 😀\n';
    else piece = `${'word '.repeat(Math.floor(rand() * 30))}\r\n`;
    parts.push(piece);
    length += piece.length;
  }
  return parts.join('');
}

type Encoded = 'utf-16le with a mark' | 'utf-16le' | 'utf-16be with a mark';
const ENCODINGS: Encoded[] = ['utf-16le with a mark', 'utf-16le', 'utf-16be with a mark'];

function encode(text: string, how: Encoded): Buffer {
  const le = Buffer.from(text, 'utf16le');
  if (how === 'utf-16le') return le;
  if (how === 'utf-16le with a mark') return Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
  return Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()]);
}

/** What a finding says of its secret and where it is, less the path. */
const where = (f: Finding): string => `${f.ruleId} ${f.location.line}:${f.location.column} @${f.location.byteOffset} ${f.secret} ${f.fingerprint}`;

/** `data` from standard input, in slices of the sizes given, in turn. */
function stdinOf(data: Buffer, sizes: readonly number[]): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let at = 0, i = 0; at < data.length; i++) {
      const n = sizes[i % sizes.length] as number;
      yield Buffer.from(data.subarray(at, at + n));
      at += n;
    }
  })();
}

let dir: string;
const small = plantedText(1, 20_000);
// Over the 1 MiB up to which archive entries are read whole, in UTF-16 and in UTF-8 alike.
const large = plantedText(2, 700_000);
/** Findings in each text saved as UTF-8, the reference for every road. */
let want: { small: string[]; large: string[] };

async function findings(inputs: string[], options: ScanOptions = {}): Promise<{ found: string[]; paths: string[] }> {
  const result = await scanAll(inputs, { ruleset, jobs: 0, showSecrets: true, ...options });
  expect(result.errors).toEqual([]);
  return { found: result.findings.map(where).sort(), paths: [...new Set(result.findings.map((f) => f.path))].sort() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-utf16-'));
  await writeFile(join(dir, 'small.utf8'), small);
  await writeFile(join(dir, 'large.utf8'), large);
  want = { small: (await findings([join(dir, 'small.utf8')])).found, large: (await findings([join(dir, 'large.utf8')])).found };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('UTF-16 text', () => {
  it('plants enough secrets, also after emoji, for the comparison to mean something', () => {
    expect(want.small.length).toBeGreaterThan(20);
    expect(want.large.length).toBeGreaterThan(500);
    // Columns count bytes of the UTF-8 line: a secret after an emoji starts at column 5.
    expect(want.small.some((f) => / \d+:5 @/.test(f))).toBe(true);
  });

  it('finds a secret where its UTF-8 text has it, with its line and its column in bytes', async () => {
    const secret = token(prng(9));
    const text = `first line\r\n日本 😀 key: ${secret}\r\n`;
    await writeFile(join(dir, 'one.ps1'), encode(text, 'utf-16le with a mark'));
    const result = await scanAll([join(dir, 'one.ps1')], { ruleset, jobs: 0, showSecrets: true });
    const at = Buffer.byteLength(text.slice(0, text.indexOf(secret)));
    const column = Buffer.byteLength('日本 😀 key: ') + 1;
    expect(result.findings.map((f) => [f.secret, f.location.line, f.location.column, f.location.byteOffset])).toEqual([[secret, 2, column, at]]);
  });

  describe.each(ENCODINGS)('saved as %s', (how) => {
    const name = how.replace(/ /g, '-');

    it.each([
      [0, true],
      [1, true],
      [0, false],
    ] as const)('in a directory (%i workers, bulk reads %s), small and large', async (jobs, bulkDirectories) => {
      const d = join(dir, `dir-${name}-${jobs}-${bulkDirectories}`);
      await mkdir(d, { recursive: true });
      await writeFile(join(d, 'small.ps1'), encode(small, how));
      await writeFile(join(d, 'large.reg'), encode(large, how));
      const result = await scanAll([d], { ruleset, jobs, bulkDirectories, inlineBytes: 0, showSecrets: true });
      expect(result.errors).toEqual([]);
      const of = (file: string) => result.findings.filter((f) => f.path.endsWith(file)).map(where).sort();
      expect(of('small.ps1')).toEqual(want.small);
      expect(of('large.reg')).toEqual(want.large);
    });

    it.each([
      [64, 0],
      [1000, 1],
      [4093, 0],
    ])('given directly, whatever the chunk size (%i, %i workers)', async (chunkSize, jobs) => {
      const file = join(dir, `large-${name}.txt`);
      await writeFile(file, encode(large, how));
      expect((await findings([file], { chunkSize, jobs, inlineBytes: 0 })).found).toEqual(want.large);
    });

    it('in a tarball: an entry read whole and one read as a stream, gzipped or not', async () => {
      const tar = await tarBuffer([
        { path: 'package/small.ps1', content: encode(small, how) },
        { path: 'package/large.reg', content: encode(large, how) },
      ]);
      for (const [ext, data] of [
        ['tar', tar],
        ['tgz', gzipSync(tar)],
      ] as const) {
        const file = join(dir, `${name}.${ext}`);
        await writeFile(file, data);
        const result = await scanAll([file], { ruleset, jobs: 0, chunkSize: 4093, showSecrets: true });
        expect(result.errors).toEqual([]);
        const of = (entry: string) => result.findings.filter((f) => f.path === `${file}!${entry}`).map(where).sort();
        expect(of('package/small.ps1')).toEqual(want.small);
        expect(of('package/large.reg')).toEqual(want.large);
      }
    });

    it('in a zip: an entry read whole and one read as a stream', async () => {
      const file = join(dir, `${name}.zip`);
      await writeFile(
        file,
        await zipBuffer([
          { path: 'pkg/small.ps1', content: encode(small, how) },
          { path: 'pkg/large.reg', content: encode(large, how) },
        ]),
      );
      const result = await scanAll([file], { ruleset, jobs: 0, showSecrets: true });
      expect(result.errors).toEqual([]);
      const of = (entry: string) => result.findings.filter((f) => f.path === `${file}!${entry}`).map(where).sort();
      expect(of('pkg/small.ps1')).toEqual(want.small);
      expect(of('pkg/large.reg')).toEqual(want.large);
    });

    it('gzipped alone', async () => {
      const file = join(dir, `${name}.ps1.gz`);
      await writeFile(file, gzipSync(encode(small, how)));
      expect((await findings([file])).found).toEqual(want.small);
    });

    it.each([[[1]], [[3, 7, 2]], [[4093, 65_537]]])('from standard input in slices of %j bytes', async (sizes) => {
      const data = encode(sizes[0] === 1 ? small : large, how);
      const { found, paths } = await findings(['-'], { stdin: stdinOf(data, sizes), chunkSize: 1000 });
      expect(paths).toEqual(['-']);
      expect(found).toEqual(sizes[0] === 1 ? want.small : want.large);
    });
  });

  it('finds nothing in UTF-16 text that holds nothing secret, and reports no problem', async () => {
    const d = join(dir, 'clean');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'clean.reg'), encode('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Example]\r\n"Name"="tok_ is a prefix"\r\n', 'utf-16le with a mark'));
    for (const bulkDirectories of [true, false]) {
      const result = await scanAll([d], { ruleset, jobs: 0, bulkDirectories });
      expect(result.errors).toEqual([]);
      expect(result.findings).toEqual([]);
      expect(result.stats.files).toBe(1);
    }
  });

  it('reads binaries with NULs as they are, never as UTF-16: their ASCII secrets are found', async () => {
    const rand = prng(5);
    const secrets = [token(rand), token(rand), token(rand), token(rand)];
    const crc = Buffer.alloc(4);
    const binaries: [string, Buffer][] = [
      // Starts as UTF-16 would, then NULs.
      ['nuls.bin', Buffer.concat([Buffer.from('A\0B\0', 'latin1'), Buffer.alloc(200), Buffer.from(` ${secrets[0]} `), Buffer.alloc(300)])],
      // A PNG with a text chunk.
      [
        'image.png',
        Buffer.concat([
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
          Buffer.from('IHDR'),
          Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]),
          crc,
          Buffer.from([0, 0, 0, 33]),
          Buffer.from(`tEXtComment\0 ${secrets[1]} `),
          crc,
        ]),
      ],
      // A wasm module whose data section holds the secret.
      ['module.wasm', Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x20, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x1a]), Buffer.from(` ${secrets[2]} `)])],
      // Every other byte 0 in places, but not text.
      ['table.bin', Buffer.concat([Buffer.from([0x41, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00]), Buffer.alloc(64), Buffer.from(` ${secrets[3]} `)])],
    ];
    const d = join(dir, 'binaries');
    await mkdir(d, { recursive: true });
    for (const [file, data] of binaries) await writeFile(join(d, file), data);
    const tgz = join(dir, 'binaries.tgz');
    await writeFile(tgz, gzipSync(await tarBuffer(binaries.map(([file, data]) => ({ path: `package/${file}`, content: data })))));
    for (const options of [{ bulkDirectories: true }, { bulkDirectories: false }, { jobs: 1, inlineBytes: 0 }]) {
      const result = await scanAll([d, tgz], { ruleset, jobs: 0, showSecrets: true, ...options });
      expect(result.errors).toEqual([]);
      expect(result.findings.map((f) => `${f.path.slice(f.path.lastIndexOf('/') + 1)} ${f.secret}`).sort()).toEqual(
        binaries.flatMap(([file], i) => [`${file} ${secrets[i]}`, `${file} ${secrets[i]}`]).sort(),
      );
    }
    // Standard input as well.
    const piped = await findings(['-'], { stdin: stdinOf(binaries[0]![1], [7]) });
    expect(piped.found.map((f) => f.split(' ')[3])).toEqual([secrets[0]]);
  });
});
