import { compilePyc, Prng, python3Available } from '@pubguard/corpus';
import { describe, expect, it } from 'vitest';
import { markPyc, markPycChunks, markPycInPlace, PycWalker, pycFormat } from './pyc.js';

const python = python3Available();

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const bytes = (...parts: (string | number[] | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
/** marshal's short ASCII string (`Z` interned, with FLAG_REF as CPython sets it). */
const shortAscii = (s: string): Buffer => bytes([0xda, s.length], s);
/** marshal's string with a 4-byte length. */
const longString = (type: string, s: string): Buffer => bytes(type, u32(Buffer.byteLength(s)), Buffer.from(s));
const tuple = (...items: Buffer[]): Buffer => bytes([0x29, items.length], ...items);

/** A header of the given magic number and size, as the CPython of that magic writes it. */
function header(magic: number, size: 8 | 12 | 16, flags = 0): Buffer {
  const h = Buffer.alloc(size);
  h.writeUInt16LE(magic, 0);
  h[2] = 0x0d;
  h[3] = 0x0a;
  if (size === 16) h.writeUInt32LE(flags, 4);
  return h;
}

/**
 * A module's code object with `consts`, laid out with the number of leading integers and
 * trailing objects of one version (5 and 1 for 3.0 to 3.7, 6 and 1 for 3.8 to 3.10, 5 and 2
 * from 3.11), the objects between being the bytecode, the constants and names.
 */
function codeObject(leading: number, trailing: number, consts: Buffer[], names: string[]): Buffer {
  const between = [longString('s', 'd\x00S\x00'), tuple(...consts), tuple(...names.map(shortAscii))];
  const rest = 8 - between.length;
  // varnames, freevars, cellvars (or localsplusnames, kinds, qualname), filename, name.
  for (let i = 0; i < rest - 2; i++) between.push(bytes([0x29, 0]));
  between.push(shortAscii('m.py'), shortAscii('<module>'));
  return bytes([0xe3], ...Array.from({ length: leading }, () => u32(0)), ...between, u32(1), ...Array.from({ length: trailing }, () => longString('s', '\x00\x01')));
}

const FAKE = 'ghp_' + 'Ab1'.repeat(12);

describe('pycFormat', () => {
  it('tells Python 3 headers of every layout apart by their magic number', () => {
    const body = bytes([0xe3], Buffer.alloc(40));
    const cases: [number, 8 | 12 | 16, number, number][] = [
      // magic, header, leading ints, trailing objects
      [3180, 8, 5, 1], // 3.2
      [3379, 12, 5, 1], // 3.6
      [3394, 16, 5, 1], // 3.7
      [3413, 16, 6, 1], // 3.8
      [3439, 16, 6, 1], // 3.10
      [3495, 16, 5, 2], // 3.11
      [3571, 16, 5, 2], // 3.13
    ];
    for (const [magic, size, leading, trailing] of cases) {
      const format = pycFormat(bytes(header(magic, size), body));
      expect(format?.header).toBe(size);
      expect(format?.code.filter((s) => s === 'int').length).toBe(leading + 1);
      expect(format?.code.length).toBe(leading + 9 + trailing);
    }
    // PEP 552 hash-based pycs, checked or not.
    expect(pycFormat(bytes(header(3495, 16, 1), body))?.header).toBe(16);
    expect(pycFormat(bytes(header(3495, 16, 3), body))?.header).toBe(16);
  });

  it('takes nothing else for a pyc', () => {
    const body = bytes([0xe3], Buffer.alloc(40));
    const cases: [string, Buffer][] = [
      ['text', Buffer.from('ab\r\nsome text after a short first line\n')],
      ['Python 2.7', bytes(header(62211, 8), body)],
      ['a magic of no Python', bytes(header(2999, 12), body)],
      ['no code object after the header', bytes(header(3495, 16), bytes('N'), Buffer.alloc(40))],
      ['flags PEP 552 does not define', bytes(header(3495, 16, 2), body)],
      ['flags PEP 552 does not define', bytes(header(3495, 16, 0x100), body)],
      ['a header alone', header(3495, 16)],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [, data] of cases) expect(pycFormat(data)).toBeUndefined();
  });
});

describe('markPyc', () => {
  it.each([
    ['3.6', 3379, 12, 5, 1],
    ['3.8', 3413, 16, 6, 1],
    ['3.11', 3495, 16, 5, 2],
  ] as const)('sets apart the string constants of a %s code object, and walks it to its end', (_, magic, size, leading, trailing) => {
    const code = codeObject(leading, trailing, [shortAscii(FAKE), bytes('N'), longString('u', `é ${FAKE}`), bytes('i', u32(7))], ['TOKEN']);
    const data = bytes(header(magic, size), code);
    const format = pycFormat(data)!;
    const walker = new PycWalker(format);
    walker.feed(data);
    expect(walker.walkedTo).toBe(data.length);
    const view = markPyc(data, format);
    expect(view.length).toBe(data.length);
    // Without the separators the token sits between its length byte and the next type code.
    const at = data.indexOf(FAKE);
    expect(data.subarray(at - 1, at + FAKE.length + 1).toString('latin1')).toBe(`(${FAKE}N`);
    expect(view.subarray(at - 1, at + FAKE.length + 1).toString('latin1')).toBe(`\n${FAKE}\n`);
    // Only the bytes around strings change.
    let changed = 0;
    for (let i = 0; i < data.length; i++) if (view[i] !== data[i]) changed++;
    expect(changed).toBeGreaterThan(0);
    expect(view.toString('latin1').replace(/\n/g, '')).not.toContain('(' + FAKE + 'N');
    expect(view.toString('latin1').split(FAKE).length).toBe(3);
  });

  it('walks every value type marshal writes, nested, and a dict to its NULL key', () => {
    const consts = [
      bytes('T'),
      bytes('F'),
      bytes('.'),
      bytes('S'),
      bytes('g', Buffer.alloc(8)),
      bytes('y', Buffer.alloc(16)),
      bytes('I', Buffer.alloc(8)),
      bytes('l', u32(0xfffffffe), Buffer.alloc(4)),
      bytes('f', [3], '1.5'),
      bytes('x', [3], '1.5', [3], '2.5'),
      bytes('r', u32(3)),
      bytes('[', u32(2), shortAscii('a'), shortAscii('b')),
      bytes('<', u32(1), shortAscii('c')),
      bytes('>', u32(0)),
      bytes('{', shortAscii('k'), shortAscii(FAKE), '0'),
      bytes(':', 'N', 'N', 'N'),
      bytes('(', u32(1), longString('a', FAKE)),
      codeObject(5, 2, [longString('t', FAKE)], []),
    ];
    const data = bytes(header(3495, 16), codeObject(5, 2, consts, ['x']));
    const walker = new PycWalker(pycFormat(data)!);
    walker.feed(data);
    expect(walker.walkedTo).toBe(data.length);
    const view = markPyc(data, pycFormat(data)!).toString('latin1');
    expect(view.match(new RegExp(`\n${FAKE}\n`, 'g'))?.length).toBe(3);
  });

  it('never fails on odd input, and keeps its length', () => {
    const good = bytes(header(3495, 16), codeObject(5, 2, [shortAscii(FAKE)], ['TOKEN']));
    const format = pycFormat(good)!;
    const rng = new Prng(52);
    for (let round = 0; round < 2000; round++) {
      const data = Buffer.from(good.subarray(0, rng.int(17, good.length)));
      for (let k = rng.int(0, 4); k > 0; k--) data[rng.int(16, data.length - 1)] = rng.int(0, 255);
      // A length that runs past the end, a nesting deeper than marshal's, an unknown type code.
      const view = markPyc(data, format);
      expect(view.length).toBe(data.length);
    }
    for (const odd of [bytes(header(3495, 16), [0xe3], Buffer.alloc(20), Buffer.alloc(5000, 0x5b)), bytes(header(3495, 16), [0xe3], Buffer.alloc(20), 'z', [200], 'short'), bytes(header(3495, 16), [0xe3], Buffer.alloc(20), '?')]) {
      expect(markPyc(odd, format).length).toBe(odd.length);
    }
  });
});

describe.skipIf(!python)('pycs compiled by python3', () => {
  const source = `import os\nTOKEN = "${FAKE}"\nNAMES = {"key": "${FAKE}", "n": 1.5, "big": 10**40}\ndef f(a, *, b=None):\n    """${FAKE} in a docstring."""\n    return [TOKEN, b"${FAKE}", (1, 2), frozenset({3}), 2j]\nclass C:\n    x = "${FAKE}"\n`;

  it.each(['TIMESTAMP', 'CHECKED_HASH', 'UNCHECKED_HASH'] as const)('are walked to their end (%s) and each constant set apart', (mode) => {
    const data = compilePyc(source, mode);
    const format = pycFormat(data);
    expect(format).toBeDefined();
    const walker = new PycWalker(format!);
    walker.feed(data);
    expect(walker.walkedTo).toBe(data.length);
    const view = markPyc(data, format!).toString('latin1');
    // Every copy marshal wrote (equal strings are written once, then referenced) but the
    // docstring's, where the token is followed by more text: at least the str and the bytes.
    const copies = data.toString('latin1').split(FAKE).length - 1;
    expect(copies).toBeGreaterThanOrEqual(3);
    expect(view.match(new RegExp(`\n${FAKE}\n`, 'g'))?.length).toBe(copies - 1);
    expect(view).toContain(`\n${FAKE} in a docstring.\n`);
    // In place, as a directory's files are read, gives the same bytes.
    const inPlace = Buffer.concat([Buffer.from('xx'), data, Buffer.from('yy')]);
    markPycInPlace(inPlace, 2, data.length, format!);
    expect(inPlace.subarray(2, 2 + data.length).toString('latin1')).toBe(view);
    expect(inPlace.subarray(0, 2).toString()).toBe('xx');
  });

  it('gives the same bytes as a stream, however it is sliced', async () => {
    const data = compilePyc(source);
    const format = pycFormat(data)!;
    const whole = markPyc(data, format);
    const rng = new Prng(7);
    for (const sizes of [[1], [2, 3], [5, 7, 1], [64], [rng.int(1, 30), rng.int(1, 30), rng.int(1, 30)]]) {
      const slices: Uint8Array[] = [];
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = sizes[i % sizes.length]!;
        slices.push(Buffer.from(data.subarray(at, at + n)));
        at += n;
      }
      const it = slices[Symbol.iterator]();
      const recycled: Uint8Array[] = [];
      const out: Uint8Array[] = [];
      for await (const c of markPycChunks({ next: async () => it.next() as IteratorResult<Uint8Array> }, format, (c) => recycled.push(c))) out.push(c);
      expect(Buffer.concat(out).equals(whole)).toBe(true);
      expect(recycled.length).toBe(slices.length);
      // The raw slices are left as they were: they may belong to a reader that reuses them.
      expect(Buffer.concat(slices).equals(data)).toBe(true);
    }
  });
});
