#!/usr/bin/env node
// Recall against secretlint: writes one small file per credential format that secretlint's
// recommended preset detects (and a few it does not), in the places packages carry them
// (.env, .npmrc, JSON, YAML, JS, minified JS, Python, Markdown, source maps), runs pubguard
// and secretlint over the tree, and compares them file by file. Every fake is generated
// here, at run time, from a seeded generator, with valid checksums where the format has
// one: nothing that looks like a live credential is committed. See RECALL.md.
//
// Usage: node benchmarks/recall.mjs [--out DIR] [--seed N] [--secretlint DIR] [--json FILE]
//   --out DIR         write the fixtures to DIR (emptied first) and keep them; default a
//                     temp directory that is removed afterwards
//   --seed N          seed of the generator (default 7): same seed, same bytes
//   --secretlint DIR  where secretlint 13.0.6 + preset-recommend 13.1.0 are installed
//                     (default benchmarks/.cache/secretlint, which `pnpm bench` fills); without
//                     it only pubguard runs
//   --json FILE       write the per-fixture comparison to FILE
// Exit codes: 0 pubguard reports every fixture labelled `report` and none labelled `refuse`,
// 1 it does not, 2 the scan failed.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Prng, minifiedBundle, sourceMap } from '@pubguard/corpus';
import { base62Encode, crc32 } from '@pubguard/rules';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'pubguard.js');

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const B32 = `${UPPER}234567`;

const b64url = (s) => Buffer.from(s).toString('base64url');
const b64 = (s) => Buffer.from(s).toString('base64');

