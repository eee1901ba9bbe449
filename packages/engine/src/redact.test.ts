import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redact } from './redact.js';

describe('redact', () => {
  it('shows a short prefix and suffix of a token', () => {
    expect(redact('ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789')).toBe('ghp_Ab…6789');
    expect(redact('short')).toBe('s…');
  });

  it("shows a PEM key's kind and a glimpse of its body, not its armour, however it is written", () => {
    const pem = (generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).trim();
    const lines = pem.split('\n');
    const body = lines.slice(1, -1).join('');
    const expected = `-----BEGIN PRIVATE KEY----- ${body.slice(0, 6)}…${body.slice(-4)}`;
    const forms = [
      pem,
      // JSON-escaped, as in a service-account key file.
      `${lines.join('\\n')}\\n`,
      // CRLF line ends.
      `${lines.join('\r\n')}\r\n`,
    ];
    for (const form of forms) {
      const shown = redact(form);
      expect(shown, form).toBe(expected);
      expect(shown.length).toBeLessThan(50);
    }
    // A `+` of the body itself stays: only one between two quotes joins literals.
    const plus = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG+qGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\nxs2RAr02ODuTYFZD+Rg07n8tWIChRANCAAR2qf1/kW45Lb9+f\n-----END PRIVATE KEY-----';
    expect(redact(plus)).toBe('-----BEGIN PRIVATE KEY----- MIGHAg…b9+f');
    // pem-private-key-concatenated captures the body alone, string-literal joins and all.
    const joined = lines.slice(1, -1).map((l) => `${l}\\n' +\n  '`).join('').replace(/\\n' \+\n {2}'$/, '');
    expect(redact(joined)).toBe(`${body.slice(0, 6)}…${body.slice(-4)}`);
  });
});
