import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { acceptCandidate, basicAuthReason, digestReason, textPrefixLength, looksLikePlaceholderWord, namesItself, placeholderReason, sasExpiredReason } from './accept.js';
import { builtinRuleset } from './builtin.js';
import { matchRule } from './check.js';
import type { CompiledRule } from './types.js';

function rule(overrides: Partial<CompiledRule> = {}): CompiledRule {
  return {
    id: 'test-rule',
    title: 'Test',
    severity: 'high',
    confidence: 'high',
    source: '(tok_[A-Za-z0-9]{20})',
    flags: '',
    secretGroup: 1,
    maxLength: 64,
    validators: [],
    allowlist: [],
    references: [],
    description: '',
    ...overrides,
  };
}

describe('placeholderReason', () => {
  it('rejects AWS documented examples', () => {
    expect(placeholderReason('AKIAIOSFODNN7EXAMPLE')).toBe('documented example credential');
    expect(placeholderReason('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe('documented example credential');
  });
  it('rejects the public emulator and playground credentials that SDKs print', () => {
    for (const s of ['Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==', 'zuf+tfteSlswRu7BJ86wekitnifILbZam1KYY3TG', '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb']) {
      expect(placeholderReason(s), s).toBe('documented example credential');
    }
  });
  it.each([
    ['ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['${NPM_TOKEN}'],
    ['${{ secrets.NPM_TOKEN }}'],
    ['{{ api_key }}'],
    ['your-api-key-here'],
    ['YOUR_TOKEN_HERE'],
    ['<token>'],
    ['<your'],
    ['changeme'],
    ['process.env.NPM_TOKEN'],
    ["os.environ['PYPI_TOKEN']"],
    ['sk_live_aaaaaaaaaaaaaaaaaaaaaaaa'],
    ['tok_abcdefghijklmnopqrst'],
    ['key-1234567890'],
    ['sk_live_...'],
    ['$NPM_TOKEN'],
    ['********'],
  ])('rejects %s', (secret) => {
    expect(placeholderReason(secret)).toBeDefined();
  });
  it('rejects a secret the match wraps in a template', () => {
    expect(placeholderReason('NPM_TOKEN}', '_authToken=${NPM_TOKEN}')).toBeDefined();
  });
  it.each([
    ['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'],
    ['z6qx8Vuw5NXtFcPekMNowIcz2u6HFVcutVoxHhSw'],
    ['Tr0ub4dor&3-horse'],
  ])('keeps %s', (secret) => {
    expect(placeholderReason(secret)).toBeUndefined();
  });
});

describe('looksLikePlaceholderWord', () => {
  it('flags stand-in words and code references, not random values', () => {
    for (const s of ['password', 'postgres', 'x-oauth-basic', 'config.password', 'getSecret()', 'API_TOKEN', 'test_secret']) {
      expect(looksLikePlaceholderWord(s), s).toBe(true);
    }
    for (const s of ['Wq9vB2rLx7Ta', 'Tr0ub4dor&3-horse', 'CG%dYVth3ji9MH']) expect(looksLikePlaceholderWord(s), s).toBe(false);
  });
  it('flags identifiers and regular expressions', () => {
    for (const s of ['accessTokenFromServer', 'db_password_value', '^(?=.*[A-Z]).{8,}$', '[a-z]{8,}', 'crypto_box_SECRETKEYBYTES', 'RootManageSharedAccessKey', 'sk_test_4pq0Lyo2hbcNBZRnB0PGVHno', 'real-secret-6-levels', '/Users/someone', 'Contrase\xc3\xb1a']) {
      expect(looksLikePlaceholderWord(s), s).toBe(true);
    }
  });
});

describe('digestReason', () => {
  it.each([
    ['sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==', 'integrity hash'],
    ['3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'UUID'],
    ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'hex digest'],
    ['iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk', 'base64 PNG image'],
    ['AAAAC3NzaC1lZDI1NTE5AAAAIGIwIUzoLEu4lcCtta', 'SSH public key'],
    ['MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwtdNxafc', 'public key (SPKI)'],
    ['$2b$12$IDS4v4Woe47s4HBS74df3.zjgMjlpS4EwICOznbYil/nVlorNOxOy', 'bcrypt hash'],
    ['$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', 'bcrypt hash'],
    ['$argon2id$v=19$m=65536,t=3,p=4$QR8eV+aUPac0c2FsdA$Jn1HTb7rBAmqx6z2yPmuv0eWm+7gYFP8Q1Tc4yEDFEo', 'Argon2 hash'],
    ['$6$XBO.EBWSDJQx0L7y$.Sb3iJG0ZaX3V6Kmt3wL9HRacgQ/2TAbBrXMYhNxqyoWxsjG66MkMUZBDRKbqw8oZhCslS1TIVbyuAORfjko20', 'crypt(3) hash'],
    ['$5$rounds=5000$DaThzmmOAj9GAaZS$cqqcEnExAg7EBcHr/71EzRzL5D9kDYde.kN4Xrd2251', 'crypt(3) hash'],
    ['pbkdf2_sha256$600000$QR8eV+aUPac0$JJxzqXZZjVcKul9R8D5h8N5McBj00fd52tV5l+VEBtU=', 'Django password hash'],
  ])('recognises %s', (value, reason) => {
    expect(digestReason(value)).toBe(reason);
  });
  it('reads a password that only starts like a hash as a password', () => {
    expect(digestReason('$2b$Wq9vB2rLx7Ta!')).toBeUndefined();
    expect(digestReason('$6$Wq9vB2rLx7Ta')).toBeUndefined();
  });
  it('rejects other hex lengths only when the name says hash', () => {
    const hex64 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(digestReason(hex64, `checksum = "${hex64}"`)).toBe('hex digest');
    const key64 = randomBytes(32).toString('hex');
    expect(digestReason(key64, `checksum = "${key64}"`)).toBe('hex digest');
    expect(digestReason(key64, `api_key = "${key64}"`)).toBeUndefined();
    expect(digestReason('Zk8qW3rT9vB2nL5xC7mP1sD4')).toBeUndefined();
  });
  it('takes an Ethereum address for public data, not a private key of the same alphabet', () => {
    const address = `0x${randomBytes(20).toString('hex')}`;
    expect(digestReason(address)).toBe('Ethereum address');
    expect(digestReason(address.toUpperCase().replace('0X', '0x'))).toBe('Ethereum address');
    expect(digestReason(`0x${randomBytes(32).toString('hex')}`, 'privateKey: "0x…"')).toBeUndefined();
  });
});

describe('acceptCandidate', () => {
  it('accepts a plausible secret with no validators', () => {
    expect(acceptCandidate(rule(), 'tok_Q2w9Zr7LmX4pK8vB1nT6', 'tok_Q2w9Zr7LmX4pK8vB1nT6')).toEqual({ ok: true, secret: 'tok_Q2w9Zr7LmX4pK8vB1nT6' });
  });
  it('applies the rule allowlist first', () => {
    const r = rule({ allowlist: ['tok_Q2w9Zr7LmX4pK8vB1nT6'] });
    expect(acceptCandidate(r, 'tok_Q2w9Zr7LmX4pK8vB1nT6', '')).toEqual({ ok: false, reason: 'allowlisted by the rule' });
  });
  it('runs validators in order and reports the first failure', () => {
    const r = rule({ validators: [{ type: 'entropy', min: 3 }, { type: 'checksum', scheme: 'github-crc32' }] });
    const low = acceptCandidate(r, 'tok_aabbaabbaabbaabbaabb', '');
    expect(low.ok).toBe(false);
    expect(!low.ok && low.reason).toMatch(/^entropy/);
    const sum = acceptCandidate(r, 'tok_Q2w9Zr7LmX4pK8vB1nT6', '');
    expect(!sum.ok && sum.reason).toMatch(/^checksum \(github-crc32\)/);
  });
  it('checks GitHub checksums through the rule', () => {
    const r = rule({ validators: [{ type: 'checksum', scheme: 'github-crc32' }] });
    expect(acceptCandidate(r, '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', '').ok).toBe(true);
    expect(acceptCandidate(r, 'ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18', '').ok).toBe(false);
  });
  it('refuses a GitHub or npm token shape whose checksum does not match, under any rule', () => {
    const bearer = builtinRuleset().rules.find((r) => r.id === 'generic-bearer-token') as CompiledRule;
    const header = (token: string) => `headers: { Authorization: 'Bearer ${token}' }`;
    for (const bad of ['ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18', 'npm_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18']) {
      expect(matchRule(bearer, header(bad)).map((m) => m.acceptance.ok)).toEqual([false]);
      expect(acceptCandidate(rule(), bad, bad)).toEqual({ ok: false, reason: 'checksum (github-crc32) does not match: a GitHub or npm token shape, never issued' });
    }
    // One with a valid checksum, and a value of another shape, are still the generic rule's.
    expect(matchRule(bearer, header('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')).map((m) => m.acceptance.ok)).toEqual([true]);
    expect(matchRule(bearer, header('ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18x')).map((m) => m.acceptance.ok)).toEqual([true]);
  });
  it('rejects placeholders before validators run', () => {
    const r = rule({ validators: [{ type: 'entropy', min: 0 }] });
    const res = acceptCandidate(r, 'AKIAIOSFODNN7EXAMPLE', 'id=AKIAIOSFODNN7EXAMPLE');
    expect(res).toEqual({ ok: false, reason: 'placeholder: documented example credential' });
  });
});

describe('textPrefixLength', () => {
  it('cuts a capture where binary data begins', () => {
    expect(textPrefixLength('Wq9vB2xR\u00f4\u00df\u00f0\u00ef')).toBe(8);
    expect(textPrefixLength('hunter2-Zq\u0000\u0001')).toBe(10);
    expect(textPrefixLength('abc\u00e9')).toBe(3); // a lone lead byte at the end
    const utf8 = Buffer.from('pässwort-9Kx', 'utf8').toString('latin1');
    expect(textPrefixLength(utf8)).toBe(utf8.length);
    expect(textPrefixLength('a\tb\nc\r\n')).toBe(7);
  });
});

describe('acceptCandidate on binary data', () => {
  it('reports the text part of a capture that runs into binary bytes', () => {
    const verdict = acceptCandidate(rule(), 'Qm7vT2kLp9Xw\u00f4\u00df\u00f0\u00ef', 'x');
    expect(verdict).toEqual({ ok: true, secret: 'Qm7vT2kLp9Xw' });
    expect(acceptCandidate(rule(), '\u0000\u0001\u00ff', 'x')).toMatchObject({ ok: false, reason: 'binary data, not text' });
  });
});

describe('looksLikePlaceholderWord on shapes seen in published packages', () => {
  it.each([
    ['SensitiveString2048', 'a type name with a number'],
    ['X-Goog-Firebase-Installations-Auth', 'an HTTP header name'],
    ['2024-03-01T12:30:00Z', 'a timestamp'],
    ['auth/invalid-api-key', 'an error code'],
    ['crypto_box_SECRETKEYBYTES', 'a constant with underscores'],
    ['aws-cdk-lib/aws-route53resolver.CfnAccessToken', 'a module and type path'],
    ['widget-kit/widget-api.WidgetAPIKey', 'a module and type path'],
    ['_EllipticCurvePrivateKey', "a private class's name, as a quoted type annotation gives it"],
    ['__RSAPrivateKeyWithSerialization', "a private class's name starting with an acronym"],
    ['golang.org/x/oauth2', 'a Go module path'],
    ['google/appengine/api/app_identity/app_identity_service_pb.php', 'a relative file path'],
    ['--docker-credential-file', "a command-line option's name"],
    ['--impersonate-service-account=', "a command-line option's name before its value"],
    ['_messages.StringField(1)', 'a call with an argument'],
    ['varint,1,opt,name=expired_pwd,json=expiredPwd', "a protobuf field's struct tag"],
    ['oauth2client.client.OAuth2Credentials.', 'a type path ending a sentence'],
    ['Oauth2ClientCredentials.', 'a type name ending a sentence'],
  ])('%s is %s, not a secret', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(true);
  });

  it.each([
    ['UltraSecretPassw0rd', 'a password that says so'],
    ['Anoth3rPassword', 'a password that says so'],
    ['This-is-a-test-42!', 'a test value'],
    ['stored_token_456', 'a token that says so'],
    ['bm90IGEgcmVhbCBwYXNzd29yZA==', 'base64 of "not a real password"'],
    ['Admin98765', 'a stand-in word and digits'],
  ])('%s is %s, not a secret', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(true);
  });

  it.each(['hZ8v2Qk9LmX4pW7t', 'Tr0ub4dor&3x!9q', 'pX7#mK2$vL9q', 's3cr3T-Pa55-2025', 'ZGVwbG95OmhaOHYyUWs5TG0=', '_hZ8v2Qk9LmX4pW7t', 'hZ8v2Qk9LmX4pW7t.', 'q8x2k7z4m1w9/p3r6t5y0v8n', 'hunter2/dragon7', 'ilove/cats99', 'admin/admin123', 'summer24/winter23/autumn', '--xk92mf83jd92kd83-kd93', 'hunter2/dragon.fly', 'my.dog/rex2', 'summer.time/beach99', 'web.de/hunter2', '--hunter-dragon', 'Mr.Bean(1990)', 'Kq.Zx(7#mQ2$vL9!pR4w)'])('%s still counts as a value', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(false);
  });
});