/** Token generators, each from the format's published shape (FACTS.md for the checksums). */
function makeTokens(rng) {
  const s = (alphabet, n) => rng.string(alphabet, n);
  const gh = (prefix) => {
    const body = s(ALNUM, 30);
    return `${prefix}_${body}${base62Encode(crc32(body)).padStart(6, '0')}`;
  };
  const glsa = () => {
    const head = `glsa_${s(ALNUM, 32)}`;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(crc32(head));
    return `${head}_${b.toString('hex')}`;
  };
  const glpatRoutable = () => {
    const payload = s(B64URL, 27);
    const head = `glpat-${payload}.01.${payload.length.toString(36).padStart(2, '0')}`;
    return `${head}${crc32(head).toString(36).padStart(7, '0')}`;
  };
  const jwt = (payload) => {
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    return `${header}.${b64url(JSON.stringify(payload))}.${s(B64URL, 342)}`;
  };
  const future = 4_102_444_800; // 2100-01-01: a fixture that stays unexpired
  const opsJson = JSON.stringify({
    signInAddress: 'acme-corp.1password.com',
    userAuth: { method: 'SRPg-4096', alg: 'PBES2g-HS256', iterations: 650000, salt: s(B64URL, 22) },
    email: `${s(LOWER + DIGITS, 13)}@1passwordserviceaccounts.com`,
    srpX: s(HEX, 64),
    muk: { alg: 'A256GCM', ext: false, k: s(B64URL, 43), key_ops: ['decrypt', 'encrypt'], kty: 'oct', kid: 'mp' },
    secretKey: `A3-${s(UPPER + DIGITS, 6)}-${s(UPPER + DIGITS, 6)}-${s(UPPER + DIGITS, 5)}-${s(UPPER + DIGITS, 5)}-${s(UPPER + DIGITS, 5)}-${s(UPPER + DIGITS, 5)}`,
    throttleSecret: { seed: s(HEX, 64), uuid: s(LOWER + DIGITS, 26) },
    deviceUuid: s(LOWER + DIGITS, 26),
  });
  const cf = (prefix) => {
    const body = s(ALNUM, 40);
    return `${prefix}_${body}${crc32(body).toString(16).padStart(8, '0')}`;
  };
  return {
    akia: `AKIA${s(B32, 16)}`,
    aida: `AIDA${s(B32, 16)}`,
    awsSecret: s(B64, 40),
    npm: gh('npm'),
    npmBadCrc: (() => {
      const t = gh('npm');
      return `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
    })(),
    ghp: gh('ghp'),
    gho: gh('gho'),
    ghpBadCrc: (() => {
      const t = gh('ghp');
      return `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
    })(),
    githubPat: `github_pat_${s(ALNUM, 22)}_${s(ALNUM, 59)}`,
    ghsStateless: `ghs_${rng.int(100000, 9999999)}_${jwt({ iss: 'github', sub: `installation:${rng.int(1e6, 9e7)}`, exp: future, iat: future - 3600 })}`,
    oauthHex: s(HEX, 40),
    glpat: `glpat-${s(B64URL, 20)}`,
    glpatRoutable: glpatRoutable(),
    glsa: glsa(),
    glc: `glc_${b64(JSON.stringify({ o: String(rng.int(100000, 999999)), n: 'publish-ci', k: s(ALNUM, 24), m: { r: 'prod-us-east-0' } }))}`,
    xoxb: `xoxb-${s(DIGITS, 12)}-${s(DIGITS, 13)}-${s(ALNUM, 24)}`,
    xoxp: `xoxp-${s(DIGITS, 12)}-${s(DIGITS, 12)}-${s(DIGITS, 13)}-${s(HEX, 32)}`,
    xapp: `xapp-1-A${s(UPPER + DIGITS, 10)}-${s(DIGITS, 13)}-${s(HEX, 64)}`,
    slackHook: `https://hooks.slack.com/services/T${s(UPPER + DIGITS, 10)}/B${s(UPPER + DIGITS, 10)}/${s(ALNUM, 24)}`,
    openaiProj: `sk-proj-${s(B64URL, 74)}T3BlbkFJ${s(B64URL, 74)}`,
    openaiLegacy: `sk-${s(ALNUM, 20)}T3BlbkFJ${s(ALNUM, 20)}`,
    anthropic: `sk-ant-api03-${s(B64URL, 93)}AA`,
    groq: `gsk_${s(ALNUM, 52)}`,
    hf: `hf_${s(UPPER + LOWER, 34)}`,
    linear: `lin_api_${s(ALNUM, 40)}`,
    notion: `ntn_${s(DIGITS, 11)}${s(ALNUM, 35)}`,
    sendgrid: `SG.${s(B64URL, 22)}.${s(B64URL, 43)}`,
    shpat: `shpat_${s(HEX, 32)}`,
    shpss: `shpss_${s(HEX, 32)}`,
    skLive: `sk_live_51${s(ALNUM, 97)}`,
    rkLive: `rk_live_51${s(ALNUM, 97)}`,
    skTest: `sk_test_51${s(ALNUM, 97)}`,
    ops: `ops_${b64(opsJson)}`,
    hvs: `hvs.CAESI${s(B64URL, 86)}`,
    hvb: `hvb.AAAAAQ${s(B64URL, 150)}`,
    hvr: `hvr.AAAAAQ${s(B64URL, 90)}`,
    vercel: `vcp_${s(ALNUM, 50)}${s(ALNUM, 6)}`,
    dapi: `dapi${s(HEX, 32)}`,
    dapiSuffix: `dapi${s(HEX, 32)}-2`,
    docker: `dckr_pat_${s(B64URL, 27)}`,
    figma: `figd_${s(B64URL, 40)}`,
    cfut: cf('cfut'),
    cfat: cf('cfat'),
    cfk: cf('cfk'),
    tsAuth: `tskey-auth-k${s(ALNUM, 11)}CNTRL-${s(ALNUM, 33)}`,
    tsApi: `tskey-api-k${s(ALNUM, 11)}CNTRL-${s(ALNUM, 33)}`,
    tsClient: `tskey-client-k${s(ALNUM, 11)}CNTRL-${s(ALNUM, 33)}`,
    dbPassword: `${s(ALNUM, 6)}-${s(ALNUM, 10)}`,
    urlPassword: `${s(ALNUM, 14)}`,
  };
}

/** Key material generated with node:crypto (and ssh-keygen when installed): real shapes, no real keys. */
function makeKeys(rng, scratch) {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keys = {
    rsaPkcs1: rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }),
    pkcs8: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ecSec1: ec.privateKey.export({ type: 'sec1', format: 'pem' }),
    encrypted: rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'fixture' }),
    openssh: null,
    pgp: (() => {
      const body = Buffer.from(rng.bytes(900)).toString('base64').match(/.{1,64}/g).join('\n');
      return `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${body}\n=${rng.string(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----\n`;
    })(),
  };
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy@ci', '-f', join(scratch, 'id_fixture')], { encoding: 'utf8' });
  if (r.status === 0) keys.openssh = readFileSync(join(scratch, 'id_fixture'), 'utf8');
  return keys;
}

