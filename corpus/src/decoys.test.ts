import { githubChecksumValid } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { base62Crc32, wrongChecksumToken } from './decoys.js';
import { Prng } from './prng.js';

describe('base62Crc32 (the corpus side of the checksum, written independently of the rules)', () => {
  it('reproduces the checksum of a published example token', () => {
    // Published example of the scheme (therootcompany/base62-token.js, "Base62 Token Spec").
    const published = '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';
    expect(base62Crc32(published.slice(4, 34))).toBe(published.slice(34));
  });

  it('agrees with the rules package validator on generated tokens, both ways', () => {
    const rng = new Prng(99);
    for (let i = 0; i < 50; i++) {
      const body = rng.string('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 30);
      expect(githubChecksumValid(`ghp_${body}${base62Crc32(body)}`), body).toBe(true);
      const wrong = wrongChecksumToken(rng, 'npm_');
      expect(wrong).toMatch(/^npm_[A-Za-z0-9]{36}$/);
      expect(githubChecksumValid(wrong), wrong).toBe(false);
    }
  });
});
