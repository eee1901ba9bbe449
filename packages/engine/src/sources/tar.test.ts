import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { compileRules } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanAll } from '../scan.js';
import { TEST_TOKEN_RULE } from '../testing.js';

const ruleset = compileRules([TEST_TOKEN_RULE]);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const token = (): string => `tok_${[...randomBytes(24)].map((b) => ALNUM[b % ALNUM.length]).join('')}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-tar-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A ustar header written byte by byte, so that a link or device can be given a size (tar-stream's packer writes 0). */
function header(name: string, size: number, typeflag: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write(linkname, 157, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const padded = (data: Buffer): Buffer => Buffer.concat([data, Buffer.alloc(-data.length & 511)]);
const member = (name: string, data: Buffer): Buffer => Buffer.concat([header(name, data.length, '0'), padded(data)]);

/** A tar whose entry `pkg-1.0/link` of type `typeflag` has `data` as its data, followed by `pkg-1.0/ok.py`. */
function tarWithData(typeflag: string, linkname: string, data: Buffer): Buffer {
  return Buffer.concat([header('pkg-1.0/link', data.length, typeflag, linkname), padded(data), member('pkg-1.0/ok.py', Buffer.from('abc')), Buffer.alloc(1024)]);
}

async function scanBytes(name: string, bytes: Buffer) {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const { findings, errors } = await scanAll([path], { ruleset, jobs: 0 });
  return {
    errors,
    structure: findings.filter((f) => f.ruleId.startsWith('archive-')).map((f) => [f.path.slice(dir.length + 1), f.ruleId]),
    secrets: findings.filter((f) => f.ruleId === TEST_TOKEN_RULE.id).map((f) => [f.path.slice(dir.length + 1), f.secret]),
  };
}

describe('tar link and device entries that carry data', () => {
  it('reports a symbolic or hard link with data and scans the entries Python and GNU tar extract from it', async () => {
    for (const [kind, typeflag, linkname] of [
      ['symlink', '2', 'target.py'],
      ['hardlink', '1', 'pkg-1.0/ok.py'],
    ] as const) {
      const tok = token();
      const tar = tarWithData(typeflag, linkname, member('pkg-1.0/hidden.py', Buffer.from(`const token = '${tok}';\n`)));
      for (const [name, bytes] of [
        [`${kind}.tar`, tar],
        [`${kind}.tar.gz`, gzipSync(tar)],
      ] as const) {
        const r = await scanBytes(name, bytes);
        expect(r.errors).toEqual([]);
        expect(r.structure).toEqual([[`${name}!pkg-1.0/link`, 'archive-nonfile-data']]);
        expect(r.secrets).toEqual([[`${name}!pkg-1.0/link!pkg-1.0/hidden.py`, expect.stringMatching(/^tok_/)]]);
      }
    }
  });

  it('scans data that is no tar as the entry itself, also when it is too large to be read whole', async () => {
    const tok = token();
    const small = Buffer.from(`key = "${tok}"\n`);
    const large = Buffer.concat([Buffer.alloc(1536 * 1024, 'x\n'), small]);
    for (const [name, data] of [
      ['small.tar', small],
      ['large.tar', large],
    ] as const) {
      const r = await scanBytes(name, tarWithData('2', 'target.py', data));
      expect(r.errors).toEqual([]);
      expect(r.structure).toEqual([[`${name}!pkg-1.0/link`, 'archive-nonfile-data']]);
      expect(r.secrets).toEqual([[`${name}!pkg-1.0/link`, expect.stringMatching(/^tok_/)]]);
    }
  });

  it('reports a FIFO with data as a device entry and as an entry with data, and scans the data', async () => {
    const r = await scanBytes('fifo.tar', tarWithData('6', '', Buffer.from(`t = "${token()}"\n`)));
    expect(r.errors).toEqual([]);
    expect(r.structure).toEqual([
      ['fifo.tar!pkg-1.0/link', 'archive-device-file'],
      ['fifo.tar!pkg-1.0/link', 'archive-nonfile-data'],
    ]);
    expect(r.secrets).toEqual([['fifo.tar!pkg-1.0/link', expect.stringMatching(/^tok_/)]]);
  });

  it('reads the block after a directory with a size as the next header, as Python and GNU tar do', async () => {
    const r = await scanBytes('dir.tar', tarWithData('5', '', member('pkg-1.0/hidden.py', Buffer.from(`t = "${token()}"\n`))));
    expect(r.errors).toEqual([]);
    expect(r.structure).toEqual([]);
    expect(r.secrets).toEqual([['dir.tar!pkg-1.0/hidden.py', expect.stringMatching(/^tok_/)]]);
  });

  it('leaves links without data alone', async () => {
    const tar = Buffer.concat([header('pkg-1.0/link', 0, '2', 'ok.py'), member('pkg-1.0/ok.py', Buffer.from(`t = "${token()}"\n`)), Buffer.alloc(1024)]);
    const r = await scanBytes('plainlink.tar', tar);
    expect(r.errors).toEqual([]);
    expect(r.structure).toEqual([]);
    expect(r.secrets).toEqual([['plainlink.tar!pkg-1.0/ok.py', expect.stringMatching(/^tok_/)]]);
  });
});

/** A PAX extended header (type `x`) holding `attributes`, as a member's header block and its data. */
function paxHeader(attributes: Record<string, string>): Buffer {
  const records = Object.entries(attributes).map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    // The length counts its own digits.
    let n = body.length + 1;
    while (`${n}${body}`.length !== n) n++;
    return `${n}${body}`;
  });
  const data = Buffer.from(records.join(''));
  return Buffer.concat([header('PaxHeaders/x', data.length, 'x'), padded(data)]);
}

describe('GNU sparse members', () => {
  it('names a PAX sparse member by its real name and says its locations count within the stored data', async () => {
    const tok = token();
    const stored = Buffer.from(`key = "${tok}"\n`);
    const cases: [string, Record<string, string>, Buffer][] = [
      ['1.0', { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'pkg-1.0/sparse.py', 'GNU.sparse.realsize': '1048600' }, padded(Buffer.from(`1\n1048576\n${stored.length}\n`))],
      ['0.1', { 'GNU.sparse.map': `1048576,${stored.length}`, 'GNU.sparse.name': 'pkg-1.0/sparse.py', 'GNU.sparse.size': '1048600' }, Buffer.alloc(0)],
    ];
    for (const [version, attributes, map] of cases) {
      const data = Buffer.concat([map, stored]);
      const tar = Buffer.concat([paxHeader(attributes), header('./GNUSparseFile.42/sparse.py', data.length, '0'), padded(data), Buffer.alloc(1024)]);
      const name = `sparse-${version}.tar`;
      const r = await scanBytes(name, tar);
      expect(r.secrets).toEqual([[`${name}!pkg-1.0/sparse.py`, expect.stringMatching(/^tok_/)]]);
      expect(r.errors).toEqual([
        {
          path: join(dir, `${name}!pkg-1.0/sparse.py`),
          kind: 'unsupported',
          message: expect.stringMatching(new RegExp(`^sparse file \\(GNU sparse format ${version.replace('.', '\\.')}\\): .* count within the data as stored in the archive`)),
        },
      ]);
    }
  });
});