// Contexts: each turns a value into a file's text the way packages carry such values.
const ctx = {
  env: (name, v) => ['config/.env.production', `NODE_ENV=production\nPORT=8080\n${name}=${v}\n`],
  npmrc: (_n, v) => ['.npmrc', `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${v}\nalways-auth=true\n`],
  json: (name, v) => [`config/${name.toLowerCase()}.json`, `{\n  "name": "upstream-client",\n  "upstream": {\n    "endpoint": "https://api.acme-corp.io/v1",\n    "${name}": "${v}"\n  }\n}\n`],
  yaml: (name, v) => ['deploy/values.yaml', `service:\n  name: upstream-client\n  replicas: 2\nenv:\n  - name: ${name}\n    value: "${v}"\n`],
  js: (_n, v) => ['lib/client.js', `'use strict';\nconst { request } = require('./http');\n\nmodule.exports = function connect() {\n  return request({\n    url: 'https://api.acme-corp.io/v1/items',\n    headers: { Authorization: 'Bearer ${v}' },\n  });\n};\n`],
  ts: (name, v) => ['src/settings.ts', `export const settings = {\n  region: 'eu-west-1',\n  ${name.toLowerCase()}: '${v}',\n} as const;\n`],
  py: (name, v) => ['acme_tools/settings.py', `"""Settings for the upstream client."""\nimport os\n\nTIMEOUT = 30\n${name} = "${v}"\n`],
  md: (name, v) => ['README.md', `# upstream-client\n\n## Usage\n\n\`\`\`sh\nexport ${name}=${v}\nnpx upstream-client sync\n\`\`\`\n`],
  url: (_n, v) => ['lib/db.js', `const pool = createPool('${v}');\nmodule.exports = pool;\n`],
};

