import { type KeyObject, createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeFsError } from '@pubguard/engine';
import { EncryptedKeyError, KeyError, SignatureFormatError } from './errors.js';
import { SshReader, SshWriter } from './sshbuf.js';

/** SSH key algorithms pubguard can verify and sign with. */
export type SshKeyType = 'ssh-ed25519' | 'ssh-rsa' | 'ecdsa-sha2-nistp256';

/** A public key as SSH publishes it: the wire blob plus what node:crypto needs. */
export interface SshPublicKey {
  type: SshKeyType;
  /** The SSH wire encoding of the key (what `AAAA…` in a public key line decodes to). */
  blob: Buffer;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The comment after the key in a public key line, if any. */
  comment: string;
  key: KeyObject;
}

/** A private key read from an unencrypted `openssh-key-v1` file. */
export interface SshPrivateKey {
  publicKey: SshPublicKey;
  key: KeyObject;
}

const SUPPORTED: readonly string[] = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256'];

const b64url = (b: Buffer): string => b.toString('base64url');

/** `SHA256:<base64 without padding>` of a public key blob. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Decodes a public key blob (SSH wire format) into a usable key. */
export function parsePublicKeyBlob(blob: Buffer, comment = ''): SshPublicKey {
  const r = new SshReader(blob, 'public key');
  const type = r.text();
  if (!SUPPORTED.includes(type)) {
    throw new KeyError(`unsupported key type '${type}' (supported: ${SUPPORTED.join(', ')})`);
  }
  let key: KeyObject;
  if (type === 'ssh-ed25519') {
    const pub = r.string();
    if (pub.length !== 32) throw new KeyError('ssh-ed25519 public key is not 32 bytes');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub) }, format: 'jwk' });
  } else if (type === 'ssh-rsa') {
    const e = publicMpint(r, 'e');
    const n = publicMpint(r, 'n');
    key = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
  } else {
    const curve = r.text();
    if (curve !== 'nistp256') throw new KeyError(`unsupported ECDSA curve '${curve}'`);
    const { x, y } = splitPoint(r.string());
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(x), y: b64url(y) }, format: 'jwk' });
  }
  if (r.remaining !== 0) throw new KeyError(`${type} public key has trailing bytes`);
  return { type: type as SshKeyType, blob, fingerprint: keyFingerprint(blob), comment, key };
}

/**
 * Reads an RSA public key mpint and refuses any encoding but the one OpenSSH writes: a
 * fingerprint hashes the blob, so a zero-padded `e` or `n` would give the same key a second
 * fingerprint, and one key could count as two people.
 */
function publicMpint(r: SshReader, name: string): Buffer {
  const raw = r.string();
  if (raw.length === 0) throw new KeyError(`ssh-rsa public key has an empty ${name}`);
  if ((raw[0]! & 0x80) !== 0) throw new KeyError(`ssh-rsa public key has a negative ${name}`);
  if (raw[0] === 0 && (raw.length === 1 || (raw[1]! & 0x80) === 0)) {
    throw new KeyError(`ssh-rsa public key has ${name} padded with leading zero bytes (not the encoding OpenSSH writes; the same key would have another fingerprint)`);
  }
  return raw[0] === 0 ? raw.subarray(1) : raw;
}

function splitPoint(q: Buffer): { x: Buffer; y: Buffer } {
  if (q.length !== 65 || q[0] !== 0x04) throw new KeyError('nistp256 point is not an uncompressed 65-byte point');
  return { x: q.subarray(1, 33), y: q.subarray(33, 65) };
}

