import { describe, expect, it } from 'vitest';
import { checkName, decodeLatin1Name, decodeName } from './checks.js';

describe('entry names', () => {
  it('decodes ASCII, UTF-8 and other bytes the way the name was written', () => {
    expect(decodeName(Buffer.from('package/lib/index.js'))).toBe('package/lib/index.js');
    expect(decodeName(Buffer.from('package/café/日本.txt', 'utf8'))).toBe('package/café/日本.txt');
    // Not UTF-8 (a latin1 é): each byte is shown as latin1.
    expect(decodeName(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe('café');
    // A view into a larger buffer decodes only its own bytes.
    const big = Buffer.from('xxcafé.txtyy', 'utf8');
    expect(decodeName(big.subarray(2, big.length - 2))).toBe('café.txt');
  });

  it('decodes a name a reader has already read byte for byte as latin1', () => {
    const utf8AsLatin1 = Buffer.from('package/café.txt', 'utf8').toString('latin1');
    expect(utf8AsLatin1).not.toBe('package/café.txt');
    expect(decodeLatin1Name(utf8AsLatin1)).toBe('package/café.txt');
    expect(decodeLatin1Name('package/a.js')).toBe('package/a.js');
    expect(decodeLatin1Name(Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString('latin1'))).toBe('café');
  });

  it('reports only names that leave the directory, whatever the separator', () => {
    const escapes = ['../evil.sh', 'package/../../x', 'a\\..\\b', '..', 'a/..', '/etc/passwd', '\\server\\share', 'C:evil'];
    const stays = ['package/a..b/c.js', 'package/..rc', 'package/x..', 'package/.../y', 'package/lib/index.js'];
    for (const name of escapes) expect(checkName(['a.tgz', name], name), name).toBeDefined();
    for (const name of stays) expect(checkName(['a.tgz', name], name), name).toBeUndefined();
  });
});
