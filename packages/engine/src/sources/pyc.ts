/**
 * Compiled Python (`.pyc`) as the rules match it. marshal writes the next object's type code
 * (`N`, `c`, `Z`, `r`, `)`...) right after a string constant, and a short string's length
 * byte right before it, so a token stored there is glued to letters and digits that the
 * rules' boundaries `(?<![A-Za-z0-9])` and `(?![A-Za-z0-9])` reject. The bytes matched are a
 * copy of the same length in which the byte before and the byte after each string constant
 * are a newline: offsets, secrets and fingerprints stay those of the file, and each constant
 * is a line of its own. The constants are found by walking marshal's object stream, as
 * `marshal.loads` reads it; at the first thing it does not understand the walk stops and
 * what follows is matched as it is, so odd input never fails a scan.
 */

import { noteFreshBytes } from './collect.js';

/** One field of a code object: a raw 32-bit integer, or a marshalled object. */
type Step = 'int' | 'obj';

/** How one Python version writes a compiled module: its header's size and its code objects' fields. */
export type PycFormat = { readonly header: number; readonly code: readonly Step[] };

const ints = (n: number): Step[] => Array<Step>(n).fill('int');
const objs = (n: number): Step[] => Array<Step>(n).fill('obj');

// Fields as marshal.c's w_object writes a code object, by version.
/** 3.0 to 3.7: argcount, kwonlyargcount, nlocals, stacksize, flags; code ... name; firstlineno; lnotab. */
const CODE_30: readonly Step[] = [...ints(5), ...objs(8), 'int', 'obj'];
/** 3.8 to 3.10: posonlyargcount added. */
const CODE_38: readonly Step[] = [...ints(6), ...objs(8), 'int', 'obj'];
/** 3.11 on: nlocals gone; localsplusnames and kinds, qualname; linetable and exceptiontable. */
const CODE_311: readonly Step[] = [...ints(5), ...objs(8), 'int', ...objs(2)];

/** marshal's type code of a code object. */
const TYPE_CODE = 0x63;
/** Bit set on a type code whose object later `r` references may name. */
const FLAG_REF = 0x80;
/** marshal's own bound on nesting (MAX_MARSHAL_STACK_DEPTH): deeper data is not a pyc it wrote. */
const MAX_DEPTH = 2000;
/** What the bytes around a string constant become. */
const SEPARATOR = 0x0a;

/**
 * The format of compiled Python 3 that content starting with `head` is, or undefined: a
 * 2-byte magic number of Python 3 (3000 to 3999, little-endian), `\r\n`, the rest of the
 * header (flags and a timestamp and size or a hash from 3.7 on, PEP 552; a timestamp and size
 * from 3.3; a timestamp before), then a code object. Two bytes decide for anything else.
 */
export function pycFormat(head: Uint8Array): PycFormat | undefined {
  if (head.length < 9 || head[2] !== 0x0d || head[3] !== 0x0a) return undefined;
  const magic = head[0]! | (head[1]! << 8);
  if (magic < 3000 || magic > 3999) return undefined;
  // Magic numbers as importlib lists them: 3392 (3.7a4) brought PEP 552, 3210 (3.3a1) the size.
  const header = magic >= 3392 ? 16 : magic >= 3210 ? 12 : 8;
  if (head.length <= header || ((head[header]! & ~FLAG_REF) & 0xff) !== TYPE_CODE) return undefined;
  // PEP 552 flags: bit 0 hash-based, bit 1 check_source (only with bit 0); the rest zero.
  if (header === 16 && (head[4]! > 3 || head[4] === 2 || head[5] !== 0 || head[6] !== 0 || head[7] !== 0)) return undefined;
  // 3410 (3.8a1) added posonlyargcount, 3450 on (3.11a1) is the layout 3.11 shipped.
  return { header, code: magic >= 3450 ? CODE_311 : magic >= 3410 ? CODE_38 : CODE_30 };
}

/** What the walk is inside: a counted sequence, a dict (until a NULL key), a code object, or a complex's two texts. */
type Frame =
  | { kind: 'seq'; left: number }
  | { kind: 'text'; left: number }
  | { kind: 'dict'; key: boolean }
  | { kind: 'code'; at: number };

