import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base62Crc32, Prng } from '@pubguard/corpus';
import { builtinRuleset, dropOverlapping } from '@pubguard/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanAll } from '../scan.js';
import { base64Forms, MIN_FORM_LENGTH } from './base64.js';
import { Matcher, type SegmentSpec } from './matcher.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const rng = new Prng(64);
const pick = (alphabet: string, n: number): string => rng.string(alphabet, n);
type Token = { rule: string; value: string };
/** Fake tokens of three providers, with valid checksums where the rule checks one. */
function tokens(): [Token, Token, Token] {
  const gh = pick(BASE62, 30);
  const npm = pick(BASE62, 30);
  return [
    { rule: 'github-classic-token', value: `ghp_${gh}${base62Crc32(gh)}` },
    { rule: 'aws-access-key-id', value: `AKIA${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}` },
    { rule: 'npm-access-token', value: `npm_${npm}${base62Crc32(npm)}` },
  ];
}

const matcher = new Matcher(builtinRuleset());
const whole = (text: string | Uint8Array): SegmentSpec => ({ ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true });
/** The matches a scan reports: of those whose secrets overlap, the one whose rule ranks first (as the engine keeps it). */
const reported = (text: string, spec: SegmentSpec) =>
  dropOverlapping(matcher.matchSegment(text, spec).matches, (m) => [m.secretStart, m.secretEnd], (m) => matcher.rule(m.rule));
const found = (text: string) => reported(text, whole(text)).map((m) => ({ rule: matcher.rule(m.rule).id, secret: m.secret, start: m.start, encoding: m.encoding }));
const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64');

/** An inline source map of a module that holds `secret`, as bundlers append it. */
function withInlineMap(secret: string): string {
  const source = `import { get } from './http';\n\nexport const client = get({ token: "${secret}" });\n`;
  const map = JSON.stringify({ version: 3, sources: ['../src/client.ts'], sourcesContent: [source], names: [], mappings: 'AAAA,SAAS,GAAG' });
  return `"use strict";var client=get({token:process.env.T});\n//# sourceMappingURL=data:application/json;base64,${b64(map)}\n`;
}

