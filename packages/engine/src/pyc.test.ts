import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { base62Crc32, compilePyc, Prng, python3Available, tarBuffer, zipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScanOptions, scanAll } from './scan.js';
import type { Finding } from './types.js';

const python = python3Available();

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const pick = (rng: Prng, alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');
/** A token with the CRC-32 checksum GitHub and npm put in its last 6 characters. */
const checksummed = (rng: Prng, prefix: string): string => {
  const body = pick(rng, BASE62, 30);
  return `${prefix}${body}${base62Crc32(body)}`;
};

const rng = new Prng(1952);
const github = checksummed(rng, 'ghp_');
const npm = checksummed(rng, 'npm_');
const aws = `AKIA${pick(rng, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
// 65 characters: marshal's length byte in front of it is `A`.
const labelled = `${checksummed(rng, 'gho_')}:${'x'.repeat(24)}`;
const SOURCE = `import os\nTOKEN = "${github}"\nAWS_KEY = "${aws}"\n\ndef npm_token():\n    return "${npm}"\n\nLABELLED = "${labelled}"\n`;

/** What a finding says of its secret and where it is, less the path. */
const where = (f: Finding): string => `${f.ruleId} @${f.location.byteOffset} ${f.secret} ${f.fingerprint}`;

let dir: string;
let small: Buffer;
let large: Buffer;
/** The findings each pyc must give: its secrets at the offsets where its bytes hold them. */
let want: { small: string[]; large: string[] };

/** Writes `name`.py and the pyc python3 compiles it to, next to each other, as pip leaves them. */
async function compile(name: string, source: string): Promise<Buffer> {
  const pyc = compilePyc(source);
  await writeFile(join(dir, `${name}.py`), source);
  await writeFile(join(dir, `${name}.pyc`), pyc);
  return pyc;
}

async function findings(inputs: string[], options: ScanOptions = {}): Promise<Finding[]> {
  const result = await scanAll(inputs, { jobs: 0, showSecrets: true, ...options });
  expect(result.errors).toEqual([]);
  return result.findings;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-pyc-'));
  if (!python) return;
  small = await compile('settings', SOURCE);
  // Over the 1 MiB up to which archive entries are read whole: read as a stream there.
  const filler = Array.from({ length: 40_000 }, (_, i) => `    "constant number ${i} of a large table",\n`).join('');
  large = await compile('table', `TABLE = [\n${filler}]\n${SOURCE}`);
  expect(large.length).toBeGreaterThan(1024 * 1024);
  const at = (data: Buffer) =>
    (
      [
        ['github-classic-token', github],
        ['aws-access-key-id', aws],
        ['npm-access-token', npm],
        ['github-classic-token', labelled.slice(0, 40)],
      ] as const
    ).map(([rule, secret]) => `${rule} @${data.indexOf(secret)} ${secret}`);
  want = { small: at(small).sort(), large: at(large).sort() };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The findings less their fingerprints, which are checked against the source's once. */
const found = (list: Finding[]): string[] => list.map((f) => where(f).replace(/ sha256:\S+$/, '')).sort();

describe.skipIf(!python)('compiled Python (.pyc)', () => {
  it('gives the secrets of its source, with their fingerprints, at their offsets in the pyc', async () => {
    const fromSource = await findings([join(dir, 'settings.py')]);
    const fromPyc = await findings([join(dir, 'settings.pyc')]);
    expect(found(fromPyc)).toEqual(want.small);
    const prints = (list: Finding[]) => list.map((f) => `${f.ruleId} ${f.fingerprint}`).sort();
    expect(prints(fromPyc)).toEqual(prints(fromSource));
  });

  it.each([
    [0, true],
    [1, true],
    [0, false],
  ] as const)('in a directory (%i workers, bulk reads %s), small and large', async (jobs, bulkDirectories) => {
    const d = join(dir, `dir-${jobs}-${bulkDirectories}`);
    await mkdir(join(d, '__pycache__'), { recursive: true });
    await writeFile(join(d, '__pycache__', 'settings.cpython-311.pyc'), small);
    await writeFile(join(d, 'table.pyc'), large);
    const result = await findings([d], { jobs, bulkDirectories, inlineBytes: 0 });
    expect(found(result.filter((f) => f.path.endsWith('settings.cpython-311.pyc')))).toEqual(want.small);
    expect(found(result.filter((f) => f.path.endsWith('table.pyc')))).toEqual(want.large);
  });

  it.each([
    [64, 0],
    [4093, 1],
  ])('given directly, whatever the chunk size (%i, %i workers)', async (chunkSize, jobs) => {
    expect(found(await findings([join(dir, 'table.pyc')], { chunkSize, jobs, inlineBytes: 0 }))).toEqual(want.large);
  });

  it('in a wheel and in a tarball: entries read whole and read as a stream', async () => {
    const wheel = join(dir, 'pkg-1.0-py3-none-any.whl');
    await writeFile(
      wheel,
      await zipBuffer([
        { path: 'pkg/__pycache__/settings.cpython-311.pyc', content: small },
        { path: 'pkg/table.pyc', content: large },
      ]),
    );
    const tgz = join(dir, 'pkg-1.0.tar.gz');
    await writeFile(
      tgz,
      gzipSync(
        await tarBuffer([
          { path: 'pkg-1.0/settings.pyc', content: small },
          { path: 'pkg-1.0/table.pyc', content: large },
        ]),
      ),
    );
    const result = await findings([wheel, tgz], { chunkSize: 4093 });
    const of = (path: string) => found(result.filter((f) => f.path === path));
    expect(of(`${wheel}!pkg/__pycache__/settings.cpython-311.pyc`)).toEqual(want.small);
    expect(of(`${wheel}!pkg/table.pyc`)).toEqual(want.large);
    expect(of(`${tgz}!pkg-1.0/settings.pyc`)).toEqual(want.small);
    expect(of(`${tgz}!pkg-1.0/table.pyc`)).toEqual(want.large);
  });

  it('gzipped alone, and from standard input in odd slices', async () => {
    const gz = join(dir, 'settings.pyc.gz');
    await writeFile(gz, gzipSync(small));
    expect(found(await findings([gz]))).toEqual(want.small);
    for (const sizes of [[1], [3, 7, 2], [4093, 65_537]]) {
      const data = sizes[0] === 4093 ? large : small;
      const stdin = (async function* () {
        for (let at = 0, i = 0; at < data.length; i++) {
          const n = sizes[i % sizes.length]!;
          yield Buffer.from(data.subarray(at, at + n));
          at += n;
        }
      })();
      expect(found(await findings(['-'], { stdin, chunkSize: 1000 }))).toEqual(sizes[0] === 4093 ? want.large : want.small);
    }
  });
});
