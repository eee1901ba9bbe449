import { describe, expect, it } from 'vitest';
import { DETECT_BYTES, mayEndWithZip, utf16Encoding } from './detect.js';
import { decodeUtf16, decodeUtf16Chunks, decodeUtf16InPlace } from './utf16.js';

const le = (text: string): Buffer => Buffer.from(text, 'utf16le');
const be = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();
const BOM_LE = Buffer.from([0xff, 0xfe]);
const BOM_BE = Buffer.from([0xfe, 0xff]);
const TEXT = 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Example]\r\n"Token"="abc"\r\n';

/** Slices of `data` cut at the given offsets. */
function cut(data: Uint8Array, at: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const to of [...at, data.length]) {
    out.push(data.subarray(from, to));
    from = to;
  }
  return out;
}

async function decodeSlices(slices: Uint8Array[], encoding: 'utf-16le' | 'utf-16be'): Promise<string> {
  const it = slices[Symbol.iterator]();
  const src: AsyncIterator<Uint8Array> = { next: async () => it.next() as IteratorResult<Uint8Array> };
  const parts: Uint8Array[] = [];
  for await (const c of decodeUtf16Chunks(src, encoding)) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

describe('utf16Encoding', () => {
  it('recognises UTF-16 text with a byte-order mark, whatever its characters', () => {
    expect(utf16Encoding(Buffer.concat([BOM_LE, le(TEXT)]))).toBe('utf-16le');
    expect(utf16Encoding(Buffer.concat([BOM_BE, be(TEXT)]))).toBe('utf-16be');
    expect(utf16Encoding(Buffer.concat([BOM_LE, le('日本語のテキスト、😀 と Ελληνικά')]))).toBe('utf-16le');
    expect(utf16Encoding(Buffer.concat([BOM_BE, be('日本語のテキスト')]))).toBe('utf-16be');
    // Only the first DETECT_BYTES count: what follows may be anything.
    const long = Buffer.concat([BOM_LE, le('x'.repeat(DETECT_BYTES)), Buffer.alloc(64)]);
    expect(utf16Encoding(long)).toBe('utf-16le');
  });

  it('recognises UTF-16 text without a mark when it is nearly all ASCII', () => {
    expect(utf16Encoding(le(TEXT))).toBe('utf-16le');
    expect(utf16Encoding(be(TEXT))).toBe('utf-16be');
    expect(utf16Encoding(le('Résumé of the café project: see the notes\n'))).toBe('utf-16le');
    // A surrogate pair cut by the end of the head is no evidence against it.
    const head = le(`${'a'.repeat(DETECT_BYTES / 2 - 1)}😀`).subarray(0, DETECT_BYTES);
    expect(utf16Encoding(head)).toBe('utf-16le');
  });

  it('takes no text in another encoding, no binary and no stub for UTF-16', () => {
    const nuls = Buffer.alloc(600);
    nuls.write('AB', 0, 'latin1');
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), Buffer.from('IHDR'), Buffer.alloc(40)]);
    const wasm = Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), Buffer.alloc(40, 1)]);
    const cases: [string, Uint8Array][] = [
      ['ASCII', Buffer.from(TEXT)],
      ['UTF-8', Buffer.from('日本語のテキスト\n'.repeat(20))],
      ['UTF-8 with a mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)])],
      ['zeros after two letters', nuls],
      ['A NUL code unit in UTF-16 text', le(`abcdef\0ghij${'k'.repeat(100)}`)],
      ['a control code unit', le(`abcdef\u0001ghij${'k'.repeat(100)}`)],
      ['a mark then a NUL', Buffer.concat([BOM_LE, le('ab\0cd')])],
      ['UTF-32LE', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('a\0\0\0b\0\0\0', 'latin1')])],
      ['a lone surrogate after a mark', Buffer.concat([BOM_LE, le('ab'), Buffer.from([0x00, 0xdc]), le('cd')])],
      ['a mark then binary', Buffer.concat([BOM_LE, Buffer.from([0x10, 0x27, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00])])],
      ['PNG', png],
      ['wasm', wasm],
      ['MZ', Buffer.concat([Buffer.from('MZ'), le('This program cannot be run in DOS mode')])],
      ['ELF', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), le('abcdefgh')])],
      ['#!', Buffer.concat([Buffer.from('#!'), le('/usr/bin/env python3\n')])],
      ['too few unmarked units', le('abc')],
      // Every other byte 0 but in more than one code unit of eight.
      ['mostly but not nearly all ASCII', Buffer.from(Array.from({ length: 64 }, (_, i) => (i % 7 === 6 ? [0x41, 0x41] : [0x41, 0x00])).flat())],
      ['a first unit that is not ASCII', le(`é${'a'.repeat(40)}`)],
      ['a short binary', Buffer.from([0x01])],
      ['nothing', Buffer.alloc(0)],
    ];
    for (const [name, data] of cases) expect(utf16Encoding(data), name).toBeUndefined();
  });

  it('keeps UTF-16 text from being taken for a stub in front of a zip, but not binaries', () => {
    expect(mayEndWithZip(le(TEXT))).toBe(false);
    expect(mayEndWithZip(Buffer.concat([BOM_BE, be(TEXT)]))).toBe(false);
    expect(mayEndWithZip(Buffer.concat([Buffer.from('MZ'), le(TEXT)]))).toBe(true);
    expect(mayEndWithZip(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]))).toBe(true);
  });
});

