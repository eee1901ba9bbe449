import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';
import { updatePackageJson, withPrepublishScan } from './init.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-init-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = (name: string) => readFile(join(dir, name), 'utf8');

describe('withPrepublishScan', () => {
  it('adds the scan once, in front', () => {
    expect(withPrepublishScan(undefined)).toBe('pubguard scan --npm-files .');
    expect(withPrepublishScan('')).toBe('pubguard scan --npm-files .');
    expect(withPrepublishScan('npm test')).toBe('pubguard scan --npm-files . && npm test');
    expect(withPrepublishScan('npm test && pubguard scan dist/')).toBe('npm test && pubguard scan dist/');
    // One an earlier init added, which scans the whole directory, is left to the user.
    expect(withPrepublishScan('pubguard scan . && tsc')).toBe('pubguard scan . && tsc');
    expect(withPrepublishScan('pubguard  scan --npm-files .')).toBe('pubguard  scan --npm-files .');
    expect(withPrepublishScan(withPrepublishScan('npm test'))).toBe('pubguard scan --npm-files . && npm test');
  });
});

describe('updatePackageJson', () => {
  it('keeps tabs, CRLF line ends and the final newline', () => {
    const text = '{\r\n\t"name": "x",\r\n\t"scripts": {\r\n\t\t"test": "vitest"\r\n\t}\r\n}\r\n';
    const out = updatePackageJson(text);
    expect(out?.text).toBe('{\r\n\t"name": "x",\r\n\t"scripts": {\r\n\t\t"test": "vitest",\r\n\t\t"prepublishOnly": "pubguard scan --npm-files ."\r\n\t}\r\n}\r\n');
  });

  it('keeps a 4-space indent and no final newline', () => {
    const out = updatePackageJson('{\n    "name": "x"\n}');
    expect(out?.text).toBe('{\n    "name": "x",\n    "scripts": {\n        "prepublishOnly": "pubguard scan --npm-files ."\n    }\n}');
  });

  it('says when nothing changes and refuses broken files', () => {
    expect(updatePackageJson('{"scripts": {"prepublishOnly": "pubguard scan --npm-files ."}}')).toBeUndefined();
    expect(() => updatePackageJson('{"name": ')).toThrow(/package\.json is not valid JSON/);
    expect(() => updatePackageJson('{"scripts": {"prepublishOnly": 1}}')).toThrow(/prepublishOnly must be a string/);
  });
});

