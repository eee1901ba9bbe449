import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsModule, npmTarball } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshKey } from '../packages/release/src/testing/fixtures.js';
import { type ProcessResult, runPubguard } from './helpers.js';
import { assertNoToken, auditRecords, checksummedToken } from './publish-helpers.js';
import { startWebhook } from './servers/pypi.js';
import { type Verdaccio, startVerdaccio } from './servers/verdaccio.js';

/** The major version of the npm on PATH, which the publish tests run. */
function npmMajor(): number {
  return Number(execFileSync('npm', ['--version'], { encoding: 'utf8' }).split('.')[0]);
}

// `pubguard publish npm` with the real npm client against a real Verdaccio on 127.0.0.1.
const NAME = 'acme-pubguard-demo';
const VERSION = '1.4.0';
const FILE = `${NAME}-${VERSION}.tgz`;

let registry: Verdaccio;
let hook: Awaited<ReturnType<typeof startWebhook>>;
let token = '';
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-npm-'));
const outputs: ProcessResult[] = [];
const audit = join(cwd, 'audit.jsonl');
// The processes' temp directory, so the test can see that no npm userconfig is left in it.
const tmp = join(cwd, 'tmp');

async function publish(args: string[], env: Record<string, string>, dir = cwd): Promise<ProcessResult> {
  const r = await runPubguard(['publish', 'npm', ...args, '--registry', registry.url, '--audit', audit, '--notify', hook.url, '--jobs', '0'], {
    cwd: dir,
    env: { GITHUB_REF: '', GITHUB_ACTOR: 'release-bot', TMPDIR: tmp, ...env },
  });
  outputs.push(r);
  return r;
}

async function tarball(dir: string, extra: { path: string; content: string | Uint8Array }[] = []): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FILE);
  writeFileSync(path, await npmTarball(NAME, VERSION, [{ path: 'index.js', content: 'module.exports = () => 42;\n' }, ...extra]));
  return path;
}

beforeAll(async () => {
  [registry, hook] = await Promise.all([startVerdaccio(), startWebhook()]);
  token = await registry.addUser('release-bot', `pw-${checksummedToken('x_')}`);
  await tarball(join(cwd, 'dist'));
  mkdirSync(tmp);
  const alice = sshKey(cwd, 'id_alice');
  const bob = sshKey(cwd, 'id_bob');
  mkdirSync(join(cwd, '.pubguard'));
  writeFileSync(
    join(cwd, '.pubguard/policy.json'),
    JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] }, bob: { keys: [bob.pub] } }, groups: { 'security-team': ['alice'] }, rule: { minApprovers: 2, groups: { 'security-team': 1 } } }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), hook?.stop()]);
  rmSync(cwd, { recursive: true, force: true });
});

