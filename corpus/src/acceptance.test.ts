import { Buffer } from 'node:buffer';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type RuleDefinition, compileRules } from '@pubguard/rules';
import { extract } from 'tar-stream';
import yauzl from 'yauzl';
import { afterAll, describe, expect, it } from 'vitest';
import { type AcceptanceManifest, generateAcceptanceSet, isLineAnchored, locateSecret, pathForGlobs } from './acceptance.js';
import { lineColumnAt } from './carriers.js';
import { Prng } from './prng.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pubguard-corpus-'));
  dirs.push(d);
  return d;
}

// Fake rules for fake token shapes, made here so nothing real-looking is committed.
const rng = new Prng(2024);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const tok = (prefix: string) => `${prefix}${rng.string(ALNUM, 30)}`;
const base = { title: 'test', severity: 'high' as const, references: ['https://example.invalid'], negative_examples: ['no', 'nope'] };
const rules: RuleDefinition[] = [
  { ...base, id: 'zz-plain', keywords: ['zzfake_'], pattern: '\\b(zzfake_[A-Za-z0-9]{30})\\b', examples: [tok('zzfake_'), tok('zzfake_')] },
  {
    ...base,
    id: 'zz-assign',
    keywords: ['zzsecret'],
    pattern: 'zzsecret\\s{0,3}=\\s{0,3}"([A-Za-z0-9]{30})"',
    examples: [`zzsecret = "${rng.string(ALNUM, 30)}"`, `zzsecret="${rng.string(ALNUM, 30)}"`],
  },
  {
    ...base,
    id: 'zz-anchored',
    keywords: [':_zzauth='],
    flags: 'm',
    pattern: '^//[a-z.]{1,40}/:_zzauth=([A-Za-z0-9]{30})$',
    examples: [`//registry.example/:_zzauth=${rng.string(ALNUM, 30)}`, `//other.example/:_zzauth=${rng.string(ALNUM, 30)}`],
  },
  {
    ...base,
    id: 'zz-block',
    keywords: ['begin zz key'],
    pattern: '-----BEGIN ZZ KEY-----\\n([A-Za-z0-9\\n]{30,200})\\n-----END ZZ KEY-----',
    examples: [
      `-----BEGIN ZZ KEY-----\n${rng.string(ALNUM, 40)}\n${rng.string(ALNUM, 40)}\n-----END ZZ KEY-----`,
      `-----BEGIN ZZ KEY-----\n${rng.string(ALNUM, 30)}\n-----END ZZ KEY-----`,
    ],
  },
  {
    ...base,
    id: 'zz-pathbound',
    keywords: ['zzrc_'],
    pattern: '(zzrc_[A-Za-z0-9]{30})',
    paths: ['**/.zzrc'],
    examples: [tok('zzrc_'), tok('zzrc_')],
  },
  // Reports part of zz-assign's examples: the manifest must expect it there too.
  { ...base, id: 'zz-overlap', keywords: ['zzsecret'], pattern: 'zzsecret\\s{0,3}=\\s{0,3}"([A-Za-z0-9]{4})', examples: ['zzsecret = "abcd', 'zzsecret="wxyz'] },
  { ...base, id: 'zz-path-only', keywords: [], paths: ['**/.zzhistory'], examples: ['a/.zzhistory', '.zzhistory'] },
  { ...base, id: 'zz-broken-example', keywords: ['zzb_'], pattern: '(zzb_[0-9]{10})', examples: ['zzb_short', 'zzb_nope'] },
];
const compiled = new Map(compileRules(rules).rules.map((r) => [r.id, r]));

/** Reads the innermost file of a `!`-joined path, opening archives by their magic bytes. */
async function readChain(outDir: string, path: string): Promise<Buffer> {
  const [first, ...members] = path.split('!');
  let bytes: Buffer = await readFile(join(outDir, first ?? ''));
  for (const member of members) bytes = await readMember(bytes, member);
  return bytes;
}