/**
 * Walks a pyc's bytes as they arrive, slice after slice, and collects the offsets that
 * become separators: up to `frontier` they are all known, so slices before it can be handed
 * on. Holds no slice: a field cut by a slice's end is copied (a few bytes).
 */
export class PycWalker {
  private readonly code: readonly Step[];
  private readonly marks: number[] = [];
  private next = 0;
  /** Offset of the next byte not yet walked over, in the file. */
  private pos = 0;
  private skip: number;
  private readonly carry = new Uint8Array(32);
  private carryLen = 0;
  private carryNeed = 0;
  private readonly stack: Frame[] = [{ kind: 'seq', left: 1 }];
  private stopped = false;

  constructor(format: PycFormat) {
    this.code = format.code;
    this.skip = format.header;
  }

  /** Offset below which every separator is known (the whole file once the walk has ended). */
  get frontier(): number {
    return this.stopped ? Number.POSITIVE_INFINITY : this.pos;
  }

  /** Whether the module's code object was walked to its end: the offset just after it, or undefined. */
  get walkedTo(): number | undefined {
    return this.stack.length === 0 && this.skip === 0 ? this.pos : undefined;
  }

  /** Walks the next slice of the file. */
  feed(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (!this.stopped) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - i);
        i += k;
        this.pos += k;
        this.skip -= k;
        if (this.skip > 0) return;
      }
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        // The module's code object is all marshal reads; whatever follows is not walked.
        this.stopped = true;
        return;
      }
      let tok: Uint8Array;
      let at: number;
      let size: number;
      if (this.carryLen === 0) {
        if (i >= n) return;
        size = this.tokenSize(top, chunk[i]!);
        if (size < 0) {
          this.stopped = true;
          return;
        }
        if (n - i < size) {
          this.carry.set(chunk.subarray(i), 0);
          this.carryLen = n - i;
          this.carryNeed = size;
          return;
        }
        tok = chunk;
        at = i;
        i += size;
      } else {
        const k = Math.min(this.carryNeed - this.carryLen, n - i);
        this.carry.set(chunk.subarray(i, i + k), this.carryLen);
        this.carryLen += k;
        i += k;
        if (this.carryLen < this.carryNeed) return;
        tok = this.carry;
        at = 0;
        size = this.carryNeed;
        this.carryLen = 0;
      }
      const start = this.pos;
      this.pos += size;
      this.take(top, tok, at, size, start);
    }
  }

  /** Ends the walk: nothing more arrives. */
  end(): void {
    this.stopped = true;
  }

  /** Writes the separators that fall in `view` (the file's bytes from `offset` on), in order of offsets. */
  apply(view: Uint8Array, offset: number): void {
    const { marks } = this;
    const end = offset + view.length;
    while (this.next < marks.length && marks[this.next]! < end) {
      const m = marks[this.next++]!;
      if (m >= offset) view[m - offset] = SEPARATOR;
    }
    if (this.next > 1024 && this.next * 2 > marks.length) {
      marks.splice(0, this.next);
      this.next = 0;
    }
  }

  /** Bytes of the next token (the type code and its fixed fields, or a raw field), or -1 for what is not marshal's. */
  private tokenSize(top: Frame, first: number): number {
    if (top.kind === 'code' && this.code[top.at] === 'int') return 4;
    if (top.kind === 'text') return 1;
    const fields = FIELD_BYTES[first & ~FLAG_REF];
    return fields === undefined ? -1 : 1 + fields;
  }

  private take(top: Frame, tok: Uint8Array, at: number, size: number, start: number): void {
    if (top.kind === 'code' && this.code[top.at] === 'int') return this.done();
    if (top.kind === 'text') {
      this.skip = tok[at]!;
      return this.done();
    }
    const type = String.fromCharCode(tok[at]! & ~FLAG_REF);
    const u32 = (): number => (tok[at + 1]! | (tok[at + 2]! << 8) | (tok[at + 3]! << 16)) + tok[at + 4]! * 0x1000000;
    switch (type) {
      case 's':
      case 't':
      case 'u':
      case 'a':
      case 'A':
      case 'z':
      case 'Z': {
        const len = size === 2 ? tok[at + 1]! : u32();
        this.marks.push(start + size - 1, start + size + len);
        this.skip = len;
        return this.done();
      }
      case '0':
        // NULL ends a dict where a key would be; anywhere else marshal refuses it too.
        if (top.kind !== 'dict' || !top.key) return this.stop();
        this.stack.pop();
        return this.done();
      case 'f':
        this.skip = tok[at + 1]!;
        return this.done();
      case 'l': {
        // A signed digit count, 15-bit digits in two bytes each.
        const digits = u32();
        this.skip = 2 * (digits >= 0x80000000 ? 0x100000000 - digits : digits);
        return this.done();
      }
      case ')':
        return this.open({ kind: 'seq', left: tok[at + 1]! });
      case '(':
      case '[':
      case '<':
      case '>': {
        const count = u32();
        return count >= 0x80000000 ? this.stop() : this.open({ kind: 'seq', left: count });
      }
      case '{':
        return this.open({ kind: 'dict', key: true });
      case 'c':
        return this.open({ kind: 'code', at: 0 });
      case ':':
        // A slice (marshal version 5, Python 3.14): start, stop and step.
        return this.open({ kind: 'seq', left: 3 });
      case 'x':
        // An old complex: real and imaginary parts as texts.
        return this.open({ kind: 'text', left: 2 });
      default:
        // None, booleans, numbers of fixed size, references: their fields were the token.
        return this.done();
    }
  }

  private open(frame: Frame): void {
    if (frame.kind === 'seq' && frame.left === 0) return this.done();
    if (this.stack.length >= MAX_DEPTH) return this.stop();
    this.stack.push(frame);
  }

  /** One item of the innermost container is complete; so are the containers it completes. */
  private done(): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) return;
      if (top.kind === 'dict') {
        top.key = !top.key;
        return;
      }
      if (top.kind === 'code') {
        if (++top.at < this.code.length) return;
      } else if (--top.left > 0) {
        return;
      }
      this.stack.pop();
    }
  }

  private stop(): void {
    this.stopped = true;
  }
}

