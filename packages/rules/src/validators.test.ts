import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base62Encode,
  charClasses,
  crc32,
  decodeBase64,
  entropy,
  githubChecksumValid,
  gitlabRoutableChecksumValid,
  grafanaChecksumValid,
  jwtValid,
  parseMacaroonV2,
  pemBody,
  pemBodyValid,
  pypiMacaroonValid,
  vercelChecksumValid,
  zuploChecksumValid,
} from './validators.js';

const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/** A v2 binary macaroon as libmacaroons lays it out: fields of tag, varint length, data. */
function macaroon(location: string, caveats: string[], signatureBytes = 32): Buffer {
  const field = (tag: number, data: string | Buffer): Buffer => {
    const bytes = Buffer.from(data);
    return Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
  };
  const parts = [Buffer.from([2]), field(1, location), field(2, 'a1b2c3d4-0000-4000-8000-1234567890ab'), Buffer.from([0])];
  for (const c of caveats) parts.push(field(2, c), Buffer.from([0]));
  parts.push(Buffer.from([0]), field(6, randomBytes(signatureBytes)));
  return Buffer.concat(parts);
}

describe('crc32', () => {
  it('matches the standard check value of CRC-32/ISO-HDLC', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
  });
  it('treats strings as latin1 bytes', () => {
    expect(crc32('\xff')).toBe(crc32(Uint8Array.of(0xff)));
  });
});

describe('base62Encode', () => {
  it('uses 0-9A-Za-z and pads to 6', () => {
    expect(base62Encode(0)).toBe('000000');
    expect(base62Encode(61, 1)).toBe('z');
    expect(base62Encode(62)).toBe('000010');
    expect(base62Encode(0xffffffff)).toBe('4gfFC3');
  });
  it('refuses negative and fractional numbers', () => {
    expect(() => base62Encode(-1)).toThrow(RangeError);
    expect(() => base62Encode(1.5)).toThrow(RangeError);
  });
});

describe('githubChecksumValid', () => {
  // Published example of the scheme (therootcompany/base62-token.js, "Base62 Token Spec").
  const published = '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';
  it('accepts a published example token', () => {
    expect(githubChecksumValid(published)).toBe(true);
  });
  it('covers every classic prefix and npm_', () => {
    const body = published.slice(4);
    for (const p of ['ghp', 'gho', 'ghu', 'ghs', 'ghr', 'npm']) expect(githubChecksumValid(`${p}_${body}`)).toBe(true);
    expect(githubChecksumValid(`ghx_${body}`)).toBe(false);
  });
  it('rejects a changed character, a wrong length and a placeholder', () => {
    expect(githubChecksumValid(published.replace('zQW', 'zQX'))).toBe(false);
    expect(githubChecksumValid(`${published.slice(0, -1)}8`)).toBe(false);
    expect(githubChecksumValid(published.slice(0, -1))).toBe(false);
    expect(githubChecksumValid(`ghp_${'x'.repeat(36)}`)).toBe(false);
  });
});

describe('entropy and charClasses', () => {
  it('computes Shannon bits per character', () => {
    expect(entropy('')).toBe(0);
    expect(entropy('aaaa')).toBe(0);
    expect(entropy('abab')).toBe(1);
    expect(entropy('abcd')).toBe(2);
    expect(entropy('0123456789abcdef')).toBe(4);
  });
  it('counts lower, upper, digit and other', () => {
    expect(charClasses('abc')).toBe(1);
    expect(charClasses('aB3')).toBe(3);
    expect(charClasses('aB3/')).toBe(4);
    expect(charClasses('da39a3ee5e6b4b0d3255bfef95601890afd80709')).toBe(2);
  });
});

describe('decodeBase64', () => {
  it('decodes both alphabets with or without padding and rejects other text', () => {
    expect(decodeBase64('aGk')?.toString()).toBe('hi');
    expect(decodeBase64('aGk=')?.toString()).toBe('hi');
    expect(decodeBase64('-_8')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeBase64('a')).toBeUndefined();
    expect(decodeBase64('a b')).toBeUndefined();
  });
});

