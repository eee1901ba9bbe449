import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { type Finding, fingerprint, removeAtExit } from '@pubguard/engine';
import { base62Encode, builtinRuleDefinitions, compileRules } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord } from '../audit.js';
import { canonicalStatement, buildStatement } from '../statement.js';
import { npmTarball, sdist, sshKey, sshKeygenSign, startHook, tarGz, wheel } from '../testing/fixtures.js';
import { type CommandRunner, spawnRunner } from './clients.js';
import { PublishError } from './errors.js';
import { publishRelease } from './pipeline.js';
import { unfinishedUploads } from './upload-trace.js';

const TOKEN = 'loopback-registry-token-0123456789';

/** A fake GitHub token with a valid checksum, from a fixed body. */
function githubToken(body: string): string {
  return `ghp_${body}${base62Encode(crc32(Buffer.from(body, 'latin1')))}`;
}

async function setup() {
  const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
  const file = await npmTarball(cwd, 'acme', '1.0.0');
  const calls: { args: string[]; npmrc: string; mode: number; env: Record<string, string | undefined> }[] = [];
  const runner: CommandRunner = async (_cmd, args, o) => {
    const cfg = args[args.indexOf('--userconfig') + 1]!;
    calls.push({ args: [...args], npmrc: readFileSync(cfg, 'utf8'), mode: statSync(cfg).mode & 0o777, env: o.env });
    return { code: 0, stdout: `+ acme@1.0.0 (authorised with ${TOKEN})\n`, stderr: '' };
  };
  const base = { ecosystem: 'npm' as const, files: [file], registry: 'http://127.0.0.1:9/', tag: 'v1.0.0', env: { NPM_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', runner, jobs: 0 };
  return { cwd, file, calls, base };
}

describe('publishRelease', () => {
  it('hands npm the token through a 0600 userconfig that refers to ${NPM_TOKEN}, removed afterwards, output masked', async () => {
    const { calls, base } = await setup();
    const r = await publishRelease(base);
    expect(r.status).toBe('published');
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c.args.join(' ')).not.toContain(TOKEN);
    expect(c.npmrc).toBe('registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n');
    expect(c.mode).toBe(0o600);
    expect(c.env.NPM_TOKEN).toBe(TOKEN);
    expect(existsSync(c.args[c.args.indexOf('--userconfig') + 1]!)).toBe(false);
    expect(r.clientOutput).not.toContain(TOKEN);
    expect(readFileSync(base.auditPath, 'utf8')).not.toContain(TOKEN);
  });

  it('counts the files the scan read in words that fit one file as well as several', async () => {
    const { cwd, base } = await setup();
    const only = join(cwd, 'acme-only.tgz');
    writeFileSync(only, await tarGz({ 'package/package.json': JSON.stringify({ name: 'acme', version: '1.0.0' }) }));
    const one = await publishRelease({ ...base, files: [only], dryRun: true });
    expect(one.steps.find((s) => s.step === 'scan')?.reason).toMatch(/^no secrets in 1 file \(\d+ bytes\)/);
    const two = await publishRelease({ ...base, dryRun: true });
    expect(two.steps.find((s) => s.step === 'scan')?.reason).toMatch(/^no secrets in 2 files \(\d+ bytes\)/);
  });

  it("pins a scoped package's scope to the registry and gives npm an empty global config", async () => {
    const { cwd, calls, base } = await setup();
    const file = await npmTarball(cwd, '@acme/tool', '1.0.0');
    let globalrc: { path: string; text: string } | undefined;
    const runner: CommandRunner = async (cmd, args, o) => {
      const at = args.indexOf('--globalconfig');
      if (at >= 0) globalrc = { path: args[at + 1]!, text: readFileSync(args[at + 1]!, 'utf8') };
      return base.runner(cmd, args, o);
    };
    const r = await publishRelease({ ...base, files: [file], runner });
    expect(r.status).toBe('published');
    // Outranks an @acme:registry of the global or built-in npm config.
    expect(calls[0]!.npmrc).toBe('registry=http://127.0.0.1:9/\n@acme:registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n');
    const userconfig = calls[0]!.args[calls[0]!.args.indexOf('--userconfig') + 1]!;
    expect(globalrc?.text).toBe('');
    expect(dirname(globalrc!.path)).toBe(dirname(userconfig));
    expect(existsSync(globalrc!.path)).toBe(false);
  });

  it('refuses when the file changes after it was checked, before any upload', async () => {
    const { file, calls, base } = await setup();
    const r = await publishRelease({
      ...base,
      onStep: (s) => {
        if (s.step === 'token') writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('x')]));
      },
    });
    expect(r).toMatchObject({ status: 'refused', step: 'rehash' });
    expect(r.reason).toContain('changed since it was checked');
    expect(calls).toHaveLength(0);
  });

  it('uploads the bytes it checked even when the file is swapped after the last re-hash', async () => {
    const { file, base } = await setup();
    const approved = createHash('sha256').update(readFileSync(file)).digest('hex');
    let uploaded: string | undefined;
    let handed: string | undefined;
    const runner: CommandRunner = async (_cmd, args) => {
      // npm is handed a tarball path: hash what it would read at that moment.
      handed = args.find((a) => a.endsWith('.tgz'));
      uploaded = handed ? createHash('sha256').update(readFileSync(handed)).digest('hex') : undefined;
      return { code: 0, stdout: '', stderr: '' };
    };
    const r = await publishRelease({
      ...base,
      runner,
      onStep: (s) => {
        if (s.step === 'rehash') writeFileSync(file, Buffer.from('not the approved tarball'));
      },
    });
    expect(r.status).toBe('published');
    expect(uploaded).toBe(approved);
    // npm read a private copy, which is gone afterwards.
    expect(handed).not.toBe(file);
    expect(existsSync(handed ?? file)).toBe(false);
  });

  it("names an artifact it refuses by the path given, not by the private copy's", async () => {
    const { cwd, base } = await setup();
    const odd = join(cwd, 'acme-2.0.0.tgz');
    writeFileSync(odd, 'not a tarball');
    const r = await publishRelease({ ...base, files: [odd], tag: 'v2.0.0', dryRun: true });
    expect(r).toMatchObject({ status: 'refused', step: 'version' });
    expect(r.reason).toBe(`${odd} is neither a gzip tarball (npm package, sdist) nor a zip (wheel)`);
  });

  it('names what it refuses by the path given with a token in a name shortened, in the result and the audit record', async () => {
    const { cwd, base } = await setup();
    const fileToken = githubToken('Lq5XwN2cRt8ZvH4mKb7YdP3sJg9FaE');
    const dirToken = githubToken('Tr6PzV1nQc8MwK3xLd5YbH7gJs2FaU');
    const file = await npmTarball(cwd, 'acme', '1.0.0', `${fileToken}.tgz`, { [`package/keys/${dirToken}/a.txt`]: 'a\n' });
    const r = await publishRelease({ ...base, files: [file], dryRun: true });
    expect(r).toMatchObject({ status: 'refused', step: 'scan' });
    const short = (t: string): string => `${t.slice(0, 6)}…${t.slice(-4)}`;
    const given = `${join(cwd, short(fileToken))}.tgz`;
    expect(r.findings.map((f) => [f.path, f.in])).toEqual([
      [given, 'name'],
      [`${given}!package/keys/${short(dirToken)}`, 'name'],
    ]);
    // Said to be in a name, with no line, in the reason and in the scan's record.
    expect(r.reason).toContain(`github-classic-token in the name ${given}, `);
    const scan = readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).find((rec) => rec.stage === 'publish.scan');
    expect((scan?.details?.findings as { in?: string; line?: number }[]).map((f) => [f.in, f.line])).toEqual([
      ['name', undefined],
      ['name', undefined],
    ]);
    // The subject keeps the file's name as it is: approvals are signed for it.
    const everything = `${JSON.stringify({ ...r, subject: undefined })}\n${readFileSync(join(cwd, 'audit.jsonl'), 'utf8')}`;
    for (const t of [fileToken, dirToken]) expect(everything).not.toContain(t.slice(4, 20));
  });

  it("names what it refuses by the path given with a custom rule's secret found in the artifact shortened in that path", async () => {
    const { cwd, base } = await setup();
    const key = `acme_${'5f0c9e2a71b84d36'.repeat(2)}`;
    const ruleset = compileRules([...builtinRuleDefinitions(), { id: 'acme-key', title: 'Acme API key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})', examples: [], negative_examples: [] }]);
    const file = await npmTarball(cwd, 'acme', '1.0.0', `${key}.tgz`, { 'package/index.js': `module.exports = "${key}";\n` });
    const r = await publishRelease({ ...base, files: [file], dryRun: true, scan: { ruleset } });
    expect(r).toMatchObject({ status: 'refused', step: 'scan' });
    expect(r.findings.map((f) => [f.ruleId, f.path])).toEqual([['acme-key', `${join(cwd, `${key.slice(0, 6)}…${key.slice(-4)}`)}.tgz!package/index.js`]]);
    const scan = readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).find((rec) => rec.stage === 'publish.scan');
    expect(JSON.stringify({ ...r, subject: undefined, reason: scan?.reason, details: scan?.details })).not.toContain(key);
  });

  it('names a file it cannot read by its own path, in words', async () => {
    const { cwd, base } = await setup();
    const missing = await publishRelease({ ...base, files: ['dist/acme-1.0.0.tgz'] });
    expect(missing).toMatchObject({ status: 'failed', step: 'version', reason: `cannot read ${join(cwd, 'dist/acme-1.0.0.tgz')}: no such file` });
    const directory = await publishRelease({ ...base, files: [cwd] });
    expect(directory.reason).toBe(`cannot read ${cwd}: is a directory, not a file`);
  });

  it('fails, rather than refuses for want of approvals, when the approvals directory cannot be read', async () => {
    const { cwd, base } = await setup();
    const key = sshKey(cwd, 'id_alice');
    writeFileSync(join(cwd, 'policy.json'), JSON.stringify({ version: 1, approvers: { alice: { keys: [key.pub] } }, rule: { minApprovers: 1 } }));
    writeFileSync(join(cwd, 'afile'), 'x');
    symlinkSync('loopb', join(cwd, 'loopa'));
    symlinkSync('loopa', join(cwd, 'loopb'));
    const missing = await publishRelease({ ...base, policyPath: 'policy.json', approvalsDir: 'none-yet' });
    expect(missing).toMatchObject({ status: 'refused', step: 'approvals' });
    for (const [dir, why] of [
      ['afile/x', 'a part of its path is a file, not a directory'],
      ['afile', 'is a file, not a directory'],
      ['loopa', 'too many symbolic links on its path'],
    ] as const) {
      const r = await publishRelease({ ...base, policyPath: 'policy.json', approvalsDir: dir });
      expect(r).toMatchObject({ status: 'failed', step: 'approvals' });
      expect(r.reason).toContain(`cannot read approvals directory ${join(cwd, dir)}: ${why}`);
    }
  });

  it('fails, rather than skips the approvals, when the default policy is there but cannot be read', async () => {
    const { cwd, base } = await setup();
    mkdirSync(join(cwd, '.pubguard'), { recursive: true });
    // A link to itself: there, but no policy can be read through it.
    symlinkSync('policy.json', join(cwd, '.pubguard', 'policy.json'));
    const r = await publishRelease({ ...base, dryRun: true });
    expect(r).toMatchObject({ status: 'failed', step: 'approvals' });
    expect(r.reason).toContain(`cannot read policy ${join(cwd, '.pubguard', 'policy.json')}: too many symbolic links on its path`);
  });

  it('fails, rather than skips the approvals, when the default policy is a link to a missing file', async () => {
    const { cwd, base } = await setup();
    mkdirSync(join(cwd, '.pubguard'), { recursive: true });
    symlinkSync('../policies/policy.json', join(cwd, '.pubguard', 'policy.json'));
    const r = await publishRelease({ ...base, dryRun: true });
    expect(r).toMatchObject({ status: 'failed', step: 'approvals' });
    expect(r.reason).toContain(`cannot read policy ${join(cwd, '.pubguard', 'policy.json')}: is a symbolic link to ../policies/policy.json, which does not exist`);
  });

  it('fails, rather than skips the approvals, when .pubguard is a link to a missing directory', async () => {
    const { cwd, base } = await setup();
    symlinkSync('../missing-config', join(cwd, '.pubguard'));
    const r = await publishRelease({ ...base, dryRun: true });
    expect(r).toMatchObject({ status: 'failed', step: 'approvals' });
    expect(r.reason).toContain(`cannot read policy ${join(cwd, '.pubguard', 'policy.json')}: ${join(cwd, '.pubguard')} on its path is a symbolic link to ../missing-config, which does not exist`);
  });

  it('passes the allowlist the path below the package root, so a glob of the package directory applies to its tarball', async () => {
    const { cwd, base } = await setup();
    const file = await npmTarball(cwd, 'acme', '1.0.0', 'keys.tgz', { 'package/test/fixtures/id_rsa': 'fixture\n' });
    const exclude = (_f: Finding, _secret: string, packagePath?: string) => packagePath?.startsWith('test/') === true;
    const r = await publishRelease({ ...base, files: [file], dryRun: true, scan: { exclude } });
    expect(r.status).toBe('dry-run');
  });

  it('accepts a key file the baseline holds by its path below the package root and its content, and no other content at that path', async () => {
    const { cwd, base } = await setup();
    const file = await npmTarball(cwd, 'acme', '1.0.0', 'keys.tgz', { 'package/test/fixtures/id_rsa': 'fixture\n' });
    const refused = await publishRelease({ ...base, files: [file], dryRun: true });
    expect(refused).toMatchObject({ status: 'refused', step: 'scan' });
    const digest = createHash('sha256').update('fixture\n').digest('hex');
    const accepted = await publishRelease({ ...base, files: [file], dryRun: true, baseline: new Set([fingerprint('ssh-private-key-file', `test/fixtures/id_rsa\0${digest}`)]) });
    expect(accepted.status).toBe('dry-run');
    expect(accepted.steps.find((s) => s.step === 'scan')?.reason).toContain('1 finding accepted by the baseline');
    // Baselines of the name alone, with or without the root, would accept any key put there.
    for (const path of ['test/fixtures/id_rsa', 'package/test/fixtures/id_rsa']) {
      const r = await publishRelease({ ...base, files: [file], dryRun: true, baseline: new Set([fingerprint('ssh-private-key-file', path)]) });
      expect(r, path).toMatchObject({ status: 'refused', step: 'scan' });
    }
  });

  it('starts no upload when a stop comes while the upload-start record is written, and answers that record', async () => {
    const { cwd, base } = await setup();
    const controller = new AbortController();
    const calls: string[] = [];
    const runner: CommandRunner = async (command) => {
      calls.push(command);
      return { code: 0, stdout: '', stderr: '' };
    };
    // The stop arrives as the record after the rehash record is being made: the upload's start.
    const now = (): Date => {
      if (existsSync(base.auditPath) && readFileSync(base.auditPath, 'utf8').includes('"publish.rehash"')) controller.abort();
      return new Date();
    };
    const r = await publishRelease({ ...base, runner, now, signal: controller.signal });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(calls).toEqual([]);
    const records = readFileSync(base.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(records.slice(-2).map((rec) => `${rec.stage}:${rec.outcome}`)).toEqual(['publish.upload-start:started', 'publish.upload:error']);
    expect(records.at(-1)?.reason).toContain('nothing was uploaded');
    expect(unfinishedUploads(records)).toEqual([]);
  });

  it("lists at most 1000 findings in the scan's audit record, and counts the rest", async () => {
    const { cwd, base } = await setup();
    const keys = Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`package/keys/${i}/id_rsa`, 'fixture\n']));
    const file = await npmTarball(cwd, 'acme', '1.0.0', 'keys.tgz', keys);
    expect(await publishRelease({ ...base, files: [file], dryRun: true })).toMatchObject({ status: 'refused', step: 'scan' });
    const scan = readFileSync(base.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).find((r) => r.stage === 'publish.scan');
    expect(scan?.outcome).toBe('refused');
    expect((scan?.details?.findings as unknown[]).length).toBe(1000);
    expect(scan?.details?.findingsNotListed).toBe(100);
    expect(scan?.details?.errorsNotListed).toBeUndefined();
  });

  describe('approvals record', () => {
    /** A policy of alice and bob, and bob's signed approval of acme 1.0.0, written as users would. */
    async function approved() {
      const { cwd, file, base } = await setup();
      const alice = sshKey(cwd, 'id_alice');
      const bob = sshKey(cwd, 'id_bob');
      const policyText = JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] }, bob: { keys: [bob.pub] } }, rule: { minApprovers: 1 } });
      writeFileSync(join(cwd, 'policy.json'), policyText);
      const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      const statement = buildStatement({ package: 'acme', version: '1.0.0', artifacts: [{ name: 'acme-1.0.0.tgz', sha256 }] }, 'bob', 3_600_000);
      mkdirSync(join(cwd, 'appr'));
      const approval = join(cwd, 'appr', 'bob.approval.json');
      writeFileSync(approval, canonicalStatement(statement));
      sshKeygenSign(bob.path, approval);
      const bobKey = `SHA256:${createHash('sha256').update(Buffer.from(bob.pub.split(' ')[1]!, 'base64')).digest('base64').replace(/=+$/, '')}`;
      const policySha = createHash('sha256').update(policyText).digest('hex');
      return { cwd, base: { ...base, policyPath: 'policy.json', approvalsDir: 'appr', dryRun: true }, bobKey, policySha };
    }
    const approvalsRecord = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.stage === 'publish.approvals')
        .at(-1);

    it('names the policy file, its sha256, the initiator and the key of each counted approver, in the record, the step and the notification', async () => {
      const { base, bobKey, policySha } = await approved();
      const bodies: string[] = [];
      const fakeFetch = (async (_url: string, init: { body: string }) => {
        bodies.push(init.body);
        return new Response('', { status: 200 });
      }) as unknown as typeof fetch;
      const r = await publishRelease({ ...base, initiator: 'alice', notifyUrl: 'https://hooks.example.test/x', notifyOptions: { attempts: 1, fetch: fakeFetch } });
      expect(r.status).toBe('dry-run');
      const rec = approvalsRecord(base.auditPath);
      expect(rec.details).toMatchObject({ policy: { path: 'policy.json', sha256: policySha }, initiator: ['alice'], counted: [{ person: 'bob', key: bobKey }] });
      expect(r.steps.find((s) => s.step === 'approvals')?.reason).toBe(`approved by bob with key ${bobKey}; under policy policy.json (sha256 ${policySha})`);
      expect(r.warnings).toEqual([]);
      const body = JSON.parse(bodies[0]!) as { approvals?: unknown };
      expect(body.approvals).toEqual({ policy: { path: 'policy.json', sha256: policySha }, initiator: ['alice'], counted: [{ person: 'bob', key: bobKey }] });
      expect(r.approvals).toEqual(body.approvals);
    });

    it('warns, and records, when the initiator is unknown or nobody of the policy, and does not refuse', async () => {
      const { base } = await approved();
      const seen: string[] = [];
      const unknown = await publishRelease({ ...base, onWarning: (m) => void seen.push(m) });
      expect(unknown.status).toBe('dry-run');
      expect(unknown.warnings).toEqual(['the initiator of this release is unknown (no --initiator, and not run in GitHub Actions or GitLab CI), so an approval by whoever started it counts']);
      expect(seen).toEqual(unknown.warnings);
      expect(approvalsRecord(base.auditPath).details).toMatchObject({ initiator: 'unknown', initiatorWarning: unknown.warnings[0] });

      const bot = await publishRelease({ ...base, auditPath: `${base.auditPath}.bot`, initiator: ['github-actions[bot]'] });
      expect(bot.status).toBe('dry-run');
      expect(bot.warnings[0]).toContain('the initiator of this release, github-actions[bot], is not an approver in the policy');
      expect(approvalsRecord(`${base.auditPath}.bot`).details).toMatchObject({ initiator: ['github-actions[bot]'] });

      // A policy that lets the initiator approve has nobody to leave out: nothing to warn of.
      writeFileSync(join(base.cwd, 'policy2.json'), readFileSync(join(base.cwd, 'policy.json'), 'utf8').replace('"minApprovers":1', '"minApprovers":1,"initiatorMayApprove":true'));
      expect((await publishRelease({ ...base, policyPath: 'policy2.json' })).warnings).toEqual([]);
    });

    it('refuses a policy other than the pinned one, or none, and passes the pinned one', async () => {
      const { base, policySha } = await approved();
      expect((await publishRelease({ ...base, policySha256: policySha.toUpperCase() })).status).toBe('dry-run');
      const other = 'f'.repeat(64);
      const r = await publishRelease({ ...base, policySha256: other });
      expect(r).toMatchObject({ status: 'refused', step: 'approvals', reason: `policy policy.json (sha256 ${policySha}) is not the pinned policy (sha256 ${other}): it was changed, or the pin is out of date` });
      expect(approvalsRecord(base.auditPath)).toMatchObject({ outcome: 'refused', details: { pinnedSha256: other } });
      const none = await publishRelease({ ...base, policyPath: undefined, policySha256: policySha });
      expect(none).toMatchObject({ status: 'refused', step: 'approvals', reason: expect.stringContaining('pinned to sha256') });
      await expect(publishRelease({ ...base, policySha256: 'abc' })).rejects.toThrow('64-digit hex');
    });
  });

  it('dry run checks everything and uploads nothing', async () => {
    const { calls, base } = await setup();
    const r = await publishRelease({ ...base, dryRun: true });
    expect(r.status).toBe('dry-run');
    expect(r.steps.map((s) => s.step)).toEqual(['version', 'scan', 'approvals', 'token', 'rehash', 'upload']);
    expect(calls).toHaveLength(0);
  });

  it('never records, reports or notifies the user information of a registry URL, whatever its form', async () => {
    // A token as the password, as the user name alone, and as the user name with an empty password (Gemfury).
    const secret = `url${randomBytes(9).toString('hex')}`;
    for (const userinfo of [`ci:${secret}`, secret, `${secret}:`]) {
      const { base } = await setup();
      const bodies: string[] = [];
      const fakeFetch = (async (_url: string, init: { body: string }) => {
        bodies.push(init.body);
        return new Response('', { status: 200 });
      }) as unknown as typeof fetch;
      const r = await publishRelease({ ...base, registry: `http://${userinfo}@127.0.0.1:9/`, dryRun: true, notifyUrl: 'https://hooks.example.test/x', notifyOptions: { attempts: 1, fetch: fakeFetch } });
      expect(r.status).toBe('dry-run');
      expect(JSON.stringify(r)).not.toContain(secret);
      expect(r.steps.find((s) => s.step === 'upload')?.reason).toBe('dry run: nothing uploaded to http://[redacted]@127.0.0.1:9/');
      const log = readFileSync(base.auditPath, 'utf8');
      expect(log).not.toContain(secret);
      expect(log).toContain('http://[redacted]@127.0.0.1:9/');
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).not.toContain(secret);
      expect(JSON.parse(bodies[0]!).registry).toBe('http://[redacted]@127.0.0.1:9/');
    }
  });

  it('refuses without a tag, and with --require-approvals but no policy', async () => {
    const { base } = await setup();
    expect(await publishRelease({ ...base, tag: undefined, env: { NPM_TOKEN: TOKEN } })).toMatchObject({ status: 'refused', step: 'version' });
    expect(await publishRelease({ ...base, requireApprovals: true })).toMatchObject({ status: 'refused', step: 'approvals' });
  });

  it('reports a failed upload as failed, with the token masked', async () => {
    const { base } = await setup();
    const runner: CommandRunner = async () => ({ code: 1, stdout: '', stderr: `npm error 403 Forbidden for token ${TOKEN}\n` });
    const r = await publishRelease({ ...base, runner });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toContain('403 Forbidden');
    expect(r.reason).not.toContain(TOKEN);
  });

  it('says a package was published when its audit record cannot be written, and still notifies', async () => {
    const { base } = await setup();
    const hook = await startHook();
    const { bodies } = hook;
    // The upload succeeds, and meanwhile the log loses its final newline, so no record can follow.
    const runner: CommandRunner = async () => {
      appendFileSync(base.auditPath, '{"cut');
      return { code: 0, stdout: '+ acme@1.0.0\n', stderr: '' };
    };
    const r = await publishRelease({ ...base, runner, notifyUrl: hook.url, notifyOptions: { attempts: 1 } });
    hook.close();
    expect(r.status).toBe('published');
    expect(r.auditError).toContain('the audit record of the upload step could not be written');
    expect(r.auditError).toContain('does not end with a newline');
    expect(r.auditError).toContain('IS published: do not publish it again');
    expect(r.reason).toMatch(/^acme 1\.0\.0 published to http:\/\/127\.0\.0\.1:9\/ with dist-tag latest, but the audit record/);
    expect(r.notification).toMatchObject({ ok: true });
    expect(r.steps.map((s) => s.step)).toEqual(['version', 'scan', 'approvals', 'token', 'rehash', 'upload', 'notify']);
    const body = JSON.parse(bodies[0]!) as { event: string; text: string; auditError?: string };
    expect(body.event).toBe('published');
    expect(body.text).toContain('acme 1.0.0 published to npm under dist-tag latest, but the audit record of the upload step could not be written');
    expect(body.auditError).toBe(r.auditError);
    // Nothing was appended after the lost record.
    expect(readFileSync(base.auditPath, 'utf8').endsWith('{"cut')).toBe(true);
  });

  it('stops at the next step once interrupted (Ctrl-C), and never starts the upload', async () => {
    for (const at of ['version', 'scan', 'approvals', 'token', 'rehash'] as const) {
      const { calls, base } = await setup();
      const controller = new AbortController();
      const r = await publishRelease({
        ...base,
        signal: controller.signal,
        onStep: (s) => {
          if (s.step === at) controller.abort();
        },
      });
      expect(r, at).toMatchObject({ status: 'failed' });
      expect(r.reason).toContain('interrupted');
      expect(r.reason).toContain('nothing was uploaded');
      expect(calls, at).toHaveLength(0);
      expect(readFileSync(base.auditPath, 'utf8').trim().split('\n').at(-1)).toContain('"outcome":"error"');
    }
  });

  it('interrupts the client on Ctrl-C during the upload and says the upload may have happened', async () => {
    const { base } = await setup();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const runner: CommandRunner = async (_cmd, _args, o) => {
      seen = o.signal;
      controller.abort();
      // What twine prints when Ctrl-C reaches it mid-upload.
      return { code: null, stdout: '', stderr: 'Traceback (most recent call last):\n  File "/usr/lib/python3.11/socket.py", line 706, in readinto\n    return self._sock.recv_into(b)\n           ^^^^^^^^^^^^^^^^^^^^^^^\nKeyboardInterrupt\n' };
    };
    const r = await publishRelease({ ...base, runner, signal: controller.signal });
    expect(seen).toBe(controller.signal);
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toBe('interrupted during npm publish: the upload may or may not have reached http://127.0.0.1:9/; look there before trying again');
    expect(r.clientOutput).toContain('KeyboardInterrupt');
  });

  it('records the upload as started, with the registry and the files, before the client runs', async () => {
    const { base } = await setup();
    const records = (): { stage: string; outcome: string; reason: string; subjects: unknown[]; details: Record<string, unknown> }[] =>
      readFileSync(base.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    let seen: ReturnType<typeof records> = [];
    const runner: CommandRunner = async () => {
      seen = records();
      return { code: 0, stdout: '', stderr: '' };
    };
    const sha = createHash('sha256').update(readFileSync(base.files[0]!)).digest('hex');
    const r = await publishRelease({ ...base, runner, distTag: 'next' });
    expect(r.status).toBe('published');
    expect(seen.at(-1)).toMatchObject({
      stage: 'publish.upload-start',
      outcome: 'started',
      subjects: [{ name: 'acme-1.0.0.tgz', sha256: sha }],
      details: { ecosystem: 'npm', registry: 'http://127.0.0.1:9/', package: 'acme', version: '1.0.0', distTag: 'next' },
    });
    expect(seen.at(-1)!.reason).toContain('npm publish of acme 1.0.0 to http://127.0.0.1:9/ starting');
    expect(records().slice(-2).map((x) => `${x.stage}:${x.outcome}`)).toEqual(['publish.upload-start:started', 'publish.upload:passed']);
    expect(readFileSync(base.auditPath, 'utf8')).not.toContain(TOKEN);
    // A dry run starts no upload.
    const dry = await setup();
    await publishRelease({ ...dry.base, dryRun: true });
    expect(readFileSync(dry.base.auditPath, 'utf8')).not.toContain('upload-start');
  });

  it('decides the dist-tag at the version step, hands it to npm as --tag, and records and reports it', async () => {
    const { cwd, calls, base } = await setup();
    const records = (): AuditRecord[] => readFileSync(base.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const tagArg = (args: readonly string[]): string | undefined => (args.includes('--tag') ? args[args.indexOf('--tag') + 1] : undefined);
    // Without --tag, npm's default is left to npm, whose check against moving latest down to a
    // lower version applies only then; the result and the records still name it.
    const plain = await publishRelease(base);
    expect(plain).toMatchObject({ status: 'published', distTag: 'latest', reason: 'acme 1.0.0 published to http://127.0.0.1:9/ with dist-tag latest' });
    expect(tagArg(calls[0]!.args)).toBeUndefined();
    expect(records().find((x) => x.stage === 'publish.version')).toMatchObject({ reason: 'tag v1.0.0 matches 1 artifact (acme 1.0.0); dist-tag latest', details: { distTag: 'latest' } });

    // A pre-release is refused at the version step, dry run included, unless a dist-tag other than latest is given.
    const rc = await npmTarball(cwd, 'acme', '1.5.0-rc.1');
    const pre = { ...base, files: [rc], tag: 'v1.5.0-rc.1', allowPrerelease: true };
    for (const options of [{ dryRun: true }, {}, { distTag: 'latest' }]) {
      const r = await publishRelease({ ...pre, ...options });
      expect(r).toMatchObject({ status: 'refused', step: 'version' });
      expect(r.reason).toContain('1.5.0-rc.1 is a pre-release');
      expect(r.reason).toContain('--tag next');
      expect(r.distTag).toBeUndefined();
    }
    expect(calls).toHaveLength(1);
    const dry = await publishRelease({ ...pre, distTag: 'next', dryRun: true });
    expect(dry).toMatchObject({ status: 'dry-run', distTag: 'next', reason: 'acme 1.5.0-rc.1 passed every check; nothing uploaded (dist-tag next)' });
    const next = await publishRelease({ ...pre, distTag: 'next' });
    expect(next).toMatchObject({ status: 'published', distTag: 'next' });
    expect(tagArg(calls[1]!.args)).toBe('next');
    const last = records().slice(-3);
    expect(last.map((x) => [x.stage, x.details?.distTag])).toEqual([
      ['publish.rehash', undefined],
      ['publish.upload-start', 'next'],
      ['publish.upload', 'next'],
    ]);
    expect(records().filter((x) => x.stage === 'publish.version').at(-1)).toMatchObject({ outcome: 'passed', details: { distTag: 'next' } });

    // The package.json's dist-tag is read: honoured alone, refused when it differs or makes a pre-release latest.
    const manifest = (fields: Record<string, unknown>): Record<string, string> => ({ 'package/package.json': JSON.stringify({ name: 'acme', version: '1.5.0-rc.1', ...fields }) });
    const configLatest = await npmTarball(join(cwd), 'acme', '1.5.0-rc.1', 'config-latest.tgz', manifest({ publishConfig: { tag: 'latest' } }));
    const refused = await publishRelease({ ...pre, files: [configLatest], dryRun: true });
    expect(refused).toMatchObject({ status: 'refused', step: 'version' });
    expect(refused.reason).toContain(`package.json's publishConfig.tag says "latest"`);
    const conflict = await publishRelease({ ...pre, files: [configLatest], distTag: 'next', dryRun: true });
    expect(conflict.reason).toContain(`the dist-tag is not the same everywhere: --tag says "next", package.json's publishConfig.tag says "latest"`);
    const topLevel = await npmTarball(join(cwd), 'acme', '1.5.0-rc.1', 'top-level.tgz', manifest({ tag: 'latest' }));
    expect((await publishRelease({ ...pre, files: [topLevel], distTag: 'next', dryRun: true })).reason).toContain(`package.json's "tag" says "latest"`);
    const configBeta = await npmTarball(join(cwd), 'acme', '1.5.0-rc.1', 'config-beta.tgz', manifest({ publishConfig: { tag: 'beta' } }));
    const beta = await publishRelease({ ...pre, files: [configBeta] });
    expect(beta).toMatchObject({ status: 'published', distTag: 'beta' });
    expect(tagArg(calls[2]!.args)).toBe('beta');
    expect(records().filter((x) => x.stage === 'publish.version').at(-1)!.reason).toContain('; dist-tag beta (from package.json)');
    expect(calls).toHaveLength(3);
  });

  it("refuses at the version step a publishConfig that would send the package or the token elsewhere, and hands npm access and provenance as flags", async () => {
    const { cwd, calls, base } = await setup();
    const other = 'npm_otherregistrytokenwhichmustnotshow0';
    const manifest = (publishConfig: Record<string, unknown>): Record<string, string> => ({ 'package/package.json': JSON.stringify({ name: '@acme/tool', version: '1.0.0', publishConfig }) });
    const steered = await npmTarball(cwd, '@acme/tool', '1.0.0', 'steered.tgz', manifest({ access: 'public', '@acme:registry': 'http://127.0.0.1:8/', '//127.0.0.1:8/:_authToken': other }));
    for (const dryRun of [true, false]) {
      const r = await publishRelease({ ...base, files: [steered], dryRun });
      expect(r).toMatchObject({ status: 'refused', step: 'version' });
      expect(r.reason).toContain(`steered.tgz: package.json's publishConfig sets "@acme:registry" (where the package goes), "//127.0.0.1:8/:_authToken" (credentials)`);
      expect(r.reason).toContain('Remove them from publishConfig and pack again');
    }
    expect(calls).toHaveLength(0);
    expect(readFileSync(base.auditPath, 'utf8')).not.toContain(other);
    expect(readFileSync(base.auditPath, 'utf8')).toContain('"stage":"publish.version","outcome":"refused"');

    const harmless = await npmTarball(cwd, '@acme/tool', '1.0.0', 'harmless.tgz', manifest({ access: 'public', provenance: false, directory: 'dist' }));
    const r = await publishRelease({ ...base, files: [harmless] });
    expect(r.status).toBe('published');
    const args = calls[0]!.args;
    expect(args.slice(args.indexOf('--ignore-scripts') + 1, args.indexOf('--registry'))).toEqual(['--access', 'public', '--no-provenance']);
    const version = readFileSync(base.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).filter((x) => x.stage === 'publish.version').at(-1);
    expect(version).toMatchObject({ reason: 'tag v1.0.0 matches 1 artifact (@acme/tool 1.0.0); dist-tag latest, access public, without provenance', details: { distTag: 'latest', access: 'public', provenance: false } });
    // --access and the package.json's must agree.
    const conflict = await publishRelease({ ...base, files: [harmless], access: 'restricted', dryRun: true });
    expect(conflict).toMatchObject({ status: 'refused', step: 'version' });
    expect(conflict.reason).toContain('the access is not the same everywhere: --access says restricted, package.json\'s publishConfig.access says public');
  });

  it('never starts the upload when its start cannot be recorded', async () => {
    const { calls, base } = await setup();
    // The log loses its final newline after the re-hash step, so no record can follow.
    const r = await publishRelease({
      ...base,
      onStep: (s) => {
        if (s.step === 'rehash') appendFileSync(base.auditPath, '{"cut');
      },
    });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toContain('does not end with a newline');
    expect(r.reason).toContain('npm publish was not started: nothing was uploaded');
    expect(calls).toHaveLength(0);
    expect(readFileSync(base.auditPath, 'utf8').endsWith('{"cut')).toBe(true);
  });

  it('still notifies, as a failure that names the log, when the audit log cannot take the first record', async () => {
    const { calls, base } = await setup();
    // A log whose last record lost its newline, as a full disk or a crash during an append leaves it.
    await publishRelease({ ...base, dryRun: true });
    const cut = readFileSync(base.auditPath).subarray(0, -1);
    writeFileSync(base.auditPath, cut);
    const hook = await startHook();
    try {
      for (const [run, options] of [
        ['dry run', { dryRun: true }],
        ['upload', {}],
        ['refused', { tag: 'v9.9.9' }],
      ] as const) {
        const r = await publishRelease({ ...base, ...options, notifyUrl: hook.url, notifyOptions: { attempts: 1 } });
        expect(r, run).toMatchObject({ status: 'failed', step: 'version', notification: { ok: true } });
        expect(r.reason, run).toMatch(/^the audit record of the version step could not be written: audit log .* does not end with a newline.*; the run stopped there and nothing was uploaded/);
        if (run === 'refused') expect(r.reason).toContain('(the version step refused: acme-1.0.0.tgz: package.json says 1.0.0, tag v9.9.9 says 9.9.9)');
        expect(r.steps.map((x) => `${x.step}:${x.outcome}`), run).toEqual(['version:error', 'notify:passed']);
        const body = JSON.parse(hook.bodies.at(-1)!) as { event: string; step?: string; reason: string; text: string };
        expect(body, run).toMatchObject({ event: 'failed', step: 'version', reason: r.reason });
        expect(body.text, run).toContain('failed at the version step: the audit record of the version step could not be written');
      }
      expect(hook.bodies).toHaveLength(3);
    } finally {
      hook.close();
    }
    expect(calls).toHaveLength(0);
    // Nothing was appended to the damaged log.
    expect(readFileSync(base.auditPath).equals(cut)).toBe(true);
  });

  it('stops before anything is uploaded when the log\'s line ends were converted to CRLF, and says so', async () => {
    const { calls, base } = await setup();
    await publishRelease({ ...base, dryRun: true });
    const converted = readFileSync(base.auditPath, 'utf8').replace(/\n/g, '\r\n');
    writeFileSync(base.auditPath, converted);
    const r = await publishRelease(base);
    expect(r).toMatchObject({ status: 'failed', step: 'version' });
    expect(r.reason).toMatch(/^the audit record of the version step could not be written: audit log .* has CRLF line ends: .*`pubguard audit verify .*`, and run again; the run stopped there and nothing was uploaded$/);
    expect(calls).toHaveLength(0);
    expect(readFileSync(base.auditPath, 'utf8')).toBe(converted);
  });

  it('on exit during the upload, records it as interrupted synchronously, and only then', async () => {
    const { cwd, base } = await setup();
    // The engine's hook that removes temp files on exit is in place first: only the publish's own is new.
    removeAtExit(join(cwd, 'nothing'))();
    const before = process.listeners('exit');
    let hooks: ((code: number) => void)[] = [];
    const runner: CommandRunner = async () => {
      // What `process.exit` after a second signal runs, without ending the test's process.
      hooks = process.listeners('exit').filter((l) => !before.includes(l)) as typeof hooks;
      for (const hook of hooks) hook(143);
      return { code: 0, stdout: '', stderr: '' };
    };
    const r = await publishRelease({ ...base, runner });
    expect(hooks).toHaveLength(1);
    expect(process.listeners('exit')).toEqual(before);
    expect(r.status).toBe('published');
    const stages = readFileSync(base.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(stages.slice(-3).map((x) => `${x.stage}:${x.outcome}`)).toEqual(['publish.upload-start:started', 'publish.upload:error', 'publish.upload:passed']);
    expect(stages.at(-2)).toMatchObject({
      reason: 'pubguard exited during npm publish (stopped a second time): the upload may or may not have reached http://127.0.0.1:9/; look there before trying again',
      details: { exited: true, killed: false },
    });
    expect((await new AuditLog(base.auditPath).verify()).ok).toBe(true);
  });

  it("says why the client failed in a line free of colours, traceback frames and npm's boilerplate", async () => {
    const { base } = await setup();
    const stderr = [
      '\x1b[33mWARNING \x1b[0m Retrying after connection broken by NewConnectionError',
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3/dist-packages/requests/adapters.py", line 565, in send',
      '    raise ConnectionError(e, request=request)',
      'requests.exceptions.ConnectionError: Max retries exceeded with url: /legacy/',
      '',
    ].join('\n');
    const r = await publishRelease({ ...base, runner: async () => ({ code: 1, stdout: '', stderr }) });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toBe('npm publish exited with 1: requests.exceptions.ConnectionError: Max retries exceeded with url: /legacy/');
    const npm = 'npm error code E403\nnpm error 403 Forbidden - PUT http://127.0.0.1:9/acme\nnpm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log\n';
    const forbidden = await publishRelease({ ...(await setup()).base, runner: async () => ({ code: 1, stdout: '', stderr: npm }) });
    expect(forbidden.reason).toBe('npm publish exited with 1: npm error code E403 | npm error 403 Forbidden - PUT http://127.0.0.1:9/acme');
    expect(readFileSync(base.auditPath, 'utf8')).not.toContain('\\u001b');
  });

  it('with skipExisting, hands twine --skip-existing and names the files it skipped, in the result and the audit record', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
    const files = [await wheel(cwd, 'acme', '1.0.0'), await sdist(cwd, 'acme', '1.0.0')];
    const calls: string[][] = [];
    const runner: CommandRunner = async (_cmd, args) => {
      calls.push([...args]);
      const skip = args.includes('--skip-existing');
      return { code: 0, stdout: '', stderr: `${skip ? 'WARNING  Skipping acme-1.0.0-py3-none-any.whl because it appears to already exist\n' : ''}Uploading acme-1.0.0.tar.gz\n` };
    };
    const base = { ecosystem: 'pypi' as const, files, registry: 'http://127.0.0.1:9/legacy/', tag: 'v1.0.0', env: { PYPI_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', runner, jobs: 0 };
    const r = await publishRelease({ ...base, skipExisting: true });
    expect(calls[0]).toContain('--skip-existing');
    expect(r).toMatchObject({ status: 'published', skipped: ['acme-1.0.0-py3-none-any.whl'] });
    expect(r.reason).toBe('acme 1.0.0 published to http://127.0.0.1:9/legacy/ (acme-1.0.0-py3-none-any.whl was already there and skipped: its bytes on the index were not compared with the approved ones)');
    const upload = JSON.parse(readFileSync(base.auditPath, 'utf8').trim().split('\n').at(-1)!);
    expect(upload).toMatchObject({ stage: 'publish.upload', outcome: 'passed', details: { skipExisting: true, skipped: ['acme-1.0.0-py3-none-any.whl'], uploaded: ['acme-1.0.0.tar.gz'] } });
    expect(upload.reason).toContain('skipped as already there: acme-1.0.0-py3-none-any.whl');

    const plain = await publishRelease(base);
    expect(calls[1]).not.toContain('--skip-existing');
    expect(plain.status).toBe('published');
    expect(plain.skipped).toBeUndefined();
    expect(plain.reason).toBe('acme 1.0.0 published to http://127.0.0.1:9/legacy/');
  });

  it('says when twine skipped a file it did not name readably, and suggests --skip-existing when a file was already there', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
    const files = [await wheel(cwd, 'acme', '1.0.0')];
    const base = { ecosystem: 'pypi' as const, files, registry: 'http://127.0.0.1:9/legacy/', tag: 'v1.0.0', env: { PYPI_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', jobs: 0 };
    const garbled = await publishRelease({ ...base, skipExisting: true, runner: async () => ({ code: 0, stdout: '', stderr: 'WARNING  Skipping acme-1.0.0-py3-none-any.whl.part because it appears to already exist\n' }) });
    expect(garbled.status).toBe('published');
    expect(garbled.skipped).toEqual([]);
    expect(garbled.reason).toContain('some files were already there and skipped');
    const conflict = 'WARNING  Error during upload. Retry with the --verbose option for more details.\nERROR    HTTPError: 409 Conflict from http://127.0.0.1:9/legacy/\n         Conflict\n';
    const refused = await publishRelease({ ...base, runner: async () => ({ code: 1, stdout: '', stderr: conflict }) });
    expect(refused).toMatchObject({ status: 'failed', step: 'upload' });
    expect(refused.reason).toContain('HTTPError: 409 Conflict');
    expect(refused.reason).toContain('run it again with --skip-existing');
    const other = await publishRelease({ ...base, runner: async () => ({ code: 1, stdout: '', stderr: 'ERROR    HTTPError: 403 Forbidden from http://127.0.0.1:9/legacy/\n' }) });
    expect(other.reason).not.toContain('--skip-existing');
  });

  it('refuses skipExisting for npm', async () => {
    const { base } = await setup();
    await expect(publishRelease({ ...base, skipExisting: true })).rejects.toThrow(PublishError);
  });

  it('the process runner stops a running client when the signal is aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const r = await spawnRunner(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { env: {}, cwd: tmpdir(), signal: controller.signal });
    expect(r.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

/** A v2 macaroon as pypi.org issues them, without caveats, made fresh for each run. */
function pypiOrgToken(): string {
  const field = (tag: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([tag, data.length]), data]);
  return `pypi-${Buffer.concat([Buffer.from([2]), field(1, Buffer.from('pypi.org')), field(2, Buffer.from('user-token-id')), Buffer.from([0, 0]), field(6, randomBytes(32))]).toString('base64url')}`;
}

describe('publishRelease with skipExisting and a simple index', () => {
  const WHEEL = 'acme-1.0.0-py3-none-any.whl';
  const SDIST = 'acme-1.0.0.tar.gz';
  const skipWheel: CommandRunner = async () => ({ code: 0, stdout: '', stderr: `WARNING  Skipping ${WHEEL} because it appears to already exist\nUploading ${SDIST}\n` });

  async function release() {
    const cwd = mkdtempSync(join(tmpdir(), 'pubguard-publish-'));
    const files = [await wheel(cwd, 'acme', '1.0.0'), await sdist(cwd, 'acme', '1.0.0')];
    const digest = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
    const base = { ecosystem: 'pypi' as const, files, registry: 'http://127.0.0.1:9/legacy/', tag: 'v1.0.0', env: { PYPI_TOKEN: TOKEN }, cwd, auditPath: join(cwd, 'audit.jsonl'), actor: 'ci', runner: skipWheel, jobs: 0, skipExisting: true };
    return { cwd, base, wheelSha: digest(files[0]!), sdistSha: digest(files[1]!) };
  }

  /** A loopback simple index answering PEP 691 JSON with `files` for the project acme. */
  async function index(files: () => { filename: string; sha256: string }[] | 'garbage') {
    const requests: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      requests.push(req);
      if (req.url !== '/simple/acme/') return void res.writeHead(404).end();
      const listed = files();
      if (listed === 'garbage') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(JSON.stringify({ meta: { 'api-version': '1.0' }, name: 'acme', files: listed.map((f) => ({ filename: f.filename, url: `/f/${f.filename}`, hashes: { sha256: f.sha256 } })) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/simple/`;
    return { url, requests, stop: () => new Promise<void>((r) => server.close(() => r())) };
  }

  const lastRecord = (path: string) => JSON.parse(readFileSync(path, 'utf8').trim().split('\n').at(-1)!);

  it('publishes when the index lists every file with its approved sha256, and says the skipped ones are already there with the approved bytes', async () => {
    const { base, wheelSha, sdistSha } = await release();
    const idx = await index(() => [
      { filename: WHEEL, sha256: wheelSha },
      { filename: SDIST, sha256: sdistSha },
    ]);
    try {
      const r = await publishRelease({ ...base, indexUrl: idx.url });
      expect(r.status).toBe('published');
      expect(r.reason).toBe(`acme 1.0.0 published to http://127.0.0.1:9/legacy/ (${WHEEL} was already there with the approved bytes, as ${idx.url} lists, and skipped)`);
      expect(r.indexCheck?.files.map((f) => [f.name, f.status])).toEqual([
        [WHEEL, 'approved'],
        [SDIST, 'approved'],
      ]);
      const upload = lastRecord(base.auditPath);
      expect(upload).toMatchObject({ stage: 'publish.upload', outcome: 'passed', details: { skipped: [WHEEL], uploaded: [SDIST], indexUrl: idx.url, index: [{ name: WHEEL, status: 'approved', sha256: wheelSha }, { name: SDIST, status: 'approved' }] } });
      expect(upload.reason).toContain(`already there with the approved bytes: ${WHEEL}; uploaded: ${SDIST}`);
      expect(idx.requests.map((q) => q.headers.authorization)).toEqual([undefined]);
      expect(readFileSync(base.auditPath, 'utf8')).not.toContain(TOKEN);
    } finally {
      await idx.stop();
    }
  });

  it('refuses when a file on the index holds other bytes, naming it and both digests, and records the refusal', async () => {
    const { base, wheelSha, sdistSha } = await release();
    const other = createHash('sha256').update(randomBytes(16)).digest('hex');
    const idx = await index(() => [
      { filename: WHEEL, sha256: other },
      { filename: SDIST, sha256: sdistSha },
    ]);
    try {
      const r = await publishRelease({ ...base, indexUrl: idx.url });
      expect(r).toMatchObject({ status: 'refused', step: 'upload' });
      expect(r.reason).toContain(`${WHEEL} on the index holds other bytes (sha256 ${other.slice(0, 12)}… there, ${wheelSha.slice(0, 12)}… approved)`);
      // Advice for the repository at hand: what pypi.org does is no rule for this one.
      expect(r.reason).toContain('acme 1.0.0 on the index holds bytes nobody approved: remove that version from the repository (or yank it, where the repository can) and release a new version; running again would skip that file again, not replace it');
      expect(r.reason).not.toContain('PyPI');
      expect(r.reason).toContain(`skipped as already there: ${WHEEL}; uploaded: ${SDIST}`);
      expect(r.reason).not.toContain(other);
      const upload = lastRecord(base.auditPath);
      expect(upload).toMatchObject({ stage: 'publish.upload', outcome: 'refused', details: { indexUrl: idx.url, index: [{ name: WHEEL, status: 'different', sha256: other }, { name: SDIST, status: 'approved' }] } });
      expect(upload.reason).toBe(r.reason);
    } finally {
      await idx.stop();
    }
  });

  it('refuses when a file is not listed, after looking again, and when the index cannot be read', async () => {
    const { base, wheelSha } = await release();
    let listed: () => { filename: string; sha256: string }[] | 'garbage' = () => [{ filename: WHEEL, sha256: wheelSha }];
    const idx = await index(() => listed());
    try {
      const missing = await publishRelease({ ...base, indexUrl: idx.url, indexRequest: { retryDelaysMs: [1, 1] } });
      expect(missing).toMatchObject({ status: 'refused', step: 'upload' });
      expect(missing.reason).toContain(`${SDIST} is not listed on ${idx.url}acme/`);
      expect(missing.reason).toContain('run the release again with --skip-existing in a few minutes');
      expect(idx.requests).toHaveLength(3);

      listed = () => 'garbage';
      const broken = await publishRelease({ ...base, indexUrl: idx.url });
      expect(broken).toMatchObject({ status: 'refused', step: 'upload' });
      expect(broken.reason).toContain(`the files on the index cannot be shown to hold the approved bytes: ${idx.url}acme/: the answer is of type text/plain, not a simple index page`);
      expect(lastRecord(base.auditPath)).toMatchObject({ stage: 'publish.upload', outcome: 'refused', details: { indexUrl: idx.url } });
    } finally {
      await idx.stop();
    }
    const unreachable = await publishRelease({ ...base, indexUrl: idx.url });
    expect(unreachable).toMatchObject({ status: 'refused', step: 'upload' });
    expect(unreachable.reason).toMatch(/cannot be shown to hold the approved bytes: http:\/\/127\.0\.0\.1:\d+\/simple\/acme\/ could not be read: .*ECONNREFUSED/);
  });

  it('checks every file when twine skipped files without naming them, and looks nothing up when nothing was skipped', async () => {
    const { base, wheelSha, sdistSha } = await release();
    const idx = await index(() => [
      { filename: WHEEL, sha256: wheelSha },
      { filename: SDIST, sha256: sdistSha },
    ]);
    try {
      const garbled: CommandRunner = async () => ({ code: 0, stdout: '', stderr: `WARNING  Skipping ${WHEEL}.part because it appears to already exist\n` });
      const r = await publishRelease({ ...base, indexUrl: idx.url, runner: garbled });
      expect(r.status).toBe('published');
      expect(r.reason).toContain(`some files were already there and skipped; ${idx.url} lists every file with its approved sha256`);
      expect(r.indexCheck?.files.map((f) => f.status)).toEqual(['approved', 'approved']);
      expect(idx.requests).toHaveLength(1);

      const none = await publishRelease({ ...base, indexUrl: idx.url, runner: async () => ({ code: 0, stdout: '', stderr: '' }) });
      expect(none.status).toBe('published');
      expect(none.indexCheck).toBeUndefined();
      expect(idx.requests).toHaveLength(1);
    } finally {
      await idx.stop();
    }
  });

  it("looks pypi.org's uploads up on https://pypi.org/simple/ without being told, and another repository's nowhere", async () => {
    const { base, wheelSha, sdistSha } = await release();
    const asked: { url: string; init: RequestInit | undefined }[] = [];
    const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      asked.push({ url: String(url), init });
      const body = JSON.stringify({ meta: { 'api-version': '1.1' }, files: [{ filename: WHEEL, hashes: { sha256: wheelSha } }, { filename: SDIST, hashes: { sha256: sdistSha } }] });
      return new Response(body, { status: 200, headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } });
    }) as typeof fetch;
    const token = pypiOrgToken();
    const r = await publishRelease({ ...base, registry: 'https://upload.pypi.org/legacy/', env: { PYPI_TOKEN: token }, indexRequest: { fetch: fakeFetch } });
    expect(r.status, r.reason).toBe('published');
    expect(asked.map((a) => a.url)).toEqual(['https://pypi.org/simple/acme/']);
    expect(JSON.stringify(asked[0]!.init?.headers)).not.toContain(token);
    expect(r.reason).toContain('already there with the approved bytes, as https://pypi.org/simple/ lists');

    const elsewhere = await publishRelease({ ...base, indexRequest: { fetch: fakeFetch } });
    expect(asked).toHaveLength(1);
    expect(elsewhere.reason).toContain('its bytes on the index were not compared with the approved ones');
    expect(lastRecord(base.auditPath).reason).toContain('not compared with the approved bytes: no simple index to compare with, give --index-url');
  });

  it("words pypi.org's refusal for PyPI, and starts every sentence of the advice with a capital", async () => {
    const { base, sdistSha } = await release();
    const other = createHash('sha256').update(randomBytes(16)).digest('hex');
    let listed: { filename: string; hashes: Record<string, string> }[] = [];
    const fakeFetch = (async () =>
      new Response(JSON.stringify({ meta: { 'api-version': '1.1' }, files: listed }), { status: 200, headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } })) as typeof fetch;
    const pypi = { ...base, registry: 'https://upload.pypi.org/legacy/', env: { PYPI_TOKEN: pypiOrgToken() }, indexRequest: { fetch: fakeFetch, retryDelaysMs: [] } };
    listed = [{ filename: WHEEL, hashes: { sha256: other } }, { filename: SDIST, hashes: { sha256: sdistSha } }];
    const different = await publishRelease(pypi);
    expect(different).toMatchObject({ status: 'refused', step: 'upload' });
    expect(different.reason).toContain('). acme 1.0.0 on the index holds bytes nobody approved: yank that version there and release a new version (PyPI never takes a file name twice, even after a delete, so running again cannot replace it)');
    listed = [{ filename: WHEEL, hashes: { md5: 'ab'.repeat(16) } }];
    const undigested = await publishRelease(pypi);
    expect(undigested.reason).toContain(`${WHEEL} is listed on https://pypi.org/simple/acme/ without a sha256; ${SDIST} is not listed on https://pypi.org/simple/acme/. If it was uploaded moments ago`);
    expect(undigested.reason).toMatch(/\(--index-url\)\. Compare that file's sha256 on the index with the approved one by hand$/);
    expect(undigested.reason).not.toMatch(/\. [a-z]/);
  });

  it('fails, saying the skipped files were not compared, when interrupted while looking them up', async () => {
    const { base } = await release();
    const controller = new AbortController();
    const hanging = ((_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
        controller.abort();
      })) as typeof fetch;
    const r = await publishRelease({ ...base, indexUrl: 'http://127.0.0.1:9/simple/', indexRequest: { fetch: hanging }, signal: controller.signal });
    expect(r).toMatchObject({ status: 'failed', step: 'upload' });
    expect(r.reason).toBe(
      `interrupted while looking up the files on http://127.0.0.1:9/simple/ after twine upload --skip-existing to http://127.0.0.1:9/legacy/ finished (skipped as already there: ${WHEEL}; uploaded: ${SDIST}): the skipped files were not compared with the approved bytes; run the release again with --skip-existing to compare them`,
    );
    expect(lastRecord(base.auditPath)).toMatchObject({ stage: 'publish.upload', outcome: 'error' });
  });

  it('refuses an index URL that carries credentials or is given for npm', async () => {
    const { base } = await release();
    await expect(publishRelease({ ...base, indexUrl: 'https://user:secret@127.0.0.1:9/simple/' })).rejects.toThrow('user name or password');
    const npm = await setup();
    await expect(publishRelease({ ...npm.base, indexUrl: 'http://127.0.0.1:9/simple/' })).rejects.toThrow(PublishError);
  });

  it('refuses plain http to the public registries, whose tokens would go out in cleartext', async () => {
    const { base } = await release();
    await expect(publishRelease({ ...base, registry: 'http://upload.pypi.org/legacy/' })).rejects.toThrow('upload.pypi.org over plain http would send the token unencrypted: use https://upload.pypi.org/legacy/');
    const npm = await setup();
    await expect(publishRelease({ ...npm.base, registry: 'http://registry.npmjs.org/' })).rejects.toThrow('use https://registry.npmjs.org/');
    await expect(publishRelease({ ...npm.base, registry: 'http://registry.npmjs.org./' })).rejects.toThrow('use https://registry.npmjs.org./');
    await expect(publishRelease({ ...base, registry: 'http://upload.pypi.org./legacy/' })).rejects.toThrow('use https://upload.pypi.org./legacy/');
  });
});