describe('looksLikePlaceholderWord on names and labels that generated code assigns to token fields', () => {
  it.each([
    ['constant.begin..filter.slim', 'a syntax scope with an empty word'],
    ['meta.tag.punctuation.tag-close.', 'a syntax scope that code completes'],
    ['comment.line.backslash-g.forth', 'a syntax scope with a one-letter word'],
    ['x-ms-documentdb-expiry-seconds', 'a header name in lower case'],
    ['credentials-exchange', 'a two-word label'],
    ['CSSSyntaxVisitorReturn', 'a type name starting with an acronym'],
    ['InlineHookOAuthPrivateKeyJwtConfig', 'a type name with an acronym inside'],
    ['CustomAuthResultV2', 'a versioned type name'],
    ['aws-cdk-lib/aws-bedrockagentcore.CfnOAuth2CredentialProvider', 'a module and type path with digits'],
    ['outputs.glue.GetConnectionAuthenticationConfigurationOauth2PropertyOauth2Credential', 'a long module path and type'],
    ['credentials.accessKeyId+', 'a property access a concatenation continues'],
    ['ZW5jcnlwdGVkLXBhc3N3b3JkCg==', 'base64 of "encrypted-password" and a line break'],
  ])('%s is %s, not a secret', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(true);
  });
  // Random values of the alphabets these shapes use, generated here so that no fixed value is
  // tuned for: about 1 in 1 000 of them takes such a shape by chance.
  it('keeps random mixed-case values and lower-case values joined by a hyphen', () => {
    const pick = (alphabet: string, n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
    const lower = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let flagged = 0;
    for (let i = 0; i < 2000; i++) {
      for (const value of [pick(`ABCDEFGHIJKLMNOPQRSTUVWXYZ${lower}`, 24), `${pick(lower, 12)}-${pick(lower, 12)}`, `${pick(lower, 12)}/${pick(lower, 12)}`]) {
        if (looksLikePlaceholderWord(value)) flagged++;
      }
    }
    expect(flagged).toBeLessThanOrEqual(24);
  });
  it.each(['Wq9vB2rLx7TaRs4n+/', 'Zk8qW3rT-9vB2nL5xC7m', 'ZGVwbG95OmhaOHYyUWs5TG0='])('%s still counts as a value', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(false);
  });
});

