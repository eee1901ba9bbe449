import { createHash } from 'node:crypto';
import { SignatureFormatError } from './errors.js';
import { type SshPrivateKey, type SshPublicKey, parsePublicKeyBlob, sshSign, sshVerify } from './keys.js';
import { SshReader, SshWriter } from './sshbuf.js';

/** The namespace every pubguard approval is signed in (`ssh-keygen -Y sign -n pubguard-approval`). */
export const APPROVAL_NAMESPACE = 'pubguard-approval';

const MAGIC = 'SSHSIG';
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';

/** A decoded SSHSIG signature (OpenSSH PROTOCOL.sshsig). */
export interface SshSignature {
  publicKey: SshPublicKey;
  namespace: string;
  hashAlgorithm: 'sha512' | 'sha256';
  /** The inner SSH signature blob (type + signature bytes). */
  signature: Buffer;
}

function signedData(namespace: string, hashAlgorithm: string, message: Buffer): Buffer {
  const digest = createHash(hashAlgorithm).update(message).digest();
  return new SshWriter().raw(MAGIC).string(namespace).string('').string(hashAlgorithm).string(digest).toBuffer();
}

/** Signs `message` in `namespace` and returns the armored signature, as `ssh-keygen -Y sign` writes it. */
export function sshsigSign(key: SshPrivateKey, message: Buffer, namespace = APPROVAL_NAMESPACE): string {
  const hashAlgorithm = 'sha512';
  const sig = sshSign(key, signedData(namespace, hashAlgorithm, message));
  const blob = new SshWriter()
    .raw(MAGIC)
    .uint32(1)
    .string(key.publicKey.blob)
    .string(namespace)
    .string('')
    .string(hashAlgorithm)
    .string(sig)
    .toBuffer();
  const b64 = blob.toString('base64');
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** Decodes an armored SSHSIG signature; throws SignatureFormatError on anything malformed or truncated. */
export function parseSshsig(armored: string): SshSignature {
  const begin = armored.indexOf(BEGIN);
  const end = armored.indexOf(END);
  if (begin < 0) throw new SignatureFormatError(`not an SSH signature (no '${BEGIN}' line)`);
  if (end < begin) throw new SignatureFormatError(`SSH signature is truncated (no '${END}' line)`);
  const body = armored.slice(begin + BEGIN.length, end).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new SignatureFormatError('SSH signature is not valid base64');
  const blob = Buffer.from(body, 'base64');
  const r = new SshReader(blob, 'SSH signature');
  if (r.bytes(6).toString('latin1') !== MAGIC) throw new SignatureFormatError('SSH signature lacks the SSHSIG magic');
  const version = r.uint32();
  if (version !== 1) throw new SignatureFormatError(`unsupported SSHSIG version ${version}`);
  const keyBlob = r.string();
  const namespace = r.text();
  r.string();
  const hashAlgorithm = r.text();
  const signature = r.string();
  if (r.remaining !== 0) throw new SignatureFormatError('SSH signature has trailing bytes');
  if (hashAlgorithm !== 'sha512' && hashAlgorithm !== 'sha256') {
    throw new SignatureFormatError(`unsupported SSHSIG hash algorithm '${hashAlgorithm}'`);
  }
  let publicKey: SshPublicKey;
  try {
    publicKey = parsePublicKeyBlob(keyBlob);
  } catch (error) {
    throw new SignatureFormatError(`SSH signature carries an unusable key: ${(error as Error).message}`);
  }
  return { publicKey, namespace, hashAlgorithm, signature };
}

/** True when `sig` is a valid signature of `message` in `namespace` by the key embedded in it. */
export function sshsigVerify(sig: SshSignature, message: Buffer, namespace = APPROVAL_NAMESPACE): boolean {
  if (sig.namespace !== namespace) return false;
  try {
    return sshVerify(sig.publicKey, signedData(namespace, sig.hashAlgorithm, message), sig.signature);
  } catch {
    return false;
  }
}
