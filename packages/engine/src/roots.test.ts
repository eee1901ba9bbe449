import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { compileRules } from '@pubguard/rules';
import { pack } from 'tar-stream';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from './redact.js';
import { fingerprintPath, firstDirectory, PackageRoots } from './roots.js';
import { scanAll, type ScanOptions } from './scan.js';
import type { Finding } from './types.js';
import { TEST_TOKEN_RULE } from './testing.js';

const KEY_RULE = 'test-key-file';
const ruleset = compileRules([
  { id: KEY_RULE, title: 'Key file', severity: 'high', keywords: [], paths: ['**/id_test'], examples: [], negative_examples: [] },
  TEST_TOKEN_RULE,
]);
const TOKEN = `tok_${'Q7mZ2rT9vK4pL8wX3nB6cY1h'}`;

/** The fingerprint of KEY_RULE's finding on a file at `path` (below its package root) holding `data`. */
function keyPrint(path: string, data: string | Buffer = 'key'): string {
  return fingerprint(KEY_RULE, `${path}\0${createHash('sha256').update(data).digest('hex')}`);
}

/** Members by name and contents; `-> target` makes a symbolic link in a tar. */
type Members = [name: string, data: string | Buffer][];

async function tgzOf(members: Members): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) parts.push(c);
  })();
  for (const [name, data] of members) {
    if (typeof data === 'string' && data.startsWith('-> ')) p.entry({ name, type: 'symlink', linkname: data.slice(3) });
    else p.entry({ name }, Buffer.from(data));
  }
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(parts));
}

async function zipOf(members: Members): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of members) z.addBuffer(Buffer.from(data), name);
  z.end();
  const parts: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** A package's files, in the order `npm pack` writes them: `package.json` after the others. */
function packageFiles(root: string, version: string): Members {
  return [
    [`${root}/test/fixtures/id_test`, 'key'],
    [`${root}/index.js`, `const t = "${TOKEN}";\n`],
    [`${root}/package.json`, JSON.stringify({ name: 'fx', version })],
  ];
}

describe('fingerprintPath', () => {
  it('leaves out the package root and the version of a wheel directory, and nothing else', () => {
    expect(fingerprintPath('package/test/id_test', 'package')).toBe('test/id_test');
    expect(fingerprintPath('./package/test/id_test', 'package')).toBe('test/id_test');
    expect(fingerprintPath('package', 'package')).toBe('package');
    expect(fingerprintPath('packages/id_test', 'package')).toBe('packages/id_test');
    expect(fingerprintPath('package/test/id_test')).toBe('package/test/id_test');
    expect(fingerprintPath('../package/id_test', 'package')).toBe('../package/id_test');
    expect(fingerprintPath('acme-1.0.0.data/scripts/id_test')).toBe('acme.data/scripts/id_test');
    expect(fingerprintPath('acme-2.0rc1.dist-info/id_test')).toBe('acme.dist-info/id_test');
    expect(fingerprintPath('lib/acme-1.0.0.data/id_test')).toBe('lib/acme-1.0.0.data/id_test');
  });
});

describe('PackageRoots', () => {
  it('keeps the root of an archive read in full for findings that come back later', () => {
    const roots = new PackageRoots();
    roots.note(['a.tgz', 'package/test/a.js']);
    expect(roots.settledRoot(['a.tgz', 'package/test/a.js'])).toBeUndefined();
    roots.note(['a.tgz', 'package/package.json']);
    roots.note(['b.tgz', 'src/test/a.js']);
    roots.settle();
    expect(roots.settledRoot(['a.tgz', 'package/test/a.js'])).toBe('package');
    expect(roots.settledRoot(['b.tgz', 'src/test/a.js'])).toBeNull();
    expect(roots.rootOf(['a.tgz', 'package/test/a.js'])).toBeUndefined();
    expect(firstDirectory('./package/test/a.js')).toEqual({ top: 'package', below: 'test/a.js' });
    expect(firstDirectory('a.js')).toBeUndefined();
    expect(firstDirectory('package/')).toBeUndefined();
  });
});