describe('looksLikePlaceholderWord on code around a value', () => {
  it.each([
    ['+credentials.accessKeyId+', 'the middle of a string concatenation'],
    ['+secretKey', 'a concatenated variable'],
    ['base64EncodedKey', 'an identifier with digits inside a word'],
    ['sha256DigestValue', 'an identifier with digits inside a word'],
  ])('%s is %s, not a secret', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(true);
  });
  it.each(['Zk8qW3rT9vB2nL5xC7mP1sD4', 'ab12cdEfGh34IjKl', '+Zk8qW3rT9vB2nL5xC7mP1sD4=', '+Zk8qW3rT9vB2nL5xC7mP1sD4'])('%s still counts as a value', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(false);
  });
});

describe('placeholderReason for URLs on reserved example domains', () => {
  it.each(['https://app:Vq8Lr2xTz9Wm@example.com', 'http://123abc:def456@example.org', 'smtp://m:Vq8Lr2xTz9Wm@mail.corp.example', 'https://u:Vq8Lr2xTz9Wm@api.example.net:8443', 'https://deploy:pMWo29zu3URfe2@db.example.com/x', 'https://u:Vq8Lr2xTz9Wm@host.invalid/'])('%s', (match) => {
    const secret = /:([^:@/]+)@/.exec(match.slice(8))?.[1] ?? '';
    expect(placeholderReason(secret, match)).toBe('URL on a reserved example domain');
  });
  it.each(['https://app:Vq8Lr2xTz9Wm@example.com.evil.test', 'https://app:Vq8Lr2xTz9Wm@myexample.com', 'https://app:Vq8Lr2xTz9Wm@examples.org', 'https://app:Vq8Lr2xTz9Wm@db.acme-corp.io/x', 'https://app:Vq8Lr2xTz9Wm@git.internal.test', 'https://app:Vq8Lr2xTz9Wm@localhost:8080', 'https://app:Vq8Lr2xTz9Wm@invalid.acme-corp.io'])('still reports %s', (match) => {
    expect(placeholderReason('Vq8Lr2xTz9Wm', match)).toBeUndefined();
  });
});