async function readMember(archive: Buffer, member: string): Promise<Buffer> {
  if (archive[0] === 0x1f && archive[1] === 0x8b) {
    const inner = gunzipSync(archive);
    // A gzip member is either a tar (ustar magic at 257) or the single file itself.
    if (inner.subarray(257, 262).toString('latin1') !== 'ustar') return inner;
    archive = inner;
  }
  if (archive.subarray(257, 262).toString('latin1') === 'ustar') {
    const ex = extract();
    let found: Buffer | undefined;
    const done = (async () => {
      for await (const entry of ex) {
        const parts: Buffer[] = [];
        for await (const part of entry) parts.push(Buffer.from(part as Uint8Array));
        if (entry.header.name === member) found = Buffer.concat(parts);
      }
    })();
    ex.end(archive);
    await done;
    if (!found) throw new Error(`no ${member} in tar`);
    return found;
  }
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(archive, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName !== member) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const parts: Buffer[] = [];
        stream.on('data', (d: Buffer) => parts.push(d));
        stream.on('end', () => resolve(Buffer.concat(parts)));
      });
    });
    zip.on('end', () => reject(new Error(`no ${member} in zip`)));
    zip.readEntry();
  });
}

describe('generateAcceptanceSet with planted secrets', async () => {
  const outDir = await tempDir();
  const manifest = await generateAcceptanceSet(outDir, { secrets: true, seed: 7, rules });

  it('writes every artifact kind of the acceptance list', async () => {
    expect(manifest.artifacts).toEqual([
      'src',
      'npm/acme-widgets-1.0.0.tgz',
      'wheels/acme_tools-1.0.0-py3-none-any.whl',
      'sdist/acme_tools-1.0.0.tar.gz',
      'nested/acme-bundle-2.0.0.tgz',
      'single/settings.py.gz',
      'misleading/acme_tools-1.0.0.bin',
      'bundle/app.min.js',
      'bundle/app.min.js.map',
      'large/worker.log',
    ]);
    const onDisk = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as AcceptanceManifest;
    expect(onDisk).toEqual(manifest);
    // The manifest names rules and places, never the secrets (a path-only rule's examples are file names).
    for (const r of rules.filter((x) => x.pattern)) for (const e of r.examples) expect(JSON.stringify(onDisk)).not.toContain(e);
  });

  it('every artifact carries at least one expected finding', () => {
    for (const a of manifest.artifacts) expect(manifest.findings.some((f) => f.path.startsWith(a === 'src' ? 'src/' : `${a}`))).toBe(true);
    expect(manifest.findings.some((f) => f.path.includes('.tgz!package/vendor/') && f.path.split('!').length === 3)).toBe(true);
  });

  it("plants every usable rule's first example, and says why the others are skipped", () => {
    const found = new Set(manifest.findings.map((f) => f.ruleId));
    for (const id of ['zz-plain', 'zz-assign', 'zz-overlap', 'zz-anchored', 'zz-block', 'zz-pathbound', 'zz-path-only']) expect(found).toContain(id);
    // zz-overlap also reports inside zz-assign's examples; the scanner keeps one finding per
    // secret (here zz-assign, first by id at equal rank), so the manifest expects only that one.
    const assigned = manifest.findings.filter((f) => f.ruleId === 'zz-assign');
    expect(assigned.length).toBeGreaterThan(0);
    for (const a of assigned) {
      expect(manifest.findings.some((f) => f.ruleId === 'zz-overlap' && f.path === a.path && f.byteOffset === a.byteOffset)).toBe(false);
    }
    expect(manifest.skipped.map((s) => s.ruleId).sort()).toEqual(['zz-broken-example']);
    expect(manifest.findings.filter((f) => f.ruleId === 'zz-path-only')).toEqual([
      { ruleId: 'zz-path-only', path: 'src/zz-path-only/.zzhistory', line: 1, column: 1, byteOffset: 0, byteLength: 0 },
    ]);
    expect(manifest.findings.filter((f) => f.ruleId === 'zz-pathbound').map((f) => f.path)).toEqual([
      'src/zz-pathbound/.zzrc',
      'src/zz-pathbound/second/.zzrc',
    ]);
  });

  it('each expected finding is where the manifest says, and the rule reports it there', async () => {
    expect(manifest.findings.length).toBeGreaterThan(20);
    for (const f of manifest.findings) {
      const bytes = await readChain(outDir, f.path);
      // A path-only finding is about the file's name: nothing to find in its bytes.
      if (f.byteLength === 0) continue;
      expect(lineColumnAt(bytes, f.byteOffset), f.path).toEqual({ line: f.line, column: f.column });
      const rule = compiled.get(f.ruleId);
      if (!rule) throw new Error(`unknown rule ${f.ruleId}`);
      // The engine matches on latin1-decoded bytes, so string offsets are byte offsets.
      const text = bytes.toString('latin1');
      const re = new RegExp(rule.source, `${rule.flags}gd`);
      const starts = [...text.matchAll(re)].map((m) => m.indices?.[rule.secretGroup]?.[0]);
      expect(starts, `${f.ruleId} at ${f.path}:${f.line}:${f.column}`).toContain(f.byteOffset);
    }
  });

  it('the straddle file has its secret across byte 65536', async () => {
    const f = manifest.findings.find((x) => x.path === 'large/worker.log');
    if (!f) throw new Error('no finding in the straddle file');
    const rule = compiled.get(f.ruleId);
    if (!rule) throw new Error(`unknown rule ${f.ruleId}`);
    const text = (await readFile(join(outDir, f.path))).toString('latin1');
    const span = locateSecret(rule, text);
    expect(span?.start).toBe(f.byteOffset);
    expect(span && span.start < 65536 && span.end > 65536).toBe(true);
  });

  it('the bundle is one long line with its secrets past 150 KB', () => {
    const inBundle = manifest.findings.filter((f) => f.path === 'bundle/app.min.js');
    expect(inBundle.length).toBeGreaterThan(0);
    for (const f of inBundle) expect(f.line === 1 && f.byteOffset > 150 * 1024).toBe(true);
  });

  it('is deterministic for a seed', async () => {
    const again = await tempDir();
    expect(await generateAcceptanceSet(again, { secrets: true, seed: 7, rules })).toEqual(manifest);
    for (const a of manifest.artifacts.filter((x) => x !== 'src')) {
      expect((await readFile(join(again, a))).equals(await readFile(join(outDir, a))), a).toBe(true);
    }
    const other = await tempDir();
    await generateAcceptanceSet(other, { secrets: true, seed: 8, rules });
    expect((await readFile(join(other, 'bundle/app.min.js'))).equals(await readFile(join(outDir, 'bundle/app.min.js')))).toBe(false);
  });
});

