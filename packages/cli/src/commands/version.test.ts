import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { base62Encode } from '@pubguard/rules';
import { describe, expect, it } from 'vitest';
import { npmTarball, wheel } from '../../../release/src/testing/fixtures.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-version-'));

describe('pubguard version check', () => {
  it('has --help', async () => {
    const io = memoryIO({ cwd });
    expect((await run(['version', 'check', '--help'], io)).exitCode).toBe(0);
    expect(io.out()).toContain('Usage: pubguard version check <tag>');
  });

  it('accepts a good tag and matching artifacts, and records it', async () => {
    await npmTarball(cwd, 'tool', '1.2.3');
    await wheel(cwd, 'tool', '1.2.3');
    const io = memoryIO({ cwd, env: { GITHUB_ACTOR: 'octo' } });
    const r = await run(['version', 'check', 'refs/tags/v1.2.3', 'tool-1.2.3.tgz', 'tool-1.2.3-py3-none-any.whl'], io);
    expect(r.exitCode).toBe(0);
    expect(io.out()).toBe('accepted: tag refs/tags/v1.2.3 is version 1.2.3 (PEP 440 1.2.3); 2 artifacts match\n');
    const record = JSON.parse(readFileSync(join(cwd, '.pubguard/audit.jsonl'), 'utf8').trim().split('\n').at(-1)!);
    expect(record).toMatchObject({ stage: 'version', outcome: 'passed', actor: 'octo' });
    expect(record.subjects).toHaveLength(3);
    expect(record.subjects[1].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('shortens a token in a file name, in text and JSON', async () => {
    const body = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5';
    const token = `npm_${body}${base62Encode(crc32(Buffer.from(body, 'latin1'))).padStart(6, '0')}`;
    await npmTarball(cwd, 'tool', '1.2.3', `tool-${token}.tgz`);
    for (const tag of ['v1.2.3', 'v1.2.4']) {
      for (const format of ['text', 'json']) {
        const io = memoryIO({ cwd });
        await run(['version', 'check', tag, `tool-${token}.tgz`, '--format', format, '--no-audit'], io);
        expect(io.out(), `${tag} ${format}`).not.toContain(token);
        if (format === 'json' || tag === 'v1.2.4') expect(io.out(), `${tag} ${format}`).toContain(`tool-${token.slice(0, 6)}`);
      }
    }
  });

  it('refuses with exit 1 and a reason, in text and JSON', async () => {
    const io = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v01.2.3', '--no-audit'], io)).exitCode).toBe(1);
    expect(io.out()).toContain('leading zero');
    const j = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v1.2.3-rc.1', '--format', 'json', '--no-audit'], j)).exitCode).toBe(1);
    expect(JSON.parse(j.out())).toMatchObject({ version: 1, stage: 'version', ok: false, reason: expect.stringMatching(/--allow-prerelease/) });
  });

  it('quotes an empty tag, or one with a space or a control character, in its refusal', async () => {
    for (const [tag, shown] of [
      ['', "''"],
      ['v1.2.3 ', "'v1.2.3 '"],
      ['v1.2.3\x1b[2K', "'v1.2.3\\x1b[2K'"],
    ]) {
      const io = memoryIO({ cwd });
      expect((await run(['version', 'check', tag!, '--no-audit'], io)).exitCode, tag).toBe(1);
      expect(io.out().startsWith(`refused: ${shown}: the tag `), io.out()).toBe(true);
    }
  });

  it('names the file and both versions on a mismatch', async () => {
    await npmTarball(cwd, 'tool', '1.2.4');
    const io = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v1.2.3', 'tool-1.2.4.tgz', '--no-audit', '-f', 'json'], io)).exitCode).toBe(1);
    expect(JSON.parse(io.out()).mismatches).toEqual([{ path: 'tool-1.2.4.tgz', where: 'package.json', expected: '1.2.3', actual: '1.2.4' }]);
    const text = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v1.2.3', 'tool-1.2.4.tgz', '--no-audit'], text)).exitCode).toBe(1);
    expect(text.out()).toBe('refused: the artifacts do not carry the version of v1.2.3\n  tool-1.2.4.tgz: package.json says 1.2.4, expected 1.2.3\n');
  });

  it('gives artifact paths in JSON as the text does: relative to the working directory when inside it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'pubguard-cli-version-outside-'));
    await npmTarball(outside, 'tool', '1.2.3');
    mkdirSync(join(cwd, 'dist'), { recursive: true });
    await npmTarball(join(cwd, 'dist'), 'tool', '1.2.3');
    const io = memoryIO({ cwd });
    const args = ['version', 'check', 'v1.2.3', join(cwd, 'dist', 'tool-1.2.3.tgz'), join(outside, 'tool-1.2.3.tgz'), '--no-audit', '-f', 'json'];
    expect((await run(args, io)).exitCode).toBe(0);
    expect(JSON.parse(io.out()).artifacts.map((a: { path: string }) => a.path)).toEqual(['dist/tool-1.2.3.tgz', join(outside, 'tool-1.2.3.tgz')]);
    const bad = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v1.2.4', './dist/tool-1.2.3.tgz', '--no-audit', '-f', 'json'], bad)).exitCode).toBe(1);
    const out = JSON.parse(bad.out());
    expect(out.mismatches.map((m: { path: string }) => m.path)).toEqual(['dist/tool-1.2.3.tgz']);
    expect(out.artifacts.map((a: { path: string }) => a.path)).toEqual(['dist/tool-1.2.3.tgz']);
  });

  it('exits 2 on usage errors and unreadable artifacts', async () => {
    const io = memoryIO({ cwd });
    expect((await run(['version', 'check'], io)).exitCode).toBe(2);
    const io2 = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v1.0.0', '--bogus'], io2)).exitCode).toBe(2);
    expect(io2.err()).toContain("Unknown option '--bogus'");
    const io3 = memoryIO({ cwd });
    expect((await run(['version', 'check', 'v1.0.0', 'missing.tgz', '--no-audit'], io3)).exitCode).toBe(2);
    expect(io3.err()).toMatch(/missing\.tgz: no such file/);
    expect(io3.err()).not.toContain('internal error');
  });

  it('gives no verdict once Ctrl-C, SIGTERM or SIGHUP has stopped it: an error record, exit 2', async () => {
    await npmTarball(cwd, 'halt', '1.0.0');
    const io = memoryIO({ cwd, signal: AbortSignal.abort() });
    const r = await run(['version', 'check', 'v1.0.0', 'halt-1.0.0.tgz', '--audit', 'halt.jsonl'], io);
    expect(r.exitCode).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toMatch(/^pubguard version check: interrupted .*: the version was not checked\n$/);
    const records = readFileSync(join(cwd, 'halt.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => x.outcome)).toEqual(['error']);
    expect(records[0].reason).toMatch(/^interrupted/);
  });
});