describe('the jwt validator on tokens that cannot be used', () => {
  const jwtRule = builtinRuleset().rules.find((r) => r.id === 'jwt-token') as CompiledRule;
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = (claims: object): string => `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
  const now = Math.floor(Date.now() / 1000);
  it('rejects a token whose exp has passed', () => {
    const verdict = acceptCandidate(jwtRule, token({ sub: 'deploy', exp: now - 60 }), '');
    expect(verdict).toEqual({ ok: false, reason: 'expired JWT' });
  });
  it('reports a token that is still valid, has no exp, or gives exp as a string', () => {
    for (const claims of [{ sub: 'deploy', exp: now + 3600 }, { sub: 'deploy', iat: now - 86400 * 900 }, { sub: 'deploy', exp: String(now - 60) }]) {
      const t = token(claims);
      expect(acceptCandidate(jwtRule, t, t), JSON.stringify(claims)).toEqual({ ok: true, secret: t });
    }
  });
  it('rejects a token whose claims say it stands in for a real one', () => {
    for (const claims of [{ source: 'netlify dev', testData: 'NETLIFY_DEV_LOCALLY_EMULATED_IDENTITY' }, { sts: 'EXAMPLEIDENTITYCONTEXT' }, { sub: 'mock-user' }]) {
      expect(acceptCandidate(jwtRule, token(claims), '').ok, JSON.stringify(claims)).toBe(false);
    }
  });
});

describe('sasExpiredReason', () => {
  const day = (offset: number): string => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 19);
  it('rejects a SAS whose se= has passed, however it is written', () => {
    expect(sasExpiredReason(`?sv=2022-11-02&se=${day(-1)}Z&sig=abc`)).toMatch(/^expired SAS/);
    expect(sasExpiredReason(`&se=${day(-1).replace(/:/g, '%3A')}Z&sv=2022-11-02&sig=abc`)).toMatch(/^expired SAS/);
    expect(sasExpiredReason(`?sv=2022-11-02&se=${day(-2).slice(0, 10)}&sig=abc`)).toMatch(/^expired SAS/);
    expect(sasExpiredReason(`se=${day(-2).slice(0, 10)}&sv=2022-11-02&sig=abc`)).toMatch(/^expired SAS/);
  });
  it('keeps a SAS that is still valid or has no readable expiry', () => {
    expect(sasExpiredReason(`?sv=2022-11-02&se=${day(30)}Z&sig=abc`)).toBeUndefined();
    expect(sasExpiredReason(`?sv=2022-11-02&se=${day(30).slice(0, 10)}&sig=abc`)).toBeUndefined();
    expect(sasExpiredReason('?sv=2022-11-02&sp=r&sig=abc')).toBeUndefined();
  });
  it('sees se= written before sv= through the azure-sas-token rule', () => {
    const sas = builtinRuleset().rules.find((r) => r.id === 'azure-sas-token') as CompiledRule;
    const sig = `${randomBytes(32).toString('base64').replace(/=+$/, '')}%3D`;
    const url = (se: string) => `https://acct.blob.core.windows.net/c/f?sp=r&st=2024-01-01T00:00:00Z&se=${se}Z&spr=https&sv=2022-11-02&sr=b&sig=${sig}`;
    expect(matchRule(sas, url(day(-1))).map((m) => m.acceptance.ok)).toEqual([false]);
    expect(matchRule(sas, url(day(30))).map((m) => m.acceptance.ok)).toEqual([true]);
  });
});