/** Parses one `ssh-ed25519 AAAA… comment` line (the format of `~/.ssh/id_*.pub` and GitHub's `.keys`). */
export function parsePublicKeyLine(line: string): SshPublicKey {
  const fields = line.trim().split(/\s+/);
  const [type, data, ...rest] = fields;
  if (!type || !data) throw new KeyError(`not a public key line: '${line.trim().slice(0, 40)}'`);
  if (!SUPPORTED.includes(type)) {
    throw new KeyError(`unsupported key type '${type}' (supported: ${SUPPORTED.join(', ')})`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new KeyError(`public key data of '${type}' key is not base64`);
  const parsed = parsePublicKeyBlob(Buffer.from(data, 'base64'), rest.join(' '));
  if (parsed.type !== type) throw new KeyError(`public key line says '${type}' but the key inside is '${parsed.type}'`);
  return parsed;
}

/** Formats a public key as a one-line `type base64 comment`. */
export function formatPublicKeyLine(key: SshPublicKey): string {
  return `${key.type} ${key.blob.toString('base64')}${key.comment ? ` ${key.comment}` : ''}`;
}

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';

/** The unencrypted head of an `openssh-key-v1` file, and a reader at its private section. */
interface OpensshKeyFile {
  encrypted: boolean;
  /** The public key blob, which the format stores outside the encrypted section. */
  publicBlob: Buffer;
  /** Positioned at the (possibly encrypted) private section. */
  reader: SshReader;
}

/**
 * Why a private key in PEM format (`ssh-keygen -m PEM`, or PKCS#8) cannot be used, with the
 * way on: its `.pub` file with --statement-only, or the key rewritten in OpenSSH format.
 * Undefined when `text` is no PEM private key.
 */
function pemKeyProblem(text: string, source: string, wanted: 'public' | 'private'): KeyError | undefined {
  const begin = /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY)-----/.exec(text);
  if (begin === null) return undefined;
  const encrypted = begin[1] === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,ENCRYPTED\s*$/m.test(text);
  const what = `${source} is a private key in PEM format ('${begin[0]}')${encrypted ? ', encrypted with a passphrase' : ''}`;
  const statement = `pubguard approve ARTIFACTS --key ${source}.pub --statement-only`;
  // `ssh-keygen -p` writes the key back in its default format, OpenSSH's (since OpenSSH 7.8).
  if (wanted === 'public') {
    return new KeyError(
      `${what}, whose public part pubguard does not read. Pass its public key instead, \`--key ${source}.pub\` (ssh-keygen writes it beside the key), ` +
        `or rewrite the key in OpenSSH format ('${BEGIN}'), in place, with \`ssh-keygen -p -f ${source}\``,
    );
  }
  if (encrypted) {
    return new KeyError(
      `${what}, which pubguard does not read. Write the statement with its public key, \`${statement}\`, and sign it with the ssh-keygen command that prints`,
    );
  }
  return new KeyError(
    `${what}; pubguard signs only with a key in OpenSSH format ('${BEGIN}'). Rewrite it in that format, in place and still without a passphrase, with ` +
      `\`ssh-keygen -p -N "" -f ${source}\`, or write the statement with its public key, \`${statement}\`, and sign it with the ssh-keygen command that prints`,
  );
}

/** True when `text` holds an armoured OpenSSH private key. */
function isOpensshPrivateKey(text: string): boolean {
  const begin = text.indexOf(BEGIN);
  return begin >= 0 && text.indexOf(END) > begin;
}

/** Reads an `openssh-key-v1` file up to its private section, encrypted or not. */
function readOpensshKeyFile(text: string, source: string): OpensshKeyFile {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) {
    const pem = pemKeyProblem(text, source, 'private');
    if (pem !== undefined) throw pem;
    throw new KeyError(
      `${source} is not an OpenSSH private key (expected '${BEGIN}'; convert PEM keys with 'ssh-keygen -p -f KEY')`,
    );
  }
  const raw = Buffer.from(text.slice(begin + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (!raw.subarray(0, magic.length).equals(magic)) throw new KeyError(`${source}: missing openssh-key-v1 magic`);
  try {
    const r = new SshReader(raw.subarray(magic.length), source);
    const cipher = r.text();
    const kdf = r.text();
    r.string();
    const count = r.uint32();
    if (count !== 1) throw new KeyError(`${source} holds ${count} keys; expected exactly 1`);
    return { encrypted: cipher !== 'none' || kdf !== 'none', publicBlob: r.string(), reader: r };
  } catch (error) {
    if (error instanceof SignatureFormatError) throw new KeyError(`${source} is truncated or corrupt`);
    throw error;
  }
}

/**
 * The public key of a key file: an OpenSSH private key, encrypted with a passphrase or not
 * (its public part is stored unencrypted), or a public key line (`id_ed25519.pub`).
 */
export function parseKeyFilePublicKey(text: string, source = 'key file'): SshPublicKey {
  if (isOpensshPrivateKey(text)) {
    const { publicBlob } = readOpensshKeyFile(text, source);
    try {
      return parsePublicKeyBlob(publicBlob);
    } catch (error) {
      if (error instanceof SignatureFormatError) throw new KeyError(`${source} is truncated or corrupt`);
      throw error;
    }
  }
  const pem = pemKeyProblem(text, source, 'public');
  if (pem !== undefined) throw pem;
  const line = text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (line === undefined || !/^\s*(?:ssh-|ecdsa-)/.test(line)) {
    throw new KeyError(`${source} is neither an OpenSSH private key ('${BEGIN}') nor a public key line ('ssh-ed25519 AAAA…')`);
  }
  try {
    return parsePublicKeyLine(line);
  } catch (error) {
    if (error instanceof KeyError) throw new KeyError(`${source}: ${error.message}`);
    throw error;
  }
}

/** Reads the public key of a key file (see `parseKeyFilePublicKey`); no passphrase is needed. */
export async function loadPublicKey(path: string): Promise<SshPublicKey> {
  return parseKeyFilePublicKey(await readKeyFile(path), path);
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new KeyError(`cannot read key file ${path}: ${describeFsError(error)}`);
  }
}

/** Parses an unencrypted OpenSSH private key (`openssh-key-v1`). */
export function parsePrivateKey(text: string, source = 'private key'): SshPrivateKey {
  const { encrypted, publicBlob, reader: r } = readOpensshKeyFile(text, source);
  if (encrypted) {
    throw new EncryptedKeyError(
      `${source} is encrypted with a passphrase, which pubguard does not read. ` +
        `Write the statement with \`pubguard approve ARTIFACTS --key ${source} --statement-only\` (which reads only the key's public part) and sign it yourself: ` +
        '`ssh-keygen -Y sign -n pubguard-approval -f KEY STATEMENT.json`',
    );
  }
  try {
    const priv = new SshReader(r.string(), source);
    if (priv.uint32() !== priv.uint32()) throw new KeyError(`${source}: check integers differ (corrupt key)`);
    const type = priv.text();
    const comment = (): string => priv.text();
    let key: KeyObject;
    if (type === 'ssh-ed25519') {
      const pub = priv.string();
      const secret = priv.string();
      if (pub.length !== 32 || secret.length !== 64) throw new KeyError(`${source}: bad ed25519 key lengths`);
      key = createPrivateKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub), d: b64url(secret.subarray(0, 32)) },
        format: 'jwk',
      });
      return { publicKey: parsePublicKeyBlob(publicBlob, comment()), key };
    }
    if (type === 'ssh-rsa') {
      const n = priv.mpint();
      const e = priv.mpint();
      const d = priv.mpint();
      const iqmp = priv.mpint();
      const p = priv.mpint();
      const q = priv.mpint();
      const big = (b: Buffer): bigint => BigInt(`0x${b.toString('hex') || '0'}`);
      const toBuf = (v: bigint): Buffer => {
        const hex = v.toString(16);
        return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
      };
      const dp = toBuf(big(d) % (big(p) - 1n));
      const dq = toBuf(big(d) % (big(q) - 1n));
      key = createPrivateKey({
        key: {
          kty: 'RSA',
          n: b64url(n),
          e: b64url(e),
          d: b64url(d),
          p: b64url(p),
          q: b64url(q),
          dp: b64url(dp),
          dq: b64url(dq),
          qi: b64url(iqmp),
        },
        format: 'jwk',
      });
      return { publicKey: parsePublicKeyBlob(publicBlob, comment()), key };
    }
    if (type === 'ecdsa-sha2-nistp256') {
      if (priv.text() !== 'nistp256') throw new KeyError(`${source}: unsupported ECDSA curve`);
      const { x, y } = splitPoint(priv.string());
      const d = priv.mpint();
      const d32 = Buffer.concat([Buffer.alloc(Math.max(0, 32 - d.length)), d]);
      key = createPrivateKey({
        key: { kty: 'EC', crv: 'P-256', x: b64url(x), y: b64url(y), d: b64url(d32) },
        format: 'jwk',
      });
      return { publicKey: parsePublicKeyBlob(publicBlob, comment()), key };
    }
    throw new KeyError(`${source}: unsupported key type '${type}' (supported: ${SUPPORTED.join(', ')})`);
  } catch (error) {
    if (error instanceof SignatureFormatError) throw new KeyError(`${source} is truncated or corrupt`);
    throw error;
  }
}

