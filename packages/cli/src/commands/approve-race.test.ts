import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { npmTarball, sshKey } from '../../../release/src/testing/fixtures.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

// The first approve is held just before the last step of putting its pair in place (writing
// the signature, or renaming the statement over its name), as a slow disk would hold it, until
// the second approve of the same files has finished or 1 s has passed: the interleaving that a
// race hits only now and then.
const hold = vi.hoisted(() => ({ armed: false, reached: () => {}, release: Promise.resolve() }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const pause = async (): Promise<void> => {
    hold.armed = false;
    hold.reached();
    await Promise.race([hold.release, sleep(1000)]);
  };
  const writeFile: typeof real.writeFile = async (path, ...rest) => {
    if (hold.armed && String(path).endsWith('.sig')) await pause();
    return real.writeFile(path, ...rest);
  };
  const rename: typeof real.rename = async (from, to) => {
    if (hold.armed && String(to).endsWith('.approval.json')) await pause();
    return real.rename(from, to);
  };
  return { ...real, writeFile, rename, default: { ...real, writeFile, rename } };
});

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-approve-race-'));

beforeAll(async () => {
  const alice = sshKey(cwd, 'id_alice');
  await npmTarball(cwd, 'tool', '2.0.0');
  writeFileSync(join(cwd, 'policy.json'), JSON.stringify({ version: 1, approvers: { alice: { keys: [alice.pub] } }, rule: { minApprovers: 1 } }));
});

describe('pubguard approve, twice at once', () => {
  it('leaves a statement and signature that match, and no temp or lock file', async () => {
    const approve = (expires: string) =>
      run(['approve', 'tool-2.0.0.tgz', '--key', 'id_alice', '--approver', 'alice', '--out', 'race', '--expires', expires, '--no-audit'], memoryIO({ cwd }));
    let finished = (): void => {};
    hold.release = new Promise<void>((done) => (finished = done));
    const reached = new Promise<void>((done) => (hold.reached = done));
    hold.armed = true;
    const first = approve('72h');
    await reached;
    const second = await approve('73h');
    finished();
    const results = [await first, second];
    expect(results.map((r) => r.exitCode)).toEqual([0, 0]);
    const io = memoryIO({ cwd });
    expect((await run(['approvals', 'verify', 'tool-2.0.0.tgz', '--policy', 'policy.json', '--approvals', 'race', '--no-audit'], io)).exitCode, io.out()).toBe(0);
    expect(readdirSync(join(cwd, 'race')).filter((f) => !/\.approval\.json(\.sig)?$/.test(f))).toEqual([]);
  });
});