describe('generic-password-assignment in doc comments', () => {
  const rule = builtinRuleset().rules.find((r) => r.id === 'generic-password-assignment') as CompiledRule;
  const value = randomBytes(9).toString('base64').replace(/[+/=]/g, 'x') + '!7aZ';
  const found = (text: string): boolean => matchRule(rule, text).some((m) => m.acceptance.ok);
  it('skips property lines of a code example in a doc comment', () => {
    expect(found(`/**\n * ## Example Usage\n * const db = new Server("db", {\n *     administratorLoginPassword: "${value}",\n * });\n */`)).toBe(false);
    expect(found(`/**\n *   "db_password": "${value}",\n */`)).toBe(false);
  });
  it('reports the same value in code, in a line comment, in other code in a doc comment and in a Markdown list', () => {
    expect(found(`const cfg = {\n    administratorLoginPassword: "${value}",\n};`)).toBe(true);
    expect(found(`// administratorLoginPassword: "${value}",`)).toBe(true);
    expect(found(` *     const db = connect({ password: "${value}" });`)).toBe(true);
    expect(found(`* password: "${value}"`)).toBe(true);
  });
});

describe('pem-private-key-concatenated', () => {
  const rule = builtinRuleset().rules.find((r) => r.id === 'pem-private-key-concatenated') as CompiledRule;
  const lines = (type: 'sec1' | 'pkcs8'): string[] => (generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type, format: 'pem' }) as string).trim().split('\n');
  it('finds a key written as one string literal per line, joined by +, by juxtaposition or in an array', () => {
    const js = lines('sec1').map((l, i, a) => `  '${l}${i < a.length - 1 ? "\\n' +" : "'"}`).join('\n');
    const py = lines('pkcs8').map((l) => `    "${l}\\n"`).join('\n');
    const arr = `[${lines('sec1').map((l) => `'${l}'`).join(',\n  ')}].join('\\n')`;
    for (const text of [`new NodeRSA(\n${js}\n);`, `KEY = (\n${py}\n)`, arr]) {
      const got = matchRule(rule, text);
      expect(got.map((m) => m.acceptance.ok), text).toEqual([true]);
    }
  });
  it('does not report a key with a line missing', () => {
    const l = lines('sec1');
    l.splice(2, 1);
    const js = l.map((x, i, a) => `  '${x}${i < a.length - 1 ? "\\n' +" : "'"}`).join('\n');
    expect(matchRule(rule, js).some((m) => m.acceptance.ok)).toBe(false);
  });
});

