import { SignatureFormatError } from './errors.js';

/** Reads the SSH wire encoding (RFC 4251 §5): uint32, string, mpint. */
export class SshReader {
  private offset = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what = 'SSH data',
  ) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Reads `n` raw bytes. */
  bytes(n: number): Buffer {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new SignatureFormatError(`${this.what} is truncated`);
    }
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Reads a big-endian uint32. */
  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  /** Reads a length-prefixed byte string. */
  string(): Buffer {
    return this.bytes(this.uint32());
  }

  /** Reads a length-prefixed string as UTF-8 text. */
  text(): string {
    return this.string().toString('utf8');
  }

  /** Reads an mpint and returns its magnitude without the sign-padding zero byte. */
  mpint(): Buffer {
    const raw = this.string();
    let start = 0;
    while (start < raw.length - 1 && raw[start] === 0) start++;
    return raw.subarray(start);
  }
}

/** Builds SSH wire encoding. */
export class SshWriter {
  private readonly parts: Buffer[] = [];

  /** Appends raw bytes. */
  raw(data: Buffer | string): this {
    this.parts.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    return this;
  }

  /** Appends a big-endian uint32. */
  uint32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0, 0);
    this.parts.push(b);
    return this;
  }

  /** Appends a length-prefixed string. */
  string(data: Buffer | string): this {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.uint32(b.length).raw(b);
  }

  /** Appends an unsigned magnitude as an mpint (adds a zero byte when the top bit is set). */
  mpint(magnitude: Buffer): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    let m = magnitude.subarray(start);
    if (m.length > 0 && (m[0]! & 0x80) !== 0) m = Buffer.concat([Buffer.from([0]), m]);
    return this.string(m);
  }

  /** The bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
