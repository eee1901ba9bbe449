import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { checkArtifactVersions, readArtifactVersion, sha256File } from './artifacts.js';
import { ArtifactError } from './errors.js';
import { npmTarball, sdist, type TarEntry, tarGz, tarGzEntries, wheel, zip } from './testing/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-artifacts-'));

describe('readArtifactVersion', () => {
  it('reads package.json from an npm tarball, by content not extension', async () => {
    const p = await npmTarball(dir, '@acme/tool', '1.2.3', 'renamed.bin');
    expect(await readArtifactVersion(p)).toMatchObject({ kind: 'npm', name: '@acme/tool', version: '1.2.3' });
  });

  it('reads METADATA from a wheel and the version in its file name', async () => {
    const p = await wheel(dir, 'acme-tool', '1.2.3rc1');
    expect(await readArtifactVersion(p)).toMatchObject({
      kind: 'wheel',
      name: 'acme-tool',
      version: '1.2.3rc1',
      fileNameVersion: '1.2.3rc1',
    });
  });

  it('reads PKG-INFO from an sdist even when it also holds a package.json', async () => {
    const p = join(dir, 'mixed-2.0.0.tar.gz');
    writeFileSync(
      p,
      await tarGz({
        'mixed-2.0.0/package.json': JSON.stringify({ name: 'ui', version: '0.0.1' }),
        'mixed-2.0.0/PKG-INFO': 'Metadata-Version: 2.1\nName: mixed\nVersion: 2.0.0\n',
      }),
    );
    expect(await readArtifactVersion(p)).toMatchObject({ kind: 'sdist', name: 'mixed', version: '2.0.0', fileNameVersion: '2.0.0' });
  });

  it('gives actionable errors for unreadable and unknown files', async () => {
    await expect(readArtifactVersion(join(dir, 'missing.tgz'))).rejects.toThrow(/missing\.tgz: no such file/);
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'hello');
    await expect(readArtifactVersion(txt)).rejects.toThrow(ArtifactError);
    const z = join(dir, 'plain.zip');
    writeFileSync(z, await zip({ 'a.txt': 'x' }));
    await expect(readArtifactVersion(z)).rejects.toThrow(/not a wheel/);
    const broken = join(dir, 'broken.tgz');
    writeFileSync(broken, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('garbage garbage')]));
    await expect(readArtifactVersion(broken)).rejects.toThrow(ArtifactError);
  });
});

async function tarOf(file: string, entries: readonly TarEntry[]): Promise<string> {
  const path = join(dir, file);
  writeFileSync(path, await tarGzEntries(entries.map((e) => (e.type === undefined || e.type === 'file' ? { ...e, mtime: new Date(499162500000) } : e))));
  return path;
}

