import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArtifactVersions, readArtifactVersion, sha256File } from './artifacts.js';
import { ArtifactError } from './errors.js';
import { npmTarball, sdist, tarGz, wheel, zip } from './testing/fixtures.js';

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
