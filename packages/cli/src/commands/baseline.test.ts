import { Buffer } from 'node:buffer';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Finding } from '@pubguard/engine';
import { base62Encode } from '@pubguard/rules';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';
import { baselineOf } from './baseline.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-baseline-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake GitHub token with a valid checksum, from a fixed body. */
function token(body: string): string {
  return `ghp_${body}${base62Encode(crc32(Buffer.from(body, 'latin1')))}`;
}

function finding(path: string, ruleId: string, fingerprint: string): Finding {
  return { ruleId, title: 't', severity: 'high', confidence: 'high', path, location: { artifact: path, entry: [], line: 1, column: 1, byteOffset: 0 }, secret: 'sec…ret', fingerprint };
}

describe('baselineOf', () => {
  it('sorts, removes duplicates and keeps no secrets', () => {
    const b = baselineOf([finding('b.js', 'r1', 'sha256:2'), finding('a.js', 'r2', 'sha256:1'), finding('a.js', 'r2', 'sha256:1'), finding('a.js', 'r1', 'sha256:2')]);
    expect(b).toEqual({
      version: 1,
      fingerprints: ['sha256:1', 'sha256:2'],
      findings: [
        { ruleId: 'r1', path: 'a.js', fingerprint: 'sha256:2' },
        { ruleId: 'r2', path: 'a.js', fingerprint: 'sha256:1' },
        { ruleId: 'r1', path: 'b.js', fingerprint: 'sha256:2' },
      ],
    });
  });
});