/** A zip whose members may repeat a name, in the given order. */
async function zipOf(file: string, entries: ReadonlyArray<readonly [string, string]>): Promise<string> {
  const z = new yazl.ZipFile();
  for (const [name, content] of entries) z.addBuffer(Buffer.from(content), name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  const path = join(dir, file);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

const manifest = (name: string, version: string): string => JSON.stringify({ name, version, description: 'demo' });
const coreMetadata = (name: string, version: string): string => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\n`;

describe('readArtifactVersion: the package.json npm publishes', () => {
  it('reads npm pack output, package.json after other files and a nested package.json after it', async () => {
    const p = await tarOf('packed.tgz', [
      { name: 'package/LICENSE', content: 'l' },
      { name: 'package/lib/a.js', content: 'y' },
      { name: 'package/index.js', content: 'x' },
      { name: 'package/package.json', content: manifest('acme-tool', '1.0.0') },
      { name: 'package/test/fixtures/package.json', content: manifest('fixture', '9.9.9') },
      { name: 'package/node_modules/dep/package.json', content: manifest('dep', '6.6.6') },
      { name: 'package/README.md', content: 'r' },
    ]);
    expect(await readArtifactVersion(p)).toMatchObject({ kind: 'npm', name: 'acme-tool', version: '1.0.0', source: 'package/package.json' });
  });

  it('refuses a second package/package.json, which npm would publish instead of the first', async () => {
    const p = await tarOf('dup.tgz', [
      { name: 'package/package.json', content: manifest('acme-tool', '1.0.0') },
      { name: 'package/package.json', content: manifest('acme-tool', '6.6.6') },
      { name: 'package/index.js', content: '' },
    ]);
    await expect(readArtifactVersion(p)).rejects.toThrow(/2 members unpack as npm's package\.json \("package\/package\.json", "package\/package\.json"\)/);
    await expect(checkArtifactVersions('v1.0.0', [p])).rejects.toThrow(ArtifactError);
  });

  it('refuses a package.json under another top directory, in either order', async () => {
    for (const order of [
      ['package/package.json', 'zzz/package.json'],
      ['zzz/package.json', 'package/package.json'],
    ]) {
      const p = await tarOf(`other-top-${order[0]!.slice(0, 3)}.tgz`, [
        { name: order[0]!, content: manifest('acme-tool', '1.0.0') },
        { name: order[1]!, content: manifest('other-pkg', '1.0.0') },
      ]);
      await expect(readArtifactVersion(p)).rejects.toThrow(`("${order[0]}", "${order[1]}")`);
    }
  });

  it('counts the names node-tar writes to package.json after stripping one part', async () => {
    for (const name of ['./package.json', 'package//package.json', 'package/./package.json', 'package/package.json/', 'x/Package.json']) {
      const p = await tarOf('spelled.tgz', [
        { name: 'package/package.json', content: manifest('acme-tool', '1.0.0') },
        { name, content: manifest('acme-tool', '6.6.6') },
      ]);
      await expect(readArtifactVersion(p), name).rejects.toThrow(`"${name}"`);
    }
    // Alone, such a member is the manifest npm reads, so it is the one checked.
    const alone = await tarOf('alone.tgz', [{ name: 'package/./package.json', content: manifest('acme-tool', '6.6.6') }]);
    expect(await readArtifactVersion(alone)).toMatchObject({ kind: 'npm', version: '6.6.6', source: 'package/./package.json' });
    // node-tar skips a path with `..` after the strip, and a member at the top (it would be the target folder).
    const skipped = await tarOf('skipped.tgz', [
      { name: 'package/package.json', content: manifest('acme-tool', '1.0.0') },
      { name: 'package/x/../package.json', content: manifest('acme-tool', '6.6.6') },
      { name: 'package.json', content: manifest('acme-tool', '6.6.6') },
    ]);
    expect(await readArtifactVersion(skipped)).toMatchObject({ version: '1.0.0' });
  });

  it('refuses a package.json that is a symbolic or hard link, naming it', async () => {
    for (const type of ['symlink', 'link'] as const) {
      const p = await tarOf(`${type}.tgz`, [
        { name: 'package/real.json', content: manifest('other-pkg', '6.6.6') },
        { name: 'package/package.json', type, linkname: type === 'link' ? 'package/real.json' : 'real.json' },
      ]);
      await expect(readArtifactVersion(p)).rejects.toThrow(`"package/package.json" is a ${type}, not a regular file`);
    }
  });
});

describe('readArtifactVersion: the metadata twine uploads', () => {
  it('reads a wheel whose other members merely mention METADATA', async () => {
    const p = await zipOf('acme_tool-1.0.0-py3-none-any.whl', [
      ['acme_tool/__init__.py', ''],
      ['acme_tool/METADATA.md', 'notes on the metadata version header'],
      ['acme_tool-1.0.0.dist-info/METADATA', coreMetadata('acme-tool', '1.0.0')],
      ['acme_tool-1.0.0.dist-info/RECORD', ''],
    ]);
    expect(await readArtifactVersion(p)).toMatchObject({ kind: 'wheel', version: '1.0.0', source: 'acme_tool-1.0.0.dist-info/METADATA' });
  });

  it('refuses a wheel with a top-level METADATA, which twine reads first', async () => {
    const p = await zipOf('acme_tool-1.0.0-py3-none-any.whl', [
      ['acme_tool/__init__.py', ''],
      ['acme_tool-1.0.0.dist-info/METADATA', coreMetadata('acme-tool', '1.0.0')],
      ['acme_tool-1.0.0.dist-info/RECORD', ''],
      ['METADATA', coreMetadata('other-pkg', '6.6.6')],
    ]);
    await expect(readArtifactVersion(p)).rejects.toThrow(
      'twine takes the metadata it uploads from "METADATA", not from "acme_tool-1.0.0.dist-info/METADATA"',
    );
  });

  it('refuses a wheel whose module sorting before the dist-info holds Metadata-Version', async () => {
    const p = await zipOf('acme_tool-1.0.0-py3-none-any.whl', [
      ['acme_tool-1.0.0.dist-info/METADATA', coreMetadata('acme-tool', '1.0.0')],
      ['acme_tool/METADATA.txt', coreMetadata('other-pkg', '6.6.6')],
    ]);
    await expect(readArtifactVersion(p)).rejects.toThrow('"acme_tool/METADATA.txt", not from "acme_tool-1.0.0.dist-info/METADATA"');
  });

  it('refuses a wheel with two METADATA of one name or two dist-info folders', async () => {
    const twice = await zipOf('acme_tool-1.0.0-py3-none-any.whl', [
      ['acme_tool-1.0.0.dist-info/METADATA', coreMetadata('acme-tool', '1.0.0')],
      ['acme_tool-1.0.0.dist-info/METADATA', coreMetadata('acme-tool', '6.6.6')],
    ]);
    await expect(readArtifactVersion(twice)).rejects.toThrow(/2 \*\.dist-info\/METADATA members/);
    const two = await zipOf('acme_tool-1.0.0-py3-none-any.whl', [
      ['acme_tool-1.0.0.dist-info/METADATA', coreMetadata('acme-tool', '1.0.0')],
      ['aaa-6.6.6.dist-info/METADATA', coreMetadata('other-pkg', '6.6.6')],
    ]);
    await expect(readArtifactVersion(two)).rejects.toThrow('("acme_tool-1.0.0.dist-info/METADATA", "aaa-6.6.6.dist-info/METADATA")');
  });

  it('reads a setuptools sdist, PKG-INFO at the top and in the egg-info folder', async () => {
    const p = await tarOf('acme_tool-1.0.0.tar.gz', [
      { name: 'acme_tool-1.0.0/', type: 'directory' },
      { name: 'acme_tool-1.0.0/src/', type: 'directory' },
      { name: 'acme_tool-1.0.0/src/acme_tool.egg-info/', type: 'directory' },
      { name: 'acme_tool-1.0.0/src/acme_tool.egg-info/PKG-INFO', content: coreMetadata('acme-tool', '1.0.0') },
      { name: 'acme_tool-1.0.0/src/acme_tool.egg-info/SOURCES.txt', content: '' },
      { name: 'acme_tool-1.0.0/PKG-INFO', content: coreMetadata('acme-tool', '1.0.0') },
      { name: 'acme_tool-1.0.0/setup.cfg', content: '' },
    ]);
    expect(await readArtifactVersion(p)).toMatchObject({ kind: 'sdist', version: '1.0.0', source: 'acme_tool-1.0.0/PKG-INFO' });
  });

  it('refuses an sdist with a PKG-INFO in another top folder that sorts first', async () => {
    const p = await tarOf('acme_tool-1.0.0.tar.gz', [
      { name: 'acme_tool-1.0.0/PKG-INFO', content: coreMetadata('acme-tool', '1.0.0') },
      { name: 'aaa/PKG-INFO', content: coreMetadata('other-pkg', '6.6.6') },
    ]);
    await expect(readArtifactVersion(p)).rejects.toThrow('("acme_tool-1.0.0/PKG-INFO", "aaa/PKG-INFO")');
  });

  it('refuses an sdist whose PKG-INFO twine would skip for another', async () => {
    const p = await tarOf('acme_tool-1.0.0.tar.gz', [
      { name: 'acme_tool-1.0.0/PKG-INFO', content: 'Name: acme-tool\nVersion: 1.0.0\n' },
      { name: 'acme_tool-1.0.0/src/x.egg-info/PKG-INFO', content: coreMetadata('other-pkg', '6.6.6') },
    ]);
    await expect(readArtifactVersion(p)).rejects.toThrow(
      'twine takes the metadata it uploads from "acme_tool-1.0.0/src/x.egg-info/PKG-INFO", not from "acme_tool-1.0.0/PKG-INFO"',
    );
  });

  it('refuses an sdist with a repeated or linked candidate before its PKG-INFO', async () => {
    const twice = await tarOf('acme_tool-1.0.0.tar.gz', [
      { name: 'acme_tool-1.0.0/PKG-INFO', content: coreMetadata('acme-tool', '1.0.0') },
      { name: 'acme_tool-1.0.0/PKG-INFO', content: coreMetadata('acme-tool', '6.6.6') },
    ]);
    await expect(readArtifactVersion(twice)).rejects.toThrow(/2 top-level PKG-INFO members/);
    const repeatedEarlier = await tarOf('acme_tool-1.0.0.tar.gz', [
      { name: 'PKG-INFO', content: 'nothing' },
      { name: 'acme_tool-1.0.0/PKG-INFO', content: coreMetadata('acme-tool', '1.0.0') },
      { name: 'PKG-INFO', content: coreMetadata('other-pkg', '6.6.6') },
    ]);
    await expect(readArtifactVersion(repeatedEarlier)).rejects.toThrow('"PKG-INFO" appears more than once');
    const linked = await tarOf('acme_tool-1.0.0.tar.gz', [
      { name: 'acme_tool-1.0.0/PKG-INFO', content: coreMetadata('acme-tool', '1.0.0') },
      { name: 'acme_tool-1.0.0/other', content: coreMetadata('other-pkg', '6.6.6') },
      { name: 'PKG-INFO', type: 'symlink', linkname: 'acme_tool-1.0.0/other' },
    ]);
    await expect(readArtifactVersion(linked)).rejects.toThrow('"PKG-INFO" is a symlink, not a regular file');
  });
});

describe('checkArtifactVersions', () => {
  it('accepts artifacts of both ecosystems that match the tag', async () => {
    const paths = [await npmTarball(dir, 'tool', '3.1.0-rc.2'), await wheel(dir, 'tool', '3.1.0rc2'), await sdist(dir, 'tool', '3.1.0rc2')];
    const r = await checkArtifactVersions('v3.1.0-rc.2', paths, { allowPrerelease: true });
    expect(r.ok).toBe(true);
  });

  it('names the file and both values on a package.json mismatch', async () => {
    const p = await npmTarball(dir, 'tool', '1.0.1');
    const r = await checkArtifactVersions('v1.0.0', [p]);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toBe(`${p}: package.json says 1.0.1, tag v1.0.0 says 1.0.0`);
  });

  it('wants the PEP 440 normal form in METADATA and PKG-INFO', async () => {
    const w = await wheel(dir, 'tool', '1.0.0rc1', '1.0.0-rc.1', 'tool-1.0.0rc1-py3-none-any.whl');
    const s = await sdist(dir, 'tool', '1.0.0rc1', '1.0.0.rc1', 'tool-1.0.0rc1.tar.gz');
    const r = await checkArtifactVersions('v1.0.0-rc.1', [w, s], { allowPrerelease: true });
    expect(r.ok ? [] : r.mismatches).toEqual([
      { path: w, where: 'METADATA', expected: '1.0.0rc1', actual: '1.0.0-rc.1' },
      { path: s, where: 'PKG-INFO', expected: '1.0.0rc1', actual: '1.0.0.rc1' },
    ]);
  });

  it('checks the version in wheel and sdist file names', async () => {
    const w = await wheel(dir, 'tool', '1.0.0', '1.0.0', 'tool-1.0.1-py3-none-any.whl');
    const s = await sdist(dir, 'tool', '1.0.0', '1.0.0', 'tool-1.0.2.tar.gz');
    const r = await checkArtifactVersions('v1.0.0', [w, s]);
    expect(r.ok ? [] : r.mismatches).toEqual([
      { path: w, where: 'file name', expected: '1.0.0', actual: '1.0.1' },
      { path: s, where: 'file name', expected: '1.0.0', actual: '1.0.2' },
    ]);
  });

  it('refuses a bad tag before reading anything', async () => {
    const r = await checkArtifactVersions('v1.2', [join(dir, 'does-not-matter')]);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/MAJOR\.MINOR\.PATCH/) });
  });
});

describe('sha256File', () => {
  it('hashes the exact bytes', async () => {
    const p = join(dir, 'bytes.bin');
    writeFileSync(p, 'abc');
    expect(await sha256File(p)).toBe(createHash('sha256').update('abc').digest('hex'));
  });
});