/** The fixture list: what each file holds, which secretlint rule targets it, and what pubguard should do. */
function makeCases(t, k) {
  const c = [];
  const add = (id, secretlintRule, context, name, value, expect, why = '') => c.push({ id, secretlintRule, context, name, value, expect, why });
  // aws
  add('aws-access-key-id', 'aws', 'js', '', t.akia, 'report');
  add('aws-secret-access-key', 'aws', 'env', 'AWS_SECRET_ACCESS_KEY', t.awsSecret, 'report');
  add('aws-unique-id-aida', 'aws', 'json', 'UserId', t.aida, 'refuse', 'AIDA/AROA/ANPA… are IAM unique ids, not credentials');
  add('aws-account-id', 'aws', 'yaml', 'AWS_ACCOUNT_ID', '1234-5678-9012', 'refuse', 'an account id is not a secret');
  add('aws-documented-example', 'aws', 'js', '', 'AKIAIOSFODNN7EXAMPLE', 'refuse', "AWS's documented example key");
  // gcp
  c.push({ id: 'gcp-service-account-json', secretlintRule: 'gcp', file: ['credentials/service-account.json', `${JSON.stringify({ type: 'service_account', project_id: 'acme-prod-4821', private_key_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'.replace(/./g, (ch, i) => HEX[(ch.charCodeAt(0) + i * 7) % 16]), private_key: k.pkcs8, client_email: 'publisher@acme-prod-4821.iam.gserviceaccount.com', client_id: '109876543210987654321', token_uri: 'https://oauth2.googleapis.com/token' }, null, 2)}\n`], expect: 'report' });
  // private keys, in files whose names no path rule knows
  c.push({ id: 'privatekey-rsa-pkcs1-js-string', secretlintRule: 'privatekey', file: ['lib/sign.js', `const KEY = ${JSON.stringify(k.rsaPkcs1)};\nmodule.exports = { KEY };\n`], expect: 'report' });
  c.push({ id: 'privatekey-pkcs8-python', secretlintRule: 'privatekey', file: ['acme_tools/keys.py', `SIGNING_KEY = """${k.pkcs8}"""\n`], expect: 'report' });
  c.push({ id: 'privatekey-ec-yaml', secretlintRule: 'privatekey', file: ['deploy/tls.yaml', `tls:\n  key: |\n${k.ecSec1.trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}\n`], expect: 'report' });
  c.push({ id: 'privatekey-encrypted-pkcs8-md', secretlintRule: 'privatekey', file: ['docs/SETUP.md', `# Setup\n\n\`\`\`\n${k.encrypted}\`\`\`\n`], expect: 'report' });
  if (k.openssh) c.push({ id: 'privatekey-openssh-txt', secretlintRule: 'privatekey', file: ['scripts/deploy-key.txt', k.openssh], expect: 'report' });
  c.push({ id: 'privatekey-pgp-asc-in-js', secretlintRule: 'privatekey', file: ['lib/pgp.js', `export const ARMORED = \`${k.pgp}\`;\n`], expect: 'report' });
  // npm
  add('npm-token-npmrc', 'npm', 'npmrc', '', t.npm, 'report');
  add('npm-token-js', 'npm', 'js', '', t.npm, 'report');
  add('npm-token-bad-checksum', 'npm', 'js', '', t.npmBadCrc, 'refuse', 'CRC-32 does not match: not a token npm issued');
  add('npmrc-legacy-uuid-token', 'npm', 'npmrc', '', '6f2c9e1a-4b7d-4e38-9a0f-2d5c8b1e7f43', 'report');
  c.push({ id: 'npm-x-oauth-basic-url', secretlintRule: 'npm', file: ['package.json', `{\n  "name": "acme-widgets",\n  "version": "1.0.0",\n  "dependencies": {\n    "acme-internal": "git+https://${t.oauthHex}:x-oauth-basic@github.com/acme/internal.git"\n  }\n}\n`], expect: 'report' });
  // slack
  add('slack-bot-token', 'slack', 'js', '', t.xoxb, 'report');
  add('slack-user-token', 'slack', 'py', 'SLACK_TOKEN', t.xoxp, 'report');
  add('slack-app-token', 'slack', 'yaml', 'SLACK_APP_TOKEN', t.xapp, 'report');
  add('slack-webhook', 'slack', 'ts', 'WEBHOOK', t.slackHook, 'report');
  // basic auth in URLs
  add('basicauth-https', 'basicauth', 'url', '', `https://deploy:${t.urlPassword}@registry.acme-corp.io/simple/`, 'report');
  add('basicauth-ftp', 'basicauth', 'url', '', `ftp://mirror:${t.urlPassword}@ftp.acme-corp.io/pub/`, 'report');
  add('basicauth-placeholder', 'basicauth', 'url', '', 'https://user:pass@registry.acme-corp.io/', 'refuse', 'user/pass stand-ins');
  // AI providers
  add('openai-project-key', 'openai', 'env', 'OPENAI_API_KEY', t.openaiProj, 'report');
  add('openai-legacy-key', 'openai', 'py', 'OPENAI_KEY', t.openaiLegacy, 'report');
  add('anthropic-key', 'anthropic', 'ts', 'ANTHROPIC', t.anthropic, 'report');
  add('groq-key', 'groq', 'js', '', t.groq, 'report');
  add('huggingface-token', 'huggingface', 'py', 'HF', t.hf, 'report');
  // SaaS
  add('linear-api-key', 'linear', 'js', '', t.linear, 'report');
  add('notion-token', 'notion', 'json', 'notionToken', t.notion, 'report');
  add('sendgrid-key', 'sendgrid', 'md', 'SENDGRID_API_KEY', t.sendgrid, 'report');
  add('shopify-access-token', 'shopify', 'js', '', t.shpat, 'report');
  add('shopify-shared-secret', 'shopify', 'yaml', 'SHOPIFY_SECRET', t.shpss, 'report');
  add('stripe-live-secret', 'stripe', 'ts', 'STRIPE', t.skLive, 'report');
  add('stripe-live-restricted', 'stripe', 'js', '', t.rkLive, 'report');
  add('stripe-test-secret', 'stripe', 'ts', 'STRIPE', t.skTest, 'refuse', 'test-mode keys cannot move money');
  // GitHub, GitLab, Grafana
  add('github-classic-pat', 'github', 'env', 'GH_TOKEN', t.ghp, 'report');
  add('github-oauth-token', 'github', 'js', '', t.gho, 'report');
  add('github-bad-checksum', 'github', 'js', '', t.ghpBadCrc, 'refuse', 'CRC-32 does not match: not a token GitHub issued');
  add('github-fine-grained-pat', 'github', 'yaml', 'GITHUB_TOKEN', t.githubPat, 'report');
  add('github-app-installation-stateless', 'github', 'js', '', t.ghsStateless, 'report');
  add('gitlab-pat-legacy', 'gitlab', 'py', 'GITLAB', t.glpat, 'report');
  add('gitlab-pat-routable', 'gitlab', 'js', '', t.glpatRoutable, 'report');
  add('grafana-service-account', 'grafana', 'js', '', t.glsa, 'report');
  add('grafana-cloud-token', 'grafana', 'env', 'GRAFANA_CLOUD_TOKEN', t.glc, 'report');
  add('onepassword-service-account', 'onepassword', 'yaml', 'OP_SERVICE_ACCOUNT_TOKEN', t.ops, 'report');
  // databases
  add('mongodb-srv', 'database-connection-string', 'url', '', `mongodb+srv://app:${t.dbPassword}@cluster0.x7k2p.mongodb.net/prod?retryWrites=true`, 'report');
  add('mysql-uri', 'database-connection-string', 'url', '', `mysql://app:${t.dbPassword}@db.acme-corp.io:3306/shop`, 'report');
  add('postgres-uri', 'database-connection-string', 'url', '', `postgresql://app:${t.dbPassword}@pg.acme-corp.io:5432/shop`, 'report');
  add('jdbc-mysql-uri', 'database-connection-string', 'url', '', `jdbc:mysql://app:${t.dbPassword}@db.acme-corp.io:3306/shop`, 'report');
  add('postgres-localhost-password', 'database-connection-string', 'url', '', 'postgres://postgres:postgres@localhost:5432/test', 'refuse', 'local stand-in credentials');
  // HashiCorp, Vercel, Databricks, Docker, Figma, Cloudflare, Tailscale
  add('vault-service-token', 'hashicorp-vault', 'env', 'VAULT_TOKEN', t.hvs, 'report');
  add('vault-batch-token', 'hashicorp-vault', 'js', '', t.hvb, 'report');
  add('vault-recovery-token', 'hashicorp-vault', 'js', '', t.hvr, 'report');
  add('vercel-token', 'vercel', 'js', '', t.vercel, 'report');
  add('databricks-token', 'databricks', 'py', 'DATABRICKS', t.dapi, 'report');
  add('databricks-token-suffix', 'databricks', 'js', '', t.dapiSuffix, 'report');
  add('docker-pat', 'docker', 'md', 'DOCKER_PASSWORD', t.docker, 'report');
  add('figma-pat', 'figma', 'js', '', t.figma, 'report');
  add('cloudflare-user-token', 'cloudflare', 'js', '', t.cfut, 'report');
  add('cloudflare-account-token', 'cloudflare', 'yaml', 'CF_ACCOUNT', t.cfat, 'report');
  add('cloudflare-global-key', 'cloudflare', 'py', 'CF_GLOBAL', t.cfk, 'report');
  add('tailscale-auth-key', 'tailscale', 'md', 'TS_AUTHKEY', t.tsAuth, 'report');
  add('tailscale-api-key', 'tailscale', 'js', '', t.tsApi, 'report');
  add('tailscale-oauth-client', 'tailscale', 'yaml', 'TS_OAUTH', t.tsClient, 'report');
  // carriers a package build produces: minified bundle and its source map
  c.push({ id: 'github-pat-minified', secretlintRule: 'github', carrier: 'minified', value: t.ghp, expect: 'report' });
  c.push({ id: 'figma-pat-sourcemap', secretlintRule: 'figma', carrier: 'sourcemap', value: `Bearer ${t.figma}`, expect: 'report' });
  // placeholders secretlint's shapes accept
  add('placeholder-github-x', 'github', 'md', 'GH_TOKEN', `ghp_${'x'.repeat(36)}`, 'refuse', 'placeholder');
  add('placeholder-slack', 'slack', 'md', 'SLACK_TOKEN', 'xoxb-your-bot-token-here', 'refuse', 'placeholder');
  add('placeholder-npmrc-var', 'npm', 'npmrc', '', '${NPM_TOKEN}', 'refuse', 'environment variable reference');
  add('placeholder-npmrc-token-word', 'npm', 'npmrc', '', 'YOUR_NPM_TOKEN', 'refuse', 'placeholder');
  return c;
}