describe('pypiMacaroonValid', () => {
  it('accepts v2 macaroons for pypi.org and test.pypi.org, in both caveat styles', () => {
    const a = `pypi-${b64url(macaroon('pypi.org', ['{"version": 1, "permissions": "user"}']))}`;
    expect(a.startsWith('pypi-AgEIcHlwaS5vcmc')).toBe(true);
    expect(pypiMacaroonValid(a)).toBe(true);
    const b = `pypi-${b64url(macaroon('test.pypi.org', ['[1,["demo"]]', '[0,1767225600,1735689600]']))}`;
    expect(b.startsWith('pypi-AgENdGVzdC5weXBpLm9yZw')).toBe(true);
    expect(pypiMacaroonValid(b)).toBe(true);
    expect(parseMacaroonV2(macaroon('pypi.org', ['[3,"u"]']))?.caveats).toEqual(['[3,"u"]']);
  });
  it('rejects other locations, truncation, bad caveats and short signatures', () => {
    expect(pypiMacaroonValid(`pypi-${b64url(macaroon('example.org', []))}`)).toBe(false);
    const good = `pypi-${b64url(macaroon('pypi.org', ['[1,["demo"]]']))}`;
    expect(pypiMacaroonValid(good.slice(0, -4))).toBe(false);
    expect(pypiMacaroonValid(`${good}AAAA`)).toBe(false);
    expect(pypiMacaroonValid(`pypi-${b64url(macaroon('pypi.org', ['not json']))}`)).toBe(false);
    expect(pypiMacaroonValid(`pypi-${b64url(macaroon('pypi.org', [], 16))}`)).toBe(false);
    expect(pypiMacaroonValid(`pypi-AgEIcHlwaS5vcmc${'x'.repeat(80)}`)).toBe(false);
  });
});

describe('jwtValid', () => {
  const part = (o: unknown): string => b64url(JSON.stringify(o));
  it('accepts a signed token and rejects alg none, two parts and non-JSON', () => {
    const sig = b64url(randomBytes(32));
    expect(jwtValid(`${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: '1' })}.${sig}`)).toBe(true);
    expect(jwtValid(`${part({ alg: 'none' })}.${part({ sub: '1' })}.${sig}`)).toBe(false);
    expect(jwtValid(`${part({ alg: 'HS256' })}.${part({ sub: '1' })}`)).toBe(false);
    expect(jwtValid(`${part({ alg: 'HS256' })}.${part({ sub: '1' })}.`)).toBe(false);
    expect(jwtValid(`${b64url('hello')}.${part({ sub: '1' })}.${sig}`)).toBe(false);
    expect(jwtValid(`${part({ typ: 'JWT' })}.${part({ sub: '1' })}.${sig}`)).toBe(false);
  });
});

describe('pemBody', () => {
  it('gives one text for a key as a PEM file, with \\n or \\r\\n escapes, with CRLF, and as string literals', () => {
    const pem = (generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string).trim();
    const lines = pem.split('\n');
    const base64 = lines.slice(1, -1).join('');
    for (const form of [pem, lines.slice(1, -1).join('\n'), pem.replace(/\n/g, '\\n'), pem.replace(/\n/g, '\\r\\n'), pem.replace(/\n/g, '\r\n'), lines.map((l) => `'${l}\\n'`).join(' +\n  ')]) {
      expect(pemBody(form)).toBe(base64);
    }
  });
});

describe('pemBodyValid', () => {
  it('accepts freshly generated keys in several encodings', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const pkcs8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(pemBodyValid(sec1)).toBe(true);
    expect(pemBodyValid(pkcs8)).toBe(true);
    // As embedded in JSON: literal backslash-n between lines.
    expect(pemBodyValid(pkcs8.replace(/\n/g, '\\n'))).toBe(true);
    const body = pkcs8.split('\n').slice(1, -2).join('\n');
    expect(pemBodyValid(body)).toBe(true);
  });
  it('accepts a key spelt as string literals joined line by line, also inside a source map', () => {
    const lines = (generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).trim().split('\n');
    const js = lines.map((l) => `'${l}\\n'`).join(' +\n  ');
    expect(pemBodyValid(js)).toBe(true);
    expect(pemBodyValid(JSON.stringify(js).slice(1, -1))).toBe(true);
    expect(pemBodyValid(lines.map((l) => `"${l}"`).join(',\n'))).toBe(true);
    // A `+` inside the base64 stays: only the one between two quotes joins literals.
    expect(pemBodyValid(js.replace(/\+/, '-'))).toBe(false);
  });
  it('accepts an openssh-key-v1 body', () => {
    const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), randomBytes(120)]).toString('base64');
    expect(pemBodyValid(body)).toBe(true);
  });
  it('rejects truncated keys, filler and non-DER base64', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = ec.privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(pemBodyValid(der.toString('base64'))).toBe(true);
    expect(pemBodyValid(der.subarray(0, der.length - 6).toString('base64'))).toBe(false);
    expect(pemBodyValid('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7')).toBe(false);
    expect(pemBodyValid('x'.repeat(64))).toBe(false);
    expect(pemBodyValid(randomBytes(90).toString('base64'))).toBe(false);
  });
});

