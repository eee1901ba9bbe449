import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { type AuditEntry, AuditLog, type AuditRecord, GENESIS } from './audit.js';
import { withFileLock } from './lock.js';
import { redactText, secretsFromEnv } from './redact.js';

const dir = mkdtempSync(join(tmpdir(), 'pubguard-audit-'));
let n = 0;

async function logWith(count: number): Promise<{ log: AuditLog; path: string; head: string }> {
  const path = join(dir, `audit-${++n}`, 'audit.jsonl');
  const log = new AuditLog(path);
  for (let i = 1; i <= count; i++) {
    await log.append({ stage: 'version', outcome: 'passed', actor: 'ci', subjects: [{ name: `a${i}.tgz`, sha256: 'a'.repeat(64) }], reason: `step ${i}` });
  }
  const { head } = await log.verify();
  return { log, path, head };
}

const lines = (p: string): string[] => readFileSync(p, 'utf8').split('\n').filter(Boolean);
const write = (p: string, l: string[]): void => writeFileSync(p, l.map((x) => `${x}\n`).join(''));

describe('AuditLog', () => {
  it('chains records from the genesis hash and verifies clean', async () => {
    const { log, head } = await logWith(3);
    const records = await log.read();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]!.prev).toBe(GENESIS);
    const v = await log.verify({ head });
    expect(v).toMatchObject({ ok: true, records: 3, problems: [] });
  });

  it('refuses to append to a log whose last line lost its newline, leaving the log as it was', async () => {
    const { log, path } = await logWith(2);
    const cut = readFileSync(path, 'utf8').slice(0, -1);
    writeFileSync(path, cut);
    await expect(log.append({ stage: 'confirm', outcome: 'passed', actor: 'ci', subjects: [], reason: 'x' })).rejects.toThrow(/does not end with a newline/);
    expect(readFileSync(path, 'utf8')).toBe(cut);
  });

  it('reads the records before a last line cut off mid-record, and the number of that line', async () => {
    const { log, path } = await logWith(3);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, text.length - 40));
    await expect(log.read()).rejects.toThrow(/line 3 is not JSON/);
    const { records, cutLine } = await log.readComplete();
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(cutLine).toBe(3);
    writeFileSync(path, text);
    expect(await log.readComplete()).toEqual({ records: await log.read() });
  });

  it('detects an edited record', async () => {
    const { log, path } = await logWith(3);
    const l = lines(path);
    l[1] = l[1]!.replace('"passed"', '"refused"');
    write(path, l);
    const v = await log.verify();
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ line: 2, message: expect.stringMatching(/edited/) });
  });

  it('detects an edited last record (no later record to break)', async () => {
    const { log, path } = await logWith(2);
    const l = lines(path);
    l[1] = l[1]!.replace('step 2', 'step X');
    write(path, l);
    expect((await log.verify()).problems[0]!.message).toMatch(/record 2 was edited/);
  });

  it('detects a deleted record', async () => {
    const { log, path } = await logWith(3);
    const l = lines(path);
    write(path, [l[0]!, l[2]!]);
    const v = await log.verify();
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.message).join()).toMatch(/chain broken before record 3/);
  });

  it('detects reordered records', async () => {
    const { log, path } = await logWith(3);
    const l = lines(path);
    write(path, [l[0]!, l[2]!, l[1]!]);
    expect((await log.verify()).ok).toBe(false);
  });

  it('detects an inserted record, even one with a correct own hash', async () => {
    const { log, path } = await logWith(3);
    const other = await logWith(1);
    const l = lines(path);
    write(path, [l[0]!, lines(other.path)[0]!, l[1]!, l[2]!]);
    const v = await log.verify();
    expect(v.ok).toBe(false);
    expect(v.problems.some((p) => p.line === 2)).toBe(true);
  });

  it('detects truncation only against a known head', async () => {
    const { log, path, head } = await logWith(3);
    write(path, lines(path).slice(0, 2));
    expect((await log.verify()).ok).toBe(true);
    const v = await log.verify({ head });
    expect(v.ok).toBe(false);
    expect(v.problems[0]!.message).toMatch(/truncated or rewritten/);
  });

  it('accepts a head from before later appends', async () => {
    const { log, head } = await logWith(2);
    await log.append({ stage: 'confirm', outcome: 'refused', actor: 'ci', subjects: [], reason: 'later' });
    expect((await log.verify({ head })).ok).toBe(true);
  });

  it('never writes a token or a secret from the environment', async () => {
    const token = `ghp_${'Ab3'.repeat(12)}`;
    const env = { NPM_TOKEN: 'correct-horse-battery-staple', HOME: '/home/ci' };
    const path = join(dir, 'secret.jsonl');
    const log = new AuditLog(path, secretsFromEnv(env));
    await log.append({
      stage: 'publish',
      outcome: 'error',
      actor: 'ci',
      subjects: [{ name: `leak-${token}.tgz` }],
      reason: `npm said: bad token ${token}; auth correct-horse-battery-staple`,
      details: { [token]: [token, { nested: 'x correct-horse-battery-staple' }] },
    });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4, 30));
    expect(text).not.toContain('correct-horse-battery-staple');
    expect(text).toContain('ghp_…[redacted]');
    expect((await log.verify()).ok).toBe(true);
  });
});