describe('base64Forms', () => {
  it('gives forms found in the encoding of any text holding the keyword, at every alignment', () => {
    for (const keyword of ['ghp_', 'AKIA', 'npm_', 'password', 'xoxb-', '://', 'sk_live_']) {
      const forms = base64Forms(keyword);
      for (const form of forms) expect(form.length).toBeGreaterThanOrEqual(MIN_FORM_LENGTH);
      for (let before = 0; before < 6; before++) {
        const text = `${pick(BASE62, before)}${keyword}${pick(BASE62, 3)}`;
        const encoded = b64(text);
        const urlSafe = encoded.replace(/\+/g, '-').replace(/\//g, '_');
        // Three-byte keywords have no form long enough: nothing to find.
        if (keyword.length > 3) {
          expect(forms.some((f) => encoded.includes(f)), `${keyword} after ${before}`).toBe(true);
          expect(forms.some((f) => urlSafe.includes(f)), `${keyword} after ${before}, URL-safe`).toBe(true);
        }
      }
    }
    expect(base64Forms('://')).toEqual([]);
  });
});

describe('Matcher on base64 text', () => {
  it('finds secrets in an inline source map, decoded, placed on the base64 that encodes them', () => {
    for (const { rule, value } of tokens()) {
      const text = withInlineMap(value);
      const matches = found(text);
      expect(matches.map((m) => [m.rule, m.secret, m.encoding])).toEqual([[rule, value, 'base64']]);
      // The secret's first byte is encoded by the character at the match's start and the next.
      const runAt = text.indexOf('base64,') + 7;
      const at = matches[0]?.start ?? 0;
      const group = runAt + 4 * Math.floor((at - runAt) / 4);
      const decoded = Buffer.from(text.slice(group, group + 64), 'base64').toString('latin1');
      expect(decoded.includes(value.slice(0, 10))).toBe(true);
    }
  });

  it('finds secrets in a blob at each of the three byte alignments, in both alphabets', () => {
    const prefixes = ['', ' ', '= '];
    for (const { rule, value } of tokens()) {
      for (const prefix of prefixes) {
        const encoded = b64(`${prefix}${value}\n`);
        for (const blob of [encoded, encoded.replace(/\+/g, '-').replace(/\//g, '_')]) {
          const text = `apiVersion: v1\nkind: Secret\ndata:\n  credentials: ${blob}\n`;
          const matches = found(text);
          expect(matches.map((m) => [m.rule, m.secret, m.encoding]), `${rule} after ${JSON.stringify(prefix)}`).toEqual([[rule, value, 'base64']]);
          expect(matches[0]?.start).toBe(text.indexOf(blob) + Math.floor((4 * prefix.length) / 3));
        }
      }
    }
  });

  it('decodes a data URI whatever it holds, so a secret no encoded keyword announces is found', () => {
    // `passwd` is the keyword of a case-insensitive rule: its encoded forms are not looked for.
    const source = `const db = connect();\nconst passwd = "Zr8uQ3mKxT4vLp9w";\n`;
    const map = JSON.stringify({ version: 3, sources: ['db.ts'], sourcesContent: [source], mappings: 'AAAA' });
    const inMap = found(`//# sourceMappingURL=data:application/json;base64,${b64(map)}\n`);
    expect(inMap.map((m) => [m.secret, m.encoding])).toEqual([['Zr8uQ3mKxT4vLp9w', 'base64']]);
    expect(found(`blob: ${b64(map)}\n`)).toEqual([]);
    expect(found(`//# sourceMappingURL=data:application/json;BASE64,${b64(map)}\n`)).toHaveLength(1);
  });

  it('reports what decodes to binary, such as an image, not at all', () => {
    const [{ value }] = tokens();
    const image = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.from(pick('\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\xff\xfe', 300), 'latin1'), Buffer.from(` ${value} `), Buffer.from(pick('\x00\x01\x02\x13\x14\x15\x16\x17\x18\x19\x1a\xff', 300), 'latin1')]);
    const text = `.logo{background:url(data:image/png;base64,${image.toString('base64')})}\n`;
    expect(found(text)).toEqual([]);
    // The same token in text is found: only being binary leaves it out.
    expect(found(`.logo{background:url(data:text/plain;base64,${b64(`logo ${value} logo`)})}\n`)).toHaveLength(1);
  });

  it('does not take a value cut off where documentation shortens the base64 for one that ends there', () => {
    const json = '{"version":1,"tokenDetail":"AQICAHhVv9V4mQ3rKcLpZ8t2XyF7bN0wRjS5uE';
    const complete = `{"version":1,"tokenDetail":"AQICAHhVv9V4mQ3rKcLpZ8t2XyF7bN0wRjS5uE"}`;
    expect(found(` *   Marker: "${b64(json)}...",\n`)).toEqual([]);
    // The file's bytes (UTF-8), one latin1 character each, as the matcher reads them.
    expect(found(Buffer.from(` *   Marker: "${b64(json)}\u2026",\n`, 'utf8').toString('latin1'))).toEqual([]);
    // The same value, closed: found, so only the ellipsis leaves it out.
    expect(found(` *   Marker: "${b64(complete)}",\n`).map((m) => [m.rule, m.encoding])).toEqual([['generic-secret-assignment', 'base64']]);
  });

  it('decodes one level only', () => {
    const [{ value }] = tokens();
    const twice = b64(`token=${b64(`token ${value}\n`)}\n`);
    // The inner base64 is a value assigned to a token, which a generic rule may report as it
    // is; it is not decoded again to the GitHub token it holds.
    expect(found(`blob: ${twice}\n`).filter((m) => m.secret === value)).toEqual([]);
    expect(found(`blob: ${b64(`token=${value}\n`)}\n`)).toHaveLength(1);
  });

  it('honours an inline ignore marker next to the encoded text or inside the decoded text', () => {
    const [{ value }] = tokens();
    expect(found(`key: ${b64(`token ${value}\n`)}\n`)).toHaveLength(1);
    expect(found(`key: ${b64(`token ${value}\n`)} # pubguard:allow\n`)).toEqual([]);
    expect(found(`key: ${b64(`token ${value} // pubguard:allow\n`)}\n`)).toEqual([]);
  });

  it('owns a decoded match by where its base64 starts, so overlapping segments report it once', () => {
    const [{ value }] = tokens();
    const text = withInlineMap(value);
    const at = found(text)[0]?.start ?? -1;
    expect(at).toBeGreaterThan(0);
    // Matches of the token's own rule: a generic rule's match of the same secret starts at its
    // keyword, elsewhere, and the engine keeps one of the two once the file's segments are in.
    const owned = (from: number, to: number) =>
      matcher.matchSegment(text, { ownedStart: from, ownedEnd: to, atFileStart: true, atFileEnd: true }).matches.filter((m) => matcher.rule(m.rule).id === 'github-classic-token').length;
    expect(owned(0, at)).toBe(0);
    expect(owned(at, text.length)).toBe(1);
    expect(owned(0, at + 1)).toBe(1);
  });
});

describe('scan of base64 text', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-base64-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds each secret of a long inline source map exactly once, with any chunk size, wherever the chunk boundaries fall', async () => {
    const planted = tokens();
    // Filler source big enough that the map's one base64 line spans many chunks and overlaps.
    const filler = Array.from({ length: 3000 }, (_, i) => `export function f${i}(a, b) { return a * ${i} + b; }\n`).join('');
    const parts = planted.map((t, i) => `const secret${i} = "${t.value}";\n${filler.slice(i * 20000, i * 20000 + 40000)}`);
    const map = JSON.stringify({ version: 3, sources: ['src/a.ts'], sourcesContent: [parts.join('')], names: [], mappings: 'AAAA' });
    const text = `var a=1;\n//# sourceMappingURL=data:application/json;base64,${b64(map)}\n`;
    const file = join(dir, 'bundle.js');
    await writeFile(file, text);
    const expected = (await scanAll([file], { jobs: 0 })).findings.map((f) => [f.ruleId, f.location.line, f.location.column, f.location.byteOffset, f.encoding]);
    expect(expected.map(([rule]) => rule).sort()).toEqual(planted.map((t) => t.rule).sort());
    for (const chunkSize of [40000, 50021, 65536]) {
      const { findings } = await scanAll([file], { jobs: 0, chunkSize });
      expect(findings.map((f) => [f.ruleId, f.location.line, f.location.column, f.location.byteOffset, f.encoding]), `chunk size ${chunkSize}`).toEqual(expected);
    }
  });

  it('reports a decoded secret with its decoded fingerprint, so a baseline of the plain secret covers it', async () => {
    const [{ value }] = tokens();
    const plain = join(dir, 'plain.js');
    const encoded = join(dir, 'encoded.yaml');
    await writeFile(plain, `const token = "${value}";\n`);
    await writeFile(encoded, `data:\n  token: ${b64(value)}\n`);
    const [inPlain] = (await scanAll([plain], { jobs: 0 })).findings;
    const [inEncoded] = (await scanAll([encoded], { jobs: 0 })).findings;
    expect(inPlain?.encoding).toBeUndefined();
    expect(inEncoded).toMatchObject({ encoding: 'base64', fingerprint: inPlain?.fingerprint, location: { line: 2, column: 10 } });
    expect((await scanAll([encoded], { jobs: 0, baseline: new Set([inPlain?.fingerprint ?? '']) })).findings).toEqual([]);
  });
});
