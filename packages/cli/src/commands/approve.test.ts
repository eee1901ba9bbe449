import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { base62Encode } from '@pubguard/rules';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { npmTarball, sshKey, wheel } from '../../../release/src/testing/fixtures.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-approve-'));
let alice: { path: string; pub: string };

beforeAll(async () => {
  alice = sshKey(cwd, 'id_alice');
  await npmTarball(cwd, 'tool', '2.0.0');
  writeFileSync(
    join(cwd, 'policy.json'),
    JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] } }, rule: { minApprovers: 1 } }),
  );
});

describe('pubguard approve', () => {
  it('signs with the name looked up in the policy, in a form ssh-keygen verifies', async () => {
    const io = memoryIO({ cwd });
    const r = await run(['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--policy', 'policy.json', '--out', 'a1', '-f', 'json'], io);
    expect(io.err()).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(io.out());
    expect(out.statement).toMatchObject({ package: 'tool', version: '2.0.0', approver: 'alice' });
    expect(Date.parse(out.statement.expires) - Date.parse(out.statement.issuedAt)).toBe(72 * 3600_000);
    writeFileSync(join(cwd, 'allowed'), `alice ${alice.pub}\n`);
    const verified = execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', join(cwd, 'allowed'), '-I', 'alice', '-n', 'pubguard-approval', '-s', out.files.signature],
      { input: readFileSync(out.files.statement), encoding: 'utf8' },
    );
    expect(verified).toContain('Good "pubguard-approval" signature for alice');
  });

  it('writes an unsigned statement and the ssh-keygen command to sign it', async () => {
    const io = memoryIO({ cwd });
    const r = await run(['approve', 'tool-2.0.0.tgz', '--statement-only', '--approver', 'alice', '--out', 'a2', '--expires', '2h', '--no-audit'], io);
    expect(r.exitCode).toBe(0);
    expect(io.out()).toContain('ssh-keygen -Y sign -n pubguard-approval -f');
    const digest = createHash('sha256').update(readFileSync(join(cwd, 'tool-2.0.0.tgz'))).digest('hex');
    const list = createHash('sha256').update(`${digest}  tool-2.0.0.tgz\n`).digest('hex');
    expect(readdirSync(join(cwd, 'a2'))).toEqual([`tool-2.0.0.alice.${list.slice(0, 8)}.approval.json`]);
  });

  it('shortens a token in a file name it prints, and signs the name as it is', async () => {
    const body = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5';
    const token = `npm_${body}${base62Encode(crc32(Buffer.from(body, 'latin1'))).padStart(6, '0')}`;
    await npmTarball(cwd, 'tool', '2.0.0', `tool-2.0.0-${token}.tgz`);
    const io = memoryIO({ cwd });
    expect((await run(['approve', `tool-2.0.0-${token}.tgz`, '--statement-only', '--approver', 'alice', '--out', 'a-token', '--expires', '2h', '--no-audit'], io)).exitCode).toBe(0);
    expect(io.out()).not.toContain(token);
    expect(io.out()).toContain(`tool-2.0.0-${token.slice(0, 6)}`);
    const [statement] = readdirSync(join(cwd, 'a-token'));
    expect(readFileSync(join(cwd, 'a-token', statement!), 'utf8')).toContain(token);
  });

  it('keeps apart the approvals of the npm tarball and the wheel of one release, so each publish finds its own', async () => {
    await wheel(cwd, 'tool', '2.0.0');
    for (const file of ['tool-2.0.0.tgz', 'tool-2.0.0-py3-none-any.whl']) {
      expect((await run(['approve', file, '--key', 'id_alice', '--policy', 'policy.json', '--out', 'a5', '--no-audit'], memoryIO({ cwd }))).exitCode).toBe(0);
    }
    expect(readdirSync(join(cwd, 'a5')).filter((f) => f.endsWith('.approval.json'))).toHaveLength(2);
    for (const file of ['tool-2.0.0.tgz', 'tool-2.0.0-py3-none-any.whl']) {
      const io = memoryIO({ cwd });
      expect((await run(['approvals', 'verify', file, '--policy', 'policy.json', '--approvals', 'a5', '--no-audit'], io)).exitCode, io.out()).toBe(0);
    }
  });

  it('approves digests from a manifest', async () => {
    writeFileSync(
      join(cwd, 'manifest.json'),
      JSON.stringify({ package: 'tool', version: '2.0.0', artifacts: ['tool-2.0.0.tgz', { name: 'tool-2.0.0-py3-none-any.whl', sha256: 'ab'.repeat(32) }] }),
    );
    const io = memoryIO({ cwd });
    expect((await run(['approve', 'manifest.json', '--key', 'id_alice', '--approver', 'alice', '--out', 'a3', '-f', 'json', '--no-audit'], io)).exitCode).toBe(0);
    expect(JSON.parse(io.out()).statement.artifacts.map((a: { name: string }) => a.name)).toEqual(['tool-2.0.0-py3-none-any.whl', 'tool-2.0.0.tgz']);
  });

  it('refuses a manifest that writes a key twice, as the approver would sign digests other than those read', async () => {
    const listed = JSON.stringify({ package: 'tool', version: '2.0.0', artifacts: [{ name: 'tool-2.0.0.tgz', sha256: 'ab'.repeat(32) }] }, null, 2);
    writeFileSync(join(cwd, 'twice.json'), listed.replace(/\n\}$/, `,\n  "artifacts": [{ "name": "tool-2.0.0.tgz", "sha256": "${'cd'.repeat(32)}" }]\n}`));
    const io = memoryIO({ cwd });
    expect((await run(['approve', 'twice.json', '--key', 'id_alice', '--approver', 'alice', '--out', 'a-twice', '--no-audit'], io)).exitCode).toBe(2);
    expect(io.err()).toContain(`manifest ${join(cwd, 'twice.json')}:10:3: key "artifacts" is written twice (first on line 4)`);
    expect(existsSync(join(cwd, 'a-twice'))).toBe(false);
  });

  it('refuses a digests-only manifest whose version is not plain semver', async () => {
    for (const [version, message] of [
      ['v2.0.0', /"version" 'v2.0.0' is not a semver version/],
      [2, /"version" must be a string/],
    ] as const) {
      writeFileSync(join(cwd, 'digests.json'), JSON.stringify({ package: 'tool', version, artifacts: [{ name: 'tool-2.0.0.tgz', sha256: 'ab'.repeat(32) }] }));
      const io = memoryIO({ cwd });
      expect((await run(['approve', 'digests.json', '--key', 'id_alice', '--approver', 'alice', '--out', 'a6', '--no-audit'], io)).exitCode).toBe(2);
      expect(io.err()).toMatch(message);
    }
  });

  it('refuses to sign as an approver the policy does not give the key to, and warns for a key it does not list', async () => {
    sshKey(cwd, 'id_bob');
    const mismatch = memoryIO({ cwd });
    const argv = ['approve', 'tool-2.0.0.tgz', '--policy', 'policy.json', '--out', 'a7', '--no-audit'];
    expect((await run([...argv, '--key', 'id_alice', '--approver', 'bob'], mismatch)).exitCode).toBe(2);
    expect(mismatch.err()).toMatch(/belongs to alice in .*policy\.json, not to bob/);
    const unlisted = memoryIO({ cwd });
    expect((await run([...argv, '--key', 'id_bob', '--approver', 'bob'], unlisted)).exitCode).toBe(0);
    expect(unlisted.err()).toMatch(/is not in .*policy\.json: an approval with it counts only under a policy that lists it for bob/);
  });

  it('approves files without a readable version when --package and --version are given', async () => {
    writeFileSync(join(cwd, 'tool.jar'), 'not a package');
    const without = memoryIO({ cwd });
    expect((await run(['approve', 'tool.jar', '--key', 'id_alice', '--approver', 'alice', '--no-audit'], without)).exitCode).toBe(2);
    expect(without.err()).toContain('pass --package and --version');
    const io = memoryIO({ cwd });
    const argv = ['approve', 'tool.jar', '--key', 'id_alice', '--approver', 'alice', '--package', 'tool', '--version', '2.0.0', '--out', 'a4', '--no-audit'];
    expect((await run(argv, io)).exitCode).toBe(0);
    const bad = memoryIO({ cwd });
    expect((await run([...argv.slice(0, -5), '--version', 'v2.0.0', '--no-audit'], bad)).exitCode).toBe(2);
    expect(bad.err()).toContain("--version 'v2.0.0' is not a semver version");
  });

  it('refuses a tarball npm would read another package.json from, without advice that cannot help', async () => {
    await npmTarball(cwd, 'tool', '2.0.0', 'two-2.0.0.tgz', { 'zzz/package.json': JSON.stringify({ name: 'other', version: '6.6.6' }) });
    const io = memoryIO({ cwd });
    expect((await run(['approve', 'two-2.0.0.tgz', '--key', 'id_alice', '--approver', 'alice', '--no-audit'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("members unpack as npm's package.json");
    expect(io.err()).not.toContain('pass --package and --version');
  });

  it('lists -k, which it takes for --key, in its help', async () => {
    const help = memoryIO({ cwd });
    await run(['approve', '--help'], help);
    expect(help.out()).toMatch(/^ {2}-k, --key FILE +your OpenSSH private key/m);
  });

  it('accepts every unit the --expires help lists, and only those', async () => {
    const help = memoryIO({ cwd });
    await run(['approve', '--help'], help);
    const line = /--expires DURATION[^]*?\n(?=\s+--)/.exec(help.out())?.[0] ?? '';
    const listed = [...line.matchAll(/\b(\d+)([a-z])\b/g)];
    expect(listed.map((m) => m[2])).toEqual(['m', 'h', 'd', 'w']);
    const ms: Record<string, number> = { m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
    for (const [example, n, unit] of listed) {
      const io = memoryIO({ cwd });
      const r = await run(['approve', 'tool-2.0.0.tgz', '--statement-only', '--approver', 'alice', '--out', `exp-${example}`, '--expires', example, '--no-audit', '-f', 'json'], io);
      expect(r.exitCode, example).toBe(0);
      const { statement } = JSON.parse(io.out());
      expect(Date.parse(statement.expires) - Date.parse(statement.issuedAt), example).toBe(Number(n) * ms[unit!]!);
    }
    for (const unlisted of ['30s', '1y', '2M']) {
      const io = memoryIO({ cwd });
      expect((await run(['approve', 'tool-2.0.0.tgz', '--statement-only', '--approver', 'alice', '--out', 'exp-x', '--expires', unlisted, '--no-audit'], io)).exitCode, unlisted).toBe(2);
    }
  });

  it('exits 2 with a clear message for usage mistakes and bad keys', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', join(cwd, 'id_pem')]);
    const cases: [string[], RegExp][] = [
      [['approve', 'tool-2.0.0.tgz'], /--key is required/],
      [['approve', '--key', 'id_alice'], /give the artifacts/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--approver', 'a', '--expires', 'soon'], /--expires: 'soon' is not a duration/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--approver', 'a', '--expires', '99999999999w'], /--expires: '99999999999w' is longer than 100 years/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--approver', 'a', '--expires', '1s'], /--expires: '1s': give minutes, hours, days or weeks \(90m, 72h, 7d, 2w\), not seconds/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'nokey', '--approver', 'a'], /cannot read key file .*nokey: no such file$/m],
      [['approve', 'tool-2.0.0.tgz', '--key', '.', '--approver', 'a'], /cannot read key file .*: is a directory, not a file$/m],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_alice.pub', '--approver', 'a'], /id_alice\.pub is a public key, which cannot sign\. Write the statement, reading only the key's public part, with:\n {2}pubguard approve tool-2\.0\.0\.tgz --key id_alice\.pub --approver a --no-audit --statement-only\n/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'tool-2.0.0.tgz', '--approver', 'a'], /not an OpenSSH private key/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_pem', '--approver', 'a'], /id_pem is a private key in PEM format .*`ssh-keygen -p -N "" -f \S*id_pem`.*--key \S*id_pem\.pub --statement-only/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_pem', '--approver', 'a', '--statement-only'], /id_pem is a private key in PEM format .*`--key \S*id_pem\.pub`/],
      [['approve', 'tool-2.0.0.tgz', '--key', 'id_alice'], /pass --approver NAME/],
    ];
    for (const [argv, message] of cases) {
      const io = memoryIO({ cwd });
      expect((await run([...argv, '--no-audit'], io)).exitCode).toBe(2);
      expect(io.err()).toMatch(message);
    }
  });

  it('writes the statement with a passphrase-protected key or its .pub under --statement-only, the approver looked up by key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-approve-enc-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-C', 'carol@example.test', '-f', join(dir, 'id_carol')]);
    const pub = readFileSync(join(dir, 'id_carol.pub'), 'utf8').trim();
    await npmTarball(dir, 'tool', '2.0.0');
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, approvers: { carol: { keys: [pub] } }, rule: { minApprovers: 1 } }));
    for (const key of ['id_carol', 'id_carol.pub']) {
      const io = memoryIO({ cwd: dir });
      const r = await run(['approve', 'tool-2.0.0.tgz', '--key', key, '--statement-only', '--policy', 'policy.json', '--out', `s-${key}`, '--no-audit', '-f', 'json'], io);
      expect(io.err(), key).toBe('');
      expect(r.exitCode, key).toBe(0);
      const out = JSON.parse(io.out());
      expect(out.statement.approver).toBe('carol');
      expect(out.key).toBe(execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'id_carol.pub')], { encoding: 'utf8' }).split(' ')[1]);
      expect(out.files.signature).toBeUndefined();
    }
    // Signed with ssh-keygen and the passphrase, the statement is an approval that counts.
    const text = memoryIO({ cwd: dir });
    expect((await run(['approve', 'tool-2.0.0.tgz', '--key', 'id_carol', '--statement-only', '--policy', 'policy.json', '--out', 'appr', '--no-audit'], text)).exitCode).toBe(0);
    const command = /sign it with:\n {2}(ssh-keygen .*)\n/.exec(text.out())?.[1] ?? '';
    expect(command).toMatch(/^ssh-keygen -Y sign -n pubguard-approval -f id_carol \/.*\.approval\.json$/);
    execFileSync('sh', ['-c', `${command.replace('ssh-keygen -Y sign', "ssh-keygen -q -P 'correct horse' -Y sign")}`], { cwd: dir });
    const verify = memoryIO({ cwd: dir });
    expect((await run(['approvals', 'verify', 'tool-2.0.0.tgz', '--policy', 'policy.json', '--approvals', 'appr', '--no-audit'], verify)).exitCode, verify.out()).toBe(0);
  });

  it('refuses to sign with a passphrase-protected key, naming the command that writes the statement instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubguard-cli-approve-enc-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', 'pw', '-f', join(dir, 'my key')]);
    await npmTarball(dir, 'tool', '2.0.0');
    const argv = ['tool-2.0.0.tgz', '--key', 'my key', '--approver', 'dave', '--out', 'appr', '--no-audit'];
    const io = memoryIO({ cwd: dir });
    expect((await run(['approve', ...argv], io)).exitCode).toBe(2);
    expect(io.err()).toContain(`${join(dir, 'my key')} is encrypted with a passphrase, which pubguard does not read.`);
    const suggested = /\n {2}pubguard (approve .*)\n/.exec(io.err())?.[1] ?? '';
    expect(suggested).toBe("approve tool-2.0.0.tgz --key 'my key' --approver dave --out appr --no-audit --statement-only");
    // The command it names works as given.
    const words = suggested.replace("'my key'", 'my\0key').split(' ').map((w) => w.replace('\0', ' '));
    const again = memoryIO({ cwd: dir });
    expect((await run(words, again)).exitCode, again.err()).toBe(0);
    expect(again.out()).toContain('statement written: tool 2.0.0');
    expect(again.out()).toContain("ssh-keygen -Y sign -n pubguard-approval -f 'my key' ");
  });

  describe('over an approval of the same files', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    // Statements are dated to the second: the clock decides whether a second run writes the same bytes.
    const at = (time: string): void => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date(time));
    };
    const approve = async (out: string, ...extra: string[]) => {
      const io = memoryIO({ cwd });
      const r = await run(['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--policy', 'policy.json', '--out', out, '--no-audit', ...extra], io);
      return { code: r.exitCode, out: io.out(), err: io.err() };
    };
    const verify = async (out: string) => {
      const io = memoryIO({ cwd });
      return (await run(['approvals', 'verify', 'tool-2.0.0.tgz', '--policy', 'policy.json', '--approvals', out, '--no-audit'], io)).exitCode;
    };
    const files = (out: string) => {
      const [statement] = readdirSync(join(cwd, out)).filter((f) => f.endsWith('.approval.json'));
      const path = join(cwd, out, statement!);
      return { path, sig: `${path}.sig`, text: readFileSync(path, 'utf8') };
    };

    it('--statement-only keeps a signed approval, and replaces it and its signature only with --replace', async () => {
      at('2030-01-01T10:00:00Z');
      expect((await approve('s1')).code).toBe(0);
      const signed = files('s1');
      expect(await verify('s1')).toBe(0);
      at('2030-01-01T10:00:05Z');
      const refused = await approve('s1', '--statement-only');
      expect(refused.code).toBe(2);
      expect(refused.out).toBe('');
      expect(refused.err).toContain(`${signed.path} is signed already (${signed.sig}, expires 2030-01-04T10:00:00.000Z): a new statement in its place would no longer match that signature`);
      expect(refused.err).toContain('or pass --replace to write the new statement and remove the old signature');
      expect(files('s1').text).toBe(signed.text);
      expect(await verify('s1')).toBe(0);
      const replaced = await approve('s1', '--statement-only', '--replace', '-f', 'json');
      expect(replaced.code, replaced.err).toBe(0);
      expect(JSON.parse(replaced.out)).toMatchObject({ existing: 'replaced', removedSignature: signed.sig, statement: { issuedAt: '2030-01-01T10:00:05.000Z' } });
      expect(existsSync(signed.sig)).toBe(false);
      expect(files('s1').text).not.toBe(signed.text);
      // The command it prints signs without asking whether to overwrite a signature.
      at('2030-01-01T10:00:10Z');
      const again = await approve('s1', '--statement-only', '--replace');
      expect(again.out).not.toContain('removed');
      const command = /sign it with:\n {2}(ssh-keygen .*)\n/.exec(again.out)?.[1] ?? '';
      execFileSync('sh', ['-c', `${command.replace('ssh-keygen -Y sign', 'ssh-keygen -q -Y sign')} < /dev/null`], { cwd });
      expect(await verify('s1')).toBe(0);
      at('2030-01-01T10:00:15Z');
      const text = await approve('s1', '--statement-only', '--replace');
      expect(text.out).toContain(`removed ${signed.sig}: it signed the statement replaced, whose approval no longer counts\nsign it with:`);
    });

    it('--statement-only keeps the same statement, byte for byte, and says so', async () => {
      at('2030-01-01T11:00:00Z');
      expect((await approve('s2', '--statement-only')).code).toBe(0);
      const unsigned = await approve('s2', '--statement-only');
      expect(unsigned.code).toBe(0);
      expect(unsigned.out).toMatch(/^statement unchanged: tool 2\.0\.0, 1 artifact, by alice/);
      expect(unsigned.out).toContain('the same statement was there already: kept as it is\nsign it with:');
      const { path, sig, text } = files('s2');
      execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'pubguard-approval', '-f', join(cwd, 'id_alice'), path]);
      const signature = readFileSync(sig, 'utf8');
      const json = await approve('s2', '--statement-only', '-f', 'json');
      expect(JSON.parse(json.out)).toMatchObject({ existing: 'kept' });
      const kept = await approve('s2', '--statement-only');
      expect(kept.out).toContain(`the same statement was there already: kept as it is, with its signature ${sig}\n`);
      expect(kept.out).not.toContain('sign it with');
      expect(files('s2').text).toBe(text);
      expect(readFileSync(sig, 'utf8')).toBe(signature);
      expect(await verify('s2')).toBe(0);
    });

    it('--statement-only writes over an unsigned statement, and removes a signature left without its statement', async () => {
      at('2030-01-01T12:00:00Z');
      expect((await approve('s3', '--statement-only')).code).toBe(0);
      at('2030-01-01T12:00:05Z');
      const r = await approve('s3', '--statement-only', '-f', 'json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ existing: 'replaced', statement: { issuedAt: '2030-01-01T12:00:05.000Z' } });
      expect(JSON.parse(r.out).removedSignature).toBeUndefined();
      const { path, sig } = files('s3');
      rmSync(path);
      writeFileSync(sig, 'left behind');
      const lone = await approve('s3', '--statement-only');
      expect(lone.code, lone.err).toBe(0);
      expect(lone.out).toContain(`removed ${sig}: a signature without its statement, which counted for nothing\nsign it with:`);
      expect(existsSync(sig)).toBe(false);
    });

    it('signing replaces the approval in place with a new one that counts, and says so', async () => {
      at('2030-01-01T13:00:00Z');
      expect((await approve('s4')).code).toBe(0);
      at('2030-01-01T13:00:05Z');
      const r = await approve('s4', '--expires', '2h');
      expect(r.code).toBe(0);
      expect(r.out).toContain('replaced the approval written before under this name (expires 2030-01-04T13:00:00.000Z)\n');
      expect(files('s4').text).toContain('"expires": "2030-01-01T15:00:05.000Z"');
      expect(await verify('s4')).toBe(0);
      const replace = await approve('s4', '--replace');
      expect(replace.code).toBe(2);
      expect(replace.err).toContain('--replace goes with --statement-only');
    });
  });

  it('signs, writes and records nothing once Ctrl-C, SIGTERM or SIGHUP has stopped it, exit 2', async () => {
    const io = memoryIO({ cwd, signal: AbortSignal.abort() });
    const r = await run(['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--policy', 'policy.json', '--out', 'a-stopped', '--audit', 'stopped.jsonl'], io);
    expect(r.exitCode).toBe(2);
    expect(io.err()).toMatch(/^pubguard approve: interrupted/);
    expect(io.out()).toBe('');
    expect(existsSync(join(cwd, 'a-stopped'))).toBe(false);
    expect(existsSync(join(cwd, 'stopped.jsonl'))).toBe(false);
  });
});