/** Reads and parses an OpenSSH private key file. */
export async function loadPrivateKey(path: string): Promise<SshPrivateKey> {
  return parsePrivateKey(await readKeyFile(path), path);
}

/** Signs `data` as SSH does for the key's type and returns the SSH signature blob. */
export function sshSign(privateKey: SshPrivateKey, data: Buffer): Buffer {
  const { type } = privateKey.publicKey;
  if (type === 'ssh-ed25519') {
    return new SshWriter().string('ssh-ed25519').string(cryptoSign(null, data, privateKey.key)).toBuffer();
  }
  if (type === 'ssh-rsa') {
    return new SshWriter().string('rsa-sha2-512').string(cryptoSign('sha512', data, privateKey.key)).toBuffer();
  }
  const rs = cryptoSign('sha256', data, { key: privateKey.key, dsaEncoding: 'ieee-p1363' });
  const inner = new SshWriter().mpint(rs.subarray(0, 32)).mpint(rs.subarray(32)).toBuffer();
  return new SshWriter().string('ecdsa-sha2-nistp256').string(inner).toBuffer();
}

/** Checks an SSH signature blob over `data` with a public key; false on any mismatch. */
export function sshVerify(publicKey: SshPublicKey, data: Buffer, signatureBlob: Buffer): boolean {
  const r = new SshReader(signatureBlob, 'signature blob');
  const sigType = r.text();
  const sig = r.string();
  if (publicKey.type === 'ssh-ed25519') {
    return sigType === 'ssh-ed25519' && sig.length === 64 && cryptoVerify(null, data, publicKey.key, sig);
  }
  if (publicKey.type === 'ssh-rsa') {
    // SSHSIG forbids the SHA-1 `ssh-rsa` signature type.
    if (sigType === 'rsa-sha2-512') return cryptoVerify('sha512', data, publicKey.key, sig);
    if (sigType === 'rsa-sha2-256') return cryptoVerify('sha256', data, publicKey.key, sig);
    return false;
  }
  if (sigType !== 'ecdsa-sha2-nistp256') return false;
  const inner = new SshReader(sig, 'ECDSA signature');
  const r1 = inner.mpint();
  const s1 = inner.mpint();
  if (r1.length > 32 || s1.length > 32) return false;
  const pad = (b: Buffer): Buffer => Buffer.concat([Buffer.alloc(32 - b.length), b]);
  return cryptoVerify('sha256', data, { key: publicKey.key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([pad(r1), pad(s1)]));
}
