import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { type AuditEntry, AuditLog } from './audit.js';

// Directories this user may not write (`access` says so, and a lock file cannot be made there),
// and directories where making a lock file fails all the same (a read-only file system, which
// `access` may not tell root). Root, who runs the tests, may write anywhere, so both are mocked;
// test/audit-readers.test.ts closes a real directory for other users.
const fs = vi.hoisted(() => ({ closed: [] as string[], readOnly: [] as string[], locksTried: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const error = (code: string, call: string, p: string): Error => Object.assign(new Error(`${code}: ${call} '${p}'`), { code, syscall: call, path: p });
  const within = (dirs: string[], p: string): boolean => dirs.some((d) => p === d || p.startsWith(`${d}/`));
  const access = (async (path: Parameters<typeof real.access>[0], mode?: number) => {
    if (within(fs.closed, String(path))) throw error('EACCES', 'access', String(path));
    return real.access(path, mode);
  }) as typeof real.access;
  const open = (async (path: Parameters<typeof real.open>[0], ...rest: unknown[]) => {
    const p = String(path);
    if (p.endsWith('.lock')) {
      fs.locksTried.push(p);
      if (within(fs.closed, p)) throw error('EACCES', 'open', p);
      if (within(fs.readOnly, p)) throw error('EROFS', 'open', p);
    }
    return (real.open as (...a: unknown[]) => ReturnType<typeof real.open>)(path, ...rest);
  }) as typeof real.open;
  return { ...real, access, open, default: { ...real, access, open } };
});

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pubguard-audit-unlocked-')));
let n = 0;
const entry = (i: number): AuditEntry => ({ stage: 'confirm', outcome: 'passed', actor: 'ci', subjects: [], reason: `step ${i}` });

/** A log of `count` records in a directory of its own, and the bytes the next append would write. */
async function logWith(count: number): Promise<{ path: string; base: string; next: Buffer }> {
  const base = join(dir, `log-${++n}`);
  mkdirSync(base);
  const path = join(base, 'audit.jsonl');
  for (let i = 1; i <= count; i++) await new AuditLog(path).append(entry(i));
  const scratch = join(dir, `scratch-${n}.jsonl`);
  writeFileSync(scratch, readFileSync(path));
  await new AuditLog(scratch).append(entry(count + 1));
  return { path, base, next: readFileSync(scratch).subarray(statSync(path).size) };
}

describe('AuditLog readers where the lock cannot be made', () => {
  it('read a log in a directory they may not write, without waiting for a lock left there or taking one in the temp directory', async () => {
    const { path, base } = await logWith(3);
    // A lock from before the directory was closed, naming a live process: never to be had.
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), nonce: 'x' });
    writeFileSync(`${path}.lock`, lock);
    fs.closed.push(base);
    fs.locksTried.length = 0;
    try {
      const log = new AuditLog(path, [], { waitMs: 5000 });
      const started = Date.now();
      expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
      expect((await log.readComplete()).records.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(fs.locksTried).toEqual([]);
      expect(readFileSync(`${path}.lock`, 'utf8')).toBe(lock);
    } finally {
      fs.closed.length = 0;
    }
  });

  it('read a last line without its newline again after a pause, and call it damaged only when it stays', async () => {
    const { path, base, next } = await logWith(3);
    const whole = readFileSync(path);
    fs.readOnly.push(base);
    fs.locksTried.length = 0;
    try {
      const log = new AuditLog(path);
      // An append caught half written, finished 30 ms later.
      appendFileSync(path, next.subarray(0, 30));
      const verified = log.verify();
      await sleep(30);
      appendFileSync(path, next.subarray(30));
      expect(await verified).toMatchObject({ ok: true, records: 4, problems: [] });
      // Caught before its newline, and then shown whole.
      truncateSync(path, whole.length);
      appendFileSync(path, next.subarray(0, -1));
      const shown: number[] = [];
      const showing = log.forEachComplete((r) => void shown.push(r.seq));
      await sleep(30);
      appendFileSync(path, '\n');
      expect(await showing).toEqual({ records: 4 });
      expect(shown).toEqual([1, 2, 3, 4]);
      // Written in part, then undone, as a failed append is: the log as it was.
      truncateSync(path, whole.length);
      appendFileSync(path, next.subarray(0, 30));
      const undone = log.readComplete();
      await sleep(30);
      truncateSync(path, whole.length);
      expect(await undone).toEqual({ records: expect.any(Array) });
      expect((await undone).records).toHaveLength(3);
      // Left cut off: damage, once the pauses are over.
      appendFileSync(path, next.subarray(0, 30));
      const started = Date.now();
      const damaged = await log.verify();
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(damaged).toMatchObject({ ok: false, records: 3, problems: [{ line: 4, cut: 'record' }] });
      expect(await log.readComplete()).toMatchObject({ cutLine: 4 });
      // The lock was tried next to the log only, and none is left.
      expect(fs.locksTried.length).toBeGreaterThan(0);
      expect(fs.locksTried.every((p) => p === `${path}.lock`)).toBe(true);
      expect(existsSync(`${path}.lock`)).toBe(false);
    } finally {
      fs.readOnly.length = 0;
    }
  });
});