describe('pubguard init', () => {
  it('writes a starter config that loads; without a package.json, no $schema into node_modules, and the next step', async () => {
    const io = memoryIO({ cwd: dir });
    expect((await run(['init'], io)).exitCode).toBe(0);
    const config = JSON.parse(await read('pubguard.config.json')) as { $schema?: string };
    expect(config.$schema).toBeUndefined();
    const loaded = await loadConfig(dir);
    expect(loaded?.config.ignore).toEqual(['node_modules/**', '.git/**']);
    expect(io.out()).toBe('wrote pubguard.config.json\nnext: scan the distributions before uploading them, e.g. python -m build && pubguard scan dist/*\n');
  });

  it('refuses to overwrite an existing config (exit 2)', async () => {
    await writeFile(join(dir, 'pubguard.config.json'), '{"jobs": 1}');
    const io = memoryIO({ cwd: dir });
    expect((await run(['init', '--yes'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('pubguard.config.json already exists');
    expect(await read('pubguard.config.json')).toBe('{"jobs": 1}');
  });

  it('with --yes prepends the scan to prepublishOnly, keeping the formatting', async () => {
    await writeFile(join(dir, 'package.json'), '{\n    "name": "pkg",\n    "scripts": {\n        "prepublishOnly": "npm test"\n    }\n}\n');
    const io = memoryIO({ cwd: dir });
    expect((await run(['init', '--yes'], io)).exitCode).toBe(0);
    expect(await read('package.json')).toBe('{\n    "name": "pkg",\n    "scripts": {\n        "prepublishOnly": "pubguard scan --npm-files . && npm test"\n    }\n}\n');
    expect(io.out()).toContain('scripts.prepublishOnly is now "pubguard scan --npm-files . && npm test"');
    expect(io.out()).toContain('add pubguard to the package\'s dev dependencies, so that the script finds it everywhere: npm install --save-dev @pubguard/cli');
  });

  it('says nothing of the dev dependency when the package has it', async () => {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'pkg', devDependencies: { '@pubguard/cli': '^0.1.0' } }));
    const io = memoryIO({ cwd: dir });
    expect((await run(['init', '--yes'], io)).exitCode).toBe(0);
    expect(io.out()).toContain('scripts.prepublishOnly is now');
    expect(io.out()).not.toContain('dev dependencies');
    // In an npm package, the schema is where the dev dependency puts it.
    const config = JSON.parse(await read('pubguard.config.json')) as { $schema?: string };
    expect(config.$schema).toBe('./node_modules/@pubguard/cli/schemas/pubguard.config.schema.json');
  });

  it('asks on a terminal and does what the answer says', async () => {
    const pkg = '{\n  "name": "pkg"\n}\n';
    await writeFile(join(dir, 'package.json'), pkg);
    let io = memoryIO({ cwd: dir, tty: true, answers: ['n'] });
    expect((await run(['init'], io)).exitCode).toBe(0);
    expect(await read('package.json')).toBe(pkg);
    expect(io.out()).toContain('"prepublishOnly": "pubguard scan --npm-files ."');

    await rm(join(dir, 'pubguard.config.json'));
    io = memoryIO({ cwd: dir, tty: true, answers: [''] });
    expect((await run(['init'], io)).exitCode).toBe(0);
    expect(JSON.parse(await read('package.json'))).toEqual({ name: 'pkg', scripts: { prepublishOnly: 'pubguard scan --npm-files .' } });
  });

  it('off a terminal without --yes only prints what to add', async () => {
    const pkg = '{"name":"pkg","scripts":{"prepublishOnly":"tsc"}}';
    await writeFile(join(dir, 'package.json'), pkg);
    const io = memoryIO({ cwd: dir });
    expect((await run(['init'], io)).exitCode).toBe(0);
    expect(await read('package.json')).toBe(pkg);
    expect(io.out()).toContain('"prepublishOnly": "pubguard scan --npm-files . && tsc"');
  });

  it('never adds the scan twice', async () => {
    const pkg = '{"scripts":{"prepublishOnly":"pubguard scan --npm-files . && tsc"}}';
    await writeFile(join(dir, 'package.json'), pkg);
    const io = memoryIO({ cwd: dir });
    expect((await run(['init', '--yes'], io)).exitCode).toBe(0);
    expect(await read('package.json')).toBe(pkg);
    expect(io.out()).toBe('wrote pubguard.config.json\npackage.json: scripts.prepublishOnly already runs pubguard scan\n');
  });

  it('leaves a scan of the whole directory in place, saying what scans only the published files', async () => {
    const pkg = '\ufeff{"scripts":{"prepublishOnly":"pubguard scan . && tsc"}}';
    await writeFile(join(dir, 'package.json'), pkg);
    const io = memoryIO({ cwd: dir });
    expect((await run(['init', '--yes'], io)).exitCode).toBe(0);
    expect(await read('package.json')).toBe(pkg);
    expect(io.out()).toContain('already runs pubguard scan\n  (`pubguard scan --npm-files .` scans only the files npm would publish)\n');
  });

  it('stops before writing anything when package.json is broken', async () => {
    await writeFile(join(dir, 'package.json'), '{"name": ');
    const io = memoryIO({ cwd: dir });
    expect((await run(['init', '--yes'], io)).exitCode).toBe(2);
    expect(io.err()).toContain('is not valid JSON');
    await expect(read('pubguard.config.json')).rejects.toThrow();
  });

  it('rejects unknown flags and arguments', async () => {
    for (const argv of [['init', '--force'], ['init', 'extra']]) {
      const io = memoryIO({ cwd: dir });
      expect((await run(argv, io)).exitCode).toBe(2);
      expect(io.err()).toContain('pubguard init --help');
    }
  });
});
