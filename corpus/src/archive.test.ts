import { Buffer } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { gzipBuffer, tarBuffer, tgzBuffer, zipBuffer } from './archive.js';
import { CorpusError } from './errors.js';
import { npmTarball, sdist, wheel } from './packagers.js';

interface ReadEntry {
  path: string;
  type: string;
  mode: number;
  content: string;
  linkname?: string;
}

async function readTar(bytes: Uint8Array): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const parts: Buffer[] = [];
      for await (const part of entry) parts.push(Buffer.from(part as Uint8Array));
      const h = entry.header;
      out.push({ path: h.name, type: h.type, mode: h.mode, content: Buffer.concat(parts).toString('utf8'), linkname: h.linkname || undefined });
    }
  })();
  ex.end(Buffer.from(bytes));
  await done;
  return out;
}

async function readZip(bytes: Uint8Array): Promise<ReadEntry[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(Buffer.from(bytes), { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const out: ReadEntry[] = [];
  return new Promise((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve(out));
    zip.on('entry', (entry: yauzl.Entry) => {
      const mode = entry.externalFileAttributes >>> 16;
      if (entry.fileName.endsWith('/')) {
        out.push({ path: entry.fileName, type: 'dir', mode, content: '' });
        zip.readEntry();
        return;
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const parts: Buffer[] = [];
        stream.on('data', (d: Buffer) => parts.push(d));
        stream.on('end', () => {
          out.push({ path: entry.fileName, type: (mode & 0o170000) === 0o120000 ? 'symlink' : 'file', mode, content: Buffer.concat(parts).toString('utf8') });
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
}

const entries = [
  { path: 'pkg/', type: 'dir' as const },
  { path: 'pkg/a.txt', content: 'hello\n' },
  { path: 'pkg/bin.dat', content: Uint8Array.of(0, 1, 2, 255), mode: 0o755 },
  { path: 'pkg/link', type: 'symlink' as const, linkname: 'a.txt' },
];

describe('tarBuffer / tgzBuffer', () => {
  it('round-trips files, modes, directories, symlinks and hard links', async () => {
    const read = await readTar(await tarBuffer([...entries, { path: 'pkg/hard', type: 'link', linkname: 'pkg/a.txt' }]));
    expect(read.map((e) => [e.path, e.type])).toEqual([
      ['pkg/', 'directory'],
      ['pkg/a.txt', 'file'],
      ['pkg/bin.dat', 'file'],
      ['pkg/link', 'symlink'],
      ['pkg/hard', 'link'],
    ]);
    expect(read[1]?.content).toBe('hello\n');
    expect(Buffer.from(read[2]?.content ?? '', 'utf8').length).toBeGreaterThan(0);
    expect(read[2]?.mode).toBe(0o755);
    expect(read[3]?.linkname).toBe('a.txt');
    expect(read[4]?.linkname).toBe('pkg/a.txt');
  });

  it('keeps binary content byte for byte', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const tgz = await tgzBuffer([{ path: 'x.bin', content: bytes }]);
    const ex = extract();
    const got: Buffer[] = [];
    const done = (async () => {
      for await (const entry of ex) for await (const part of entry) got.push(Buffer.from(part as Uint8Array));
    })();
    ex.end(gunzipSync(tgz));
    await done;
    expect(Buffer.concat(got).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses a link without a target', async () => {
    await expect(tarBuffer([{ path: 'l', type: 'symlink' }])).rejects.toBeInstanceOf(CorpusError);
  });

  it('is deterministic', async () => {
    expect(Buffer.from(await tgzBuffer(entries)).equals(Buffer.from(await tgzBuffer(entries)))).toBe(true);
  });
});

describe('zipBuffer', () => {
  it('round-trips files, directories and symlinks', async () => {
    const read = await readZip(await zipBuffer(entries));
    expect(read.map((e) => [e.path, e.type])).toEqual([
      ['pkg/', 'dir'],
      ['pkg/a.txt', 'file'],
      ['pkg/bin.dat', 'file'],
      ['pkg/link', 'symlink'],
    ]);
    expect(read[1]?.content).toBe('hello\n');
    expect((read[2]?.mode ?? 0) & 0o777).toBe(0o755);
    expect(read[3]?.content).toBe('a.txt');
  });

  it('refuses hard links, which zip cannot express', async () => {
    await expect(zipBuffer([{ path: 'h', type: 'link', linkname: 'a' }])).rejects.toThrow(/hard links/);
  });

  it('is deterministic', async () => {
    expect(Buffer.from(await zipBuffer(entries)).equals(Buffer.from(await zipBuffer(entries)))).toBe(true);
  });
});

describe('gzipBuffer', () => {
  it('writes FNAME when given a name, and gunzips back', () => {
    const gz = Buffer.from(gzipBuffer('line one\nline two\n', 'settings.py'));
    expect([gz[0], gz[1], gz[2]]).toEqual([0x1f, 0x8b, 8]);
    expect((gz[3] ?? 0) & 0x08).toBe(0x08);
    expect(gz.subarray(10, 10 + 'settings.py'.length + 1).toString('latin1')).toBe('settings.py\0');
    expect(gunzipSync(gz).toString('utf8')).toBe('line one\nline two\n');
  });

  it('without a name has no FNAME flag', () => {
    const gz = Buffer.from(gzipBuffer(Uint8Array.of(1, 2, 3)));
    expect((gz[3] ?? 0) & 0x08).toBe(0);
    expect([...gunzipSync(gz)]).toEqual([1, 2, 3]);
  });
});

describe('packagers', () => {
  it('npmTarball puts everything under package/ with a package.json', async () => {
    const read = await readTar(gunzipSync(await npmTarball('acme-widgets', '1.2.3', [{ path: 'index.js', content: 'module.exports = 1;\n' }])));
    expect(read.map((e) => e.path)).toEqual(['package/package.json', 'package/index.js']);
    expect(JSON.parse(read[0]?.content ?? '')).toMatchObject({ name: 'acme-widgets', version: '1.2.3' });
  });

  it('wheel has dist-info METADATA, WHEEL and a RECORD whose hashes match', async () => {
    const read = await readZip(await wheel('acme-tools', '0.1.0', [{ path: 'acme_tools/__init__.py', content: 'X = 1\n' }]));
    const paths = read.map((e) => e.path);
    expect(paths).toEqual([
      'acme_tools/__init__.py',
      'acme_tools-0.1.0.dist-info/METADATA',
      'acme_tools-0.1.0.dist-info/WHEEL',
      'acme_tools-0.1.0.dist-info/RECORD',
    ]);
    const record = read[3]?.content ?? '';
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update('X = 1\n').digest('base64url');
    expect(record).toContain(`acme_tools/__init__.py,sha256=${expected},6`);
    expect(record).toContain('acme_tools-0.1.0.dist-info/RECORD,,');
    expect(read[1]?.content).toContain('Name: acme-tools\nVersion: 0.1.0');
  });

  it('sdist is a tar.gz under {name}-{version}/ with PKG-INFO', async () => {
    const read = await readTar(gunzipSync(await sdist('acme-tools', '0.1.0', [{ path: 'src/acme_tools/__init__.py', content: '' }])));
    expect(read.map((e) => e.path)).toEqual([
      'acme_tools-0.1.0/',
      'acme_tools-0.1.0/PKG-INFO',
      'acme_tools-0.1.0/pyproject.toml',
      'acme_tools-0.1.0/src/acme_tools/__init__.py',
    ]);
    expect(read[1]?.content).toContain('Name: acme-tools');
  });
});
