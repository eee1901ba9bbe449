import type { CompiledRule, ValidatorSpec } from './types.js';
import {
  charClasses,
  decodeBase64,
  entropy,
  githubChecksumValid,
  gitlabRoutableChecksumValid,
  grafanaChecksumValid,
  jwtValid,
  pemBody,
  pemBodyValid,
  pypiMacaroonValid,
  vercelChecksumValid,
  zuploChecksumValid,
} from './validators.js';

/**
 * The value a finding of `rule` is fingerprinted by: for a private key (a rule with the `pem`
 * validator), its base64 body without escapes, quotes and white space (`pemBody`), so that one
 * key in a `.pem` file and in a JSON string with `\n` escapes gets one fingerprint; otherwise
 * the secret as found.
 */
export function fingerprintValue(rule: CompiledRule, secret: string): string {
  return rule.validators.some((v) => v.type === 'pem') ? pemBody(secret) : secret;
}

/** Whether a regex match is reported, and if not, why (for `--verbose` and rule linting). */
export type Acceptance =
  /** `secret` is the capture, cut back where binary data began (see `textPrefixLength`). */
  | { ok: true; secret: string }
  | { ok: false; reason: string };

/** Credentials that providers publish in their documentation: never reported, by any rule. */
export const DOCUMENTED_EXAMPLES: readonly string[] = [
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'AKIAI44QH8DHBEXAMPLE',
  'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  // RFC 6749 (OAuth 2.0) example access and refresh tokens.
  '2YotnFZFEjr1zCsicMWpAA',
  'tGzv3JOkF0XG5Qx2TlKWIA',
  // RFC 6749's example client, s6BhdRkqt3:gX1fBat3bV, as its Authorization: Basic header
  // spells it (RFC 7009 and OAuth libraries' docstrings copy it), and RFC 7009's refresh token.
  'czZCaGRSa3F0MzpnWDFmQmF0M2JW',
  '45ghiukldjahdnhzdauz',
  // RFC 5849 (OAuth 1.0) example credentials.
  'dpf43f3p2l4k3l03',
  'kd94hf93k423kf44',
  'hh5s93j4hdidpola',
  'hdhd0244k9j7ao03',
  'nnch734d00sl2jdk',
  'pfkkdhi9sl3r4s00',
  // RFC 5849's signature examples (sections 3.4.1.1 and 3.5.1).
  '9djdj82h48djs9d2',
  'kkk9d7dh3k39sjv7',
  '0685bd9184jfhq22',
  'ad180jjd733klru7',
  // The well-known key of Azure's storage emulator (Azurite) account devstoreaccount1.
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  // MinIO's public playground (play.min.io), printed in its SDKs' quick starts.
  'Q3AM3UQ867SPQQA43P2F',
  'zuf+tfteSlswRu7BJ86wekitnifILbZam1KYY3TG',
  // Twitter's (X's) OAuth 1.0a documentation: consumer key and secret, access token and secret.
  'xvz1evFS4wEEPTGEFPHBog',
  'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
];

const DOCUMENTED = new Set(DOCUMENTED_EXAMPLES);

