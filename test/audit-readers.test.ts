import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../packages/release/src/audit.js';
import { PUBGUARD_BIN, withoutCiIdentity } from './helpers.js';

// `audit verify` and `audit show` run while gates of other jobs append to the same log: what
// they read must be the log between two appends, never a record half written.
const cwd = mkdtempSync(join(tmpdir(), 'pubguard-e2e-audit-readers-'));
afterAll(() => {
  if (existsSync(join(cwd, 'closed'))) chmodSync(join(cwd, 'closed'), 0o755);
  rmSync(cwd, { recursive: true, force: true });
});

// The appender is the built library, in a process of its own: it appends `count` records of a
// megabyte (a write long enough to be caught half done) to each log it is sent, then says so.
const RELEASE = pathToFileURL(fileURLToPath(new URL('../packages/release/dist/index.js', import.meta.url))).href;
const APPENDER = `
import { AuditLog } from ${JSON.stringify(RELEASE)};
const count = Number(process.argv[2]);
process.on('message', async (path) => {
  if (path === 'stop') return process.disconnect();
  for (let i = 0; i < count; i++) {
    await new AuditLog(path).append({ stage: 'confirm', outcome: 'passed', actor: 'job-2', subjects: [], reason: 'appended ' + i, details: { output: 'x'.repeat(1_000_000) } });
  }
  process.send('appended');
});
process.send('ready');
`;

describe('audit log readers', () => {
  it('never report a log DAMAGED or TAMPERED while another process appends to it', async () => {
    const script = join(cwd, 'appender.mjs');
    writeFileSync(script, APPENDER);
    // Without the test runner's Node options, which point imports at the TypeScript sources.
    const appender: ChildProcess = fork(script, ['3'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = once(appender, 'exit').then(([code]) => {
      throw new Error(`the appender exited with ${code}`);
    });
    exited.catch(() => undefined);
    const reply = (): Promise<unknown> => Promise.race([once(appender, 'message'), exited]);
    try {
      await reply();
      const seen = { verified: 0, between: 0 };
      // Each round a new log: its first record is written while the reader is quick, as it is
      // on a short log, so that reads meet writes often.
      for (let round = 0; round < 15; round++) {
        const path = join(cwd, `shared-${round}.jsonl`);
        let appended = false;
        const done = reply().then(() => (appended = true));
        done.catch(() => (appended = true));
        appender.send(path);
        while (!appended) {
          const log = new AuditLog(path);
          try {
            const v = await log.verify();
            expect(v.problems, `round ${round}`).toEqual([]);
            seen.verified++;
            if (v.records > 0 && v.records < 3) seen.between++;
            const shown = await log.readComplete();
            expect(shown.cutLine, `round ${round}`).toBeUndefined();
          } catch (error) {
            // Before the first append there is no log yet.
            if (!/no such file/.test((error as Error).message)) throw error;
          }
          await new Promise((wake) => setImmediate(wake));
        }
        await done;
        expect((await new AuditLog(path).verify()).records).toBe(3);
        rmSync(path);
      }
      // Reads met the log between appends, not only before or after them.
      expect(seen.between, JSON.stringify(seen)).toBeGreaterThan(0);
      expect(readdirSync(cwd).filter((f) => f.endsWith('.lock'))).toEqual([]);
    } finally {
      if (appender.connected) appender.send('stop');
      await exited.catch(() => undefined);
    }
  }, 60_000);

  // Root writes anywhere, so as root the commands run without the capabilities that bypass file
  // permissions (setpriv, util-linux), as in unreadable.test.ts; without setpriv root skips.
  const asRoot = process.getuid?.() === 0;
  const setpriv = asRoot && spawnSync('setpriv', ['--version']).status === 0;
  const prefix = setpriv ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] : [];
  it.skipIf(asRoot && !setpriv)('read a log in a directory they may not write, without a lock and without waiting for one left there', async () => {
    const closed = join(cwd, 'closed');
    mkdirSync(closed);
    const path = join(closed, 'audit.jsonl');
    for (let i = 0; i < 3; i++) await new AuditLog(path).append({ stage: 'confirm', outcome: 'passed', actor: `job-${i}`, subjects: [], reason: 'typed' });
    // A lock left from before the directory was closed, naming a live process.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), nonce: 'left' }));
    const whole = readFileSync(path);
    const temp = join(cwd, 'private-tmp');
    mkdirSync(temp);
    chmodSync(closed, 0o555);
    const pubguard = (...args: string[]) => {
      const [command, ...rest] = [...prefix, process.execPath, PUBGUARD_BIN, ...args];
      const started = Date.now();
      const run = spawnSync(command!, rest, { cwd, encoding: 'utf8', env: { ...withoutCiIdentity(process.env), NO_COLOR: '1', TMPDIR: temp } });
      return { code: run.status, stdout: run.stdout, stderr: run.stderr, ms: Date.now() - started };
    };
    const verify = pubguard('audit', 'verify', path);
    expect(verify.stdout + verify.stderr).toMatch(/^audit log intact: 3 records, head [0-9a-f]{64}\n$/);
    expect(verify.code).toBe(0);
    // Far less than the 30 s a gate would wait for that lock.
    expect(verify.ms).toBeLessThan(15_000);
    const show = pubguard('audit', 'show', path);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^#1 .* by job-0\n {4}typed\n#2 .* by job-1\n {4}typed\n#3 .* by job-2\n {4}typed\n$/);
    // Nothing written: not next to the log, not in the temp directory.
    expect(readdirSync(closed).sort()).toEqual(['audit.jsonl', 'audit.jsonl.lock']);
    expect(readdirSync(temp)).toEqual([]);
    expect(readFileSync(path).equals(whole)).toBe(true);
    // A last line cut off for good is still told as damage, after a second's second look.
    chmodSync(closed, 0o755);
    writeFileSync(path, Buffer.concat([whole, Buffer.from('{"seq":4,"time":"20')]));
    chmodSync(closed, 0o555);
    const damaged = pubguard('audit', 'verify', path);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain('audit log DAMAGED: its last line is cut off, and the 3 records before it are intact');
  }, 60_000);
});
