import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './run.js';
import { memoryIO } from './testing.js';

describe('run', () => {
  it('prints the version', async () => {
    const io = memoryIO();
    expect((await run(['--version'], io)).exitCode).toBe(0);
    expect(io.out()).toMatch(/^pubguard \d+\.\d+\.\d+\n$/);
  });

  it('treats a missing command as a usage error', async () => {
    const io = memoryIO();
    expect((await run([], io)).exitCode).toBe(2);
    expect(io.out()).toContain('Usage: pubguard <command>');
  });

  it('names an unknown command and exits 2', async () => {
    const io = memoryIO();
    expect((await run(['frobnicate'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("unknown command 'frobnicate'");
    expect(io.err()).toContain('Run `pubguard --help`');
  });

  it('suggests the command a typo was meant to be, and names only what was typed of it', async () => {
    const typo = memoryIO();
    expect((await run(['scna', 'AKIA-argument'], typo)).exitCode).toBe(2);
    expect(typo.err()).toBe("pubguard: unknown command 'scna'. Did you mean pubguard scan?\n");
    const second = memoryIO();
    expect((await run(['publish', 'nmp', 'pkg.tgz'], second)).exitCode).toBe(2);
    expect(second.err()).toBe("pubguard: unknown command 'publish nmp'. Did you mean pubguard publish npm?\n");
    const group = memoryIO();
    expect((await run(['rules'], group)).exitCode).toBe(2);
    expect(group.err()).toBe("pubguard: unknown command 'rules'. Did you mean one of: pubguard rules list, pubguard rules check?\n");
    // Asked for help, a group lists its commands.
    const option = memoryIO();
    expect((await run(['rules', '--help'], option)).exitCode).toBe(0);
    expect(option.out()).toMatch(/^Usage: pubguard rules <list\|check> \[options\]\n\n {2}rules list {3}list the rules a scan runs[^\n]*\n {2}rules check {2}lint /);
    expect(option.err()).toBe('');
  });

  it('suggests the option a typo was meant to be', async () => {
    const io = memoryIO();
    expect((await run(['scan', '--fromat', 'json', '.'], io)).exitCode).toBe(2);
    expect(io.err()).toContain("Unknown option '--fromat'. Did you mean '--format'?");
    const far = memoryIO();
    expect((await run(['scan', '--frobnicate', '.'], far)).exitCode).toBe(2);
    expect(far.err()).toContain("Unknown option '--frobnicate'\n");
  });
});

describe('fatal errors', () => {
  it('never echo the user information embedded in a URL, password or user name alone', async () => {
    for (const userinfo of ['bob:hunter2secret', 'hunter2secret', 'hunter2secret:']) {
      const io = memoryIO({ env: { NPM_TOKEN: 'x' } });
      const result = await run(['publish', 'npm', 'pkg.tgz', '--registry', `https://${userinfo}@bad host/`, '--tag-name', 'v1.0.0', '--dry-run'], io);
      expect(result.exitCode).toBe(2);
      expect(io.err()).toContain('https://[redacted]@bad host/');
      expect(io.err()).not.toContain('hunter2secret');
    }
  });
});

describe('worker start hook', () => {
  it('reaches the scan: called before each worker starts, its end once the worker runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubguard-hook-'));
    try {
      // Rules from a config file run only on workers, so this small scan starts one.
      const rule = { id: 'acme-key', title: 'Acme key', severity: 'high', keywords: ['acme_'], pattern: '(acme_[0-9a-f]{32})' };
      await writeFile(join(dir, 'pubguard.config.json'), JSON.stringify({ rules: { custom: [rule] } }));
      await writeFile(join(dir, 'app.js'), 'const key = "acme_9f3a7c21e8b04d6f5a2c9e17b3d8f046";\n');
      const calls: string[] = [];
      const io = {
        ...memoryIO({ cwd: dir }),
        onWorkerStart: () => {
          calls.push('start');
          return () => calls.push('end');
        },
      };
      expect((await run(['scan', '-q', '--jobs', '1', '--format', 'json', dir], io)).exitCode).toBe(1);
      expect(JSON.parse(io.out()).findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['acme-key']);
      expect(calls).toEqual(['start', 'end']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('help texts', () => {
  const helpOf = async (name: string) => {
    const { commands } = await import('./commands/index.js');
    const entry = commands.find((c) => c.name === name);
    if (!entry) throw new Error(`no command ${name}`);
    return (await entry.load()).help;
  };

  it("state each command's own defaults", async () => {
    expect(await helpOf('publish npm')).toContain('variable holding the token (default NPM_TOKEN)');
    expect(await helpOf('publish pypi')).toContain('variable holding the token (default PYPI_TOKEN)');
    // Both leave --jobs to the engine, whose default is one worker fewer than the CPUs.
    for (const name of ['scan', 'baseline create']) expect(await helpOf(name)).toMatch(/--jobs N +worker threads[^\n]*\(default: CPUs - 1, at least 1;/);
  });
});

describe('every command --help', () => {
  it('starts the descriptions of one block of options in one column', async () => {
    const { commands } = await import('./commands/index.js');
    for (const entry of commands) {
      const command = await entry.load();
      // Blocks are separated by blank lines and headings; an option line is `  -f, --format FMT   …`.
      for (const block of command.help.split(/\n(?:\s*\n|[A-Z][^\n]*:\n)/)) {
        const columns = new Set<number>();
        for (const m of block.matchAll(/^( {2}(?:-[a-zA-Z], )?(?: {4})?--[a-z][a-z0-9-]*(?: [A-Z_|./]+)?)( +)\S/gm)) columns.add(m[1]!.length + m[2]!.length);
        expect([...columns].length, `pubguard ${entry.name} --help:\n${block}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('lists only options the command accepts', async () => {
    const { commands } = await import('./commands/index.js');
    const cwd = await mkdtemp(join(tmpdir(), 'pubguard-help-'));
    try {
      for (const entry of commands) {
        const command = await entry.load();
        // An option line: `  -f, --format FMT   …` or `      --dry-run   …`.
        const listed = [...command.help.matchAll(/^ {2}(?:(-[a-zA-Z]), )?(?: {4})?(--[a-z][a-z0-9-]*)( [A-Z_|]+)?/gm)];
        expect(listed.length, entry.name).toBeGreaterThan(0);
        for (const [, short, long, value] of listed) {
          for (const flag of [long, short]) {
            if (flag === undefined || flag === '--help' || flag === '-h') continue;
            const argv = value ? [flag, 'x'] : [flag];
            let message = '';
            try {
              await command.run(argv, memoryIO({ cwd }));
            } catch (error) {
              message = (error as Error).message;
            }
            expect(message, `pubguard ${entry.name} ${argv.join(' ')}`).not.toMatch(/Unknown option|argument missing|does not take an argument/);
          }
        }
      }
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('file-system errors', () => {
  it('are worded the same by every command, without the errno code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubguard-fs-words-'));
    try {
      // A directory where each command wants a file, and a file where one wants a directory.
      await mkdir(join(dir, 'package.json'));
      await writeFile(join(dir, 'notes.txt'), 'a file');
      const cases: Array<[string[], string]> = [
        [['scan', '--config', '.', 'notes.txt'], `${dir}: cannot read the config file: is a directory, not a file`],
        [['scan', '--baseline', '.', 'notes.txt'], `cannot read baseline ${dir}: is a directory, not a file`],
        [['report', 'merge', '.'], 'cannot read report .: is a directory, not a file'],
        [['init', '--yes'], `cannot read ${join(dir, 'package.json')}: is a directory, not a file`],
        [['scan', '--npm-files', 'notes.txt/pkg'], 'cannot read notes.txt/pkg: a part of its path is a file, not a directory'],
        [['scan', '-f', 'json', '-o', 'notes.txt/out.json', 'notes.txt'], `cannot write ${join(dir, 'notes.txt', 'out.json')}: a part of its path is a file, not a directory`],
      ];
      for (const [argv, message] of cases) {
        const io = memoryIO({ cwd: dir });
        expect((await run(argv, io)).exitCode, argv.join(' ')).toBe(2);
        expect(io.err(), argv.join(' ')).toContain(message);
        expect(io.err(), argv.join(' ')).not.toMatch(/\bE[A-Z]{3,}\b/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