describe('AuditLog on a log whose line ends were converted to CRLF', () => {
  const crlf = (text: string, only?: (line: number) => boolean): string =>
    text
      .split('\n')
      .map((l, i, all) => (i === all.length - 1 || (only && !only(i + 1)) ? l : `${l}\r`))
      .join('\n');
  const entry = (reason: string): AuditEntry => ({ stage: 'confirm', outcome: 'passed', actor: 'ci', subjects: [], reason });

  it('reports the conversion once, finds every record intact without its CR, and verifies again once the CRs are removed', async () => {
    const { log, path, head } = await logWith(4);
    const written = readFileSync(path, 'utf8');
    writeFileSync(path, crlf(written));
    const v = await log.verify({ head });
    expect(v).toEqual({
      ok: false,
      records: 4,
      head,
      problems: [
        {
          line: 0,
          message: 'every line ends in CRLF where a record ends in LF: the line ends were converted (git core.autocrlf, a Windows editor?); each record was checked with its CR removed',
          crlf: 'converted',
        },
      ],
    });
    // A head kept while the log had its CRs names the same record once they are gone.
    const rawHead = createHash('sha256').update(crlf(written).split('\n').at(-2)!).digest('hex');
    expect((await log.verify({ head: rawHead })).problems).toHaveLength(1);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/\r$/gm, ''));
    expect(await log.verify({ head })).toEqual({ ok: true, records: 4, head, problems: [] });
  });

  it('names the lines of a partial conversion, and still finds an edit and a deletion beside it', async () => {
    const { log, path } = await logWith(6);
    writeFileSync(path, crlf(readFileSync(path, 'utf8'), (line) => line === 2 || line === 3 || line === 5));
    const mixed = await log.verify();
    expect(mixed.ok).toBe(false);
    expect(mixed.problems).toEqual([expect.objectContaining({ line: 0, message: expect.stringMatching(/^lines 2-3, 5 \(3 of 6 lines\) end in CRLF /), crlf: 'converted' })]);
    const l = readFileSync(path, 'utf8').split('\n');
    l[2] = l[2]!.replace('step 3', 'step X');
    l.splice(3, 1);
    writeFileSync(path, l.join('\n'));
    const edited = await log.verify();
    expect(edited.problems.map((p) => [p.line, p.crlf ?? p.message])).toEqual([
      [0, 'converted'],
      [3, 'record 3 was edited (its hash does not match its content)'],
      [4, 'chain broken before record 5: a record was deleted, inserted, reordered or edited'],
      [4, 'sequence jumps from 3 to 5'],
    ]);
  });

  it('tells a record appended after the conversion, chained to a line with its CR, from an edit', async () => {
    const { log, path } = await logWith(2);
    const converted = crlf(readFileSync(path, 'utf8'));
    writeFileSync(path, converted);
    // What an append that took the CR for part of the line wrote.
    const last = converted.split('\n').at(-2)!;
    const body = { seq: 3, time: '2026-01-01T00:00:00.000Z', stage: 'confirm', outcome: 'passed', actor: 'ci', subjects: [], reason: 'late', prev: createHash('sha256').update(last).digest('hex') };
    appendFileSync(path, `${JSON.stringify({ ...body, hash: createHash('sha256').update(JSON.stringify(body)).digest('hex') })}\n`);
    const v = await log.verify();
    expect(v.problems.map((p) => [p.line, p.crlf])).toEqual([
      [0, 'converted'],
      [3, 'appended'],
    ]);
    expect(v.problems[0]!.message).toMatch(/^lines 1-2 \(2 of 3 lines\) end in CRLF/);
    expect(v.problems[1]!.message).toBe('record 3 chains to line 2 with the CR of its CRLF line end: it was appended after the line ends were converted, so the chain holds neither with the CRs nor without them');
  });

  it('refuses to append after a line that ends in CRLF, leaving the log as it was, and appends after one that does not', async () => {
    const { log, path } = await logWith(3);
    const converted = crlf(readFileSync(path, 'utf8'));
    writeFileSync(path, converted);
    const refusal = /^audit log .* has CRLF line ends: its last line ends in CRLF where a record ends in LF, .*nothing was written\. Remove the CRs \(`sed -i 's\/\\r\$\/\/' .*`\)/;
    await expect(log.append(entry('x'))).rejects.toThrow(refusal);
    expect(() => log.appendSync(entry('x'))).toThrow(refusal);
    expect(readFileSync(path, 'utf8')).toBe(converted);
    // Only earlier lines converted: the record chains to a line as it was written, so removing the CRs leaves the chain whole.
    writeFileSync(path, crlf(readFileSync(path, 'utf8').replace(/\r$/gm, ''), (line) => line < 3));
    await log.append(entry('after'));
    expect((await log.verify()).problems.map((p) => p.crlf)).toEqual(['converted']);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/\r$/gm, ''));
    expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
  });

  it('reads the records of a converted log, and counts its CRLF lines for whoever shows them', async () => {
    const { log, path } = await logWith(3);
    const records = await log.read();
    writeFileSync(path, crlf(readFileSync(path, 'utf8'), (line) => line !== 2));
    expect(await log.read()).toEqual(records);
    const visited: AuditRecord[] = [];
    expect(await log.forEachComplete((r) => void visited.push(r))).toEqual({ records: 3, crlfLines: 2 });
    expect(visited).toEqual(records);
  });
});

