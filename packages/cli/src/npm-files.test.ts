import { Buffer } from 'node:buffer';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { base62Encode } from '@pubguard/rules';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NpmFilesError, npmPackFiles, parsePackFiles } from './npm-files.js';
import { run } from './run.js';
import { memoryIO } from './testing.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-npm-files-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'pkg', 'lib'), { recursive: true });
  await writeFile(join(dir, 'pkg', 'package.json'), '{"name":"pkg","version":"1.0.0","files":["lib"]}\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake GitHub token with a valid checksum, from a fixed body. */
function token(body: string): string {
  return `ghp_${body}${base62Encode(crc32(Buffer.from(body, 'latin1')))}`;
}

/** What `npm pack --dry-run --json` prints for a package of these files. */
function packJson(paths: string[]): string {
  return JSON.stringify([{ id: 'pkg@1.0.0', name: 'pkg', version: '1.0.0', files: paths.map((path) => ({ path, size: 1, mode: 420 })), entryCount: paths.length, bundled: [] }], null, 2);
}

/** Puts an `npm` first on PATH that records its arguments and working directory, then runs `body`. */
async function stubNpm(body: string): Promise<Record<string, string>> {
  const script = `#!/bin/sh\nprintf '%s\\n' "$PWD" "$@" > '${join(dir, 'npm-called')}'\n${body}\n`;
  await writeFile(join(dir, 'bin', 'npm'), script);
  await chmod(join(dir, 'bin', 'npm'), 0o755);
  return { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` };
}

/** A stub printing `stdout` (through a file, so any bytes pass) and exiting with `code`. */
async function npmPrinting(stdout: string, stderr = '', code = 0): Promise<Record<string, string>> {
  await writeFile(join(dir, 'out.txt'), stdout);
  await writeFile(join(dir, 'err.txt'), stderr);
  return stubNpm(`cat '${join(dir, 'out.txt')}'\ncat '${join(dir, 'err.txt')}' >&2\nexit ${code}`);
}

async function scan(args: string[], env: Record<string, string>) {
  const io = memoryIO({ cwd: dir, env });
  const { exitCode } = await run(['scan', '-j', '0', ...args], io);
  return { exitCode, out: io.out(), err: io.err() };
}

describe('pubguard scan --npm-files', () => {
  it('scans only the files npm lists, running npm pack --dry-run in the package directory', async () => {
    const leaked = token('Q8vLr2NcTw5ZyH3mKp7XdB4sFg9JaE');
    await writeFile(join(dir, 'pkg', 'lib', 'index.js'), 'module.exports = 1;\n');
    await writeFile(join(dir, 'pkg', '.env'), `GITHUB_TOKEN=${leaked}\n`);
    const env = await npmPrinting(packJson(['lib/index.js', 'package.json']));
    const r = await scan(['--npm-files', 'pkg'], env);
    expect(r.out).toContain('Scanned 2 artifacts, 2 files');
    expect(r.exitCode).toBe(0);
    const [cwd, ...args] = (await readFile(join(dir, 'npm-called'), 'utf8')).trimEnd().split('\n');
    expect(cwd).toBe(join(dir, 'pkg'));
    expect(args).toEqual(['pack', '--dry-run', '--json', '--ignore-scripts']);
    // The same directory without the option reports the file npm leaves out.
    expect((await scan(['pkg'], env)).exitCode).toBe(1);
  });

  it('reports a listed file that is not there, and scans one a config ignore glob would leave out', async () => {
    await writeFile(join(dir, 'pkg', 'lib', 'index.js'), 'module.exports = 1;\n');
    await mkdir(join(dir, 'pkg', 'lib', 'generated'));
    await writeFile(join(dir, 'pkg', 'lib', 'generated', 'a.js'), 'x\n');
    await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ ignore: ['**/generated/**'] }));
    const env = await npmPrinting(packJson(['lib/gone.js', 'lib/generated/a.js', 'lib/index.js', 'package.json']));
    const r = await scan(['--format', 'json', '--npm-files', 'pkg'], env);
    expect(r.exitCode).toBe(2);
    const report = JSON.parse(r.out) as { errors: { path: string; kind: string }[]; stats: { files: number } };
    expect(report.errors.map((e) => [e.path, e.kind])).toEqual([['pkg/lib/gone.js', 'not-found']]);
    // lib/generated/a.js ships, so the config's ignore does not keep it from the scan.
    expect(report.stats.files).toBe(3);
  });

  it('stops with npm’s own reason when npm fails, any token in it masked', async () => {
    const npmToken = `npm_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'}`;
    const stderr = [
      'npm error code EJSONPARSE',
      `npm error JSON.parse Invalid package.json: JSONParseError: Unexpected token in "//registry.example/:_authToken=${npmToken}"`,
      'npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log',
      '',
    ].join('\n');
    const env = await npmPrinting('{"error":{"code":"EJSONPARSE","summary":"Invalid package.json"}}\n', stderr, 1);
    const r = await scan(['--npm-files', 'pkg'], { ...env, NPM_TOKEN: npmToken });
    expect(r.exitCode).toBe(2);
    expect(r.err).toMatch(/^pubguard scan: npm pack --dry-run failed in pkg \(exit code 1\): npm error code EJSONPARSE \| npm error JSON\.parse Invalid package\.json: JSONParseError: Unexpected token/);
    expect(r.err).not.toContain('complete log');
    expect(r.err).not.toContain(npmToken);
    expect(r.err).not.toContain(npmToken.slice(4, 20));
    expect(r.out).toBe('');
  });

  it('falls back to the reason npm gave in JSON when its stderr says nothing', async () => {
    const env = await npmPrinting('{"error":{"code":"E1","summary":"No workspaces found!"}}\n', '', 1);
    const r = await scan(['--npm-files', 'pkg'], env);
    expect(r.exitCode).toBe(2);
    expect(r.err).toContain('npm pack --dry-run failed in pkg (exit code 1): No workspaces found!');
  });

  it('stops on output it cannot read rather than scan less than npm publishes', async () => {
    for (const [stdout, reason] of [
      ['npm notice hello\n', 'it is not JSON'],
      ['', 'it printed nothing'],
      ['{"files":[]}', 'expected a JSON array holding one package'],
      ['[{"name":"pkg"}]', 'the package has no "files" list'],
      ['[{"files":[{"size":1}]}]', 'a file without a "path"'],
      [packJson(['../outside.js']), 'a path that is not a plain path inside the package: "../outside.js"'],
    ] as const) {
      const r = await scan(['--npm-files', 'pkg'], await npmPrinting(stdout));
      expect(r.exitCode, stdout).toBe(2);
      expect(r.err, stdout).toContain(`in pkg: ${reason}`);
    }
  });

  it('says npm is missing, and refuses a directory without package.json before running npm', async () => {
    const missing = await scan(['--npm-files', 'pkg'], { PATH: join(dir, 'bin') });
    expect(missing.exitCode).toBe(2);
    expect(missing.err).toContain("pubguard scan: cannot list the files npm would publish from pkg: 'npm' was not found on PATH: install it first");

    const env = await npmPrinting(packJson(['package.json']));
    await mkdir(join(dir, 'plain'));
    const none = await scan(['--npm-files', 'plain'], env);
    expect(none.exitCode).toBe(2);
    expect(none.err).toContain('plain holds no package.json: --npm-files takes the directory of an npm package');
    expect((await scan(['--npm-files', 'pkg/package.json'], env)).err).toContain('--npm-files takes package directories, and pkg/package.json is not one');
    expect((await scan(['--npm-files', 'nowhere'], env)).err).toContain('nowhere: no such directory');
    await expect(readFile(join(dir, 'npm-called'))).rejects.toThrow(/ENOENT/);
    expect((await scan(['--npm-files', '-'], env)).err).toContain('--npm-files takes package directories, not standard input (-)');
  });

  it('stops an npm that does not finish in time', async () => {
    const env = await stubNpm('exec sleep 5');
    const started = Date.now();
    const error = await npmPackFiles('pkg', { cwd: dir, env, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NpmFilesError);
    expect((error as Error).message).toBe('npm pack --dry-run in pkg did not finish within 0.3 s and was stopped');
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('parsePackFiles', () => {
  it('gives the paths npm 11 lists, with forward slashes', () => {
    expect(parsePackFiles(packJson(['lib/sp ace/b c.js', 'package.json', 'lib\\win.js']), '.', true)).toEqual(['lib/sp ace/b c.js', 'package.json', 'lib/win.js']);
  });

  it('keeps a backslash in a file name outside Windows, where it is no separator', () => {
    expect(parsePackFiles(packJson(['lib/back\\slash.js', 'package.json']), '.', false)).toEqual(['lib/back\\slash.js', 'package.json']);
  });

  it('refuses absolute paths and paths with empty or dot parts', () => {
    for (const path of ['/etc/passwd', 'C:/x.js', 'lib//a.js', './a.js', 'lib/../../a.js']) {
      expect(() => parsePackFiles(packJson([path]), '.'), path).toThrow(NpmFilesError);
    }
  });
});
