import { Buffer } from 'node:buffer';
import { crc32 } from 'node:zlib';
import type { Plant } from './carriers.js';
import { Prng } from './prng.js';

// Written here again on purpose rather than imported from @pubguard/rules: the corpus is an
// independent oracle, so a bug in the rules' validator cannot make both sides agree.
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** CRC-32 of `body` in base62, left-padded to 6: the checksum GitHub and npm tokens end with. */
export function base62Crc32(body: string): string {
  let n = crc32(Buffer.from(body, 'latin1'));
  let out = '';
  do {
    out = (BASE62[n % 62] ?? '0') + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(6, '0');
}

/** A decoy: text that looks like a credential to a naive scanner but must not be reported. */
export interface Decoy extends Plant {
  /** What kind of decoy (for the manifest and for reading test failures). */
  kind: string;
  /** Must start its own line (the text is a whole config line). */
  ownLine?: boolean;
  /** A placeholder or reference, safe even as the value of a `.env` line. */
  placeholder?: boolean;
}

/** A token of a checksummed format (`prefix` + 30 base62 + 6-char CRC) whose checksum is wrong. */
export function wrongChecksumToken(rng: Prng, prefix: string): string {
  const body = rng.string(BASE62, 30);
  const good = base62Crc32(body);
  // Change one checksum character to another base62 digit: shape intact, checksum wrong.
  const last = good[5] ?? '0';
  const bad = good.slice(0, 5) + (BASE62[(BASE62.indexOf(last) + 1 + rng.int(0, 60)) % 62] ?? '1');
  return `${prefix}${body}${bad}`;
}

function hex(rng: Prng, bytes: number): string {
  return Buffer.from(rng.bytes(bytes)).toString('hex');
}

function uuid(rng: Prng): string {
  const b = rng.bytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function sshString(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, Buffer.from(bytes)]);
}

/** An OpenSSH ed25519 public key line with the real wire format (public keys are not secrets). */
function sshPublicKey(rng: Prng): string {
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(rng.bytes(32))]);
  return `ssh-ed25519 ${blob.toString('base64')} release@build-host`;
}

/** A PEM public key block (SubjectPublicKeyInfo of an Ed25519 key). */
function pemPublicKey(rng: Prng): string {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(rng.bytes(32))]);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----`;
}

/** A small PNG (signature and IHDR) as a data URL: long base64 that is an image, not a key. */
function pngDataUrl(rng: Prng): string {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex'), Buffer.from(rng.bytes(48))]);
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * The decoy set: placeholders and references, tokens with a wrong checksum, AWS's documented
 * example keys, lock-file integrity strings, UUIDs, hex digests, public keys, a base64 image.
 */
export function decoys(seed: number): Decoy[] {
  const rng = new Prng(seed ^ 0x5eed);
  return [
    { kind: 'placeholder', text: `ghp_${'x'.repeat(36)}`, placeholder: true },
    { kind: 'placeholder', text: 'npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', placeholder: true },
    { kind: 'placeholder', text: '//registry.npmjs.org/:_authToken=${NPM_TOKEN}', ownLine: true, placeholder: true },
    { kind: 'placeholder', text: '${NPM_TOKEN}', placeholder: true },
    { kind: 'placeholder', text: '${{ secrets.PYPI_API_TOKEN }}', placeholder: true },
    { kind: 'placeholder', text: 'your-api-key-here', placeholder: true },
    { kind: 'placeholder', text: '<YOUR_TOKEN>', placeholder: true },
    { kind: 'placeholder', text: 'changeme', placeholder: true },
    { kind: 'placeholder', text: 'sk_live_xxxxxxxxxxxxxxxxxxxxxxxx', placeholder: true },
    { kind: 'wrong-checksum', text: wrongChecksumToken(rng, 'ghp_') },
    { kind: 'wrong-checksum', text: wrongChecksumToken(rng, 'gho_') },
    { kind: 'wrong-checksum', text: wrongChecksumToken(rng, 'npm_') },
    { kind: 'aws-documented-example', text: 'AKIAIOSFODNN7EXAMPLE' },
    { kind: 'aws-documented-example', text: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', ownLine: true },
    { kind: 'integrity', text: `sha512-${Buffer.from(rng.bytes(64)).toString('base64')}` },
    { kind: 'integrity', text: `sha1-${Buffer.from(rng.bytes(20)).toString('base64')}` },
    { kind: 'uuid', text: uuid(rng) },
    { kind: 'hex-digest', text: hex(rng, 20) },
    { kind: 'hex-digest', text: hex(rng, 32) },
    { kind: 'public-key', text: sshPublicKey(rng) },
    { kind: 'public-key', text: pemPublicKey(rng) },
    { kind: 'base64-image', text: pngDataUrl(rng) },
  ];
}
