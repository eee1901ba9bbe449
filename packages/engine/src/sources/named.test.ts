import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { base62Crc32, Prng, tarBuffer, zipBuffer } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanAll } from '../scan.js';
import { detectKind } from './detect.js';
import { namedKindMismatch } from './named.js';

const HTML = Buffer.from('<!DOCTYPE html>\n<html><body><h1>404 Not Found</h1></body></html>\n');
const mismatch = (name: string, data: Uint8Array, endsWithZip = false) => namedKindMismatch(name, data, detectKind(data), endsWithZip);

describe('namedKindMismatch', () => {
  it('says what a file named like an archive holds instead', () => {
    expect(mismatch('fake-1.0.0-py3-none-any.whl', HTML)).toBe(
      'named like a wheel (zip) but it is no archive: its first bytes look like text/HTML (a web page or an error page saved under that name?); scanned as a plain file',
    );
    expect(mismatch('PKG-1.0.TAR.GZ', Buffer.from('version = 1\n'))).toMatch(/^named like a gzip-compressed tarball \(gzip\) but .* look like text;/);
    expect(mismatch('app.jar', Buffer.alloc(0))).toMatch(/^named like a jar \(zip\) but .* look like nothing \(the file is empty\);/);
    expect(mismatch('data.tar', Buffer.from([0, 1, 2, 3, 0xff]))).toMatch(/look like binary data, not an archive;/);
  });

  it('has nothing to say of an archive of any kind, or of other names', () => {
    expect(mismatch('pkg.tgz', gzipSync('x'))).toBeUndefined();
    // Opened and scanned as what they are: a download decompressed on the way keeps its name.
    expect(mismatch('pkg-1.0.tgz', Buffer.from('PK\x03\x04rest', 'latin1'))).toBeUndefined();
    expect(mismatch('lib.egg', gzipSync('x'))).toBeUndefined();
    expect(mismatch('notes.gz', gzipSync('x'))).toBeUndefined();
    expect(mismatch('pkg.ZIP', Buffer.from('PK\x05\x06', 'latin1'))).toBeUndefined();
    // An executable jar: a launcher script with the zip after it.
    expect(mismatch('app.jar', Buffer.from('#!/bin/sh\nexec java -jar "$0"\n'), true)).toBeUndefined();
    expect(mismatch('index.html', HTML)).toBeUndefined();
    expect(mismatch('archive.tgz.txt', HTML)).toBeUndefined();
  });
});

describe('a file named like an archive that is not one', () => {
  let dir: string;
  let token: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-named-'));
    const rng = new Prng(19);
    let body = '';
    for (let i = 0; i < 30; i++) body += '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[rng.int(0, 61)];
    token = `ghp_${body}${base62Crc32(body)}`;
    await mkdir(join(dir, 'tests', 'fixtures'), { recursive: true });
    await writeFile(join(dir, 'fake-1.0.0-py3-none-any.whl'), HTML);
    await writeFile(join(dir, 'leak-1.0.0.tgz'), `TOKEN=${token}\n`);
    // Packages ship such fixtures: found by walking a directory or in an archive, they are files like any other.
    await writeFile(join(dir, 'tests', 'fixtures', 'broken.whl'), HTML);
    await writeFile(join(dir, 'pkg-1.0.0-py3-none-any.whl'), await zipBuffer([{ path: 'pkg/tests/broken.tgz', content: HTML }]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is reported as corrupt when given as an input, and still scanned as a plain file', async () => {
    const result = await scanAll([join(dir, 'fake-1.0.0-py3-none-any.whl'), join(dir, 'leak-1.0.0.tgz')], { jobs: 0 });
    expect(result.errors.map((e) => [e.path, e.kind, e.message.split(' but ')[0]])).toEqual([
      [join(dir, 'fake-1.0.0-py3-none-any.whl'), 'corrupt', 'named like a wheel (zip)'],
      [join(dir, 'leak-1.0.0.tgz'), 'corrupt', 'named like a gzip-compressed tarball (gzip)'],
    ]);
    expect(result.findings.map((f) => [f.path, f.ruleId])).toEqual([[join(dir, 'leak-1.0.0.tgz'), 'github-classic-token']]);
    expect(result.stats.files).toBe(2);
  });

  it('is not reported when it is an archive of another kind, which is opened as what it is', async () => {
    // What a download decompressed on the way leaves: a plain tar under the .tar.gz name.
    const file = join(dir, 'plain-1.0.0.tar.gz');
    await writeFile(file, await tarBuffer([{ path: 'package/a.js', content: `t = "${token}";\n` }]));
    const result = await scanAll([file], { jobs: 0 });
    expect(result.errors).toEqual([]);
    expect(result.findings.map((f) => f.path)).toEqual([`${file}!package/a.js`]);
  });

  it('is not reported when found walking a directory or in an archive', async () => {
    for (const bulkDirectories of [true, false]) {
      const result = await scanAll([join(dir, 'tests'), join(dir, 'pkg-1.0.0-py3-none-any.whl')], { jobs: 0, bulkDirectories });
      expect(result.errors).toEqual([]);
      expect(result.stats.files).toBe(2);
    }
  });
});