describe('looksLikePlaceholderWord on dotted values', () => {
  const pick = (alphabet: string, n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
  const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  it('keeps Discord bot tokens, whose parts are long random mixed-case runs with digits', () => {
    let flagged = 0;
    for (let i = 0; i < 2000; i++) {
      if (looksLikePlaceholderWord(`MT${pick(base62, 24)}.G${pick(base62, 5)}.a${pick(base62, 37)}`)) flagged++;
    }
    expect(flagged).toBeLessThanOrEqual(2);
  });
  it.each(['config.password', 'this.tokenizer.nextToken', 'process.env.DISCORD_BOT_TOKEN', 'a.b.c', 'config.discord.botToken', 'awsCredentials.secretAccessKey2', 'settings.awsS3BucketName.base64EncodedKey', 'clients.MyHTTP2Server.oauth2ClientSecret'])('%s is still a property access', (value) => {
    expect(looksLikePlaceholderWord(value)).toBe(true);
  });
});

describe('charclasses with longMin and longFrom', () => {
  const gate = rule({ source: '(tok_[a-z0-9]{1,40})', validators: [{ type: 'charclasses', min: 3, longMin: 2, longFrom: 20 }] });
  it('asks longMin classes of a value of longFrom or more characters, min of a shorter one', () => {
    const hex = randomBytes(10).toString('hex').replace(/^./, 'a').replace(/.$/, '7');
    expect(acceptCandidate(gate, hex, '').ok).toBe(true);
    expect(acceptCandidate(gate, hex.slice(0, 19), '')).toEqual({ ok: false, reason: '2 character classes < 3' });
    expect(acceptCandidate(gate, 'qwhfkzmvbtrnlpdjgsyc', '')).toEqual({ ok: false, reason: '1 character classes < 2' });
  });
});

describe('entropy floor of hex values (hexMin)', () => {
  // 32 hex digits below 3.5 bits a character: about 1 in 5 random ones are.
  const bitsOf = (text: string): number => {
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    return -[...counts.values()].reduce((sum, n) => sum + (n / text.length) * Math.log2(n / text.length), 0);
  };
  // Random 32-digit hex between the two floors; its first 31 digits under 3.5 too, so cutting
  // one digit off cannot lift it over the floor it is checked against.
  const lowHex = (): string => {
    for (;;) {
      const value = randomBytes(16).toString('hex');
      const bits = bitsOf(value);
      if (bits < 3.5 && bits >= 3 && bitsOf(value.slice(0, 31)) < 3.5) return value;
    }
  };
  const withHexMin = rule({ validators: [{ type: 'entropy', min: 3.5, hexMin: 3 }] });
  it('applies hexMin to 32 or more hex digits', () => {
    const value = lowHex();
    expect(acceptCandidate(withHexMin, value, value).ok).toBe(true);
    expect(acceptCandidate(withHexMin, value.toUpperCase(), value).ok).toBe(true);
    expect(acceptCandidate(rule({ validators: [{ type: 'entropy', min: 3.5 }] }), value, value).ok).toBe(false);
  });
  it('keeps min for shorter hex, mixed-case hex and other alphabets', () => {
    const value = lowHex();
    expect(acceptCandidate(withHexMin, value.slice(0, 31), value).ok).toBe(false);
    expect(acceptCandidate(withHexMin, 'deadbeefdeadbeefdeadbeefdeadbeef', '').ok).toBe(false);
    expect(acceptCandidate(withHexMin, `${value.slice(0, 16)}${value.slice(16).toUpperCase()}`, '').ok).toBe(
      acceptCandidate(rule({ validators: [{ type: 'entropy', min: 3.5 }] }), `${value.slice(0, 16)}${value.slice(16).toUpperCase()}`, '').ok,
    );
  });
  it('lets the generic API key rule report a random 32-hex key of low entropy', () => {
    const api = builtinRuleset().rules.find((r) => r.id === 'generic-api-key-assignment') as CompiledRule;
    const value = lowHex();
    expect(matchRule(api, `const adminApiKey = '${value}';`).map((m) => m.acceptance.ok)).toEqual([true]);
  });
});

describe('digestReason on 40 hex digits', () => {
  const hex40 = randomBytes(20).toString('hex');
  it('reads 40 hex digits under a key, token or secret name as a key', () => {
    expect(digestReason(hex40, `"app_key": "${hex40}"`)).toBeUndefined();
    expect(digestReason(hex40, `authToken = '${hex40}'`)).toBeUndefined();
  });
  it('still takes them for a digest elsewhere, under a hash name, and for the digest of empty input', () => {
    expect(digestReason(hex40)).toBe('hex digest');
    expect(digestReason(hex40, `commit: "${hex40}"`)).toBe('hex digest');
    expect(digestReason(hex40, `token_sha1 = "${hex40}"`)).toBe('hex digest');
    expect(digestReason('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'api_key = "da39a3ee5e6b4b0d3255bfef95601890afd80709"')).toBe('hex digest');
  });
});

describe('generic-password-unquoted', () => {
  const unquoted = builtinRuleset().rules.find((r) => r.id === 'generic-password-unquoted') as CompiledRule;
  const value = `${randomBytes(6).toString('base64').replace(/[+/=]/g, 'x')}7aZ#!`;
  const found = (text: string): string[] => matchRule(unquoted, text).filter((m) => m.acceptance.ok).map((m) => (m.acceptance as { secret: string }).secret);
  it('reads a value with # and ! to the end of its token', () => {
    expect(found(`db:\n  password: ${value}\n`)).toEqual([value]);
    expect(found(`export DB_PASSWORD=${value}   # rotated\n`)).toEqual([value]);
  });
  it('reads no value that a line goes on after', () => {
    expect(found(`PGPASSWORD=${value} psql -h db\n`)).toEqual([]);
    expect(found(`export DB_USER=app PGPASSWORD=${value} psql -h db\n`)).toEqual([]);
    expect(found(`ENV DB_PASSWORD=${value} NODE_ENV=production\n`)).toEqual([]);
  });
  it('reads ARG, the space form of ENV, readonly, declare and several assignments on a line', () => {
    for (const line of [
      `ARG DB_PASSWORD=${value}`,
      `ENV DB_PASSWORD ${value}`,
      `ENV NODE_ENV=production DB_PASSWORD=${value}`,
      `ENV NODE_ENV="prod env" DB_USER=app DB_PASSWORD=${value}`,
      `export DB_USER=app DB_PASSWORD=${value}`,
      `readonly DB_PASSWORD=${value}`,
      `declare -x DB_PASSWORD=${value}`,
    ]) {
      expect(found(`${line}\n`), line).toEqual([value]);
    }
    expect(found(`ENV DB_PASSWORD_FILE /run/secrets/${value}\n`)).toEqual([]);
    expect(found(`ARG DB_PASSWORD\n`)).toEqual([]);
  });
  it('reads a quoted compose list item and a quoted batch set, when the quote closes after the value', () => {
    expect(found(`    environment:\n      - "MYSQL_ROOT_PASSWORD=${value}"\n`)).toEqual([value]);
    expect(found(`      - 'MYSQL_ROOT_PASSWORD=${value}'\n`)).toEqual([value]);
    expect(found(`set "DB_PASSWORD=${value}"\r\n`)).toEqual([value]);
    expect(found(`      - "MYSQL_ROOT_PASSWORD=${value}\n`)).toEqual([]);
    expect(found(`      - "MYSQL_ROOT_PASSWORD=${value}'\n`)).toEqual([]);
  });
});

describe('placeholderReason on hex test vectors', () => {
  it('rejects hex that spells consecutive byte values', () => {
    const bytes = (from: number, n: number): string => Array.from({ length: n }, (_, i) => ((from + i) & 0xff).toString(16).padStart(2, '0')).join('');
    expect(placeholderReason(bytes(1, 32))).toBe('sequential bytes');
    expect(placeholderReason(`${randomBytes(4).toString('hex')}${bytes(0xf8, 8)}${randomBytes(4).toString('hex')}`.slice(0, 31))).toBe('sequential bytes');
  });
  it('keeps random hex', () => {
    let flagged = 0;
    for (let i = 0; i < 2000; i++) if (placeholderReason(randomBytes(32).toString('hex')) === 'sequential bytes') flagged++;
    expect(flagged).toBe(0);
  });
});

describe('placeholderReason on repeated units and runs', () => {
  const hex = (n: number): string => randomBytes(n).toString('hex');
  it('rejects a short unit repeated, whatever it is', () => {
    for (const unit of [hex(4), hex(2), hex(8)]) {
      const value = unit.repeat(Math.ceil(32 / unit.length)).slice(0, 32);
      expect(placeholderReason(value), value).toBeDefined();
    }
    for (const unit of ['a1b2c3d4', 'Xy7#', '9f3kQ']) {
      const value = unit.repeat(Math.ceil(32 / unit.length)).slice(0, 32);
      expect(placeholderReason(value), value).toBe('one short unit repeated');
    }
    expect(placeholderReason('1234abcd1234abcd1234abcd1234abcd')).toBe('one short unit repeated');
  });
  it('rejects runs of repeated characters', () => {
    expect(placeholderReason('aaaabbbbccccddddeeeeffff00001111')).toBe('runs of repeated characters');
    const runs = Array.from(hex(8), (c) => c.repeat(4)).join('');
    expect(placeholderReason(runs), runs).toBeDefined();
  });
  it('lets the generic API key rule drop them under its hex floor', () => {
    const api = builtinRuleset().rules.find((r) => r.id === 'generic-api-key-assignment') as CompiledRule;
    for (const value of ['1234abcd1234abcd1234abcd1234abcd', 'a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4', 'aaaabbbbccccddddeeeeffff00001111']) {
      expect(matchRule(api, `const apiKey = "${value}";\n`).filter((m) => m.acceptance.ok), value).toEqual([]);
    }
  });
  it('keeps random values of every alphabet', () => {
    const pick = (alphabet: string, n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
    let flagged = 0;
    for (let i = 0; i < 3000; i++) {
      for (const value of [hex(6), hex(16), hex(32), pick('0123456789', 12), pick('abcdefghijklmnopqrstuvwxyz0123456789', 12)]) {
        const why = placeholderReason(value);
        if (why === 'one short unit repeated' || why === 'runs of repeated characters') flagged++;
      }
    }
    expect(flagged).toBe(0);
  });
});

describe('the basic-auth validator', () => {
  const pick = (alphabet: string, n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
  // A password of the three classes the gate asks for, in random order of random characters.
  const password = () => `${pick('ABCDEFGHJKLMNPQRSTUVWXYZ', 1)}${pick('abcdefghijkmnopqrstuvwxyz', 1)}${pick('23456789', 1)}${pick('ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789', 13)}`;
  const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
  const basic = rule({ source: '(?<![A-Za-z0-9_$.-])Basic {1,4}([A-Za-z0-9+/]{8,512}={0,2})(?![A-Za-z0-9+/=_$({-])', maxLength: 530, validators: [{ type: 'basic-auth' }] });

  it('reports the base64 of user:password as written', () => {
    const secret = b64(`deploy:${password()}`);
    expect(acceptCandidate(basic, secret, `Authorization: Basic ${secret}`)).toEqual({ ok: true, secret });
    expect(basicAuthReason(b64(`j\u00f6rg:${password()}\u00fc`))).toBeUndefined();
    // `echo deploy:… | base64` keeps the line break.
    expect(basicAuthReason(b64(`deploy:${password()}\n`))).toBeUndefined();
  });

  it('rejects placeholder passwords and missing parts', () => {
    for (const text of ['admin:password', 'user:pass', 'api:secret', 'admin:changeme', 'deploy:${PASSWORD}', '${USER}:${PASS}', 'ci:Admin12345']) {
      expect(basicAuthReason(b64(text)), text).toMatch(/^password is a placeholder/);
    }
    expect(basicAuthReason(b64('deploy:'))).toBe('no password after the user name');
    expect(basicAuthReason(b64(`:${password()}`))).toBe('no user name before the password');
    expect(basicAuthReason(b64(`deploy${password()}`))).toBe('does not decode to user:password');
    expect(basicAuthReason(b64('deploy:aaaabbbbcccc1A'))).toMatch(/^password entropy/);
    expect(basicAuthReason(b64('deploy:qwzmxnvbrtlkpe'))).toMatch(/character classes/);
  });

  it('rejects what does not decode to text', () => {
    expect(basicAuthReason(b64(Buffer.concat([Buffer.from('deploy:'), Buffer.from([0xff, 0xfe, 0x41, 0x31, 0x62, 0x43])])))).toBe('does not decode to UTF-8 text');
    expect(basicAuthReason(b64(`deploy:${password()}\x01`))).toBe('does not decode to text');
    expect(basicAuthReason(b64(`deploy:${password()}`).replace(/=+$/, ''))).toBe('not padded base64');
    expect(basicAuthReason('Authentication')).toBe('not padded base64');
  });

  it('reads headers in code, curl, JSON and a source map, not challenges or templates', () => {
    const rules = builtinRuleset().rules.find((r) => r.id === 'http-basic-auth') as CompiledRule;
    const secret = b64(`ci-bot:${password()}`);
    const reported = (text: string) => matchRule(rules, text).filter((m) => m.acceptance.ok).map((m) => m.acceptance.ok && m.acceptance.secret);
    for (const text of [
      `headers: { Authorization: 'Basic ${secret}' }`,
      `curl -H "Authorization: Basic ${secret}" https://repo.acme.test/`,
      `{"Authorization": "Basic ${secret}"}`,
      JSON.stringify({ sourcesContent: [`fetch(u, { headers: { "Authorization": "Basic ${secret}" } })\n`] }),
    ]) {
      expect(reported(text), text).toEqual([secret]);
    }
    for (const text of [
      'WWW-Authenticate: Basic realm="Repository", charset="UTF-8"',
      'headers: { Authorization: `Basic ${btoa(`${user}:${pass}`)}` }',
      `headers: { Authorization: "Basic ${secret.slice(0, 8)}" + token }`,
      `Authorization: Basic ${b64('deploy:')}`,
    ]) {
      expect(reported(text), text).toEqual([]);
    }
  });
});

describe('the base64 of words', () => {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  it("is text, not a key: a tokenizer's vocabulary (token_bytes) is full of it", () => {
    for (const word of [' information', ' relationship', 'development', ' in the same', ' которы', '.springframework', ' ప్రామ', '-dimensional', "'administration", '\\documentclass', '\u200cگذاری', '\tdescription']) expect(namesItself(b64(word)), word).toBe(true);
    expect(looksLikePlaceholderWord('.springframework')).toBe(true);
    const generic = builtinRuleset().rules.find((r) => r.id === 'generic-secret-assignment') as CompiledRule;
    expect(matchRule(generic, `{ "rank": 1, "token_bytes": "${b64(' information')}" }`).filter((m) => m.acceptance.ok)).toEqual([]);
  });
  it('leaves random base64 alone', () => {
    // Bytes from a hash of the index, the same on every run: about 1 in 600 000 random values
    // decodes to letters alone and reads as text, which fresh random bytes hit in one run of 300.
    for (let i = 0; i < 2000; i++) {
      const value = createHash('sha256').update(`random-${i}`).digest().subarray(0, 12 + (i % 3) * 3).toString('base64');
      expect(namesItself(value), value).toBe(false);
    }
  });
});

describe('shapes seen in Python distributions', () => {
  it('rejects the OAuth RFCs\' example client credentials and tokens', () => {
    expect(placeholderReason(Buffer.from('s6BhdRkqt3:gX1fBat3bV').toString('base64'))).toBe('documented example credential');
    for (const v of ['45ghiukldjahdnhzdauz', 'ad180jjd733klru7', 'kkk9d7dh3k39sjv7', '9djdj82h48djs9d2', '0685bd9184jfhq22']) {
      expect(placeholderReason(v)).toBe('documented example credential');
    }
  });
  it('takes module paths, entry points, snake_case with numbers and type names for code', () => {
    for (const v of [
      'x25519.X25519PrivateKey', 'ed25519.Ed25519PrivateKey', 'rust_openssl.hpke.MLKEM768X25519PrivateKey',
      'IPython.core.magics.osm:OSMagics', 'xxh3_128_constants', 'private_key_pkcs8_pem', 'private_key_pkcs12',
      'google_oauth2_credentials', 'crypto_sign_curve25519_BYTES', 'ProxyConfigRuleAwsAccessKeyID',
      'SignInWithSSOCredentials', 'SignInWithOAuthCredentials', 'this._cursor+u.length', 'Optional[str]',
      'dict[str, Any]',
    ]) expect(looksLikePlaceholderWord(v), v).toBe(true);
  });
  it('takes a tokenizer\'s words for text', () => {
    for (const v of ['Chartplatzierungen', 'Vriendschappelijk', '-Weltmeisterschaft']) expect(looksLikePlaceholderWord(v), v).toBe(true);
  });
  it('keeps random tokens of the alphabets these shapes use', () => {
    const alphabets = [
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-',
      'abcdefghijklmnopqrstuvwxyz0123456789',
    ];
    let kept = 0;
    let total = 0;
    for (const alphabet of alphabets) {
      for (let i = 0; i < 10_000; i++) {
        const bytes = randomBytes(16 + (i % 25));
        const value = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
        total++;
        if (!looksLikePlaceholderWord(value)) kept++;
      }
    }
    // Letters-only values, words joined by `_` and other shapes the older tests cover drop
    // about 1 in 500 (0.14% of base62, 0.4% with `_` and `-`, almost no base36): some 58 of
    // these 30 000, give or take 8, so chance alone stays well below the bound of 105, while a
    // check that takes a few random values in 1000 for names goes over it.
    expect(kept).toBeGreaterThanOrEqual(total - 0.0035 * total);
  });
  it('keeps a real-looking token under a name that says it is one', () => {
    expect(looksLikePlaceholderWord('kOOlRy2QlMY9jHZQv0bKz0FZyazBUoY8Arj0lFVNjs4')).toBe(false);
    expect(looksLikePlaceholderWord('uiqlbgzdwuru14v627vdusswb')).toBe(false);
  });
});

describe('oci-auth-token on names that only start like a password', () => {
  const oci = builtinRuleset().rules.find((r) => r.id === 'oci-auth-token') as CompiledRule;
  it('does not read PASSIVE as a password name, and still reads PASSWD', () => {
    expect(matchRule(oci, 'OCI_BUSMODE_PASSIVE = OCI_CANBusParticipationMode(1)').filter((m) => m.acceptance.ok)).toHaveLength(0);
    expect(matchRule(oci, 'OCI_DB_PASSWD = "aT06V2tHa9kGHkqsO6(;5hYnix>hwQn["').filter((m) => m.acceptance.ok)).toHaveLength(1);
  });
});
