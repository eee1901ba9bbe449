import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tgzBuffer } from '@pubguard/corpus';
import { runPubguard } from './helpers.js';

// Commands the READMEs show are copied as they are: they must work as written.
const docs = ['README.md', 'packages/release/README.md', 'examples/README.md'].map((path) => ({
  path,
  text: readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8'),
}));
/** Each `pubguard …` command in a document, in a code block or inline, without its comment. */
const commands = (text: string): string[] =>
  [...text.matchAll(/(?<=^|[\s`])pubguard ([a-z][^`\n]*)/gm)].map((m) => `pubguard ${m[1]!.replace(/\s+#.*$/, '').trim()}`);

describe('the documentation', () => {
  it('refers only to files the repository holds', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const files = ['CHANGELOG.md', 'README.md', 'docs/limits.md', 'examples/README.md', 'corpus/README.md', 'benchmarks/README.md'];
    for (const name of readdirSync(join(root, 'packages'))) if (existsSync(join(root, 'packages', name, 'README.md'))) files.push(`packages/${name}/README.md`);
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      // A design note kept outside the repository is no reference for its readers.
      for (const m of text.matchAll(/(?<![\w./-])(?:[\w.-]+\/)*[A-Z]+\.md\b/g)) expect(existsSync(join(root, m[0])) || existsSync(join(root, dirname(file), m[0])), `${file}: ${m[0]}`).toBe(true);
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1]!)) continue;
        expect(existsSync(resolve(root, dirname(file), m[1]!)), `${file}: ${m[0]}`).toBe(true);
      }
    }
  });
});

describe('README commands', () => {
  it('approve and verify the files of one publish: the npm tarball, or the Python distributions', () => {
    // publish npm and publish pypi each check an approval of exactly their own files.
    const sets = ['dist/*.tgz', 'dist/*.whl dist/*.tar.gz'];
    let seen = 0;
    for (const { path, text } of docs) {
      for (const command of commands(text)) {
        const m = /^pubguard (?:approve|approvals verify) (.*)$/.exec(command);
        if (!m) continue;
        const files = ` ${m[1]!}`.split(/\s+--/)[0]!.trim();
        if (/\.manifest\.json$|^manifest\.json$|^<artifact/.test(files) || files === '') continue;
        expect(sets, `${path}: ${command}`).toContain(files);
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(4);
  });

  it("say that a baseline applies only to scans given it, as scan reads no baseline by default", async () => {
    const readme = docs[0]!.text;
    const row = /^\| `baseline create[^\n]*$/m.exec(readme)?.[0];
    expect(row).toBeDefined();
    expect(row).toContain('`--baseline FILE`');
    expect(row).toContain("config's `baseline` key");
    // The default file baseline create writes is not read unless named.
    const empty = mkdtempSync(join(tmpdir(), 'pubguard-e2e-readme-baseline-'));
    try {
      writeFileSync(join(empty, 'a.js'), 'module.exports = 1;\n');
      mkdirSync(join(empty, '.pubguard'));
      writeFileSync(join(empty, '.pubguard', 'baseline.json'), '{ not json');
      expect((await runPubguard(['scan', '.'], { cwd: empty })).code).toBe(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("list every field of the JSON report's errors", async () => {
    const section = /### JSON output\n([\s\S]*?)\n## /.exec(docs[0]!.text)![1]!;
    const work = mkdtempSync(join(tmpdir(), 'pubguard-e2e-readme-json-'));
    try {
      writeFileSync(join(work, 'two.tgz'), await tgzBuffer([{ path: 'a.txt', content: 'a' }, { path: 'b.txt', content: 'b' }]));
      const r = await runPubguard(['scan', 'two.tgz', '--max-entries', '1', '--format', 'json'], { cwd: work });
      const errors = (JSON.parse(r.stdout) as { errors: Array<Record<string, unknown>> }).errors;
      expect(errors.map((e) => e.kind)).toEqual(['limit']);
      for (const [key, value] of Object.entries(errors[0]!)) {
        expect(section, key).toContain(`\`${key}\``);
        if (key === 'kind') expect(section).toContain(`\`${String(value)}\``);
        if (key === 'limit') expect(section).toContain(`"limit": ${JSON.stringify(value)}`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('give each command only options it takes', async () => {
    const help = new Map<string, string>();
    for (const { path, text } of docs) {
      for (const command of commands(text)) {
        const words = /^pubguard ((?:[a-z]+(?:\s|$))*)/.exec(command)![1]!.trim().split(' ');
        // Prose that names pubguard ("pubguard cannot read…") is no command: it has no help.
        const key = words.join(' ');
        if (!help.has(key)) {
          const r = await runPubguard([...words, '--help']);
          help.set(key, r.code === 0 ? r.stdout : '');
        }
        const text = help.get(key)!;
        if (text === '') continue;
        for (const [flag] of command.matchAll(/(?<=\s)--[a-z][a-z-]*/g)) {
          expect(text, `${path}: ${flag} in ${command}`).toMatch(new RegExp(`(^|[\\s,\\[])${flag}(?![a-z-])`, 'm'));
        }
      }
    }
    expect([...help].filter(([, h]) => h !== '').length, [...help.keys()].join('; ')).toBeGreaterThan(8);
  });
});