describe('fingerprints of path findings in packages', () => {
  let dir: string;
  const at = (...parts: string[]) => join(dir, ...parts);
  const write = async (path: string, data: string | Buffer) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  };
  const scanOf = (input: string, options: ScanOptions = {}) => scanAll([input], { ruleset, jobs: 0, ...options });
  const printsOf = async (input: string, options: ScanOptions = {}) => {
    const { findings, errors } = await scanOf(input, options);
    expect(errors).toEqual([]);
    return Object.fromEntries(findings.map((f) => [f.ruleId, f.fingerprint]));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-roots-'));
    for (const [name, data] of packageFiles('pkg', '1.0.0')) await write(at(name), data);
    await write(at('fx-1.0.0.tgz'), await tgzOf(packageFiles('package', '1.0.0')));
    await write(at('dist', 'fx-1.0.0.tgz'), await tgzOf(packageFiles('package', '1.0.0')));
    // Old tarballs on the registry have other roots than `package/`.
    await write(at('old-1.0.0.tgz'), await tgzOf(packageFiles('node-fx', '1.0.0')));
    for (const version of ['1.0.0', '1.0.1']) {
      await write(
        at(`acme-${version}.tar.gz`),
        await tgzOf([
          [`acme-${version}/tests/fixtures/id_test`, 'key'],
          [`acme-${version}/tests/passwd`, '-> /etc/passwd'],
          [`acme-${version}/acme/__init__.py`, `T = "${TOKEN}"\n`],
          [`acme-${version}/PKG-INFO`, `Metadata-Version: 2.1\nName: acme\nVersion: ${version}\n`],
        ]),
      );
      await write(
        at(`acme-${version}-py3-none-any.whl`),
        await zipOf([
          ['acme/__init__.py', ''],
          [`acme-${version}.data/scripts/id_test`, 'key'],
          [`acme-${version}.dist-info/METADATA`, `Metadata-Version: 2.1\nName: acme\nVersion: ${version}\n`],
        ]),
      );
    }
    // Not a package: two top directories, or one without a manifest or a version.
    await write(at('two.tgz'), await tgzOf([['a/test/fixtures/id_test', 'key'], ['b/package.json', '{}']]));
    await write(at('src.tgz'), await tgzOf([['src/test/fixtures/id_test', 'key'], ['src/index.js', '']]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives a file in an npm tarball the fingerprint it has in the package's directory, and reports it where it is", async () => {
    const fromDir = await printsOf(at('pkg'));
    const onlyFiles = new Map([[at('pkg'), new Set(['test/fixtures/id_test', 'index.js', 'package.json'])]]);
    expect(await printsOf(at('pkg'), { onlyFiles })).toEqual(fromDir);
    expect(fromDir[KEY_RULE]).toBe(keyPrint('test/fixtures/id_test'));
    expect(await printsOf(at('pkg'), { jobs: 1 })).toEqual(fromDir);
    expect(await printsOf(at('pkg'), { bulkDirectories: false })).toEqual(fromDir);
    for (const tarball of ['fx-1.0.0.tgz', 'old-1.0.0.tgz', 'dist']) {
      expect(await printsOf(at(tarball)), tarball).toEqual(fromDir);
      expect(await printsOf(at(tarball), { jobs: 1 }), tarball).toEqual(fromDir);
    }
    const { findings } = await scanOf(at('fx-1.0.0.tgz'));
    expect(findings.find((f) => f.ruleId === KEY_RULE)?.location.entry).toEqual(['package/test/fixtures/id_test']);
  });

  it('applies a baseline of the directory to the tarball, and one of the tarball to the directory', async () => {
    const baselineOf = async (input: string) => new Set((await scanOf(input)).findings.map((f) => f.fingerprint));
    expect((await scanOf(at('fx-1.0.0.tgz'), { baseline: await baselineOf(at('pkg')) })).findings).toEqual([]);
    expect((await scanOf(at('pkg'), { baseline: await baselineOf(at('fx-1.0.0.tgz')) })).findings).toEqual([]);
  });

  it("gives a file in an sdist or a wheel the fingerprint it has in the package's next version", async () => {
    for (const kind of ['.tar.gz', '-py3-none-any.whl']) {
      const first = await printsOf(at(`acme-1.0.0${kind}`));
      expect(first[KEY_RULE], kind).toBeDefined();
      expect(await printsOf(at(`acme-1.0.1${kind}`)), kind).toEqual(first);
      const later = await scanOf(at(`acme-1.0.1${kind}`), { baseline: new Set(Object.values(first)) });
      expect(later.findings, kind).toEqual([]);
    }
  });

  it('gives a link out of an sdist the fingerprint it has in the next version, and applies older baselines', async () => {
    const linkPrint = async (version: string, baseline?: Set<string>) => {
      const { findings } = await scanOf(at(`acme-${version}.tar.gz`), baseline ? { baseline } : {});
      return findings.filter((f) => f.ruleId === 'archive-link-outside');
    };
    const [first] = await linkPrint('1.0.0');
    expect(first?.path).toBe(`${at('acme-1.0.0.tar.gz')}!acme-1.0.0/tests/passwd`);
    expect(first?.fingerprint).toBe(fingerprint('archive-link-outside', 'tests/passwd'));
    expect((await linkPrint('1.0.1')).map((f) => f.fingerprint)).toEqual([first?.fingerprint]);
    expect(await linkPrint('1.0.1', new Set([first?.fingerprint ?? '']))).toEqual([]);
    expect(first?.formerFingerprint).toBe(fingerprint('archive-link-outside', 'acme-1.0.0/tests/passwd'));
    expect(await linkPrint('1.0.0', new Set([first?.formerFingerprint ?? '']))).toEqual([]);
  });

  it('keeps fingerprinting content findings by the secret alone', async () => {
    for (const input of ['pkg', 'fx-1.0.0.tgz', 'acme-1.0.0.tar.gz']) {
      const { findings } = await scanOf(at(input));
      const token = findings.filter((f) => f.ruleId === TEST_TOKEN_RULE.id);
      expect(token.map((f) => [f.fingerprint, f.formerFingerprint]), input).toEqual([[fingerprint(TEST_TOKEN_RULE.id, TOKEN), undefined]]);
    }
  });

  it('keeps the top directory of an archive that is not a package', async () => {
    expect((await printsOf(at('two.tgz')))[KEY_RULE]).toBe(keyPrint('a/test/fixtures/id_test'));
    expect((await printsOf(at('src.tgz')))[KEY_RULE]).toBe(keyPrint('src/test/fixtures/id_test'));
  });

  it("applies no baseline of a file's name alone, with or without its package root", async () => {
    for (const former of ['package/test/fixtures/id_test', 'test/fixtures/id_test'].map((p) => fingerprint(KEY_RULE, p))) {
      const { findings } = await scanOf(at('fx-1.0.0.tgz'), { baseline: new Set([former]) });
      expect(findings.find((f) => f.ruleId === KEY_RULE)?.formerFingerprint).toBeUndefined();
      expect(findings.map((f) => f.ruleId).sort()).toEqual([KEY_RULE, TEST_TOKEN_RULE.id].sort());
    }
  });

  it('reports a file flagged by its name again once its content changes, in the directory and in the tarball', async () => {
    const baseline = new Set((await scanOf(at('pkg'))).findings.map((f) => f.fingerprint));
    // Larger than a chunk too, so the file is read in slices rather than whole.
    for (const data of ['machine prod login ops password s3cr3t-Zq8', `${'k'.repeat(300_000)}\n`]) {
      const changed = at(`changed-${data.length}`);
      for (const [name, content] of packageFiles('', '1.0.0')) await write(join(changed, name), content);
      await write(join(changed, 'test/fixtures/id_test'), data);
      await write(at(`changed-${data.length}.tgz`), await tgzOf(packageFiles('package', '1.0.0').map(([n, c]) => [n, n.endsWith('id_test') ? data : c])));
      for (const input of [changed, at(`changed-${data.length}.tgz`)]) {
        for (const jobs of [0, 1]) {
          const { findings } = await scanOf(input, { baseline, jobs });
          expect(findings.map((f) => [f.ruleId, f.fingerprint]), input).toEqual([[KEY_RULE, keyPrint('test/fixtures/id_test', data)]]);
        }
      }
    }
  });
});

