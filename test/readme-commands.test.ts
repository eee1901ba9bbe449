import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runPubguard } from './helpers.js';

// Commands the READMEs show are copied as they are: they must work as written.
const docs = ['README.md', 'packages/release/README.md', 'examples/README.md'].map((path) => ({
  path,
  text: readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8'),
}));
/** Each `pubguard …` command in a document, in a code block or inline, without its comment. */
const commands = (text: string): string[] =>
  [...text.matchAll(/(?<=^|[\s`])pubguard ([a-z][^`\n]*)/gm)].map((m) => `pubguard ${m[1]!.replace(/\s+#.*$/, '').trim()}`);

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