describe('grafanaChecksumValid', () => {
  // The vector from Grafana's own tests (pkg/components/satokengen/tokengen_test.go).
  it('accepts Grafana\'s published test key and rejects a changed one', () => {
    expect(grafanaChecksumValid('glsa_iNValIdinValiDinvalidinvalidinva_5b582697')).toBe(true);
    expect(grafanaChecksumValid('glsa_iNValIdinValiDinvalidinvalidinva_5b582698')).toBe(false);
    expect(grafanaChecksumValid('glsa_iNValIdinValiDinvalidinvalidinvb_5b582697')).toBe(false);
  });
});

describe('gitlabRoutableChecksumValid', () => {
  // Built the way GitLab's RoutableToken generator builds one: base64url(random 16 bytes +
  // routing payload + its length byte), ".01.", the base64 length in 2 base36 chars, then the
  // CRC-32 of all that in 7 base36 chars.
  function routable(prefix: string, routing: string): string {
    const payload = Buffer.concat([randomBytes(16), Buffer.from(routing), Buffer.from([routing.length])]).toString('base64url');
    const head = `${prefix}${payload}.01.${payload.length.toString(36).padStart(2, '0')}`;
    return `${head}${crc32(head).toString(36).padStart(7, '0')}`;
  }
  it('accepts tokens with any prefix and rejects a changed character or length', () => {
    const t = routable('glpat-', 'o:1\nu:2');
    expect(gitlabRoutableChecksumValid(t)).toBe(true);
    expect(gitlabRoutableChecksumValid(routable('glrt-t1_', 'c:1\no:2g\nu:3'))).toBe(true);
    const i = t.indexOf('.01.') - 3;
    const changed = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
    expect(gitlabRoutableChecksumValid(changed)).toBe(false);
    expect(gitlabRoutableChecksumValid(t.replace('.01.', '.02.'))).toBe(false);
    expect(gitlabRoutableChecksumValid('glpat-abcdefghijklmnopqrst')).toBe(false);
  });
});

describe('vercelChecksumValid and zuploChecksumValid', () => {
  // Neither provider publishes its algorithm; these check the documented shape and the
  // CRC-32 layout other scanners describe, so rules do not rely on them (see the README).
  it('verify a CRC-32 trailer over the body', () => {
    const body = 'A'.repeat(24) + 'b_c-'.repeat(6) + '1z';
    const vercel = `vcp_${body}${base62Encode(crc32(body))}`;
    expect(vercelChecksumValid(vercel)).toBe(true);
    expect(vercelChecksumValid(vercel.replace('vcp_A', 'vcp_B'))).toBe(false);
    // The five published prefixes, and no other.
    for (const p of ['vci', 'vca', 'vcr', 'vck']) expect(vercelChecksumValid(vercel.replace('vcp_', `${p}_`))).toBe(true);
    expect(vercelChecksumValid(vercel.replace('vcp_', 'vcc_'))).toBe(false);
    const zbody = 'k'.repeat(16) + 'Q7'.repeat(8);
    const zuplo = `zpka_${zbody}_${crc32(zbody).toString(16).padStart(8, '0')}`;
    expect(zuploChecksumValid(zuplo)).toBe(true);
    expect(zuploChecksumValid(zuplo.replace('zpka_k', 'zpka_j'))).toBe(false);
  });
});