describe('AuditLog with several writers', () => {
  const entry = (i: number) => ({ stage: 'confirm', outcome: 'passed' as const, actor: `w${i}`, subjects: [], reason: `writer ${i}` });
  // A pid that surely names no process: one that has just exited.
  const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

  it('takes turns: twenty appends at once make one unbroken chain', async () => {
    const path = join(dir, `concurrent-${++n}.jsonl`);
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => new AuditLog(path).append(entry(i))));
    expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const v = await new AuditLog(path).verify();
    expect(v.problems).toEqual([]);
    expect(v.records).toBe(20);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('takes turns when the log is reached by two names (a symbolic link)', async () => {
    const base = join(dir, `two-names-${++n}`);
    mkdirSync(base);
    const path = join(base, 'real.jsonl');
    symlinkSync(path, join(base, 'link.jsonl'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => new AuditLog(join(base, i % 2 ? 'link.jsonl' : 'real.jsonl')).append(entry(i))));
    const v = await new AuditLog(path).verify();
    expect(v.problems).toEqual([]);
    expect(v.records).toBe(20);
  });

  it('waits for a live lock and gives up after the bound, leaving the log as it was', async () => {
    const { path } = await logWith(1);
    const before = readFileSync(path, 'utf8');
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), time: new Date(Date.now() - 60_000).toISOString(), nonce: 'x' }));
    const started = Date.now();
    await expect(new AuditLog(path, [], { waitMs: 300 }).append(entry(2))).rejects.toThrow(new RegExp(`lock is held by process ${process.pid} .*remove .*\\.lock`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(existsSync(`${path}.lock`)).toBe(true);
  });

  it('takes over a lock left by a process that died, once it is old enough', async () => {
    const { path } = await logWith(1);
    const pid = deadPid();
    const lock = { pid, host: hostname(), time: new Date().toISOString(), nonce: 'dead' };
    writeFileSync(`${path}.lock`, JSON.stringify(lock));
    // Fresh: the holder may be alive in another PID namespace; wait, then give up.
    await expect(new AuditLog(path, [], { waitMs: 200, staleMs: 60_000 }).append(entry(2))).rejects.toThrow(/held by process/);
    writeFileSync(`${path}.lock`, JSON.stringify({ ...lock, time: new Date(Date.now() - 120_000).toISOString() }));
    expect((await new AuditLog(path, [], { waitMs: 2000, staleMs: 60_000 }).append(entry(2))).seq).toBe(2);
    expect(existsSync(`${path}.lock`)).toBe(false);
    // A lock from another host is never taken over, however old.
    writeFileSync(`${path}.lock`, JSON.stringify({ ...lock, host: `not-${hostname()}`, time: new Date(0).toISOString() }));
    await expect(new AuditLog(path, [], { waitMs: 200, staleMs: 1 }).append(entry(3))).rejects.toThrow(/held by process/);
    // A reader waits for it as a writer does, within the same bound, and says which file to remove.
    await expect(new AuditLog(path, [], { waitMs: 200, staleMs: 1 }).verify()).rejects.toThrow(/^cannot read audit log .*: .*\.lock is held by process .*; waited .*remove .*\.lock/);
    rmSync(`${path}.lock`);
    expect((await new AuditLog(path).verify()).ok).toBe(true);
  });

  it('takes over an empty lock file only once it is old', async () => {
    const { path } = await logWith(1);
    writeFileSync(`${path}.lock`, '');
    await expect(new AuditLog(path, [], { waitMs: 200, staleMs: 60_000 }).append(entry(2))).rejects.toThrow(/held by another process/);
    utimesSync(`${path}.lock`, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    expect((await new AuditLog(path, [], { staleMs: 60_000 }).append(entry(2))).seq).toBe(2);
  });
});