// `@host` right after a URL's password, where host is or ends in a reserved example domain
// (RFC 2606: example.com, .net, .org, the .example TLD) or in .invalid, which never resolves.
// Not .test or localhost: those name real machines of a test setup, whose passwords work.
const EXAMPLE_HOST = /^@(?:[a-z0-9_-]{1,63}\.){0,8}(?:example(?:\.(?:com|net|org))?|invalid)\.?(?:$|[:/?#])/i;

// Each entry is a shape that only a placeholder, a template or a reference to a variable has;
// a random credential essentially never contains one.
const PLACEHOLDER_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/example/i, 'contains EXAMPLE'],
  [/x{5,}|X{5,}|\*{3,}|#{4,}|\.{3}|…|_{5,}/, 'masked or filler characters'],
  [/your[-_ .]?[a-z0-9_-]{0,30}?[-_ .]?here/i, '"your … here" placeholder'],
  [/^<[^<>]{0,200}>$|^<[a-z_ -]{1,40}(?:>|$)|[<[{]\s{0,2}(?:your|my|insert|enter|redacted|token|secret|password|api[-_ ]?key)[^<>\]}]{0,40}[>\]}]/i, 'angle-bracket or braced placeholder'],
  [/\$\{\{?\s{0,4}[A-Za-z_.]|\$\(|\{\{\s{0,4}[A-Za-z_.]|%\([a-z_]{1,40}\)s|^\$[A-Z_][A-Z0-9_]{1,60}$/, 'template or variable reference'],
  [/^\{[A-Za-z_][A-Za-z0-9_.]{1,60}\}?$|^%[A-Z_][A-Z0-9_]{1,60}%$/, 'braced or %VAR% reference'],
  [/process\.env|os\.environ|os\.getenv|getenv\(|env\[|ENV\[|System\.getenv/i, 'reference to an environment variable'],
  [/changeme|change[-_]me|replace[-_ ]?me|placeholder|redacted|dummy|notarealkey|not[-_]a[-_]real|not[-_]?re(?:a|%40|@)l|insert[-_ ]?your/i, 'placeholder word'],
  [/(?:abcdefgh|bcdefghi|cdefghij|defghijk|efghijkl|fghijklm|ghijklmn|hijklmno|ijklmnop|jklmnopq|klmnopqr|lmnopqrs|mnopqrst|nopqrstu|opqrstuv|pqrstuvw|qrstuvwx|rstuvwxy|stuvwxyz|01234567|12345678|23456789|34567890|98765432|87654321|76543210|qwertyui|asdfghjk)/i, 'sequential alphabet'],
];

/**
 * How many leading characters of a latin1-decoded capture are text: up to the first control
 * byte or the first byte that does not begin a valid UTF-8 sequence. In a binary file a
 * string ends there, so a capture that runs on into binary data is cut back to it.
 */
export function textPrefixLength(secret: string): number {
  for (let i = 0; i < secret.length; i++) {
    const c = secret.charCodeAt(i);
    if (c < 0x80) {
      if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return i;
      continue;
    }
    const extra = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (extra < 0 || i + extra >= secret.length) return i;
    for (let k = 1; k <= extra; k++) {
      const cc = secret.charCodeAt(i + k);
      if (cc < 0x80 || cc > 0xbf) return i;
    }
    i += extra;
  }
  return secret.length;
}

/** Why a captured secret looks like a placeholder rather than a credential, or undefined. */
export function placeholderReason(secret: string, match = secret): string | undefined {
  if (DOCUMENTED.has(secret)) return 'documented example credential';
  for (const [re, reason] of PLACEHOLDER_SHAPES) if (re.test(secret)) return reason;
  if (hasSequentialBytes(secret)) return 'sequential bytes';
  const run = longestRun(secret);
  if (secret.length >= 8 && run >= Math.max(8, secret.length * 0.4)) return 'repeated characters';
  if (secret.length >= 4 && new Set(secret).size <= 2) return 'repeated characters';
  if (secret.length >= 12 && repeatedUnit(secret) <= secret.length / 2) return 'one short unit repeated';
  if (secret.length >= 12 && runCount(secret) * 3 <= secret.length) return 'runs of repeated characters';
  // `${{ secrets.X }}` and `${VAR}` around the captured text, when the pattern stopped short of them.
  const at = match.indexOf(secret);
  if (at > 0) {
    const before = match.slice(Math.max(0, at - 3), at);
    if (/\$\{\{?\s?$/.test(before) || /\{\{\s?$/.test(before)) return 'template or variable reference';
  }
  // A password in a URL whose host is reserved for documentation (RFC 2606: example.com,
  // .net, .org, the .example TLD, and .invalid) opens nothing: no such server can exist.
  const last = match.lastIndexOf(secret);
  if (last >= 0 && EXAMPLE_HOST.test(match.slice(last + secret.length))) return 'URL on a reserved example domain';
  return undefined;
}

/**
 * Whether hex spells eight or more consecutive byte values (00010203…, 0102…1f20): a test
 * vector's key, which random bytes essentially never contain.
 */
function hasSequentialBytes(text: string): boolean {
  if (text.length < 16 || !/^[0-9a-f]+$/i.test(text)) return false;
  for (let start = 0; start < 2; start++) {
    let run = 1;
    for (let i = start + 2; i + 2 <= text.length; i += 2) {
      run = parseInt(text.slice(i, i + 2), 16) === parseInt(text.slice(i - 2, i), 16) + 1 ? run + 1 : 1;
      if (run >= 8) return true;
    }
  }
  return false;
}

/**
 * The length of the shortest unit that the text repeats (a prefix of it may end the text):
 * 8 for 1234abcd1234abcd…, the text's own length when it repeats nothing. The prefix
 * function of Knuth, Morris and Pratt gives it in one pass. Random text of 12 or more
 * characters essentially never repeats a unit half its length or shorter.
 */
function repeatedUnit(text: string): number {
  const border = new Array<number>(text.length).fill(0);
  for (let i = 1, k = 0; i < text.length; i++) {
    while (k > 0 && text[i] !== text[k]) k = border[k - 1] as number;
    if (text[i] === text[k]) k++;
    border[i] = k;
  }
  return text.length - (border[text.length - 1] ?? 0);
}

/** How many runs of one repeated character the text is made of (aaaabbbb: 2). */
function runCount(text: string): number {
  let runs = 0;
  for (let i = 0; i < text.length; i++) if (i === 0 || text[i] !== text[i - 1]) runs++;
  return runs;
}

function longestRun(text: string): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    run = i > 0 && text[i] === text[i - 1] ? run + 1 : 1;
    if (run > best) best = run;
  }
  return best;
}

// Values that people write in place of a real password or key; only the `not-placeholder`
// validator uses this list, because it would be too broad for random-token formats.
const WEAK_WORDS = new Set([
  'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'key',
  'test', 'testing', 'tests', 'sample', 'fake', 'foo', 'bar', 'baz', 'foobar', 'qux', 'none', 'null',
  'nil', 'undefined', 'true', 'false', 'admin', 'root', 'user', 'username', 'guest', 'demo', 'default',
  'postgres', 'mysql', 'redis', 'rabbitmq', 'mongo', 'mongodb', 'letmein', 'hunter2', 'welcome',
  'x-oauth-basic', 'x-access-token', 'oauth2', 'anonymous', 'empty', 'required', 'string', 'value',
  'mypassword', 'yourpassword', 'secretpassword', 'supersecret', 'topsecret', 'pa55word', 'p@ssw0rd',
  'p@ssword', 'passw0rd', 'xxx', 'tbd', 'todo', 'n/a', 'na', 'unset', 'private', 'public', 'my-secret',
  'mysecret', 'my_secret', 'secret123', 'password123', 'password1', 'test123', 'admin123', 'qwerty',
  'current-password', 'new-password', 'one-time-code', 'off', 'on', 'hidden', 'text', 'confirm',
]);

// A lower-case word of a package or module name, possibly with a number inside (route53resolver).
const PATH_WORD = '[a-z]{2,20}(?:[0-9]{1,2}[a-z]{0,20})?';
const MODULE_TYPE_PATH = new RegExp(
  `^(?:@${PATH_WORD}/)?${PATH_WORD}(?:-${PATH_WORD}){0,6}/${PATH_WORD}(?:-${PATH_WORD}){0,6}\\.(?:(?:[A-Z]{1,5}|[A-Z][a-z]{1,30})[0-9]{0,2}){1,10}$`,
);

// A PascalCase or camelCase type name whose words have two or more lower-case letters, with
// acronyms before a word (CSSSyntax, OAuthPrivate), digits ending a word (Oauth2), common
// two-letter words (SignInWith), a common acronym at the end (AccessKeyID) and a version (ResultV2).
const PASCAL_CASE = /^(?:[a-z]{2,30})?(?:[A-Z]{1,6}(?=[A-Z][a-z]{2})|[A-Z][a-z]{2,30}[0-9]{0,2}|(?:In|On|To|Of|By|At|As|Is|Or|If|Up|An|Id)(?=[A-Z]|$)){2,16}(?:ID|IDs|API|ARN|URL|URI|SSO|JWT)?(?:V?[0-9]{1,3})?$/;

/**
 * Whether a value is a type name (see PASCAL_CASE) whose words are words: all but one have a
 * vowel (Jwt may lack one), which random mixed-case text of that shape seldom has.
 */
function isTypeName(text: string): boolean {
  if (!PASCAL_CASE.test(text)) return false;
  const words = text.match(/[A-Z]?[a-z]{2,30}/g) ?? [];
  return words.filter((w) => !/[aeiouy]/.test(w)).length <= 1;
}

// Words of letters (any script, with their combining marks and joiners), single spaces between
// them, after at most two characters of punctuation or space (-dimensional, 'administration,
// \documentclass, a tab).
const WORDS_TEXT = /^[\s\p{P}\p{S}\p{Cf}]{0,2}[\p{L}\p{M}\p{Cf}]{2,30}(?: [\p{L}\p{M}\p{Cf}]{1,30}){0,10}$/u;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 text that base64 decodes to, or undefined when it is not UTF-8. */
function utf8Text(base64: string): string | undefined {
  const bytes = decodeBase64(base64);
  if (!bytes) return undefined;
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Whether a value says what it stands for, as documentation and test values do
 * (SuperSecretPassword, This-is-my-test-99!, existingtoken123, auth0-client-secret), or is
 * the base64 of a sentence (a README's base64 of "not my real password") or of words alone (a
 * tokenizer's " information"). Random tokens hold
 * none of these words: "secret" turns up in about one in 10^7 random 40-character strings.
 * Spellings with digits for letters (s3cr3t) are left alone: people choose real passwords so.
 */
export function namesItself(secret: string): boolean {
  const lower = secret.toLowerCase();
  if (/password|passwd|secret|token|api[-_ ]?key|example|sample/.test(lower)) return true;
  if (/(?:^|[^a-z])test(?:[^a-z]|$)/.test(lower)) return true;
  if (/^[A-Za-z0-9+/]{12,}={0,2}$/.test(secret) && secret.length % 4 === 0) {
    // `echo encrypted-password | base64` keeps the line break: the decoded text may end in one.
    const text = (decodeBase64(secret)?.toString('latin1') ?? '').replace(/\r?\n$/, '');
    if (/^[A-Za-z]{1,20}(?: [A-Za-z]{1,20}){2,10}[.!]?$/.test(text)) return true;
    // Letters alone, in any script, one word or a few, with a space or punctuation in front as
    // a tokenizer's vocabulary keeps them (" information", " которы", ".springframework", a
    // language model's token_bytes): text, not a key. Random bytes are all letters of valid
    // UTF-8 about once in 10^6 values of this length or less.
    if (WORDS_TEXT.test(utf8Text(secret) ?? '')) return true;
    // Words joined by `-` or `_` that name a credential (encrypted-password, my_api_token).
    if (/^[\x20-\x7e]{1,96}$/.test(text) && /^[A-Za-z]{1,20}(?:[-_ ][A-Za-z]{1,20}){1,10}$/.test(text) && namesItself(text)) return true;
  }
  return false;
}

// camelCase words, acronyms before a word, and a few digits ending a word (awsS3Bucket,
// base64Encoded, MyHTTP2Server, secretAccessKeyV2, Ed25519PrivateKey). Each alternative ends where the next must
// start, so a failed test costs one pass.
const NAME_WORDS = /^[_$]{0,2}(?:(?:[a-z]{1,30}|[A-Z][a-z]{1,30}|[A-Z]{2,6}(?=[A-Z][a-z]|[0-9_]|$)|[A-Z](?=[0-9]))(?![a-z])(?:[0-9]{1,5}(?![0-9]))?){1,10}$/;

/**
 * Whether one part of a dotted value reads as a name written by a person: short, or without
 * one of upper case, lower case and digits, or camelCase words with at most two runs of
 * digits, each ending a word. Random base62 of that length (a Discord bot token's parts) is
 * almost never any of these: 4 in 100 000 generated tokens had every part pass.
 */
function isNamePart(part: string): boolean {
  if (part.length <= 12 || !/[A-Z]/.test(part) || !/[a-z]/.test(part) || !/[0-9]/.test(part)) return true;
  return NAME_WORDS.test(part) && (part.match(/[0-9]+/g) ?? []).length <= 2;
}

// Words of lower-case letters, each with at most three digits after it (oauth2, v1), joined
// by `_`, `.` or `-` into the parts of a path, and two or more parts joined by `/`. Random
// lower-case letters and digits seldom keep every digit at a word's end: two parts of twelve
// both pass about twice in a thousand.
const LOWER_WORD = '[a-z]{1,40}[0-9]{0,3}';
const LOWER_PART = `${LOWER_WORD}(?:[-_.]{1,2}${LOWER_WORD}){0,8}`;
const LOWER_PATH = new RegExp(`^${LOWER_PART}(?:/${LOWER_PART}){1,12}$`);
// What tells such a path from a password of words joined by `/` and `.` (hunter2/dragon.fly,
// web.de/hunter2): a source or data file's extension at its end, or a module path's host and
// two parts or more after it (golang.org/x/oauth2, github.com/org/repo).
const SOURCE_FILE = /\.(?:php|py|pyi|js|mjs|cjs|ts|tsx|jsx|json|ya?ml|toml|ini|cfg|conf|xml|html?|css|md|txt|rst|go|rs|rb|java|kt|c|h|cc|cpp|hpp|cs|sh|proto|sql|lock|gz|tgz|zip|whl|jar|so|dll)$/;
const MODULE_HOST = /^[a-z0-9-]{1,40}\.(?:com|org|net|io|dev|in|co|cloud|sh)\/[a-z0-9_.-]{1,60}\/[a-z0-9_./-]{1,200}$/;

/** True for secrets that are common stand-in words, code references or too uniform to be real. */
export function looksLikePlaceholderWord(secret: string): boolean {
  const s = secret.toLowerCase().replace(/^["'`]|["'`]$/g, '');
  if (WEAK_WORDS.has(s)) return true;
  // A stand-in word with only digits or symbols after it (Admin12345, root2024!).
  const stem = /^([a-z]{3,20})[-_.!@#0-9]{1,8}$/.exec(s);
  if (stem && WEAK_WORDS.has(stem[1] as string)) return true;
  if (namesItself(secret)) return true;
  // A version: semver with a pre-release or build part (10.0.0-canary-4508873393-20240430,
  // 1.12.5-beta.3+sha.abc1234), or PEP 440's (2.0.0rc1, 1.4.dev3+g1a2b3c), as package.json and
  // lock files give them to dependencies named like secretjs or jsonwebtoken.
  if (/^v?[0-9]{1,6}(?:\.[0-9]{1,6}){1,3}(?:-?(?:a|b|rc|alpha|beta|dev|post|pre|canary|next|insiders|nightly)[.-]?[0-9A-Za-z]{0,40})?(?:[-.][0-9A-Za-z]{1,40}){0,8}(?:\+[0-9A-Za-z.-]{1,80})?$/i.test(secret)) return true;
  if (/^(?:test|fake|sample|dummy|mock|foo|bar|my|your|some|the|a)[-_]?[a-z]{0,20}$/.test(s)) return true;
  // A lower-case name after a dot (.springframework, .eslintrc): an extension or a package's
  // segment, as a tokenizer's vocabulary or a config lists them.
  if (/^\.[a-z]{2,40}$/.test(secret)) return true;
  // A bare identifier or property access (config.password, getPassword()) is code, not a value,
  // when each part reads as a name: dotted tokens (a Discord bot token, MT….G….a…) have long
  // parts mixing upper and lower case with digits at random, which names do not.
  if (/^[a-z_$][a-z0-9_$]{0,60}(?:\.[a-z_$][a-z0-9_$]{0,60}){1,6}$/i.test(secret) && secret.split('.').every(isNamePart)) return true;
  // A module path before a type name, however long (outputs.glue.GetConnectionOauth2Credential).
  if (/^[a-z][a-z0-9]{0,30}(?:\.[a-z][a-z0-9]{0,30}){0,6}\./.test(secret) && isTypeName(secret.slice(secret.lastIndexOf('.') + 1))) return true;
  if (/\(\)?$|^[a-z_$][a-z0-9_$]{0,60}\(/i.test(secret)) return true;
  // The middle of a string concatenation ("AWSAccessKeyId="+credentials.accessKeyId+","),
  // which the pattern took for the value.
  // A value that merely starts with `+` (1 in 64 base64 values) is code only when what
  // follows is: a property access, a `+` at both ends, or a name by the tests below.
  const joined = /^\+([a-z_$][a-z0-9_$]{0,60}(?:\.[a-z_$][a-z0-9_$]{0,60}){0,6})(\+?)$/i.exec(secret);
  if (joined?.[1] !== undefined && (joined[2] === '+' || joined[1].includes('.') || looksLikePlaceholderWord(joined[1]))) return true;
  // A property access that a `+` continues (credential=credentials.accessKeyId+"/"+scope);
  // base64 has no dots, so a value with a `+` in it is not taken for one.
  if (/^[a-z_$][a-z0-9_$]{0,60}(?:\.[a-z_$][a-z0-9_$]{0,60}){1,6}\+$/i.test(secret)) return true;
  if (/^_{0,2}[A-Z][A-Z0-9_]{2,60}$/.test(secret)) return true; // a constant's name (__WEBPACK_MODULE_REFERENCE__ too)
  // camelCase or snake_case identifiers (accessTokenFromServer, db_password_value) are code.
  // A few trailing digits keep it a name (SensitiveString2048, a type in a .d.ts), and so do
  // digits that belong to a word (base64EncodedKey, sha256Digest, utf8Text).
  // Python marks private names with leading underscores: a type annotation in quotes
  // (`private_key: "_EllipticCurvePrivateKey"`) names a private class.
  const bare = secret.replace(/^_{1,2}(?=[A-Za-z])/, '');
  if (/^[A-Za-z][a-z]{0,30}(?:[0-9]{1,3}[a-z]{0,30})?(?:[A-Z][a-z]{1,30}){1,8}[0-9]{0,4}$|^[a-z]{1,30}(?:_[a-z]{1,30}){1,8}$/.test(bare)) return true;
  // Type names with acronyms and a version (CSSSyntaxVisitorReturn, InlineHookOAuthPrivateKeyJwtConfig,
  // CustomAuthResultV2). Every word has two or more lower-case letters, which random
  // mixed-case text rarely keeps up for a whole value.
  if (isTypeName(bare)) return true;
  // Module and type paths (aws-cdk-lib/aws-iam.CfnAccessKey): lower-case words joined by `-`,
  // with a `/` and a `.` before a PascalCase type name.
  if (MODULE_TYPE_PATH.test(secret)) return true;
  // HTTP header names (X-Goog-Firebase-Installations-Auth) are labels, not values.
  if (/^(?:X|[A-Z][a-z]{1,30})(?:-[A-Z][a-z]{1,30}){2,8}$/.test(secret)) return true;
  // Dates and timestamps (an AWS `PasswordLastUsed` field says when, not what).
  if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(secret)) return true;
  // Keys that are public or test-mode by design (Stripe publishable and test keys).
  if (/^(?:pk|sk|rk)_test_|^pk_live_/.test(secret)) return true;
  // Letters and underscores only, with an underscore: a name (crypto_box_SECRETKEYBYTES).
  if (/^[A-Za-z]{1,40}(?:_[A-Za-z]{1,40}){1,8}$/.test(secret)) return true;
  // snake_case with numbers in or as words (xxh3_128_constants, private_key_pkcs12,
  // crypto_sign_curve25519_BYTES): each word one case, two of them three letters or more.
  if (/^(?:[a-z]{1,30}[0-9]{0,5}|[A-Z]{1,30}[0-9]{0,5})(?:_(?:[a-z]{1,30}[0-9]{0,5}|[A-Z]{1,30}[0-9]{0,5}|[0-9]{1,5})){1,8}$/.test(secret) &&
    secret.split('_').filter((w) => /^[A-Za-z]{3}/.test(w)).length >= 2) return true;
  // Property accesses joined by `+` (this._cursor+u.length, minified code): base64 has no dots.
  if (/^[a-z_$][a-z0-9_$]{0,60}(?:\.[a-z_$][a-z0-9_$]{0,60}){1,6}(?:\+[a-z_$][a-z0-9_$]{0,60}(?:\.[a-z_$][a-z0-9_$]{0,60}){1,6}){1,4}$/i.test(secret) &&
    secret.split(/[+.]/).every(isNamePart)) return true;
  // A Python entry point or object reference, module path and attribute (IPython.core.magics.osm:OSMagics).
  if (/^[A-Za-z_][A-Za-z0-9_]{0,60}(?:\.[A-Za-z_][A-Za-z0-9_]{0,60}){1,8}:[A-Za-z_][A-Za-z0-9_]{0,60}$/.test(secret) &&
    secret.split(/[.:]/).every(isNamePart)) return true;
  // A type annotation (Optional[str], dict[str, Any]) under a password-named field.
  if (/^(?:Optional|List|Dict|Union|Tuple|Set|Sequence|Mapping|Literal|Annotated|Type|list|dict|tuple|set|type)\[[A-Za-z0-9_., \[\]'"]{1,80}\]$/.test(secret)) return true;
  // A word as a tokenizer's vocabulary or a dictionary lists it (Chartplatzierungen,
  // -Weltmeisterschaft): a capital, then lower-case letters only, which random base62 of
  // 16 characters is about once in 10^6 and lower-case base36 never.
  if (/^[-\s]{0,2}[A-Z][a-z]{5,30}$/.test(secret)) return true;
  // Lower-case slugs of three or more words (real-secret-6-levels): labels and ids.
  // Also joined by slashes or dots: error codes such as Firebase's auth/invalid-api-key,
  // syntax-highlighting scopes such as keyword.tag-while.
  if (/^[a-z]{2,20}(?:[-/.](?:[a-z]{2,20}|[0-9]{1,3})){2,8}$/.test(secret)) return true;
  // Lower-case words alone, two or more, joined by `-`, `.` or `/`, also with an empty word
  // or a trailing separator where code joins a variable in: labels and scopes
  // (credentials-exchange, x-ms-documentdb-expiry-seconds, constant.begin..filter.slim).
  if (/^[a-z]{1,30}(?:[-/.]{1,2}[a-z]{1,30}){1,12}[-/.]?$/.test(secret)) return true;
  // File system and URL paths.
  if (/^(?:\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/.test(secret)) return true;
  // Relative file paths and Go module paths in lower case, words ending in digits or holding
  // underscores (google/appengine/api/app_identity_pb.php, golang.org/x/oauth2): base64 and
  // random tokens mix cases, and none of them has `/` between words of letters. A file name's
  // extension at the end or a host name first tells them from a password of words joined by
  // `/` (hunter2/dragon7, summer24/winter23/autumn), which has neither.
  if (LOWER_PATH.test(secret) && (SOURCE_FILE.test(secret) || MODULE_HOST.test(secret))) return true;
  // A command-line option's name, three or more words of letters (--docker-credential-file,
  // --impersonate-service-account=); a password may start with `--` too, seldom so long in words alone.
  if (/^--[a-z]{2,30}(?:-[a-z]{2,30}){2,8}=?$/.test(secret)) return true;
  // A method called with plain arguments (_messages.StringField(1), config.getValue('db')):
  // code, not a value. Each name a word or more (not `Mr.Bean(1990)`), and no symbol in the
  // arguments that a password would hold (not `Kq.Zx(7#mQ2$vL9!pR4w)`).
  const call = /^([A-Za-z_$][\w$]{0,60}(?:\.[A-Za-z_$][\w$]{0,60}){1,6})\([\w'" ,.=-]{0,60}\)$/.exec(secret);
  if (call?.[1] !== undefined && call[1].split('.').every((part) => part.length >= 4 && NAME_WORDS.test(part))) return true;
  // A protobuf field's struct tag, as Go binaries carry them (varint,1,opt,name=expired_pwd).
  if (/^(?:varint|bytes|fixed32|fixed64|zigzag32|zigzag64|group),[0-9]{1,5},(?:opt|req|rep)(?:,|$)/.test(secret)) return true;
  // A name or path that ends a sentence (`credentials: google.auth.credentials.Credentials.`).
  if (secret.length > 1 && secret.endsWith('.') && !secret.endsWith('..') && looksLikePlaceholderWord(secret.slice(0, -1))) return true;
  // Non-ASCII bytes (UTF-8 read as latin1): translated UI text such as "Contraseña".
  if (/[\x80-\xff]/.test(secret) && /^[\x41-\x5a\x61-\x7a\x80-\xff]{3,40}$/.test(secret)) return true;
  // Regular expressions and format strings (password rules, validation patterns).
  if (/\(\?[=!:<]|\\[dwsS]|\[[^\]]{1,20}\][{*+?]|\.\*|\{\d{1,3},\d{0,3}\}|^\^.*\$$/.test(secret)) return true;
  return false;
}

// Base64 openings of formats that are data, not secrets: images and public keys.
const PUBLIC_DATA_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['iVBORw0KGgo', 'base64 PNG image'],
  ['/9j/', 'base64 JPEG image'],
  ['R0lGOD', 'base64 GIF image'],
  ['UklGR', 'base64 WebP image'],
  ['PHN2Zy', 'base64 SVG image'],
  ['AAAAB3NzaC1', 'SSH public key'],
  ['AAAAC3NzaC1lZDI1NTE5', 'SSH public key'],
  ['AAAAE2VjZHNhLXNoYTItbmlzdHA', 'SSH public key'],
  ['MIIBIjANBgkqhkiG9w0BAQEFAAOC', 'public key (SPKI)'],
  ['MIICIjANBgkqhkiG9w0BAQEFAAOC', 'public key (SPKI)'],
  ['MFkwEwYHKoZIzj0CAQYI', 'public key (SPKI)'],
  ['MCowBQYDK2VwAyEA', 'public key (SPKI)'],
];

// Stored password hashes: what a login check compares a password with, not the password.
// Each shape is the whole value, salt and hash included, so a password merely starting with
// `$2b$` is still read.
const PASSWORD_HASHES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}$/, 'bcrypt hash'],
  [/^\$argon2(?:id|i|d)\$(?:v=[0-9]{1,3}\$)?m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}\$[A-Za-z0-9+/]{8,}={0,2}\$[A-Za-z0-9+/]{16,}={0,2}$/, 'Argon2 hash'],
  [/^\$(?:1|5|6)\$(?:rounds=[0-9]{1,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}$/, 'crypt(3) hash'],
  [/^\$y\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{43}$/, 'yescrypt hash'],
  [/^(?:pbkdf2_sha(?:1|256|512)|argon2|bcrypt_sha256|scrypt)\$[^$\s]{1,200}\$[A-Za-z0-9+/.=$_,-]{16,}$/, 'Django password hash'],
  [/^\$pbkdf2(?:-sha(?:1|256|512))?\$[0-9]{1,9}\$[./A-Za-z0-9]{2,64}\$[./A-Za-z0-9]{16,}$/, 'PBKDF2 hash (passlib)'],
];

// MD5, SHA-1 and SHA-256 of the empty input: constants that code compares with, under any name.
const EMPTY_INPUT_DIGESTS = new Set([
  'd41d8cd98f00b204e9800998ecf8427e',
  'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
]);

// The name before a value saying it is a credential (api_key, app_key, authToken, secret).
const CREDENTIAL_NAME = /key|token|secret|passw|pwd|credential/i;

const HASH_NAME = /hash|digest|checksum|sha[-_]?(?:1|256|384|512)?|md5|integrity|etag|fingerprint|commit|revision|\brev\b|nonce|salt|uuid|guid/i;

/**
 * Why a value is public or derived data rather than a credential, or undefined: lock-file
 * integrity strings, stored password hashes (bcrypt, Argon2, crypt(3) `$5$`/`$6$`, Django's
 * `pbkdf2_sha256$…`), UUIDs, data URIs, base64 images, public keys, and hex digests (40 hex
 * digits unless the name says key, token or secret, as git object ids are everywhere; other
 * lengths when the name says hash or checksum; the digests of empty input under any name).
 */
export function digestReason(secret: string, match = secret): string | undefined {
  if (/^sha(?:1|256|384|512)-[A-Za-z0-9+/]{20,}={0,2}$/.test(secret)) return 'integrity hash';
  for (const [re, what] of PASSWORD_HASHES) if (re.test(secret)) return what;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(secret)) return 'UUID';
  if (/^data:/i.test(secret)) return 'data URI';
  // An Ethereum address (0x and 40 hex digits) is public: it is where funds are sent.
  if (/^0x[0-9a-f]{40}$/i.test(secret)) return 'Ethereum address';
  if (/^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp[0-9]{3}|sk-ssh-ed25519@openssh\.com) /.test(secret)) return 'SSH public key';
  for (const [prefix, what] of PUBLIC_DATA_PREFIXES) if (secret.startsWith(prefix)) return what;
  if (/^[0-9a-f]+$/i.test(secret) && [32, 40, 56, 64, 96, 128].includes(secret.length)) {
    if (EMPTY_INPUT_DIGESTS.has(secret.toLowerCase())) return 'hex digest';
    const name = match.slice(0, Math.max(0, match.indexOf(secret)));
    if (HASH_NAME.test(name)) return 'hex digest';
    // 40 hex digits are mostly git object ids, which turn up under any name; under a name
    // that says key, token or secret they are more likely a key (Datadog application keys).
    if (secret.length === 40 && !CREDENTIAL_NAME.test(name)) return 'hex digest';
  }
  return undefined;
}

// Payload fragments of the JWTs that documentation copies everywhere (jwt.io, PyJWT, RFC 7519).
const SAMPLE_JWT_PAYLOADS = [/"name"\s?:\s?"John Doe"/, /^\{\s?"some"\s?:\s?"payload"\s?\}$/, /"sub"\s?:\s?"1234567890"/, /"iss"\s?:\s?"joe"/];

// Claim values that say the token stands in for a real one (Netlify's locally emulated
// identity, AWS's EXAMPLE contexts, mock servers' fixtures).
const SAMPLE_JWT_WORDS = /example|sample|dummy|placeholder|emulated|\bmock|\bfake/i;

/**
 * Why a well-formed JWT is not a usable credential, or undefined: a documentation sample, a
 * payload that says it stands in for a real token, or an `exp` claim in the past (a server
 * refuses an expired token, so docs and tests that keep one ship nothing that works).
 */
function sampleJwtReason(token: string): string | undefined {
  const payload = decodeBase64(token.split('.')[1] ?? '')?.toString('utf8') ?? '';
  if (SAMPLE_JWT_PAYLOADS.some((re) => re.test(payload))) return 'documentation sample JWT';
  if (SAMPLE_JWT_WORDS.test(payload)) return 'sample JWT (its claims say so)';
  let claims: unknown;
  try {
    claims = JSON.parse(payload);
  } catch {
    return undefined;
  }
  // RFC 7519 NumericDate: seconds since the epoch, as a JSON number (a string is not one).
  const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
  if (typeof exp === 'number' && Number.isFinite(exp) && exp * 1000 < Date.now()) return 'expired JWT';
  return undefined;
}

/**
 * Why a shared access signature can no longer be used, or undefined: its signed expiry
 * (`se=2023-12-20T22:54:52Z`, also URL-encoded or a date alone) has passed. Documentation keeps
 * such URLs long after they stopped working; a SAS without a readable `se=` is kept.
 */
export function sasExpiredReason(match: string): string | undefined {
  const se = /(?:^|[?&])se=([0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}(?::|%3A)[0-9]{2}(?:(?::|%3A)[0-9]{2})?(?:\.[0-9]{1,7})?Z?)?)(?:&|$)/i.exec(match);
  if (!se?.[1]) return undefined;
  const when = Date.parse(se[1].replace(/%3A/gi, ':').replace(/^([^T]{10})$/, '$1T00:00:00Z').replace(/(T[0-9:.]{5,})$/, '$1Z'));
  return Number.isFinite(when) && when < Date.now() ? `expired SAS (se=${se[1]})` : undefined;
}

// The floors generic-password-assignment puts on a password, applied to the decoded one.
const BASIC_AUTH_MIN_ENTROPY = 3;
const BASIC_AUTH_MIN_CLASSES = 3;

/**
 * Why the base64 of an `Authorization: Basic` header is not a usable `user:password`, or
 * undefined: it must be padded base64 of UTF-8 text without control characters, hold a `:`
 * with a user name before it and a password after it, and the password must pass the gates of
 * generic-password-assignment (placeholders and stand-in words, digests, entropy, character
 * classes). `echo user:pass | base64` keeps the line break: one at the end is left out.
 */
export function basicAuthReason(secret: string): string | undefined {
  // Strict base64: a header value that is not padded to a multiple of 4 is a word, not a credential.
  if (secret.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) return 'not padded base64';
  const decoded = utf8Text(secret);
  if (decoded === undefined) return 'does not decode to UTF-8 text';
  const text = decoded.replace(/\r?\n$/, '');
  if (/[\x00-\x1f\x7f]/.test(text)) return 'does not decode to text';
  const colon = text.indexOf(':');
  if (colon < 0) return 'does not decode to user:password';
  if (colon === 0) return 'no user name before the password';
  const password = text.slice(colon + 1);
  if (password.length === 0) return 'no password after the user name';
  const placeholder = placeholderReason(password);
  if (placeholder) return `password is a placeholder: ${placeholder}`;
  if (looksLikePlaceholderWord(password)) return 'password is a placeholder word';
  const digest = digestReason(password);
  if (digest) return `password is ${digest}`;
  const bits = entropy(password);
  if (bits < BASIC_AUTH_MIN_ENTROPY) return `password entropy ${bits.toFixed(2)} < ${BASIC_AUTH_MIN_ENTROPY}`;
  const classes = charClasses(password);
  if (classes < BASIC_AUTH_MIN_CLASSES) return `password has ${classes} character classes < ${BASIC_AUTH_MIN_CLASSES}`;
  return undefined;
}

const CHECKSUMMED_TOKEN_SHAPE = /^(?:gh[pousr]|npm)_[A-Za-z0-9]{36}$/;

/** Whether a value is 32 or more hex digits, one case: where an entropy validator's `hexMin` applies. */
function isLongHex(secret: string): boolean {
  return secret.length >= 32 && (/^[0-9a-f]+$/.test(secret) || /^[0-9A-F]+$/.test(secret));
}

function runValidator(spec: ValidatorSpec, secret: string, match: string): string | undefined {
  switch (spec.type) {
    case 'checksum': {
      const ok =
        spec.scheme === 'github-crc32'
          ? githubChecksumValid(secret)
          : spec.scheme === 'gitlab-routable'
            ? gitlabRoutableChecksumValid(secret)
            : spec.scheme === 'grafana-crc32'
              ? grafanaChecksumValid(secret)
              : spec.scheme === 'vercel-crc32'
                ? vercelChecksumValid(secret)
                : zuploChecksumValid(secret);
      return ok ? undefined : `checksum (${spec.scheme}) does not match`;
    }
    case 'entropy': {
      const bits = entropy(secret);
      // Hex holds at most 4 bits per character, so one floor for every alphabet drops random
      // hex keys (a 3.5 floor drops about 1 in 5 of 32 digits): those have their own floor.
      const min = spec.hexMin !== undefined && isLongHex(secret) ? spec.hexMin : spec.min;
      return bits >= min ? undefined : `entropy ${bits.toFixed(2)} < ${min}`;
    }
    case 'charclasses': {
      const n = charClasses(secret);
      // A long value of two classes (lower-case hex, `openssl rand -hex`) is as hard to guess
      // as a short one of three: a rule may ask fewer classes of it.
      const min = spec.longMin !== undefined && spec.longFrom !== undefined && secret.length >= spec.longFrom ? spec.longMin : spec.min;
      return n >= min ? undefined : `${n} character classes < ${min}`;
    }
    case 'pypi-macaroon':
      return pypiMacaroonValid(secret) ? undefined : 'not a PyPI macaroon';
    case 'jwt':
      if (!jwtValid(secret)) return 'not a signed JWT';
      return sampleJwtReason(secret);
    case 'pem':
      return pemBodyValid(secret) ? undefined : 'key body is not valid DER or OpenSSH';
    case 'not-placeholder':
      return looksLikePlaceholderWord(secret) ? 'placeholder word' : undefined;
    case 'not-digest':
      return digestReason(secret, match);
    case 'sas-not-expired':
      return sasExpiredReason(match);
    case 'basic-auth':
      return basicAuthReason(secret);
  }
}

/**
 * Decides whether a regex match is reported: the capture cut back to its text (a string in a
 * binary file ends where binary data begins), then the rule's allowlist, documented examples
 * and placeholder shapes, then the rule's validators in order. The matcher calls exactly this.
 */
export function acceptCandidate(rule: CompiledRule, capture: string, match: string): Acceptance {
  const secret = capture.slice(0, textPrefixLength(capture));
  if (secret.length === 0) return { ok: false, reason: capture.length ? 'binary data, not text' : 'empty secret' };
  if (rule.allowlist.includes(secret)) return { ok: false, reason: 'allowlisted by the rule' };
  const placeholder = placeholderReason(secret, match);
  if (placeholder) return { ok: false, reason: `placeholder: ${placeholder}` };
  // A value of a GitHub or npm token's exact shape whose CRC-32 does not match was never issued
  // (made up, or cut and mistyped): the generic rules (a bearer header, an assignment) would
  // otherwise report what the token rules refuse.
  if (CHECKSUMMED_TOKEN_SHAPE.test(secret) && !githubChecksumValid(secret)) {
    return { ok: false, reason: 'checksum (github-crc32) does not match: a GitHub or npm token shape, never issued' };
  }
  for (const spec of rule.validators) {
    const failed = runValidator(spec, secret, match);
    if (failed) return { ok: false, reason: failed };
  }
  return { ok: true, secret };
}