describe('pubguard baseline create', () => {
  const kept = token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE');
  const allowed = token('Wn6TzR1bVc8MxK3qLd5YpH7gJs2FaU');

  it('writes .pubguard/baseline.json by default, leaving out allowlisted findings', async () => {
    await writeFile(join(dir, 'a.js'), `const t = "${kept}";\n`);
    await writeFile(join(dir, 'fixture.js'), `const t = "${allowed}";\n`);
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'all.json', 'a.js', 'fixture.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
    expect((JSON.parse(await readFile(join(dir, 'all.json'), 'utf8')) as { findings: unknown[] }).findings).toHaveLength(2);
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ allowlist: { paths: ['fixture.js'] } }));
    const io = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '--jobs', '0', 'a.js', 'fixture.js'], io)).exitCode).toBe(0);
    const text = await readFile(join(dir, '.pubguard', 'baseline.json'), 'utf8');
    expect(text).not.toContain(kept.slice(4, 16));
    const baseline = JSON.parse(text) as { findings: { path: string }[]; fingerprints: string[] };
    expect(baseline.findings.map((f) => f.path)).toEqual(['a.js']);
    expect(baseline.fingerprints).toHaveLength(1);
    expect(io.out()).toContain('wrote .pubguard/baseline.json: 1 fingerprint (1 finding in 2 artifacts)');
  });

  it('has scan count what the baseline accepted, and with -v name its entries that matched nothing', async () => {
    const rotated = token('Zp4WcN8qTr2LxV6mKd9BhJ3sYf7GaE');
    await writeFile(join(dir, 'a.js'), `const t = "${kept}";\n`);
    await writeFile(join(dir, 'b.js'), `const t = "${rotated}";\n`);
    expect((await run(['baseline', 'create', '-j', '0', 'a.js', 'b.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
    const recorded = JSON.parse(await readFile(join(dir, '.pubguard', 'baseline.json'), 'utf8')) as { findings: { path: string; fingerprint: string }[] };
    const stale = recorded.findings.find((f) => f.path === 'b.js')?.fingerprint ?? '';
    await writeFile(join(dir, 'b.js'), 'const t = process.env.TOKEN;\n');
    const json = memoryIO({ cwd: dir });
    expect((await run(['scan', '-j', '0', '-f', 'json', '--baseline', '.pubguard/baseline.json', 'a.js', 'b.js'], json)).exitCode).toBe(0);
    expect((JSON.parse(json.out()) as { stats: { baselined?: number } }).stats.baselined).toBe(1);
    expect(json.err()).toContain(': 0 findings (1 accepted by the baseline), 0 errors');
    expect(json.err()).not.toContain('matched no finding');
    const verbose = memoryIO({ cwd: dir });
    expect((await run(['scan', '-v', '-j', '0', '--baseline', '.pubguard/baseline.json', 'a.js', 'b.js'], verbose)).exitCode).toBe(0);
    expect(verbose.err()).toContain(`note: 1 entry of baseline .pubguard/baseline.json for what this scan read matched no finding (a rotated key, a changed or removed file): make the baseline again from all the inputs it was made from to drop it:\n  ${stale} (github-classic-token in b.js)\n`);
    expect(verbose.err()).not.toContain('not scanned');
    const quiet = memoryIO({ cwd: dir });
    expect((await run(['scan', '-v', '-q', '-j', '0', '--baseline', '.pubguard/baseline.json', 'a.js', 'b.js'], quiet)).exitCode).toBe(0);
    expect(quiet.err()).toBe('');
    const plain = memoryIO({ cwd: dir });
    expect((await run(['scan', '-j', '0', '-f', 'json', 'a.js'], plain)).exitCode).toBe(1);
    expect('baselined' in (JSON.parse(plain.out()) as { stats: object }).stats).toBe(false);
  });

  it('with -v names only the entries for what the scan read, and counts those of a package it did not read', async () => {
    const rotated = token('Zp4WcN8qTr2LxV6mKd9BhJ3sYf7GaE');
    const other = token('Hc3VtR8pLw1NzK6qXd4BmY9sJf2GaT');
    for (const [pkg, file, secret] of [['a-1.0.0', 'x.js', kept], ['a-1.0.0', 'y.js', rotated], ['b', 'x.js', other]] as const) {
      await mkdir(join(dir, 'packages', pkg), { recursive: true });
      await writeFile(join(dir, 'packages', pkg, file), `const t = "${secret}";\n`);
    }
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ baseline: '.pubguard/baseline.json' }));
    expect((await run(['baseline', 'create', '-j', '0', 'packages/a-1.0.0', 'packages/b'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
    const recorded = JSON.parse(await readFile(join(dir, '.pubguard', 'baseline.json'), 'utf8')) as { findings: { path: string; fingerprint: string }[] };
    const stale = recorded.findings.find((f) => f.path === 'packages/a-1.0.0/y.js')?.fingerprint ?? '';
    // The next version of package a, its second key rotated: b's entry is not this scan's.
    await rm(join(dir, 'packages', 'a-1.0.0'), { recursive: true });
    await mkdir(join(dir, 'packages', 'a-1.0.1'));
    await writeFile(join(dir, 'packages', 'a-1.0.1', 'x.js'), `const t = "${kept}";\n`);
    await writeFile(join(dir, 'packages', 'a-1.0.1', 'y.js'), 'const t = process.env.TOKEN;\n');
    const note = `note: 1 entry of baseline .pubguard/baseline.json for what this scan read matched no finding (a rotated key, a changed or removed file): make the baseline again from all the inputs it was made from to drop it:\n  ${stale} (github-classic-token in packages/a-1.0.0/y.js)\n`;
    const a = memoryIO({ cwd: dir });
    expect((await run(['scan', '-v', '-j', '0', 'packages/a-1.0.1'], a)).exitCode).toBe(0);
    expect(a.err()).toContain(note);
    expect(a.err()).toContain('note: 1 more entry of baseline .pubguard/baseline.json is for artifacts not scanned (by the paths the baseline records), and not checked\n');
    expect(a.err()).not.toContain('packages/b');
    // Run from inside the package, the baseline's paths are taken from where it was made.
    const inside = memoryIO({ cwd: join(dir, 'packages', 'a-1.0.1') });
    expect((await run(['scan', '-v', '-j', '0', '.'], inside)).exitCode).toBe(0);
    expect(inside.err()).toContain(note.replace('baseline .pubguard', 'baseline ../../.pubguard'));
    expect(inside.err()).toContain('note: 1 more entry of baseline ../../.pubguard/baseline.json is for artifacts not scanned');
    // Package b alone: a's entries are not named, and no entry of what it read is stale.
    const b = memoryIO({ cwd: dir });
    expect((await run(['scan', '-v', '-j', '0', 'packages/b'], b)).exitCode).toBe(0);
    expect(b.err()).toContain('note: 2 entries of baseline .pubguard/baseline.json are for artifacts not scanned (by the paths the baseline records), and not checked\n');
    expect(b.err()).not.toContain('matched no finding');
  });

  it('writes no token that names a file or directory, and the scan it makes accepts its findings', async () => {
    const named = token('Hc3VtR8pLw1NzK6qXd4BmY9sJf2GaT');
    await mkdir(join(dir, 'pkg', 'keys', named), { recursive: true });
    await writeFile(join(dir, 'pkg', 'keys', named, 'a.js'), `const t = "${kept}";\n`);
    await writeFile(join(dir, 'pkg', `${allowed}.json`), '{}\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-j', '0', 'pkg'], io)).exitCode).toBe(0);
    const text = await readFile(join(dir, '.pubguard', 'baseline.json'), 'utf8');
    for (const t of [named, allowed, kept]) expect(text).not.toContain(t.slice(4, 20));
    expect(io.out() + io.err()).not.toContain(named.slice(4, 20));
    expect((JSON.parse(text) as { findings: { path: string }[] }).findings.map((f) => f.path)).toEqual([
      `pkg/${allowed.slice(0, 6)}…${allowed.slice(-4)}.json`,
      `pkg/keys/${named.slice(0, 6)}…${named.slice(-4)}`,
      `pkg/keys/${named.slice(0, 6)}…${named.slice(-4)}/a.js`,
    ]);
    const scan = memoryIO({ cwd: dir });
    expect((await run(['scan', '-j', '0', '-f', 'json', '--baseline', '.pubguard/baseline.json', 'pkg'], scan)).exitCode).toBe(0);
    expect((JSON.parse(scan.out()) as { stats: { baselined?: number } }).stats.baselined).toBe(3);
  });

  it('shortens a token in a path of an older baseline in the -v note on its entries that matched nothing', async () => {
    const named = token('Hc3VtR8pLw1NzK6qXd4BmY9sJf2GaT');
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'a.js'), 'const a = 1;\n');
    await mkdir(join(dir, '.pubguard'));
    await writeFile(join(dir, '.pubguard', 'baseline.json'), JSON.stringify({ version: 1, fingerprints: ['sha256:old'], findings: [{ ruleId: 'github-classic-token', path: `keys/${named}.json`, fingerprint: 'sha256:old' }] }));
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-v', '-j', '0', '--baseline', '.pubguard/baseline.json', 'keys'], io)).exitCode).toBe(0);
    expect(io.err()).toContain(`  sha256:old (github-classic-token in keys/${named.slice(0, 6)}…${named.slice(-4)}.json)\n`);
    expect(io.err()).not.toContain(named.slice(4, 20));
  });

  it('leaves the existing baseline as it was when the scan is interrupted (Ctrl-C, SIGTERM, SIGHUP), exit 2', async () => {
    await writeFile(join(dir, 'a.js'), `const t = "${kept}";\n`);
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'bl.json', 'a.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
    const before = await readFile(join(dir, 'bl.json'), 'utf8');
    const io = memoryIO({ cwd: dir, signal: AbortSignal.abort() });
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'bl.json', 'a.js'], io)).exitCode).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('pubguard baseline create: interrupted before the scan finished: bl.json was not written and is unchanged');
    expect(await readFile(join(dir, 'bl.json'), 'utf8')).toBe(before);
    expect((await readdir(dir)).sort()).toEqual(['a.js', 'bl.json']);
  });

  it('shortens a token in the output path it names when interrupted', async () => {
    const named = token('Rw4KpZ8sNc2VxJ6tLm9QbF3yHd7GaE');
    await writeFile(join(dir, 'a.js'), 'const a = 1;\n');
    const io = memoryIO({ cwd: dir, signal: AbortSignal.abort() });
    expect((await run(['baseline', 'create', '-j', '0', '-o', `${named}.json`, 'a.js'], io)).exitCode).toBe(2);
    expect(io.err()).toContain(`interrupted before the scan finished: ${named.slice(0, 6)}…${named.slice(-4)}.json was not written\n`);
    expect(io.err()).not.toContain(named.slice(4, 20));
  });

  it('warns that a password it records can be guessed back from its fingerprint, and says nothing of random tokens', async () => {
    await writeFile(join(dir, 'db.py'), 'db_password = "Summer2024!xq"\n');
    await writeFile(join(dir, 'tok.js'), `const t = "${kept}";\n`);
    const io = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'pw.json', 'db.py', 'tok.js'], io)).exitCode).toBe(0);
    expect(io.err()).toContain('warning: 1 finding recorded is a password or another short secret (generic-password-assignment): a fingerprint is an unsalted sha256');
    expect(io.err()).not.toContain('Summer2024');
    expect(await readFile(join(dir, 'pw.json'), 'utf8')).not.toContain('Summer2024');
    const quiet = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'tok.json', 'tok.js'], quiet)).exitCode).toBe(0);
    expect(quiet.err()).toBe('');
  });

  it('warns that a credentials file it records can be guessed back from its content digest, and not of a key file', async () => {
    await mkdir(join(dir, 'pkg', 'test'), { recursive: true });
    await writeFile(join(dir, 'pkg', 'test', '.netrc'), 'machine registry.example.com login ci password summer2024\n');
    await writeFile(join(dir, 'pkg', 'id_ed25519'), 'not a key, but named like one\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'bl.json', 'pkg'], io)).exitCode).toBe(0);
    expect(io.err()).toContain('warning: the fingerprint of a credentials file reported by its name holds the sha256 of its bytes');
    expect(io.err()).toContain('pkg/test/.netrc');
    expect(io.err()).not.toContain('id_ed25519');
    expect(io.err()).not.toContain('summer2024');
  });

  it('shortens a token in the working directory\'s path where it says how a scan comes to use the baseline', async () => {
    const named = token('Wd7Kq2Lm9Xp4Rt6Vb8Nc3Hs5Jf1Gz0');
    const cwd = join(dir, named);
    await mkdir(cwd);
    await writeFile(join(cwd, 'a.js'), 'nothing here\n');
    const io = memoryIO({ cwd });
    expect((await run(['baseline', 'create', '-j', '0', '-o', join(cwd, 'bl.json'), 'a.js'], io)).exitCode).toBe(0);
    const shown = `${named.slice(0, 6)}…${named.slice(-4)}`;
    expect(io.out()).not.toContain(named);
    expect(io.out()).toContain(`wrote ${join(dir, shown, 'bl.json')}: 0 fingerprints`);
    expect(io.out()).toContain(`in a pubguard.config.json in ${join(dir, shown)}, which publish reads too`);
  });

  it('says how a scan comes to use the baseline, and a scan that does not use the default one says so', async () => {
    await writeFile(join(dir, 'a.js'), `const t = "${kept}";\n`);
    const created = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-j', '0', 'a.js'], created)).exitCode).toBe(0);
    expect(created.out()).toContain(`scan leaves these findings out when given it: pubguard scan --baseline .pubguard/baseline.json …, or "baseline": ".pubguard/baseline.json" in a pubguard.config.json in ${dir}, which publish reads too`);
    const plain = memoryIO({ cwd: dir });
    expect((await run(['scan', '-j', '0', 'a.js'], plain)).exitCode).toBe(1);
    expect(plain.err()).toContain('note: .pubguard/baseline.json was not used; to leave out the findings it records, pass --baseline .pubguard/baseline.json');
    const quiet = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '-j', '0', 'a.js'], quiet)).exitCode).toBe(1);
    expect(quiet.err()).toBe('');
    const given = memoryIO({ cwd: dir });
    expect((await run(['scan', '-j', '0', '--baseline', '.pubguard/baseline.json', 'a.js'], given)).exitCode).toBe(0);
    expect(given.err()).not.toContain('note:');
    expect(given.out()).toContain(': 0 findings (1 accepted by the baseline), 0 errors');
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ baseline: '.pubguard/baseline.json' }));
    const configured = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-j', '0', 'a.js'], configured)).exitCode).toBe(0);
    expect(configured.out()).toContain('scan and publish leave these findings out: the config names this baseline');
    expect((await run(['scan', '-j', '0', 'a.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
    // Run below the config's folder, the path for the config is relative to that folder.
    await mkdir(join(dir, 'sub'));
    const below = memoryIO({ cwd: join(dir, 'sub') });
    expect((await run(['baseline', 'create', '-j', '0', '../a.js'], below)).exitCode).toBe(0);
    expect(below.out()).toContain('pubguard scan --baseline .pubguard/baseline.json …; ../pubguard.config.json names another baseline (../.pubguard/baseline.json): set its "baseline" to "sub/.pubguard/baseline.json" for scan and publish to use this one');
    await writeFile(join(dir, 'pubguard.config.json'), '{}');
    const unnamed = memoryIO({ cwd: join(dir, 'sub') });
    expect((await run(['baseline', 'create', '-j', '0', '-o', 'b.json', '../a.js'], unnamed)).exitCode).toBe(0);
    expect(unnamed.out()).toContain('pubguard scan --baseline b.json …, or "baseline": "sub/b.json" in ../pubguard.config.json, which publish reads too');
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ baseline: 'sub/b.json' }));
    expect((await run(['scan', '-j', '0', 'a.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
  });

  describe('findings limits', () => {
    const bodies = ['Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE', 'W2nLr8NcTq5ZyH3mKp7XdB4sFg9JaE', 'E3vLr2McTw5ZyH3mKp7XdB4sFg9JaQ', 'R4vLr2NcTw5ZyH3mKp7XdB4sFg9JaE', 'T5vLr2NcTw5ZyH3mKp7XdB4sFg9JbE'];
    const five = () => writeFile(join(dir, 'many.js'), bodies.map((b, i) => `t${i} = "${token(b)}";\n`).join(''));
    const recorded = async (file: string) => (JSON.parse(await readFile(join(dir, file), 'utf8')) as { findings: unknown[] }).findings.length;

    it('takes --max-artifact-findings and --max-findings as scan does, over the config, and refuses 0 in the same words', async () => {
      await five();
      await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ limits: { maxFindingsPerArtifact: 3 } }));
      expect((await run(['baseline', 'create', '-j', '0', '-o', 'wide.json', '--max-artifact-findings', '5', 'many.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
      expect(await recorded('wide.json')).toBe(5);
      for (const flag of ['--max-artifact-findings', '--max-findings']) {
        const baseline = memoryIO({ cwd: dir });
        const scan = memoryIO({ cwd: dir });
        expect((await run(['baseline', 'create', flag, '0', 'many.js'], baseline)).exitCode).toBe(2);
        expect((await run(['scan', flag, '0', 'many.js'], scan)).exitCode).toBe(2);
        expect(baseline.err()).toContain(`${flag} takes a whole number ≥ 1; got '0'`);
        expect(baseline.err().split('\n')[0]?.replace('baseline create', 'scan')).toBe(scan.err().split('\n')[0]);
      }
    });

    it('describes the flags in --help in the words of scan --help', async () => {
      const help = async (argv: string[]) => {
        const io = memoryIO({ cwd: dir });
        await run([...argv, '--help'], io);
        return io.out();
      };
      const scan = (await help(['scan'])).split('\n');
      const create = await help(['baseline', 'create']);
      for (const flag of ['--max-findings N', '--max-artifact-findings N']) {
        const at = scan.findIndex((line) => line.includes(flag));
        expect(at).toBeGreaterThan(0);
        expect(create).toContain(`${scan[at]}\n${scan[at + 1]}\n`);
      }
    });

    it('writes nothing and exits 2 when a findings limit left findings out, saying which flag to raise', async () => {
      await five();
      expect((await run(['baseline', 'create', '-j', '0', '-o', 'bl.json', 'many.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
      const before = await readFile(join(dir, 'bl.json'), 'utf8');
      await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ limits: { maxFindingsPerArtifact: 2 } }));
      const cut = memoryIO({ cwd: dir });
      expect((await run(['baseline', 'create', '-j', '0', '-o', 'bl.json', 'many.js'], cut)).exitCode).toBe(2);
      expect(cut.out()).toBe('');
      expect(cut.err()).toContain('many.js: artifact has more than 2 findings; the first 2 were kept, 3 more were counted and not reported');
      expect(cut.err()).toContain(
        'pubguard baseline create: 1 input has more findings than the limit keeps, and a baseline without the rest would have the next scan report them as new: bl.json was not written and is unchanged. Raise --max-artifact-findings (now 2) or limits.maxFindingsPerArtifact in the config, and run it again\n',
      );
      expect(await readFile(join(dir, 'bl.json'), 'utf8')).toBe(before);

      const perFile = memoryIO({ cwd: dir });
      expect((await run(['baseline', 'create', '-j', '0', '-o', 'new.json', '--max-artifact-findings', '10', '--max-findings', '4', 'many.js'], perFile)).exitCode).toBe(2);
      expect(perFile.err()).toContain('new.json was not written. Raise --max-findings (now 4) or limits.maxFindingsPerFile in the config, and run it again\n');
      expect((await readdir(dir)).sort()).toEqual(['bl.json', 'many.js', 'pubguard.config.json']);

      // Raised, the baseline holds all five, and a scan under the config's limit accepts them all.
      expect((await run(['baseline', 'create', '-j', '0', '-o', 'bl.json', '--max-artifact-findings', '5', 'many.js'], memoryIO({ cwd: dir }))).exitCode).toBe(0);
      expect(await recorded('bl.json')).toBe(5);
      const scan = memoryIO({ cwd: dir });
      expect((await run(['scan', '-j', '0', '-f', 'json', '--baseline', 'bl.json', 'many.js'], scan)).exitCode).toBe(0);
      expect((JSON.parse(scan.out()) as { stats: { baselined?: number } }).stats.baselined).toBe(5);
    });
  });

  it('still writes the baseline but exits 2 when an input cannot be read', async () => {
    const io = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-o', 'b.json', 'missing.tgz'], io)).exitCode).toBe(2);
    expect(JSON.parse(await readFile(join(dir, 'b.json'), 'utf8'))).toEqual({ version: 1, fingerprints: [], findings: [] });
    expect(io.err()).toContain('missing.tgz');
    expect(io.err()).toMatch(/\npubguard baseline create: 1 input could not be read fully; the baseline leaves it out\n$/);
    const two = memoryIO({ cwd: dir });
    expect((await run(['baseline', 'create', '-o', 'b.json', 'missing.tgz', 'gone.tgz'], two)).exitCode).toBe(2);
    expect(two.err()).toMatch(/\npubguard baseline create: 2 inputs could not be read fully; the baseline leaves them out\n$/);
  });

  it('says how to make the baseline a scan names when it does not exist', async () => {
    await writeFile(join(dir, 'a.js'), 'nothing\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['scan', '-q', '--baseline', 'old.json', 'a.js'], io)).exitCode).toBe(2);
    expect(io.err()).toMatch(/cannot read baseline .*old\.json: no such file \(write one with `pubguard baseline create`\)/);
  });

  it('rejects bad usage', async () => {
    for (const argv of [['baseline', 'create'], ['baseline', 'create', '--frob', 'x'], ['baseline', 'create', '--jobs', 'many', 'x']]) {
      const io = memoryIO({ cwd: dir });
      expect((await run(argv, io)).exitCode).toBe(2);
      expect(io.err()).toContain('pubguard baseline create --help');
    }
  });
});