describe('exclude with the path below the package root', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-roots-exclude-'));
    // Files first and package.json last, as npm writes them: the root is known only at the end.
    await writeFile(join(dir, 'fx-1.0.0.tgz'), await tgzOf([['package/test/a.js', `const t = "${TOKEN}";\n`], ['package/index.js', `const u = "${TOKEN}";\n`], ['package/package.json', '{}']]));
    // One top directory that is no package: `src/test/a.js` is not `test/a.js` of a package.
    await writeFile(join(dir, 'src.tgz'), await tgzOf([['src/test/a.js', `const t = "${TOKEN}";\n`], ['src/index.js', '']]));
    await mkdir(join(dir, 'pkg', 'test'), { recursive: true });
    await writeFile(join(dir, 'pkg', 'test', 'a.js'), `const t = "${TOKEN}";\n`);
    await writeFile(join(dir, 'pkg', 'index.js'), `const u = "${TOKEN}";\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // As an allowlist of `test/**` would: the path below the root, or a directory's own path.
  const exclude = (f: Finding, _secret: string, packagePath?: string) => (packagePath ?? f.location.entry.join('!') ?? '').startsWith('test/') || f.path.startsWith(join(dir, 'pkg', 'test'));

  it('leaves out the tarball\'s file as the directory\'s, and keeps a file below a directory that is no package root', async () => {
    for (const jobs of [0, 1]) {
      const options: ScanOptions = { ruleset, jobs, exclude, inlineBytes: 0 };
      const fromDir = await scanAll([join(dir, 'pkg')], options);
      expect(fromDir.findings.map((f) => f.path)).toEqual([join(dir, 'pkg', 'index.js')]);
      // Several artifacts: a finding matched on a worker may come back after its tarball is done.
      const { findings, errors } = await scanAll([join(dir, 'fx-1.0.0.tgz'), join(dir, 'src.tgz'), join(dir, 'fx-1.0.0.tgz')], options);
      expect(errors).toEqual([]);
      expect(findings.map((f) => f.location.entry.join('!')).sort(), `jobs ${jobs}`).toEqual(['package/index.js', 'src/test/a.js']);
    }
  });

  it("keeps another package's test files: a tarball found in a scanned directory, or nested in the one scanned", async () => {
    const dep = await tgzOf([['package/test/live.js', `const t = "${TOKEN}";\n`], ['package/package.json', '{}']]);
    await mkdir(join(dir, 'app', 'vendor'), { recursive: true });
    await writeFile(join(dir, 'app', 'vendor', 'dep-1.0.0.tgz'), dep);
    await writeFile(join(dir, 'app.tgz'), await tgzOf([['package/vendor/dep-1.0.0.tgz', dep], ['package/package.json', '{}']]));
    await mkdir(join(dir, 'dist'), { recursive: true });
    await writeFile(join(dir, 'dist', 'dep-1.0.0.tgz'), dep);
    for (const jobs of [0, 1]) {
      const options: ScanOptions = { ruleset, jobs, exclude, inlineBytes: 0 };
      const vendored = await scanAll([join(dir, 'app')], options);
      expect(vendored.findings.map((f) => f.path), `jobs ${jobs}`).toEqual([`${join(dir, 'app', 'vendor', 'dep-1.0.0.tgz')}!package/test/live.js`]);
      const nested = await scanAll([join(dir, 'app.tgz')], options);
      expect(nested.findings.map((f) => f.location.entry.join('!')), `jobs ${jobs}`).toEqual(['package/vendor/dep-1.0.0.tgz!package/test/live.js']);
      // Even at the top of the directory scanned: an archive found there may be one the package ships.
      const found = await scanAll([join(dir, 'dist')], options);
      expect(found.findings.map((f) => f.path), `jobs ${jobs}`).toEqual([`${join(dir, 'dist', 'dep-1.0.0.tgz')}!package/test/live.js`]);
      // The package about to ship is named itself, as `publish` names what it uploads.
      const named = await scanAll([join(dir, 'dist', 'dep-1.0.0.tgz')], options);
      expect(named.findings, `jobs ${jobs}`).toEqual([]);
    }
  });
});

describe('a hostile top directory', () => {
  it('takes time linear in its name: a name like a-1-1-…-1@ is no name-version root', async () => {
    // 200 000 characters in a PAX path: the first version of the name test backtracked over
    // every `-1` for each finding, some 25 s each here.
    const top = `a${'-1'.repeat(100_000)}@`;
    const input = await tgzOf([1, 2, 3].map((i) => [`${top}/${i}/id_test`, 'key'] as [string, string]));
    const dir = await mkdtemp(join(tmpdir(), 'pubguard-roots-hostile-'));
    try {
      await writeFile(join(dir, 'hostile.tgz'), input);
      // The work is synchronous, so the test's own timeout cannot cut it short: time it, with
      // a bound a hundred times what a linear test takes and far below the quadratic one.
      const started = performance.now();
      const { findings, errors } = await scanAll([join(dir, 'hostile.tgz')], { ruleset, jobs: 0 });
      expect(performance.now() - started).toBeLessThan(5000);
      expect(errors).toEqual([]);
      expect(findings.map((f) => f.fingerprint).sort()).toEqual([1, 2, 3].map((i) => keyPrint(`${top}/${i}/id_test`)).sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
