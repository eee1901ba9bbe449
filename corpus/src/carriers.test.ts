import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  type CarrierFile,
  type PlantInput,
  binaryBlob,
  canEmbedInline,
  envFile,
  jsModule,
  jsonFile,
  lineColumnAt,
  minifiedBundle,
  notebook,
  pythonModule,
  sourceMap,
  straddleFile,
  yamlFile,
} from './carriers.js';
import { CorpusError } from './errors.js';
import { Prng } from './prng.js';

const rng = new Prng(42);
const token = () => `zzfake_${rng.string('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 30)}`;
const inline: PlantInput[] = [token(), { text: `upstream_auth: ${token()}`, secretStart: 15 }, `ünïcode-${token()}`];
const multiLine: PlantInput = {
  text: `-----BEGIN FAKE BLOCK-----\n${token()}\n${token()}\n-----END FAKE BLOCK-----`,
  secretStart: 0,
};
const quoted: PlantInput = { text: `password = "${token()}"`, secretStart: 12, secretEnd: 12 + 37 };

/** Independent of the implementation: line/column from the text before the offset (lines end at CR LF, LF or CR). */
function expectedPosition(content: Uint8Array, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(content).subarray(0, byteOffset).toString('latin1');
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: (lines.at(-1) ?? '').length + 1 };
}

function checkPlanted(file: CarrierFile, expectedCount: number): void {
  expect(file.planted).toHaveLength(expectedCount);
  const bytes = Buffer.from(file.content);
  for (const p of file.planted) {
    const secret = Buffer.from(p.secret, 'utf8');
    expect(bytes.subarray(p.byteOffset, p.byteOffset + secret.length).equals(secret)).toBe(true);
    expect({ line: p.line, column: p.column }).toEqual(expectedPosition(bytes, p.byteOffset));
  }
}

describe('carriers report where each secret is', () => {
  it.each([
    ['pythonModule', pythonModule],
    ['jsModule', jsModule],
    ['binaryBlob', binaryBlob],
  ] as const)('%s embeds inline, quoted and multi-line texts verbatim', (_name, carrier) => {
    const file = carrier([...inline, multiLine, quoted], { seed: 3 });
    checkPlanted(file, 5);
    expect(file.planted[3]?.secret.startsWith('-----BEGIN FAKE BLOCK-----\n')).toBe(true);
    expect(file.planted[4]?.secret).toMatch(/^zzfake_\w{30}$/);
  });

  it.each([
    ['envFile', envFile],
    ['jsonFile', jsonFile],
    ['yamlFile', yamlFile],
    ['notebook', notebook],
    ['sourceMap', sourceMap],
  ] as const)('%s embeds single-line texts verbatim', (_name, carrier) => {
    const file = carrier(inline, { seed: 3 });
    checkPlanted(file, 3);
    expect(file.planted[1]?.secret).toMatch(/^zzfake_/);
  });

  it('secrets land on distinct lines in multi-line carriers', () => {
    for (const file of [pythonModule(inline), jsonFile(inline), yamlFile(inline), notebook(inline), envFile(inline)]) {
      const lines = file.planted.map((p) => p.line);
      expect(new Set(lines).size).toBe(lines.length);
      expect(Math.min(...lines)).toBeGreaterThan(1);
    }
  });

  it('structured carriers stay parseable', () => {
    expect(() => JSON.parse(Buffer.from(jsonFile(inline).content).toString('utf8'))).not.toThrow();
    const nb = JSON.parse(Buffer.from(notebook(inline).content).toString('utf8')) as { cells: { source: string[] }[] };
    expect(nb.cells[1]?.source.join('')).toContain(inline[0] as string);
    const map = JSON.parse(Buffer.from(sourceMap([...inline]).content).toString('utf8')) as { sourcesContent: string[] };
    expect(map.sourcesContent[1]).toContain(inline[0] as string);
  });

  it('JSON-like carriers refuse texts that would need escaping', () => {
    expect(canEmbedInline('a"b')).toBe(false);
    expect(canEmbedInline('a\nb')).toBe(false);
    expect(canEmbedInline('plain-token_123')).toBe(true);
    expect(() => jsonFile([quoted])).toThrow(CorpusError);
    expect(() => notebook([multiLine])).toThrow(CorpusError);
    expect(() => envFile([multiLine])).toThrow(CorpusError);
  });

  it('the minified bundle is one ~300 KB line with the secrets deep inside', () => {
    const file = minifiedBundle(inline, { seed: 9 });
    checkPlanted(file, 3);
    const text = Buffer.from(file.content).toString('utf8');
    const firstLine = text.split('\n')[0] ?? '';
    expect(Buffer.byteLength(firstLine)).toBeGreaterThanOrEqual(300 * 1024);
    expect(Buffer.byteLength(firstLine)).toBeLessThan(301 * 1024);
    for (const p of file.planted) {
      expect(p.line).toBe(1);
      expect(p.column).toBe(p.byteOffset + 1);
      expect(p.byteOffset).toBeGreaterThan(150 * 1024);
    }
  });

  it('a planted text with context reports the secret, not the context', () => {
    const file = envFile([{ text: 'NPM_REGISTRY_AUTH=abc123def', secretStart: 18 }]);
    const p = file.planted[0];
    expect(p?.secret).toBe('abc123def');
    const line = Buffer.from(file.content).toString('utf8').split('\n')[(p?.line ?? 0) - 1];
    expect(line).toBe('NPM_REGISTRY_AUTH=abc123def');
    expect(p?.column).toBe(19);
  });
});