describe('generateAcceptanceSet with decoys', async () => {
  const outDir = await tempDir();
  const manifest = await generateAcceptanceSet(outDir, { secrets: false, seed: 7, rules });

  it('writes the same tree, expects nothing, and lists the decoy kinds', async () => {
    expect(manifest.findings).toEqual([]);
    expect(manifest.artifacts).toContain('misleading/acme_tools-1.0.0.bin');
    expect(manifest.decoys).toEqual(
      expect.arrayContaining(['placeholder', 'wrong-checksum', 'aws-documented-example', 'integrity', 'uuid', 'hex-digest', 'public-key', 'base64-image']),
    );
    const env = await readFile(join(outDir, 'src/.env.example'), 'utf8');
    expect(env).toContain('${NPM_TOKEN}');
    const py = await readChain(outDir, 'wheels/acme_tools-1.0.0-py3-none-any.whl!acme_tools/settings.py');
    expect(py.length).toBeGreaterThan(100);
  });

  it('no rule reports anything in the decoy tree', async () => {
    const top = await readdir(outDir, { recursive: true, withFileTypes: true });
    for (const e of top.filter((d) => d.isFile())) {
      const text = (await readFile(join(e.parentPath, e.name))).toString('latin1');
      for (const rule of compiled.values()) expect(locateSecret(rule, text)).toBeUndefined();
    }
  });
});

describe('helpers', () => {
  it('isLineAnchored spots ^ and $ outside classes only', () => {
    expect(isLineAnchored('^abc')).toBe(true);
    expect(isLineAnchored('abc$')).toBe(true);
    expect(isLineAnchored('[^a]bc')).toBe(false);
    expect(isLineAnchored('a\\$b[$^]')).toBe(false);
  });

  it('pathForGlobs derives a name the globs accept, or gives up', () => {
    expect(pathForGlobs('r', ['**/.npmrc'])).toBe('r/.npmrc');
    expect(pathForGlobs('r', ['**/*.{pem,key}'])).toBe('r/fixture.pem');
    expect(pathForGlobs('r', ['**/.env*'], ['**/.env.example'])).toBe('r/.envfixture');
    expect(pathForGlobs('r', ['.npmrc'])).toBeUndefined();
  });
});
