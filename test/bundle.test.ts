import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBGUARD_BIN } from './helpers.js';
import { checksummedToken } from './publish-helpers.js';

const run = promisify(execFile);
const CLI_DIR = dirname(dirname(PUBGUARD_BIN));

/** How bin/load.js of the copy in `dir` compiles the bundle: with its code cache ('used'), or not. */
async function cacheUse(dir: string): Promise<string> {
  const load = JSON.stringify(join(dir, 'bin', 'load.js'));
  const { stdout } = await run(process.execPath, ['-e', `process.stdout.write(require(${load}).loadBundle('bin').cache)`], {
    // V8 rejects a cache made under other V8 flags; the build runs without any.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return stdout;
}

/** Runs a command with stdin from /dev/null (`ignore`) or an idle pipe, and returns its stderr once it exits. */
function stderrOf(file: string, args: string[], stdin: 'ignore' | 'pipe'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [stdin, 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', () => resolve(stderr));
  });
}

/** Copies what the package ships (its `files` and package.json) to `to`, but dist/: the command runs without it. */
async function copyPackage(to: string): Promise<void> {
  const { files } = JSON.parse(await readFile(join(CLI_DIR, 'package.json'), 'utf8')) as { files: string[] };
  for (const part of [...files.filter((f) => f !== 'dist'), 'package.json']) await cp(join(CLI_DIR, part), join(to, part), { recursive: true });
}

/** Runs a copy of the command and returns its exit code and output, whatever the code. */
async function runCopy(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the bundle bin/pubguard.js runs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubguard-bundle-test-'));
    await copyPackage(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Writes `source` into the copy as a script Node preloads (`--require`), and returns a runner
   * of the copy's command under it, which resolves with the command's stderr.
   */
  async function underHook(name: string, source: string): Promise<(args: string[], stdin?: 'ignore' | 'pipe') => Promise<string>> {
    const hook = join(dir, name);
    await writeFile(hook, source);
    return (args, stdin = 'ignore') => stderrOf(process.execPath, ['--require', hook, join(dir, 'bin', 'pubguard.js'), ...args], stdin);
  }

  it('runs from its own files: a copy of the package works without the workspace', async () => {
    const result = await runCopy(join(dir, 'bin', 'pubguard.js'), ['rules', 'list']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/github-classic-token/);
  });

  it('compiles the bundle from the code cache the build made', async () => {
    expect(await cacheUse(dir)).toBe('used');
  });

  it('runs the command itself from that cache: it sets its V8 flags only once the bundle is compiled', async () => {
    // V8 rejects a cache made under other flags. A preloaded hook sees the scripts the
    // launcher compiles with a cache, and whether V8 took it.
    const command = await underHook(
      'cache-hook.cjs',
      `const vm = require('node:vm');
const seen = [];
const Base = vm.Script;
vm.Script = class extends Base {
  constructor(code, options) {
    super(code, options);
    if (options && options.cachedData) seen.push(this.cachedDataRejected ? 'rejected' : 'used');
  }
};
process.on('exit', () => process.stderr.write('cache: ' + seen.join(',') + '\\n'));
`,
    );
    const empty = await mkdtemp(join(tmpdir(), 'pubguard-bundle-empty-'));
    try {
      expect(await command(['scan', '-q', empty])).toBe('cache: used\n');
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  it.skipIf(!process.versions.v8.startsWith('11.'))('loads every Node built-in a scan uses before it sets its V8 flags', async () => {
    // Node's built-ins compile from code caches keyed to V8's flags too: one loaded after the
    // flags change is compiled from scratch (the stream classes of fs: 4-5 ms instead of 1.4).
    const command = await underHook(
      'flags-hook.cjs',
      // node:crypto is loaded on first use, after the flags, and only by a scan with findings
      // (a clean scan does not load it: see the next test); loaded here, it is left out.
      `require('node:crypto');
const v8 = require('node:v8');
const set = v8.setFlagsFromString;
let at = -1;
v8.setFlagsFromString = (flag) => {
  if (at < 0 && flag === '--no-turbo-inlining') at = process.moduleLoadList.length;
  return set(flag);
};
process.on('exit', () => {
  const after = at < 0 ? ['(flags never set)'] : process.moduleLoadList.slice(at).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  process.stderr.write('loaded after the flags: ' + after.join(' ') + '\\n');
});
`,
    );
    const work = await mkdtemp(join(tmpdir(), 'pubguard-bundle-builtins-'));
    try {
      // A tarball and a zip of the package's own files, and the directory itself.
      await run('tar', ['-czf', join(work, 'pkg.tgz'), '-C', dir, 'bundle', 'package.json']);
      await run('sh', ['-c', 'cd "$1" && zip -qr "$2" bundle package.json', 'sh', dir, join(work, 'pkg.zip')]).catch(() => undefined);
      const inputs = [join(work, 'pkg.tgz'), join(dir, 'generated')];
      if (existsSync(join(work, 'pkg.zip'))) inputs.push(join(work, 'pkg.zip'));
      // stdin from /dev/null, as in most CI jobs, and from a pipe.
      for (const stdin of ['ignore', 'pipe'] as const) {
        for (const args of [['scan', '-q', work], ['scan', '-q', '--format', 'json', ...inputs]]) {
          expect(await command(args, stdin), `${stdin}: ${args.join(' ')}`).toContain('loaded after the flags: \n');
        }
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('counts the workers starting: default flags from the first start until the last one runs', () => {
    const { workerStartHook } = createRequire(import.meta.url)(join(dir, 'bin', 'load.js')) as {
      workerStartHook(setFlags: (tuned: boolean) => void): () => () => void;
    };
    const set: boolean[] = [];
    const starting = workerStartHook((tuned) => set.push(tuned));
    const first = starting();
    const second = starting();
    expect(set).toEqual([false]);
    first();
    first();
    expect(set).toEqual([false]);
    second();
    expect(set).toEqual([false, true]);
    starting()();
    expect(set).toEqual([false, true, false, true]);
  });

  it.skipIf(!process.versions.v8.startsWith('11.'))('starts a worker under V8 default flags and sets its own again once the worker runs', async () => {
    // A worker compiles Node's built-ins from their code cache only under the default flags.
    const command = await underHook(
      'worker-flags-hook.cjs',
      `const v8 = require('node:v8');
const threads = require('node:worker_threads');
const events = [];
const set = v8.setFlagsFromString;
v8.setFlagsFromString = (flag) => {
  events.push(flag);
  return set(flag);
};
const Base = threads.Worker;
threads.Worker = class extends Base {
  constructor(...args) {
    events.push('new Worker');
    super(...args);
    this.once('online', () => events.push('online'));
  }
};
process.on('exit', () => process.stderr.write(events.join(' ') + '\\n'));
`,
    );
    const work = await mkdtemp(join(tmpdir(), 'pubguard-bundle-workers-'));
    try {
      // Rules from a config file run only on workers, so this small scan starts one.
      const rule = { id: 'acme-key', title: 'Acme key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };
      await writeFile(join(work, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [rule] } }));
      await writeFile(join(work, 'app.js'), 'const key = "acme_9f3a7c21e8b04d6f5a2c9e17b3d8f046";\n');
      const stderr = await command(['scan', '-q', '--jobs', '1', '--config', join(work, 'pubguard.config.json'), work]);
      const tuned = '--no-turbo-inlining --interrupt-budget=270336';
      expect(stderr.trim()).toBe(`${tuned} --turbo-inlining --interrupt-budget=67584 new Worker online ${tuned}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('is ASCII only, so that V8 holds its source as a one-byte string', async () => {
    for (const name of ['bin.js', 'worker.js']) {
      const bytes = await readFile(join(CLI_DIR, 'bundle', name));
      expect(bytes.findIndex((b) => b > 0x7f), name).toBe(-1);
    }
  });

  it('loads node:crypto and node:readline only when a command needs them, not for a clean scan', async () => {
    const command = await underHook('modules-hook.cjs', `process.on('exit', () => process.stderr.write('modules: ' + process.moduleLoadList.join(' ') + '\\n'));\n`);
    const work = await mkdtemp(join(tmpdir(), 'pubguard-bundle-lazy-'));
    try {
      await writeFile(join(work, 'clean.txt'), 'nothing to see here\n');
      const modules = async (args: string[]): Promise<string> => {
        const stderr = await command(args);
        const line = /^modules: (.*)$/m.exec(stderr);
        expect(line, stderr).not.toBeNull();
        return line?.[1] ?? '';
      };
      for (const args of [['scan', work], ['scan', '--format', 'json', join(work, 'clean.txt')]]) {
        const loaded = await modules(args);
        expect(loaded, args.join(' ')).not.toMatch(/NativeModule (crypto|readline)\b/);
      }
      // The hook does see them once a finding is fingerprinted.
      await writeFile(join(work, 'leak.env'), `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
      expect(await modules(['scan', '--format', 'json', join(work, 'leak.env')])).toMatch(/NativeModule crypto\b/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('imports nothing outside the bundle with import(), which fails in a script compiled by vm.Script', async () => {
    for (const name of ['bin.js', 'worker.js']) {
      const code = await readFile(join(CLI_DIR, 'bundle', name), 'utf8');
      expect(code.match(/\bimport\s*\(\s*["'`][^"'`]*["'`]\s*\)/g) ?? [], name).toEqual([]);
    }
  });

  // util-linux's `script` gives the command a terminal, the only place it prompts.
  it.skipIf(!existsSync('/usr/bin/script'))('asks for the confirmation phrase on a terminal', async () => {
    const work = await mkdtemp(join(tmpdir(), 'pubguard-bundle-tty-'));
    try {
      for (const [typed, code, said] of [
        ['release', 0, 'confirmed'],
        ['relaese', 1, 'refused: input did not match the phrase "release"'],
      ] as const) {
        const command = `'${process.execPath}' '${join(dir, 'bin', 'pubguard.js')}' confirm --phrase release`;
        const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: work, env: { ...process.env, NODE_OPTIONS: '' } });
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (s: string) => {
          output += s;
          if (output.includes('to confirm: ') && !child.stdin.writableEnded) child.stdin.end(`${typed}\r`);
        });
        const exit = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(output, typed).toContain('Type "release" to confirm: ');
        expect(output, typed).toContain(said);
        expect(exit, output).toBe(code);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('still runs, only slower, when V8 rejects the code cache or it is missing', async () => {
    const bundle = join(dir, 'bundle', 'bin.js');
    const cacheFile = join(dir, 'bundle', 'bin.code-cache');
    const { digestOf } = createRequire(import.meta.url)(join(dir, 'bin', 'load.js')) as { digestOf(bytes: Buffer): Buffer };
    const digest = digestOf(await readFile(bundle));
    await writeFile(cacheFile, Buffer.concat([digest, Buffer.alloc(4096, 7)]));
    expect(await cacheUse(dir)).toBe('rejected');
    const rejected = await runCopy(join(dir, 'bin', 'pubguard.js'), ['rules', 'list']);
    expect(rejected.stderr).toBe('');
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toMatch(/github-classic-token/);
    await rm(cacheFile);
    expect(await cacheUse(dir)).toBe('none');
    const missing = await runCopy(join(dir, 'bin', 'pubguard.js'), ['--version']);
    expect(missing.stderr).toBe('');
    expect(missing.code).toBe(0);
  });

  it('does not run old code from the cache when the bundle is edited in place, even at the same length', async () => {
    // V8 compares only the source's length; an edit of the same length must still be seen.
    const copy = await mkdtemp(join(tmpdir(), 'pubguard-bundle-edit-'));
    try {
      await copyPackage(copy);
      const bundle = join(copy, 'bundle', 'bin.js');
      const source = await readFile(bundle, 'utf8');
      const edited = source.replace(/Scanned /, 'Searched');
      expect(edited).not.toBe(source);
      expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(source));
      await writeFile(bundle, edited);
      expect(await cacheUse(copy)).toBe('stale');
      const result = await runCopy(join(copy, 'bin', 'pubguard.js'), ['scan', join(copy, 'package.json')]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Searched1 artifact, 1 file/m);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('scans with the compiled rules alone; only the rules commands read the definitions', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'pubguard-bundle-rules-'));
    try {
      await copyPackage(copy);
      await rm(join(copy, 'generated', 'builtin-definitions.json'));
      const scanned = await runCopy(join(copy, 'bin', 'pubguard.js'), ['scan', join(copy, 'package.json')]);
      expect(scanned.stderr).toBe('');
      expect(scanned.code).toBe(0);
      const listed = await runCopy(join(copy, 'bin', 'pubguard.js'), ['rules', 'list']);
      expect(listed.code).toBe(2);
      expect(listed.stderr).toContain(`built-in rules not found at ${join(copy, 'generated', 'builtin-definitions.json')}; run \`pnpm build\``);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('says to build when the bundle file is missing, without a stack trace', async () => {
    await rm(join(dir, 'bundle', 'bin.js'));
    const result = await runCopy(join(dir, 'bin', 'pubguard.js'), ['scan', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`pubguard: packages/cli/bundle/ is missing or incomplete (${join(dir, 'bundle', 'bin.js')}: ENOENT); build it with \`corepack pnpm build\`\n`);
  });

  it('says to build when there is no bundle at all', async () => {
    await rm(join(dir, 'bundle'), { recursive: true, force: true });
    const result = await runCopy(join(dir, 'bin', 'pubguard.js'), ['--version']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^pubguard: packages\/cli\/bundle\/ is missing or incomplete \(.*bin\.js: ENOENT\); build it with `corepack pnpm build`\n$/);
  });
});
