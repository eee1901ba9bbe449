import { randomInt, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportedByBuiltins as reported } from './testing.js';

// Leaks that gitleaks or trufflehog report and the built-in rules once missed, in the forms
// packages ship them. Tokens are generated here, so no fixed fake can drift into the rules' examples.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
// The alphabet of Django's get_random_secret_key().
const DJANGO = 'abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)';
const rand = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
/**
 * A key as get_random_secret_key() makes it, but without what every rule takes for a
 * placeholder: `$(` (shell command substitution, in 2% of keys) and filler runs (`***`).
 */
function djangoKey(): string {
  for (;;) {
    const key = rand(DJANGO, 50);
    if (!/\$\(|\*{3}|#{4}|_{5}|x{5}/.test(key)) return key;
  }
}


describe('formats found since the comparison with gitleaks and trufflehog', () => {
  it('Django secret keys that startproject writes, in settings.py and elsewhere', () => {
    const key = `django-insecure-${djangoKey()}`;
    expect(reported(`SECRET_KEY = '${key}'\n`, 'acme/settings.py')['django-insecure-secret-key']).toEqual([key]);
    expect(reported(`DJANGO_SECRET_KEY=${key}\n`, 'deploy/.env.production')['django-insecure-secret-key']).toEqual([key]);
  });

  it('Django production keys in settings modules only', () => {
    const key = djangoKey();
    const line = `SECRET_KEY = "${key}"\n`;
    for (const path of ['acme/settings.py', 'acme/prod_settings.py', 'acme/settings/production.py']) {
      expect(reported(line, path)['django-secret-key']).toEqual([key]);
    }
    expect(reported(`SECRET_KEY = os.getenv('SECRET_KEY', '${key}')\n`, 'acme/settings.py')['django-secret-key']).toEqual([key]);
    expect(reported(line, 'acme/views.py')['django-secret-key']).toBeUndefined();
  });

  it('Django production keys after a type annotation and after `or`', () => {
    const key = djangoKey();
    expect(reported(`SECRET_KEY: str = '${key}'\n`, 'app/settings_typed.py')['django-secret-key']).toEqual([key]);
    expect(reported(`SECRET_KEY: Final[str] = "${key}"\n`, 'app/settings.py')['django-secret-key']).toEqual([key]);
    expect(reported(`SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY') or '${key}'\n`, 'app/settings_or.py')['django-secret-key']).toEqual([key]);
    expect(reported(`SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY') or get_random_secret_key()\n`, 'app/settings.py')['django-secret-key']).toBeUndefined();
  });

  it('Snyk tokens in a workflow, a .env file and JSON', () => {
    const token = randomUUID();
    expect(reported(`      - uses: snyk/actions/node@master\n        env:\n          SNYK_TOKEN: ${token}\n`, '.github/workflows/snyk.yml')['snyk-api-token']).toEqual([token]);
    expect(reported(`SNYK_TOKEN=${token}\n`, 'config/production.env')['snyk-api-token']).toEqual([token]);
    expect(reported(`{ "snykToken": "${token}" }`, 'config.json')['snyk-api-token']).toEqual([token]);
  });

  it("Mailgun keys of the current format in mailgun.js's client call", () => {
    const key = `${rand(HEX, 32)}-${rand(HEX, 8)}-${rand(HEX, 8)}`;
    const text = `const mailgun = new Mailgun(FormData);\nconst mg = mailgun.client({ username: 'api', key: '${key}' });\n`;
    expect(reported(text, 'lib/mail.js')['mailgun-signing-key']).toEqual([key]);
  });

  it('Twilio API key SIDs passed to the client', () => {
    const sid = `SK${rand(HEX, 32)}`;
    const text = `const client = require('twilio')('${sid}', '${rand(ALNUM, 32)}', { accountSid: 'AC${rand(HEX, 32)}' });\n`;
    expect(reported(text, 'lib/sms.js')['twilio-api-key-sid']).toEqual([sid]);
    expect(reported(`const sid = '${sid}';\n`, 'lib/sms.js')['twilio-api-key-sid']).toBeUndefined();
  });

  it('passwords in curl -u and --user', () => {
    const password = `${rand(ALNUM, 13)}a7Q`;
    expect(reported(`curl -fsS -X PUT -u deploy:${password} https://nexus.acme.io/repository/raw/\n`, 'scripts/upload.sh')['curl-basic-auth']).toEqual([password]);
    expect(reported(`curl --user "deploy:${password}" -T app.tgz https://repo.acme.io/\n`, 'README.md')['curl-basic-auth']).toEqual([password]);
    expect(reported('curl -u "$NEXUS_USER:$NEXUS_PASSWORD" https://nexus.acme.io/\n', 'scripts/upload.sh')['curl-basic-auth']).toBeUndefined();
  });

  it('long passwords of two classes in curl -u: Jenkins API tokens and openssl rand -hex', () => {
    const jenkins = `11${rand(HEX, 32)}`;
    expect(reported(`curl -X POST -u ci-bot:${jenkins} https://jenkins.acme.io/job/deploy/build\n`, 'deploy.sh')['curl-basic-auth']).toEqual([jenkins]);
    const hex = rand(HEX, 32);
    expect(reported(`curl -u backup:${hex} https://dav.acme.io/\n`, 'backup.sh')['curl-basic-auth']).toEqual([hex]);
    const lower = rand('abcdefghijkmnopqrstuvwxyz23456789', 24);
    expect(reported(`curl -u backup:${lower} https://dav.acme.io/\n`, 'backup.sh')['curl-basic-auth']).toEqual([lower]);
    // Shorter than 20 characters, two classes are not enough.
    expect(reported(`curl -u backup:${hex.slice(0, 16)} https://dav.acme.io/\n`, 'backup.sh')['curl-basic-auth']).toBeUndefined();
  });

  it("a PuTTY key's secret ends with its own lines, not on the Private-MAC line", () => {
    const lines = [rand(`${ALNUM}+/`, 64), rand(`${ALNUM}+/`, 64), `${rand(`${ALNUM}+/`, 30)}=`];
    const ppk = [
      'PuTTY-User-Key-File-2: ssh-rsa',
      'Encryption: none',
      'Comment: deploy',
      'Public-Lines: 1',
      `AAAAB3NzaC1yc2EAAAADAQABAAAAgQ${rand(ALNUM, 34)}`,
      'Private-Lines: 3',
      ...lines,
      `Private-MAC: ${rand(HEX, 40)}`,
      '',
    ];
    for (const eol of ['\n', '\r\n']) {
      expect(reported(ppk.join(eol), 'keys/deploy.ppk')['putty-private-key']).toEqual([lines.join(eol)]);
    }
  });
});