describe('straddleFile', () => {
  it.each([2, 3, 40, 41])('puts a %i-byte secret across the 64 KiB boundary', (len) => {
    const secret = rng.string('abcdefghijklmnopqrstuvwxyz', len);
    const file = straddleFile({ text: `key:${secret};`, secretStart: 4, secretEnd: 4 + len });
    checkPlanted(file, 1);
    const p = file.planted[0];
    if (!p) throw new Error('nothing planted');
    expect(p.byteOffset).toBeLessThan(65536);
    expect(p.byteOffset + len).toBeGreaterThan(65536);
    expect(file.content.length).toBeGreaterThan(65536 + len);
  });

  it('straddles any boundary asked for, with a multi-line text', () => {
    const file = straddleFile(multiLine, { boundary: 131072, seed: 5 });
    checkPlanted(file, 1);
    const p = file.planted[0];
    expect(p && p.byteOffset < 131072 && p.byteOffset + Buffer.byteLength(p.secret) > 131072).toBe(true);
  });

  it('refuses a one-byte secret', () => {
    expect(() => straddleFile('x')).toThrow(CorpusError);
  });
});

describe('determinism', () => {
  it('same seed, same bytes; another seed, other filler', () => {
    const a = minifiedBundle(inline, { seed: 7 });
    const b = minifiedBundle(inline, { seed: 7 });
    const c = minifiedBundle(inline, { seed: 8 });
    expect(Buffer.from(a.content).equals(Buffer.from(b.content))).toBe(true);
    expect(Buffer.from(a.content).equals(Buffer.from(c.content))).toBe(false);
    expect(Buffer.from(binaryBlob(inline, { seed: 1 }).content).equals(Buffer.from(binaryBlob(inline, { seed: 1 }).content))).toBe(true);
  });
});

describe('lineColumnAt', () => {
  it('ends a line at LF, at a lone CR and at CR LF, once each', () => {
    const bytes = Buffer.from('a\rb\r\nc\nd\r\re', 'latin1');
    expect(['b', 'c', 'd', 'e'].map((ch) => lineColumnAt(bytes, bytes.indexOf(ch)))).toEqual([
      { line: 2, column: 1 },
      { line: 3, column: 1 },
      { line: 4, column: 1 },
      { line: 6, column: 1 },
    ]);
    expect(lineColumnAt(bytes, 1)).toEqual({ line: 1, column: 2 });
  });
});
