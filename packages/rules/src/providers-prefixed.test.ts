import { randomInt, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportedByBuiltins as reported } from './testing.js';

// Tokens with a prefix of their own that gitleaks or trufflehog report and the built-in rules
// once missed. Each is generated here, so no fixed fake can drift into the rules' examples.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}_-`;
const HEX = '0123456789abcdef';
const rand = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');


/** A Mapbox token: the type, base64url JSON naming the account, a signature. */
function mapbox(type: 'sk' | 'pk'): string {
  const claims = Buffer.from(JSON.stringify({ u: rand('abcdefghijklmnopqrstuvwxyz', 9), a: rand(ALNUM, 25) })).toString('base64url');
  return `${type}.${claims}.${rand(B64URL, 22)}`;
}

const cases: [ruleId: string, token: () => string][] = [
  ['facebook-access-token', () => `EAAG${rand(ALNUM, 160)}`],
  ['mapbox-secret-token', () => mapbox('sk')],
  ['planetscale-token', () => `pscale_pw_${rand(ALNUM, 43)}`],
  ['brevo-api-key', () => `xkeysib-${rand(HEX, 64)}-${rand(ALNUM, 16)}`],
  ['easypost-production-api-key', () => `EZAK${rand(ALNUM, 54)}`],
  ['shippo-live-api-token', () => `shippo_live_${rand(HEX, 40)}`],
  ['typeform-personal-access-token', () => `tfp_${rand(ALNUM, 44)}_${rand(ALNUM, 14)}`],
  ['frameio-api-token', () => `fio-u-${rand(B64URL, 64)}`],
  ['readme-api-key', () => `rdme_${rand('abcdefghijklmnopqrstuvwxyz0123456789', 70)}`],
  ['clojars-deploy-token', () => `CLOJARS_${rand('abcdefghijklmnopqrstuvwxyz0123456789', 60)}`],
  ['maxmind-license-key', () => `${rand(ALNUM, 6)}_${rand(ALNUM, 29)}_mmk`],
  ['langsmith-api-key', () => `lsv2_pt_${rand(HEX, 32)}_${rand(HEX, 10)}`],
  ['flutterwave-secret-key', () => `FLWSECK-${rand(HEX, 32)}-X`],
  ['duffel-live-access-token', () => `duffel_live_${rand(B64URL, 43)}`],
  ['harness-access-token', () => `pat.${rand(B64URL, 22)}.${rand(HEX, 24)}.${rand(ALNUM, 20)}`],
  ['contentful-personal-access-token', () => `CFPAT-${rand(B64URL, 43)}`],
  ['supabase-personal-access-token', () => `sbp_${rand(HEX, 40)}`],
  ['supabase-secret-key', () => `sb_secret_${rand(B64URL, 31)}`],
  ['sourcegraph-access-token', () => `sgp_${rand(HEX, 16)}_${rand(HEX, 40)}`],
  ['prefect-api-key', () => `pnu_${rand(ALNUM, 36)}`],
  ['buildkite-api-token', () => `bkua_${rand(HEX, 40)}`],
  ['plaid-access-token', () => `access-production-${randomUUID()}`],
  ['openshift-user-token', () => `sha256~${rand(B64URL, 43)}`],
  ['adafruit-io-key', () => `aio_${rand(ALNUM, 28)}`],
  ['launchdarkly-sdk-key', () => `sdk-${randomUUID()}`],
  ['lob-live-api-key', () => `live_${rand(HEX, 35)}`],
  ['deno-deploy-token', () => `ddp_${rand(ALNUM, 36)}`],
  ['langfuse-secret-key', () => `sk-lf-${randomUUID()}`],
];

describe('prefixed provider tokens found since the comparison with gitleaks and trufflehog', () => {
  it.each(cases)('%s in a .env file, a minified bundle and JSON', (ruleId, token) => {
    // Several tokens, each judged alone: an entropy floor set too high would drop some of them.
    for (let i = 0; i < 20; i++) {
      const t = token();
      expect(reported(`API_TOKEN=${t}\n`, 'deploy/.env.production')[ruleId]).toEqual([t]);
      expect(reported(`var a=function(){return{k:"${t}"}};`, 'dist/index.min.js')[ruleId]).toEqual([t]);
      expect(reported(`{"credentials":{"token":"${t}"}}`, 'config.json')[ruleId]).toEqual([t]);
    }
  });

  it('test-mode, sandbox and public tokens of the same providers are not reported', () => {
    const near = [
      `EZTK${rand(ALNUM, 54)}`,
      `shippo_test_${rand(HEX, 40)}`,
      `FLWSECK_TEST-${rand(HEX, 32)}-X`,
      `duffel_test_${rand(B64URL, 43)}`,
      `access-sandbox-${randomUUID()}`,
      `sb_publishable_${rand(B64URL, 31)}`,
      mapbox('pk'),
      `mob-${randomUUID()}`,
      `test_${rand(HEX, 35)}`,
      `pk-lf-${randomUUID()}`,
    ];
    for (const t of near) {
      const ids = Object.keys(reported(`TOKEN="${t}"\n`, 'lib/config.js')).filter((id) => !id.startsWith('generic-'));
      expect(ids, t).toEqual([]);
    }
  });

  it('Algolia admin keys by their name, not search keys of the same shape', () => {
    const key = rand(HEX, 32);
    expect(reported(`ALGOLIA_ADMIN_KEY=${key}\n`, '.env')['algolia-admin-api-key']).toEqual([key]);
    expect(reported(`const c = { algoliaAdminApiKey: "${key}" };`)['algolia-admin-api-key']).toEqual([key]);
    expect(reported(`algolia.admin_key: '${key}'`, 'config.yml')['algolia-admin-api-key']).toEqual([key]);
    expect(reported(`ALGOLIA_SEARCH_KEY=${key}\n`, '.env')['algolia-admin-api-key']).toBeUndefined();
    expect(reported(`algoliasearch("ABCDEF1234", "${key}");`)['algolia-admin-api-key']).toBeUndefined();
  });

  it('a base64 blob that holds EAA is not a Meta token', () => {
    const blob = `${rand(ALNUM, 40)}EAAG${rand(ALNUM, 120)}+/${rand(ALNUM, 30)}==`;
    expect(reported(`const wasm = "${blob}";`)['facebook-access-token']).toBeUndefined();
    const start = `data:application/wasm;base64,EAAG${rand(ALNUM, 120)}/${rand(ALNUM, 20)}`;
    expect(reported(`const wasm = "${start}";`)['facebook-access-token']).toBeUndefined();
  });
});