describe('AuditLog.appendSync', () => {
  const entry = (reason: string) => ({ stage: 'publish.upload', outcome: 'error' as const, actor: 'ci', subjects: [], reason });

  it('chains after the records append wrote, masks secrets, and takes and removes the same lock', async () => {
    const { path } = await logWith(2);
    const secret = `s3cret-${randomBytes(12).toString('hex')}`;
    const record = new AuditLog(path, secretsFromEnv({ NPM_TOKEN: secret })).appendSync(entry(`exited with ${secret} in the air`));
    expect(record.seq).toBe(3);
    expect(readFileSync(path, 'utf8')).not.toContain(secret);
    expect(existsSync(`${path}.lock`)).toBe(false);
    await new AuditLog(path).append(entry('after'));
    const v = await new AuditLog(path).verify();
    expect(v.problems).toEqual([]);
    expect(v.records).toBe(4);
  });

  it('waits at most its bound for a held lock, never takes it over, and then leaves the log as it was', async () => {
    const { path } = await logWith(1);
    const before = readFileSync(path, 'utf8');
    // A lock left by a process that died long ago, which `append` would take over.
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, host: hostname(), time: new Date(0).toISOString(), nonce: 'x' }));
    const started = Date.now();
    expect(() => new AuditLog(path).appendSync(entry('at exit'), new Date(), 200)).toThrow(new RegExp(`cannot append to audit log .*lock is held by process ${dead} .*waited 200 ms`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(existsSync(`${path}.lock`)).toBe(true);
  });

  it('refuses, as append does, a log whose last line lost its newline, or that is not a file', async () => {
    const { path } = await logWith(2);
    const cut = readFileSync(path, 'utf8').slice(0, -1);
    writeFileSync(path, cut);
    expect(() => new AuditLog(path).appendSync(entry('x'))).toThrow(/does not end with a newline/);
    expect(readFileSync(path, 'utf8')).toBe(cut);
    expect(() => new AuditLog(dir).appendSync(entry('x'))).toThrow(/is a directory, not a file/);
  });
});