describe('UTF-16 decoding', () => {
  const text = 'a😀b\r\nçé 日本 tok_x 😀😀\n';

  it('decodes whole text to UTF-8 without its mark', () => {
    expect(decodeUtf16(Buffer.concat([BOM_LE, le(text)]), 'utf-16le').toString('utf8')).toBe(text);
    expect(decodeUtf16(Buffer.concat([BOM_BE, be(text)]), 'utf-16be').toString('utf8')).toBe(text);
    expect(decodeUtf16(le(text), 'utf-16le').toString('utf8')).toBe(text);
  });

  it('decodes a stream cut anywhere, in a code unit or a surrogate pair', async () => {
    for (const [data, encoding] of [
      [Buffer.concat([BOM_LE, le(text)]), 'utf-16le'],
      [Buffer.concat([BOM_BE, be(text)]), 'utf-16be'],
    ] as const) {
      for (let i = 0; i <= data.length; i++) {
        for (const j of [i, i + 1, i + 3]) {
          const at = j <= data.length && j > i ? [i, j] : [i];
          expect(await decodeSlices(cut(data, at), encoding), `${encoding} cut at ${at.join(',')}`).toBe(text);
        }
      }
      // One byte at a time.
      expect(await decodeSlices(cut(data, Array.from({ length: data.length - 1 }, (_, k) => k + 1)), encoding)).toBe(text);
    }
  });

  it('ends a stream cut in a character with U+FFFD instead of dropping it', async () => {
    expect(await decodeSlices([le('ab').subarray(0, 3)], 'utf-16le')).toBe('a\uFFFD');
  });

  it('decodes in place when the UTF-8 fits, and says when it does not', () => {
    const buf = Buffer.alloc(100, 0x2e);
    const data = le('ab😀c');
    data.copy(buf, 10);
    expect(decodeUtf16InPlace(buf, 10, data.length, 20, 'utf-16le')).toBe(7);
    expect(buf.subarray(10, 17).toString('utf8')).toBe('ab😀c');
    const cjk = be('日本語');
    cjk.copy(buf, 0);
    expect(decodeUtf16InPlace(buf, 0, cjk.length, 8, 'utf-16be')).toBe(-1);
    expect(decodeUtf16InPlace(buf, 0, cjk.length, 9, 'utf-16be')).toBe(9);
  });
});
