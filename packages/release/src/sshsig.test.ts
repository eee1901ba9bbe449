import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignatureFormatError } from './errors.js';
import { loadPrivateKey, loadPublicKey, parsePublicKeyLine } from './keys.js';
import { APPROVAL_NAMESPACE, parseSshsig, sshsigSign, sshsigVerify } from './sshsig.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-sshsig-'));

function keygen(name: string, type: string, extra: string[] = []): string {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...extra, '-N', '', '-C', `${name}@test`, '-f', path]);
  return path;
}

const message = Buffer.from('{"type":"pubguard-release-approval/v1"}\n');

describe.each([
  ['ed25519', []],
  ['rsa', ['-b', '2048']],
  ['ecdsa', ['-b', '256']],
])('SSHSIG with %s keys', (type, extra) => {
  const keyPath = keygen(`id_${type}`, type, extra);
  const pubLine = readFileSync(`${keyPath}.pub`, 'utf8');

  it('verifies a signature made by ssh-keygen -Y sign', () => {
    const file = join(dir, `msg-${type}`);
    writeFileSync(file, message);
    execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', APPROVAL_NAMESPACE, '-f', keyPath, file]);
    const sig = parseSshsig(readFileSync(`${file}.sig`, 'utf8'));
    expect(sig.publicKey.fingerprint).toBe(parsePublicKeyLine(pubLine).fingerprint);
    expect(sshsigVerify(sig, message)).toBe(true);
    expect(sshsigVerify(sig, Buffer.concat([message, Buffer.from(' ')]))).toBe(false);
    expect(sshsigVerify(sig, message, 'other-namespace')).toBe(false);
  });

  it('makes signatures that ssh-keygen -Y verify accepts', async () => {
    const key = await loadPrivateKey(keyPath);
    expect(key.publicKey.fingerprint).toBe(parsePublicKeyLine(pubLine).fingerprint);
    const sigFile = join(dir, `ours-${type}.sig`);
    writeFileSync(sigFile, sshsigSign(key, message));
    const signers = join(dir, `allowed-${type}`);
    writeFileSync(signers, `alice ${pubLine}`);
    const out = execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', signers, '-I', 'alice', '-n', APPROVAL_NAMESPACE, '-s', sigFile],
      { input: message, encoding: 'utf8' },
    );
    expect(out).toContain('Good "pubguard-approval" signature for alice');
    expect(() =>
      execFileSync('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', 'alice', '-n', APPROVAL_NAMESPACE, '-s', sigFile], {
        input: Buffer.from('other bytes'),
        stdio: 'pipe',
      }),
    ).toThrow();
  });
});

describe('parseSshsig', () => {
  it('refuses truncated and malformed signatures with a format error', async () => {
    const key = await loadPrivateKey(keygen('id_trunc', 'ed25519'));
    const armored = sshsigSign(key, message);
    const lines = armored.trimEnd().split('\n');
    const cut = [...lines.slice(0, 2), lines.at(-1)].join('\n');
    expect(() => parseSshsig(cut)).toThrow(SignatureFormatError);
    expect(() => parseSshsig(lines.slice(0, -1).join('\n'))).toThrow(/truncated/);
    expect(() => parseSshsig('hello')).toThrow(SignatureFormatError);
    expect(() => parseSshsig(armored.replace('U1NIU0lH', 'U1NIU0lI'))).toThrow(/magic/);
  });

  it('explains how to sign with an encrypted key', () => {
    const path = join(dir, 'id_locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', path]);
    return expect(loadPrivateKey(path)).rejects.toThrow(/ssh-keygen -Y sign -n pubguard-approval -f KEY/);
  });

  it.each([
    ['ed25519', []],
    ['rsa', ['-b', '2048']],
    ['ecdsa', ['-b', '256']],
  ])('reads the public part of a passphrase-protected %s key, and of its .pub file', async (type, extra) => {
    const path = join(dir, `id_locked_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...extra, '-N', 'pw', '-f', path]);
    const want = parsePublicKeyLine(readFileSync(`${path}.pub`, 'utf8')).fingerprint;
    expect((await loadPublicKey(path)).fingerprint).toBe(want);
    expect((await loadPublicKey(`${path}.pub`)).fingerprint).toBe(want);
    writeFileSync(join(dir, 'not-a-key'), 'hello\n');
    await expect(loadPublicKey(join(dir, 'not-a-key'))).rejects.toThrow(/neither an OpenSSH private key .* nor a public key line/);
  });

  it('says how to go on with a PEM private key: its .pub under --statement-only, or the key rewritten as ssh-keygen -p does', async () => {
    const plain = join(dir, 'id_pem');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', plain]);
    const locked = join(dir, 'id_pem_locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', 'correct horse', '-f', locked]);
    const pkcs8 = join(dir, 'id_pkcs8');
    copyFileSync(plain, pkcs8);
    execFileSync('ssh-keygen', ['-q', '-p', '-m', 'PKCS8', '-N', '', '-f', pkcs8]);
    expect(readFileSync(pkcs8, 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    for (const path of [plain, locked, pkcs8]) {
      await expect(loadPublicKey(path)).rejects.toThrow(`whose public part pubguard does not read. Pass its public key instead, \`--key ${path}.pub\``);
      await expect(loadPublicKey(path)).rejects.toThrow(`rewrite the key in OpenSSH format ('-----BEGIN OPENSSH PRIVATE KEY-----'), in place, with \`ssh-keygen -p -f ${path}\``);
      await expect(loadPrivateKey(path)).rejects.toThrow(`rite the statement with its public key, \`pubguard approve ARTIFACTS --key ${path}.pub --statement-only\``);
    }
    await expect(loadPrivateKey(plain)).rejects.toThrow(`${plain} is a private key in PEM format ('-----BEGIN RSA PRIVATE KEY-----'); pubguard signs only with a key in OpenSSH format`);
    await expect(loadPrivateKey(locked)).rejects.toThrow(`${locked} is a private key in PEM format ('-----BEGIN RSA PRIVATE KEY-----'), encrypted with a passphrase, which pubguard does not read.`);
    await expect(loadPrivateKey(pkcs8)).rejects.toThrow(`${pkcs8} is a private key in PEM format ('-----BEGIN PRIVATE KEY-----');`);
    // The advice holds: the .pub names the key, and the suggested command makes one pubguard signs with.
    const want = parsePublicKeyLine(readFileSync(`${plain}.pub`, 'utf8')).fingerprint;
    expect((await loadPublicKey(`${plain}.pub`)).fingerprint).toBe(want);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', '', '-f', plain]);
    expect((await loadPrivateKey(plain)).publicKey.fingerprint).toBe(want);
  });
});