/** Bytes of fixed fields after each type code marshal writes in Python 3 (none for those not listed: unknown). */
const FIELD_BYTES: Readonly<Record<number, number>> = (() => {
  const table: Record<number, number> = {};
  const set = (codes: string, bytes: number) => {
    for (const c of codes) table[c.charCodeAt(0)] = bytes;
  };
  set('0NFTS.{c:x', 0);
  set('zZ)f', 1);
  set('stuaA([<>ilr', 4);
  set('Ig', 8);
  set('y', 16);
  return table;
})();

/** A copy of a whole pyc's bytes with its string constants set apart. */
export function markPyc(data: Uint8Array, format: PycFormat): Buffer {
  const out = Buffer.from(data);
  noteFreshBytes(out.length);
  markPycInPlace(out, 0, out.length, format);
  return out;
}

/** Sets apart the string constants of the `n` bytes of a pyc at `offset` of `buf`, in place. */
export function markPycInPlace(buf: Uint8Array, offset: number, n: number, format: PycFormat): void {
  const view = buf.subarray(offset, offset + n);
  const walker = new PycWalker(format);
  walker.feed(view);
  walker.end();
  walker.apply(view, 0);
}

/**
 * The slices of a streamed pyc with its string constants set apart, each a copy made as it
 * arrives (the raw one goes to `recycle`) and handed on once the walk is past it. The source
 * is never `return()`ed, as its owner drains or closes it.
 */
export async function* markPycChunks(src: AsyncIterator<Uint8Array>, format: PycFormat, recycle?: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array, void, undefined> {
  const walker = new PycWalker(format);
  const held: { data: Buffer; start: number }[] = [];
  let offset = 0;
  for (;;) {
    const r = await src.next();
    if (r.done) break;
    const data = Buffer.from(r.value);
    noteFreshBytes(data.length);
    recycle?.(r.value);
    walker.feed(data);
    held.push({ data, start: offset });
    offset += data.length;
    while (held.length > 0 && held[0]!.start + held[0]!.data.length <= walker.frontier) {
      const h = held.shift()!;
      walker.apply(h.data, h.start);
      yield h.data;
    }
  }
  walker.end();
  for (const h of held) {
    walker.apply(h.data, h.start);
    yield h.data;
  }
}