describe('pubguard publish npm (Verdaccio, real npm)', () => {
  it("publishes to --registry even when the project's .npmrc and the global npmrc route the package's scope and auth elsewhere", async () => {
    const name = '@acme/pubguard-scoped';
    const dir = join(cwd, 'scoped-project');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'dist', `acme-pubguard-scoped-${VERSION}.tgz`), await npmTarball(name, VERSION, [{ path: 'index.js', content: 'module.exports = 1;\n' }]));
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    // A project .npmrc as found in many repositories: the scope on another registry, with another credential.
    writeFileSync(join(dir, '.npmrc'), '@acme:registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${OTHER_TOKEN}\n');
    // And a global npm config ($PREFIX/etc/npmrc) that does the same.
    mkdirSync(join(dir, 'prefix/etc'), { recursive: true });
    writeFileSync(join(dir, 'prefix/etc/npmrc'), '@acme:registry=http://127.0.0.1:9/\n');
    const r = await publish([`dist/acme-pubguard-scoped-${VERSION}.tgz`, '--tag-name', `v${VERSION}`], { NPM_TOKEN: token, OTHER_TOKEN: 'unrelated', PREFIX: join(dir, 'prefix') }, dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await registry.packument(name))?.versions?.[VERSION]).toBeDefined();
  });

  it('refuses a wrong tag', async () => {
    const r = await publish([`dist/${FILE}`, '--tag-name', 'v1.4.1'], { NPM_TOKEN: token });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/REFUSED\s+version .*package\.json says 1\.4\.0, tag v1\.4\.1 says 1\.4\.1/);
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.version', outcome: 'refused' });
    expect(await registry.packument(NAME)).toBeUndefined();
  });

  it('refuses when approvals are missing', async () => {
    const r = await publish([`dist/${FILE}`, '--tag-name', `v${VERSION}`, '--require-approvals'], { NPM_TOKEN: token });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('REFUSED approvals');
    expect(r.stdout).toContain('missing 1 more approval from group security-team');
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.approvals', outcome: 'refused' });
    expect(await registry.packument(NAME)).toBeUndefined();
  });

  it('refuses a tarball with a planted secret before anything reaches the registry', async () => {
    const planted = checksummedToken('ghp_');
    const carrier = jsModule(planted, { path: 'lib/upstream.js', seed: 3 });
    await tarball(join(cwd, 'leaky'), [{ path: carrier.path, content: carrier.content }]);
    const r = await publish([`leaky/${FILE}`, '--tag-name', `v${VERSION}`], { NPM_TOKEN: token });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('REFUSED scan');
    expect(r.stdout).toContain('github-classic-token');
    expect(r.stdout).not.toContain(planted);
    expect(readFileSync(audit, 'utf8')).not.toContain(planted);
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.scan', outcome: 'refused' });
    expect(await registry.packument(NAME)).toBeUndefined();
  });

  it("scans with the project's pubguard.config.json: its custom rule refuses, its allowlist and rules.disable pass", async () => {
    const name = 'acme-pubguard-configured';
    const file = `dist/${name}-${VERSION}.tgz`;
    const dir = join(cwd, 'configured-project');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    mkdirSync(join(dir, '.pubguard'));
    const acmeKey = `acme_${randomBytes(16).toString('hex')}`;
    const fixtureToken = checksummedToken('ghp_');
    const acmeRule = { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})', examples: [`k = acme_${'0a1b2c3d'.repeat(4)}`] };
    writeFileSync(join(dir, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [acmeRule] }, allowlist: { paths: ['dist/*.tgz!package/fixtures/**'] } }));
    const pack = async (extra: { path: string; content: string }[]): Promise<void> => {
      writeFileSync(join(dir, file), await npmTarball(name, VERSION, [{ path: 'index.js', content: 'module.exports = 1;\n' }, { path: 'fixtures/token.js', content: `t = '${fixtureToken}';\n` }, ...extra]));
    };

    await pack([{ path: 'lib/client.js', content: `const key = '${acmeKey}';\n` }]);
    const leaky = await publish([file, '--tag-name', `v${VERSION}`], { NPM_TOKEN: token }, dir);
    expect(leaky.code, leaky.stdout + leaky.stderr).toBe(1);
    expect(leaky.stdout).toMatch(/REFUSED scan +1 finding: acme-key at dist\/acme-pubguard-configured-1\.4\.0\.tgz!package\/lib\/client\.js:1/);
    expect(leaky.stdout + readFileSync(audit, 'utf8')).not.toContain(acmeKey);
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.scan', outcome: 'refused', details: { config: 'pubguard.config.json' } });
    expect(await registry.packument(name)).toBeUndefined();

    // The token under fixtures/ is allowlisted by the config, as `pubguard scan` allows it.
    await pack([]);
    expect((await runPubguard(['scan', file, '-q'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, '.pubguard/strict.json'), JSON.stringify({ rules: { custom: [acmeRule] } }));
    const strict = await publish([file, '--tag-name', `v${VERSION}`, '--dry-run', '--config', '.pubguard/strict.json'], { NPM_TOKEN: token }, dir);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('REFUSED scan      1 finding: github-classic-token');
    writeFileSync(join(dir, '.pubguard/relaxed.json'), JSON.stringify({ rules: { disable: ['github-classic-token'] } }));
    const relaxed = await publish([file, '--tag-name', `v${VERSION}`, '--dry-run', '--config', '.pubguard/relaxed.json'], { NPM_TOKEN: token }, dir);
    expect(relaxed.code, relaxed.stdout + relaxed.stderr).toBe(0);
    const r = await publish([file, '--tag-name', `v${VERSION}`], { NPM_TOKEN: token }, dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`ok      scan      no secrets in 3 files`);
    expect((await registry.packument(name))?.versions?.[VERSION]).toBeDefined();
  });

  it('approves, then refuses the same file name with other bytes (changed after approval)', async () => {
    for (const key of ['id_alice', 'id_bob']) {
      const a = await runPubguard(['approve', `dist/${FILE}`, '--key', key, '--expires', '1h', '--no-audit'], { cwd });
      expect(a.stderr).toBe('');
      expect(a.code).toBe(0);
    }
    const changed = join(cwd, 'changed');
    await tarball(changed, [{ path: 'README.md', content: 'one more file after approval\n' }]);
    const r = await publish([`changed/${FILE}`, '--tag-name', `v${VERSION}`, '--require-approvals'], { NPM_TOKEN: token });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('has other bytes');
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.approvals', outcome: 'refused' });
    expect(await registry.packument(NAME)).toBeUndefined();
  });

  it('refuses a GitHub token offered as NPM_TOKEN: nothing uploaded, exit 1, audit record', async () => {
    const gh = checksummedToken('ghs_');
    const r = await publish([`dist/${FILE}`, '--tag-name', `v${VERSION}`], { NPM_TOKEN: gh });
    // Run outside CI without --initiator: the one warning is that nobody can be left out.
    expect(r.stderr).toMatch(/^warning: the initiator of this release is unknown [^\n]*\n$/);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('NPM_TOKEN holds a GitHub token');
    expect(await registry.packument(NAME)).toBeUndefined();
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.token', outcome: 'refused' });
    expect(assertNoToken(gh, { stdout: r.stdout, stderr: r.stderr, audit: readFileSync(audit, 'utf8'), hooks: hook.bodies.join('\n') })).toEqual([]);
  });

  it('publishes a pre-release only under a dist-tag other than latest, which it gives npm, records and prints', async () => {
    const name = 'acme-pubguard-rc';
    const version = '1.5.0-rc.1';
    const dir = join(cwd, 'rc-project');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    const file = `dist/${name}-${version}.tgz`;
    const pack = async (manifest: Record<string, unknown>): Promise<void> => {
      writeFileSync(join(dir, file), await npmTarball(name, version, [{ path: 'package.json', content: JSON.stringify({ name, version, ...manifest }) }, { path: 'index.js', content: 'module.exports = 1;\n' }]));
    };
    const args = [file, '--tag-name', `v${version}`, '--allow-prerelease', '--initiator', 'carol'];
    // publishConfig.tag "latest" makes npm publish a pre-release as latest without a word.
    await pack({ publishConfig: { tag: 'latest' } });
    for (const extra of [['--dry-run'], []]) {
      const r = await publish([...args, ...extra], { NPM_TOKEN: token }, dir);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain(`REFUSED version   ${name}-${version}.tgz: ${version} is a pre-release`);
      expect(r.stdout).toContain(`package.json's publishConfig.tag says "latest"`);
    }
    // A top-level "tag" is what npm tags the version with, whatever --tag says.
    await pack({ tag: 'latest' });
    const top = await publish([...args, '--tag', 'next'], { NPM_TOKEN: token }, dir);
    expect(top.code, top.stdout + top.stderr).toBe(1);
    expect(top.stdout).toContain(`package.json's "tag" says "latest"`);
    // Without a dist-tag, npm 11 would fail only at the upload; npm 10 would make it latest.
    await pack({});
    const bare = await publish([...args, '--dry-run'], { NPM_TOKEN: token }, dir);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toContain('give it another dist-tag with --tag, such as --tag next');
    expect(await registry.packument(name)).toBeUndefined();

    // The release before it, which latest must go on naming.
    writeFileSync(join(dir, `dist/${name}-1.4.0.tgz`), await npmTarball(name, '1.4.0', [{ path: 'index.js', content: 'module.exports = 0;\n' }]));
    const stable = await publish([`dist/${name}-1.4.0.tgz`, '--tag-name', 'v1.4.0', '--initiator', 'carol'], { NPM_TOKEN: token }, dir);
    expect(stable.code, stable.stdout + stable.stderr).toBe(0);
    expect(stable.stdout).toContain(`published to ${registry.url} with dist-tag latest`);
    const r = await publish([...args, '--tag', 'next'], { NPM_TOKEN: token }, dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`ok      version   tag v${version} matches 1 artifact (${name} ${version}); dist-tag next`);
    expect(r.stdout).toContain(`PUBLISHED: ${name} ${version} published to ${registry.url} with dist-tag next`);
    const doc = (await registry.packument(name)) as { 'dist-tags'?: Record<string, string> };
    expect(doc['dist-tags']).toEqual({ latest: '1.4.0', next: version });
    const records = auditRecords(audit).slice(-8);
    expect(records.filter((x) => x.details?.distTag === 'next').map((x) => x.stage)).toEqual(['publish.version', 'publish.upload-start', 'publish.upload']);
    expect(JSON.parse(hook.bodies.at(-1)!)).toMatchObject({ event: 'published', distTag: 'next' });

    // latest left to npm: npm 11 will not move it down to a lower version unless told to.
    writeFileSync(join(dir, `dist/${name}-1.3.9.tgz`), await npmTarball(name, '1.3.9', [{ path: 'index.js', content: 'module.exports = -1;\n' }]));
    const older = await publish([`dist/${name}-1.3.9.tgz`, '--tag-name', 'v1.3.9', '--initiator', 'carol'], { NPM_TOKEN: token }, dir);
    if (npmMajor() >= 11) {
      expect(older.code, older.stdout + older.stderr).toBe(2);
      expect(older.stdout + older.stderr).toMatch(/previously published version 1\.4\.0 is higher/);
      expect(((await registry.packument(name)) as { 'dist-tags'?: Record<string, string> })['dist-tags']).toEqual({ latest: '1.4.0', next: version });
    }
    const tagged = await publish([`dist/${name}-1.3.9.tgz`, '--tag-name', 'v1.3.9', '--initiator', 'carol', '--tag', 'legacy'], { NPM_TOKEN: token }, dir);
    expect(tagged.code, tagged.stdout + tagged.stderr).toBe(0);
    expect(((await registry.packument(name)) as { 'dist-tags'?: Record<string, string> })['dist-tags']).toEqual({ latest: '1.4.0', next: version, legacy: '1.3.9' });
  });

  it("refuses a tarball whose publishConfig would send it, and a token, to another registry than --registry", async () => {
    // A registry stand-in that takes whatever npm sends it.
    const seen: string[] = [];
    const other = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => (req.method === 'PUT' ? res.writeHead(201, { 'content-type': 'application/json' }).end('{}') : res.writeHead(404).end('{}')));
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherUrl = `http://127.0.0.1:${(other.address() as { port: number }).port}/`;
    const name = '@acme/pubguard-routed';
    const dir = join(cwd, 'routed-project');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    const file = `dist/acme-pubguard-routed-${VERSION}.tgz`;
    const publishConfig = { '@acme:registry': otherUrl, [`//127.0.0.1:${(other.address() as { port: number }).port}/:_authToken`]: 'not-a-secret-but-not-ours' };
    writeFileSync(join(dir, file), await npmTarball(name, VERSION, [{ path: 'package.json', content: JSON.stringify({ name, version: VERSION, publishConfig }) }, { path: 'index.js', content: 'module.exports = 1;\n' }]));
    try {
      for (const extra of [['--dry-run'], []]) {
        const r = await publish([file, '--tag-name', `v${VERSION}`, ...extra], { NPM_TOKEN: token }, dir);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(r.stdout).toContain(`REFUSED version   acme-pubguard-routed-${VERSION}.tgz: package.json's publishConfig sets "@acme:registry" (where the package goes)`);
        expect(r.stdout).toContain('Remove them from publishConfig and pack again');
      }
    } finally {
      other.close();
    }
    expect(seen).toEqual([]);
    expect(await registry.packument(name)).toBeUndefined();
    expect(auditRecords(audit).at(-2)).toMatchObject({ stage: 'publish.version', outcome: 'refused' });
  });

  it('publishes the approved tarball with npm, and npm view reads it back', async () => {
    const r = await publish([`dist/${FILE}`, '--tag-name', `v${VERSION}`, '--require-approvals', '--tag', 'next'], { NPM_TOKEN: token });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const policySha = createHash('sha256').update(readFileSync(join(cwd, '.pubguard/policy.json'))).digest('hex');
    expect(r.stdout).toMatch(/ok\s+approvals approved by (alice \(security-team\) with key SHA256:\S+, bob with key SHA256:\S+|bob with key SHA256:\S+, alice \(security-team\) with key SHA256:\S+); under policy \.pubguard\/policy\.json \(sha256 ([0-9a-f]{64})\)/);
    expect(r.stdout).toContain(`(sha256 ${policySha})`);
    expect(r.stdout).toContain('PUBLISHED');
    const npmrc = join(cwd, 'view.npmrc');
    writeFileSync(npmrc, '');
    const seen = execFileSync('npm', ['view', `${NAME}@${VERSION}`, 'version', '--registry', registry.url, '--userconfig', npmrc], { cwd, encoding: 'utf8' });
    expect(seen.trim()).toBe(VERSION);
    const doc = (await registry.packument(NAME)) as { 'dist-tags'?: Record<string, string>; versions?: Record<string, { dist?: { shasum?: string } }> };
    expect(doc['dist-tags']?.next).toBe(VERSION);
    // The registry holds exactly the approved bytes.
    const sha1 = execFileSync('sha1sum', [join(cwd, 'dist', FILE)], { encoding: 'utf8' }).split(' ')[0];
    expect(doc.versions?.[VERSION]?.dist?.shasum).toBe(sha1);
    const records = auditRecords(audit).slice(-8);
    expect(records.map((x) => `${x.stage}:${x.outcome}`)).toEqual([
      'publish.version:passed',
      'publish.scan:passed',
      'publish.approvals:passed',
      'publish.token:passed',
      'publish.rehash:passed',
      'publish.upload-start:started',
      'publish.upload:passed',
      'publish.notify:passed',
    ]);
    expect(records[2]?.details).toMatchObject({ policy: { path: '.pubguard/policy.json', sha256: policySha }, initiator: 'unknown' });
    // Written before npm started: the registry, the files and their digests, never the token.
    const tarballSha = createHash('sha256').update(readFileSync(join(cwd, 'dist', FILE))).digest('hex');
    expect(records[5]).toMatchObject({ subjects: [{ name: FILE, sha256: tarballSha }], details: { ecosystem: 'npm', registry: registry.url, package: NAME, version: VERSION, distTag: 'next' } });
    expect(JSON.stringify(records[5])).not.toContain(token);
    const body = JSON.parse(hook.bodies.at(-1)!) as { approvals?: { policy?: { sha256?: string } } };
    expect(body.approvals?.policy?.sha256).toBe(policySha);
  });

  it("incident npm --execute deprecates the release, and unpublishes the package's only version with --unpublish-package only", async () => {
    const args = ['incident', 'npm', `${NAME}@${VERSION}`, '--registry', registry.url, '--execute', '--unpublish', '--audit', audit, '--message', 'leaked credential'];
    const env = { NPM_TOKEN: token, TMPDIR: tmp };
    const refused = await runPubguard(args, { cwd, env });
    outputs.push(refused);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toContain(`Deprecate ${NAME}@${VERSION} [done]`);
    expect(refused.stdout).toContain(`$ npm unpublish ${NAME}@${VERSION}\n`);
    expect(refused.stderr).toContain(`${VERSION} is the only version of ${NAME}: unpublishing it removes the whole package`);
    expect((await registry.packument(NAME))?.versions?.[VERSION]).toBeDefined();
    const r = await runPubguard([...args, '--unpublish-package'], { cwd, env });
    outputs.push(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`$ npm unpublish ${NAME}@${VERSION} --force\n     Unpublished ${NAME}@${VERSION}, the only version of ${NAME}: the whole package is removed`);
    expect(r.stdout).toContain('Rotation checklist');
    const stages = auditRecords(audit).slice(-10).map((x) => `${x.stage}:${x.outcome}`);
    const run = (unpublish: string) => ['incident.plan:passed', 'incident.rotate-secret:passed', 'incident.deprecate:passed', `incident.unpublish:${unpublish}`, 'incident.revoke-token:passed'];
    expect(stages).toEqual([...run('refused'), ...run('passed')]);
    const doc = await registry.packument(NAME);
    expect(doc?.versions?.[VERSION]).toBeUndefined();
  });

  it('never lets the token out: outputs, audit log, notifications, and no npmrc left behind', async () => {
    const verify = await runPubguard(['audit', 'verify', audit], { cwd });
    expect(verify.code).toBe(0);
    const texts: Record<string, string> = { audit: readFileSync(audit, 'utf8'), hooks: hook.bodies.join('\n') };
    outputs.forEach((o, i) => {
      texts[`stdout ${i}`] = o.stdout;
      texts[`stderr ${i}`] = o.stderr;
    });
    // Every publish run notifies; the two incident runs do not.
    expect(hook.bodies.length).toBe(outputs.length - 2);
    const last = JSON.parse(hook.bodies.at(-1)!) as { text: string; event: string; artifacts: { sha256: string }[]; approvers: string[]; auditHead: string };
    expect(last).toMatchObject({ event: 'published', approvers: expect.arrayContaining(['alice', 'bob']) });
    expect(last.text).toContain(`${NAME} ${VERSION} published`);
    expect(assertNoToken(token, texts)).toEqual([]);
    expect(readdirSync(tmp).filter((n) => n.startsWith('pubguard-'))).toEqual([]);
    copyFileSync(audit, join(cwd, 'audit.copy'));
  });
});