function writeFixtures(out, cases) {
  const used = new Set();
  for (const [i, fx] of cases.entries()) {
    let path;
    let content;
    if (fx.file) [path, content] = fx.file;
    else if (fx.carrier === 'minified') ({ path, content } = minifiedBundle(fx.value, { size: 24 * 1024, seed: i }));
    else if (fx.carrier === 'sourcemap') ({ path, content } = sourceMap(fx.value, { seed: i }));
    else [path, content] = ctx[fx.context](fx.name, fx.value);
    // One fixture per directory: the comparison is per file, and path rules see real names.
    const rel = `${fx.id}/${path}`;
    if (used.has(rel)) throw new Error(`two fixtures write ${rel}`);
    used.add(rel);
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    writeFileSync(join(out, rel), content);
    fx.path = rel;
  }
}

function runPubguard(dir) {
  const r = spawnSync(process.execPath, [CLI, 'scan', '--format', 'json', '-q', '.'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`pubguard exited ${r.status}: ${r.stderr.trim()}`);
  const report = JSON.parse(r.stdout);
  if (report.errors.length > 0) throw new Error(`pubguard reported errors: ${JSON.stringify(report.errors)}`);
  const byFile = new Map();
  for (const f of report.findings) {
    const p = f.path.replace(/^\.\//, '');
    byFile.set(p, [...(byFile.get(p) ?? []), f.ruleId]);
  }
  return byFile;
}

function runSecretlint(dir, slDir) {
  const bin = join(slDir, 'node_modules', 'secretlint', 'bin', 'secretlint.js');
  const rc = join(slDir, '.secretlintrc.json');
  if (!existsSync(bin) || !existsSync(rc)) return null;
  const r = spawnSync(process.execPath, [bin, '**/*', '--secretlintrc', rc, '--format', 'json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`secretlint exited ${r.status}: ${r.stderr.trim()}`);
  const results = JSON.parse(r.stdout);
  const byFile = new Map();
  for (const res of results) {
    if (res.messages.length === 0) continue;
    const p = res.filePath.startsWith(dir) ? res.filePath.slice(dir.length + 1) : res.filePath;
    byFile.set(p, res.messages.map((m) => m.ruleId.replace('@secretlint/secretlint-rule-', '')));
  }
  return byFile;
}

function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, seed: { type: 'string', default: '7' }, secretlint: { type: 'string' }, json: { type: 'string' } },
  });
  const scratch = mkdtempSync(join(tmpdir(), 'pubguard-recall-'));
  const out = values.out ?? join(scratch, 'fixtures');
  try {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const rng = new Prng(Number(values.seed));
    const cases = makeCases(makeTokens(rng), makeKeys(rng, scratch));
    writeFixtures(out, cases);
    const pg = runPubguard(out);
    const sl = runSecretlint(out, values.secretlint ?? join(HERE, '.cache', 'secretlint'));
    const rows = cases.map((fx) => {
      const pubguard = pg.get(fx.path) ?? [];
      const secretlint = sl ? (sl.get(fx.path) ?? []) : null;
      const ok = fx.expect === 'report' ? pubguard.length > 0 : pubguard.length === 0;
      return { id: fx.id, path: fx.path, secretlintRule: fx.secretlintRule, expect: fx.expect, why: fx.why ?? '', pubguard: [...new Set(pubguard)], secretlint: secretlint && [...new Set(secretlint)], ok };
    });
    const w = (s, n) => String(s).padEnd(n);
    console.log(`${w('fixture', 36)} ${w('expect', 7)} ${w('pubguard', 44)} ${w('secretlint', 28)} verdict`);
    for (const r of rows) {
      const slText = r.secretlint === null ? '(not run)' : r.secretlint.join(',') || '—';
      console.log(`${w(r.id, 36)} ${w(r.expect, 7)} ${w(r.pubguard.join(',') || '—', 44)} ${w(slText, 28)} ${r.ok ? 'ok' : 'MISMATCH'}${r.why ? `  (${r.why})` : ''}`);
    }
    const count = (f) => rows.filter(f).length;
    const reportRows = rows.filter((r) => r.expect === 'report');
    console.log(`\n${rows.length} fixtures (${reportRows.length} credentials, ${rows.length - reportRows.length} to refuse), seed ${values.seed}`);
    console.log(`pubguard:   ${count((r) => r.expect === 'report' && r.pubguard.length > 0)}/${reportRows.length} credentials reported, ${count((r) => r.expect === 'refuse' && r.pubguard.length > 0)} refusals reported`);
    if (sl) console.log(`secretlint: ${count((r) => r.expect === 'report' && r.secretlint.length > 0)}/${reportRows.length} credentials reported, ${count((r) => r.expect === 'refuse' && r.secretlint.length > 0)} refusals reported`);
    else console.log('secretlint: not installed (`corepack pnpm bench` installs it; or pass --secretlint DIR)');
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ seed: Number(values.seed), rows }, null, 2)}\n`);
    return rows.every((r) => r.ok) ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`recall: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
}