describe('AuditLog readers while a gate appends', () => {
  const entry = (i: number): AuditEntry => ({ stage: 'confirm', outcome: 'passed', actor: 'ci', subjects: [], reason: `step ${i}` });

  it('wait for an append in progress and read the log as it stands after it, leaving no lock behind', async () => {
    const { log, path } = await logWith(2);
    // A record as the next append writes it, caught half written under the gate's lock.
    const other = join(dir, `next-${++n}.jsonl`);
    writeFileSync(other, readFileSync(path));
    await new AuditLog(other).append(entry(3));
    const record = readFileSync(other).subarray(statSync(path).size);
    let finish!: () => void;
    const finished = new Promise<void>((done) => (finish = done));
    let entered!: () => void;
    const inside = new Promise<void>((done) => (entered = done));
    const writer = withFileLock(path, async () => {
      appendFileSync(path, record.subarray(0, 40));
      entered();
      await finished;
      appendFileSync(path, record.subarray(40));
    });
    await inside;
    const verified = log.verify();
    const read = log.readComplete();
    // Longer than a reader without the lock would look again for.
    await sleep(1500);
    finish();
    await writer;
    expect(await verified).toMatchObject({ ok: true, records: 3, problems: [] });
    expect((await read).records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await read).cutLine).toBeUndefined();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('read what stood when the file was opened, not records appended while it is read', async () => {
    const { path } = await logWith(30);
    const before = await new AuditLog(path).verify();
    // Small pieces: many reads, with appends between them.
    const log = new AuditLog(path, [], { readChunkBytes: 64 });
    const seqs: number[] = [];
    const writer = (async () => {
      for (let i = 31; i <= 40; i++) await new AuditLog(path).append(entry(i));
    })();
    const shown = await log.forEachComplete(async (r) => {
      seqs.push(r.seq);
      await sleep(1);
    });
    await writer;
    expect(seqs).toEqual(Array.from({ length: shown.records }, (_, i) => i + 1));
    expect(shown.records).toBeGreaterThanOrEqual(30);
    expect((await log.verify({ head: before.head })).records).toBe(40);
  });
});

describe('AuditLog readers stopped before the end', () => {
  const entry = (i: number): AuditEntry => ({ stage: 'confirm', outcome: 'passed', actor: 'ci', subjects: [], reason: `step ${i} ${'x'.repeat(200)}` });

  /** Counts the bytes read from files while `work` runs, and lets `each` act at each read. */
  async function counting<T>(work: () => Promise<T>, each: (calls: number) => void = () => undefined): Promise<{ result: PromiseSettledResult<T>; bytes: number }> {
    const probe = await open(dir);
    const handle = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
    await probe.close();
    const original = handle.read;
    let bytes = 0;
    let calls = 0;
    const read = vi.spyOn(handle, 'read').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      each(++calls);
      const r = await original.apply(this, args);
      bytes += r.bytesRead;
      return r;
    });
    try {
      const [result] = await Promise.allSettled([work()]);
      return { result: result!, bytes };
    } finally {
      read.mockRestore();
    }
  }

  it('verify stops reading once its signal is aborted, and says it was interrupted', async () => {
    const { path } = await logWith(1);
    const writer = new AuditLog(path);
    for (let i = 2; i <= 200; i++) await writer.append(entry(i));
    const size = statSync(path).size;
    const log = new AuditLog(path, [], { readChunkBytes: 1024 });
    const controller = new AbortController();
    // Ctrl-C while the fifth piece is read.
    const { result, bytes } = await counting(() => log.verify({ signal: controller.signal }), (calls) => calls === 5 && controller.abort());
    expect(result.status === 'rejected' && String(result.reason)).toMatch(new RegExp(`AuditError: interrupted while reading audit log ${path}: it was not read to its end`));
    expect(bytes).toBeLessThanOrEqual(5 * 1024);
    expect(bytes).toBeLessThan(size / 4);
    expect(existsSync(`${path}.lock`)).toBe(false);
    // Unstopped, the same log checks out.
    expect((await log.verify({ signal: new AbortController().signal })).records).toBe(200);
  });

  it('forEachComplete stops visiting at the signal, in the middle of a piece', async () => {
    const { path } = await logWith(50);
    const controller = new AbortController();
    const seen: number[] = [];
    const visiting = new AuditLog(path).forEachComplete((r) => {
      seen.push(r.seq);
      if (r.seq === 3) controller.abort();
    }, { signal: controller.signal });
    await expect(visiting).rejects.toThrow(/interrupted while reading audit log/);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("a visit that returns false ends the second reading, and the result is the whole log's", async () => {
    const { path } = await logWith(1);
    const writer = new AuditLog(path);
    for (let i = 2; i <= 200; i++) await writer.append(entry(i));
    appendFileSync(path, '{"seq":201,"ti');
    const size = statSync(path).size;
    const log = new AuditLog(path, [], { readChunkBytes: 1024 });
    const seen: number[] = [];
    const { result, bytes } = await counting(() => log.forEachComplete((r) => (seen.push(r.seq), r.seq < 2)));
    expect(result).toEqual({ status: 'fulfilled', value: { records: 200, cutLine: 201 } });
    expect(seen).toEqual([1, 2]);
    // The first reading, whole, the first piece of the second, and the lock file, read before it is let go.
    expect(bytes).toBeLessThanOrEqual(size + 2 * 1024);
  });

  it('stops waiting for a held lock once its signal is aborted, leaving the lock to its holder', async () => {
    const { log, path } = await logWith(2);
    let release!: () => void;
    const released = new Promise<void>((done) => (release = done));
    let entered!: () => void;
    const inside = new Promise<void>((done) => (entered = done));
    const holder = withFileLock(path, async () => {
      entered();
      await released;
    });
    await inside;
    try {
      const controller = new AbortController();
      const verifying = log.verify({ signal: controller.signal });
      const showing = log.forEachComplete(() => undefined, { signal: controller.signal });
      await sleep(50);
      controller.abort();
      // Far sooner than the 30 s a reader waits for the lock.
      const outcome = await Promise.race([Promise.allSettled([verifying, showing]), sleep(5000).then(() => 'still waiting')]);
      expect(outcome).not.toBe('still waiting');
      for (const r of outcome as PromiseSettledResult<unknown>[]) expect(r.status === 'rejected' && String(r.reason)).toMatch(/AuditError: interrupted while reading audit log .*: it was not read to its end/);
      expect(existsSync(`${path}.lock`)).toBe(true);
    } finally {
      release();
      await holder;
    }
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});

describe('AuditLog on a log of any size', () => {
  const entry = (i: number, reason: string): AuditEntry => ({ stage: 'approve', outcome: 'passed', actor: 'ci', subjects: [{ name: `a${i}.tgz`, sha256: 'b'.repeat(64) }], reason });
  // Characters of one, two, three and four bytes in UTF-8, and U+2028, which JSON does not escape.
  const reasons = ['plain', 'café é', '€ in ₹ and ✓', 'emoji 😀 and 🚀', 'line\u2028separator', 'x'.repeat(200)];

  async function mixedLog(): Promise<string> {
    const path = join(dir, `mixed-${++n}.jsonl`);
    const log = new AuditLog(path);
    for (let i = 0; i < 12; i++) await log.append(entry(i, `${reasons[i % reasons.length]} ${i}`));
    return path;
  }

  it('reads the same records and finds the same problems whatever the size of the pieces it reads', async () => {
    const path = await mixedLog();
    const whole = readFileSync(path);
    // Intact; the last record without its newline; cut mid-record; followed by other text; an edited record; line ends converted to CRLF.
    const variants: [string, Buffer][] = [
      ['intact', whole],
      ['newline', whole.subarray(0, -1)],
      ['record', whole.subarray(0, whole.length - 7)],
      ['garbage', Buffer.concat([whole, Buffer.from('garbage é')])],
      ['edited', Buffer.from(whole.toString('utf8').replace('café é 1', 'cafe e 1'))],
      ['crlf', Buffer.from(whole.toString('utf8').replace(/\n/g, '\r\n'))],
    ];
    const expected: Record<string, { ok: boolean; records: number; cut?: string; lines: number[] }> = {
      intact: { ok: true, records: 12, lines: [] },
      newline: { ok: false, records: 12, cut: 'newline', lines: [12] },
      record: { ok: false, records: 11, cut: 'record', lines: [12] },
      garbage: { ok: false, records: 13, lines: [13, 13] },
      edited: { ok: false, records: 12, lines: [2, 3] },
      crlf: { ok: false, records: 12, lines: [0] },
    };
    for (const [name, bytes] of variants) {
      const file = join(dir, `${name}-${++n}.jsonl`);
      writeFileSync(file, bytes);
      const reference = await new AuditLog(file).verify();
      expect(reference.ok, name).toBe(expected[name]!.ok);
      expect(reference.records, name).toBe(expected[name]!.records);
      expect(reference.problems.map((p) => p.line), name).toEqual(expected[name]!.lines);
      expect(reference.problems[0]?.cut, name).toBe(expected[name]!.cut);
      const records = name === 'intact' || name === 'edited' || name === 'crlf' ? await new AuditLog(file).read() : undefined;
      const complete = name === 'garbage' ? undefined : await new AuditLog(file).readComplete();
      // A byte at a time, every boundary is met once (slow: once only).
      expect(await new AuditLog(file, [], { readChunkBytes: 1 }).verify(), `${name} a byte at a time`).toEqual(reference);
      for (const chunk of [2, 3, 7, 64, 1000]) {
        const log = new AuditLog(file, [], { readChunkBytes: chunk });
        expect(await log.verify(), `${name} in pieces of ${chunk}`).toEqual(reference);
        expect(await log.verify({ head: reference.head }), `${name} in pieces of ${chunk}`).toEqual(reference);
        if (records) expect(await log.read()).toEqual(records);
        if (complete) {
          expect(await log.readComplete()).toEqual(complete);
          const visited: AuditRecord[] = [];
          const summary = await log.forEachComplete((r) => void visited.push(r));
          expect(visited).toEqual(complete.records);
          expect(summary).toEqual({ records: complete.records.length, ...(complete.cutLine === undefined ? {} : { cutLine: complete.cutLine }), ...(name === 'crlf' ? { crlfLines: 12 } : {}) });
        }
      }
    }
    // Every reason came back whole, whatever piece boundary its characters straddled.
    expect((await new AuditLog(path, [], { readChunkBytes: 3 }).read()).map((r) => r.reason)).toEqual(Array.from({ length: 12 }, (_, i) => `${reasons[i % reasons.length]} ${i}`));
  });

  it('appends after reading only the end of the log, and reads no log whole', async () => {
    const path = join(dir, `large-${++n}.jsonl`);
    const writer = new AuditLog(path);
    for (let i = 0; i < 100; i++) await writer.append(entry(i, `${'long reason '.repeat(800)}${i}`));
    const size = statSync(path).size;
    const lastLine = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1)!.length;
    // The log is over a megabyte, far more than the most these readers may hold at once.
    expect(size).toBeGreaterThan(900_000);
    const log = new AuditLog(path, [], { readChunkBytes: 4096, maxLineBytes: 64 * 1024 });
    const probe = await open(path);
    const handle = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }>; readFile: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const read = vi.spyOn(handle, 'read');
    const readFile = vi.spyOn(handle, 'readFile');
    const bytesRead = async (): Promise<number> => (await Promise.all(read.mock.results.map((r) => r.value as Promise<{ bytesRead: number }>))).reduce((sum, r) => sum + r.bytesRead, 0);
    try {
      expect((await log.verify()).records).toBe(100);
      let shown = 0;
      await log.forEachComplete(() => void shown++);
      expect(shown).toBe(100);
      expect(read.mock.calls.every((call) => (call[2] as number) <= 4096)).toBe(true);
      expect(readFile).not.toHaveBeenCalled();
      read.mockClear();
      expect((await log.append(entry(100, 'after'))).seq).toBe(101);
      expect(readFile).not.toHaveBeenCalled();
      // The last line, in pieces, and the lock file: nothing like the log.
      expect(await bytesRead()).toBeLessThan(lastLine + 3 * 4096);
    } finally {
      read.mockRestore();
      readFile.mockRestore();
    }
    expect((await new AuditLog(path).verify()).ok).toBe(true);
  });

  it('does not hold a line longer than the limit, reports it, and still checks the chain after it', async () => {
    const path = join(dir, `overlong-${++n}.jsonl`);
    const writer = new AuditLog(path);
    await writer.append(entry(0, 'short'));
    await writer.append(entry(1, `long ${'é'.repeat(2000)}`));
    await writer.append(entry(2, 'short again'));
    const reference = await writer.verify();
    expect(reference.ok).toBe(true);
    const log = new AuditLog(path, [], { readChunkBytes: 100, maxLineBytes: 1024 });
    const v = await log.verify({ head: reference.head });
    // One problem: the long line itself; the next record's link to it still checks out.
    expect(v).toEqual({ ok: false, records: 3, head: reference.head, problems: [{ line: 2, message: 'longer than 1 KiB, more than any gate writes: not read as a record' }] });
    await expect(log.readComplete()).rejects.toThrow(/line 2 is longer than 1 KiB, more than any gate writes/);
    // The last line too long: no append after it.
    await writer.append(entry(3, `long ${'x'.repeat(2000)}`));
    await expect(log.append(entry(4, 'x'))).rejects.toThrow(/ends with a line longer than 1 KiB/);
  });

  it('refuses to write a record longer than a line may be, and leaves the log as it was', async () => {
    const { path } = await logWith(2);
    const before = readFileSync(path);
    const log = new AuditLog(path, [], { maxLineBytes: 1024 });
    await expect(log.append(entry(3, `long ${'x'.repeat(2000)}`))).rejects.toThrow(/the approve record would take \d+ bytes, more than the 1 KiB a line may hold; nothing was written/);
    expect(() => log.appendSync(entry(3, `long ${'x'.repeat(2000)}`))).toThrow(/more than the 1 KiB a line may hold/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}.lock`)).toBe(false);
    await log.append(entry(3, 'short'));
    expect((await log.verify()).records).toBe(3);
  });
});

describe('AuditLog on a path that is not a regular file', () => {
  const entry = { stage: 'confirm', outcome: 'passed' as const, actor: 'ci', subjects: [], reason: 'x' };

  it('refuses a FIFO instead of waiting for a writer forever', async () => {
    const fifo = join(dir, `fifo-${++n}`);
    execFileSync('mkfifo', [fifo]);
    await expect(new AuditLog(fifo).append(entry)).rejects.toThrow(/is a FIFO \(named pipe\), not a file/);
    await expect(new AuditLog(fifo).verify()).rejects.toThrow(/is a FIFO/);
    await expect(new AuditLog(fifo).read()).rejects.toThrow(/is a FIFO/);
    expect(existsSync(`${fifo}.lock`)).toBe(false);
  }, 5000);

  it('refuses a device and a directory', async () => {
    await expect(new AuditLog('/dev/null').append(entry)).rejects.toThrow(/audit log \/dev\/null is a device, not a file/);
    await expect(new AuditLog('/dev/zero').verify()).rejects.toThrow(/is a device/);
    expect(existsSync('/dev/null.lock')).toBe(false);
    const sub = join(dir, `adir-${++n}`);
    mkdirSync(sub);
    await expect(new AuditLog(sub).append(entry)).rejects.toThrow(/is a directory, not a file/);
    await expect(new AuditLog(sub).verify()).rejects.toThrow(/is a directory, not a file/);
  });
});

describe('redactText', () => {
  it('masks token shapes and known values, keeping a short prefix at most', () => {
    expect(redactText('key AKIA2345234523452345 end')).toBe('key AKIA…[redacted] end');
    expect(redactText('x hunter2-hunter2 y', ['hunter2-hunter2'])).toBe('x [redacted] y');
    expect(redactText('//registry.npmjs.org/:_authToken=abc123')).not.toContain('abc123');
    expect(redactText('to https://ci:s3cret-pw@npm.corp.example:8443/repo/ ok')).toBe('to https://[redacted]@npm.corp.example:8443/repo/ ok');
    expect(redactText('user name only https://s3cr3tUserOnlyTok9@npm.corp.example/ ok')).toBe('user name only https://[redacted]@npm.corp.example/ ok');
    expect(redactText('empty password https://gemfuryTokABCdef123456:@pypi.fury.io/acme/')).toBe('empty password https://[redacted]@pypi.fury.io/acme/');
    expect(redactText('at sign in it https://ci:p@ss@host.example?x=1#y')).toBe('at sign in it https://[redacted]@host.example?x=1#y');
    expect(redactText('{"registry":"https://tok123456@r.example","by":"a@b.example"}')).toBe('{"registry":"https://[redacted]@r.example","by":"a@b.example"}');
    expect(redactText('https://npm.corp.example/ and user@example.com')).toBe('https://npm.corp.example/ and user@example.com');
  });

  it('masks what a scan finds in a file name, as scan reports shorten it, beyond the shapes listed here', () => {
    const token = `dop_v1_${randomBytes(32).toString('hex')}`;
    expect(redactText(`uploaded dist/${token}.tgz`)).toBe(`uploaded dist/${token.slice(0, 6)}…${token.slice(-4)}.tgz`);
  });

  it("masks a PEM key's body, and leaves its armour named alone, with what follows it", () => {
    const body = 'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB';
    for (const key of [`-----BEGIN RSA PRIVATE KEY-----
${body}
-----END RSA PRIVATE KEY-----`, `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`]) {
      expect(redactText(`key: ${key} end`)).not.toContain(body.slice(0, 20));
    }
    const message = "id_pem is a private key in PEM format ('-----BEGIN RSA PRIVATE KEY-----'); convert it with `ssh-keygen -p -f id_pem`";
    expect(redactText(message)).toBe(message);
  });

  it('masks a password holding quotes or angle brackets, and still stops at the end of a JSON string', () => {
    const pw = randomBytes(8).toString('hex');
    for (const c of ["'", '"', '`', '<', '>']) {
      const url = `https://ci:${pw.slice(0, 8)}${c}${pw.slice(8)}@registry.example.com/`;
      expect(redactText(`Incident: pkg 1.0.0 (npm, ${url})`)).toBe('Incident: pkg 1.0.0 (npm, https://[redacted]@registry.example.com/)');
    }
    const registry = `https://${pw}@r.example`;
    for (const json of [
      JSON.stringify({ registry, by: 'a@b.example' }),
      JSON.stringify({ registry, by: 'a@b.example' }, null, 2),
      JSON.stringify([registry, 'a@b.example']),
      JSON.stringify({ r: { registry }, by: 'a@b.example' }),
    ]) {
      const out = redactText(json);
      expect(out).not.toContain(pw);
      expect(JSON.parse(out)).toEqual(JSON.parse(json.replace(pw, '[redacted]')));
    }
  });

  it('masks a PEM key with its line breaks removed or escaped any number of times, or a short first line', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const body = pem.split('\n').slice(1, -2).join('');
    for (const text of [
      `key: -----BEGIN PRIVATE KEY-----${body}-----END PRIVATE KEY----- end`,
      `key: ${pem.trim().replace(/\n/g, ' ')} end`,
      JSON.stringify({ k: pem }),
      JSON.stringify({ m: JSON.stringify({ k: pem }) }),
      JSON.stringify({ n: JSON.stringify({ m: JSON.stringify({ k: pem }) }) }),
      // A first line shorter than the others, as a hand-wrapped key may have.
      `key: -----BEGIN PRIVATE KEY-----\n${body.slice(0, 4)}\n${body.slice(4)}\n-----END PRIVATE KEY----- end`,
    ]) {
      expect(redactText(text)).not.toContain(body.slice(4, 20));
    }
    for (const message of ["expected a private key in PEM format ('-----BEGIN PRIVATE KEY-----'), got x; rest stays", '-----BEGIN PRIVATE KEY----- is missing: the file holds a public key only']) {
      expect(redactText(message)).toBe(message);
    }
  });
});
