import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyError, PolicyError, SignatureFormatError } from './errors.js';
import { loadPrivateKey, parsePublicKeyBlob, parsePublicKeyLine } from './keys.js';
import { validatePolicy } from './policy.js';
import { SshReader, SshWriter } from './sshbuf.js';
import { parseSshsig, sshsigSign } from './sshsig.js';
import { sshKey } from './testing/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-keys-'));
const rsa = sshKey(dir, 'id_rsa', 'rsa');

/** Re-encodes an ssh-rsa blob with `e` and `n` as given (raw mpint bytes, no normalising). */
function rsaBlob(blob: Buffer, edit: (e: Buffer, n: Buffer) => [Buffer, Buffer]): Buffer {
  const r = new SshReader(blob);
  const type = r.string();
  const [e, n] = edit(r.string(), r.string());
  return new SshWriter().string(type).string(e).string(n).toBuffer();
}

const zero = (k: number): Buffer => Buffer.alloc(k);
const canonical = (line: string): Buffer => Buffer.from(line.split(' ')[1]!, 'base64');

describe('parsePublicKeyBlob', () => {
  it('refuses an ssh-rsa key whose e or n is not in the minimal encoding, so one key has one fingerprint', () => {
    const blob = canonical(rsa.pub);
    expect(parsePublicKeyBlob(blob).fingerprint).toBe(parsePublicKeyLine(rsa.pub).fingerprint);
    const padded: [string, Buffer][] = [
      ['e', rsaBlob(blob, (e, n) => [Buffer.concat([zero(3), e]), n])],
      ['e', rsaBlob(blob, (e, n) => [Buffer.concat([zero(1), e]), n])],
      // n already carries the one zero byte its top bit needs: a second one is padding.
      ['n', rsaBlob(blob, (e, n) => [e, Buffer.concat([zero(1), n])])],
    ];
    for (const [name, b] of padded) {
      expect(() => parsePublicKeyBlob(b)).toThrow(KeyError);
      expect(() => parsePublicKeyBlob(b)).toThrow(`ssh-rsa public key has ${name} padded with leading zero bytes`);
    }
    expect(() => parsePublicKeyBlob(rsaBlob(blob, (e, n) => [e, n.subarray(1)]))).toThrow('ssh-rsa public key has a negative n');
    expect(() => parsePublicKeyBlob(rsaBlob(blob, (_e, n) => [Buffer.alloc(0), n]))).toThrow('ssh-rsa public key has an empty e');
  });

  it('makes validatePolicy name the approver whose key line is padded', () => {
    const padded = `ssh-rsa ${rsaBlob(canonical(rsa.pub), (e, n) => [Buffer.concat([zero(3), e]), n]).toString('base64')} same-key`;
    const policy = (keys: Record<string, string>) => ({
      version: 1,
      approvers: Object.fromEntries(Object.entries(keys).map(([person, line]) => [person, { keys: [line] }])),
      rule: { minApprovers: 1 },
    });
    expect(() => validatePolicy(policy({ mallory: rsa.pub, 'release-bot': padded }), 'policy.json')).toThrow(PolicyError);
    expect(() => validatePolicy(policy({ mallory: rsa.pub, 'release-bot': padded }), 'policy.json')).toThrow(
      /"approvers\.release-bot\.keys\[0\]": ssh-rsa public key has e padded with leading zero bytes/,
    );
  });

  it('refuses a signature whose embedded key is a padded encoding of a real key', async () => {
    const key = await loadPrivateKey(rsa.path);
    const armored = sshsigSign(key, Buffer.from('statement\n'));
    expect(parseSshsig(armored).publicKey.fingerprint).toBe(key.publicKey.fingerprint);
    // The key field of SSHSIG is not covered by the signature: anyone can re-encode it.
    const raw = Buffer.from(armored.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const r = new SshReader(raw);
    const head = r.bytes(10);
    const padded = rsaBlob(r.string(), (e, n) => [Buffer.concat([zero(3), e]), n]);
    const rest = r.bytes(r.remaining);
    const body = Buffer.concat([head, new SshWriter().string(padded).toBuffer(), rest]).toString('base64');
    const forged = `-----BEGIN SSH SIGNATURE-----\n${body.match(/.{1,70}/g)!.join('\n')}\n-----END SSH SIGNATURE-----\n`;
    expect(() => parseSshsig(forged)).toThrow(SignatureFormatError);
    expect(() => parseSshsig(forged)).toThrow('SSH signature carries an unusable key: ssh-rsa public key has e padded with leading zero bytes');
  });
});
