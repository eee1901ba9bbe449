import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dirs: string[] = [];
const script = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));
const rule = (id: string, extra = ''): string =>
  `- id: ${id}\n  title: Demo\n  severity: high\n  keywords: [demo_]\n  pattern: '(demo_[a-z]{4})'\n${extra}  examples: [demo_abcd]\n  negative_examples: [demo_]\n`;

// Runs the build script on a rules directory of its own; dist/ is built by `pnpm test` first.
async function build(files: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pubguard-rules-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const out = join(dir, 'builtin.json');
  try {
    const r = await run(process.execPath, [script, '--skip-tsc', '--rules', dir, '--out', out]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr, out };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, out };
  }
}

describe('scripts/build.mjs', () => {
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes the compiled ruleset, and the definitions to a file of their own next to it', async () => {
    const r = await build({ 'a.yaml': rule('demo-one'), 'b.yaml': rule('demo-two') });
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(r.out, 'utf8')) as Record<string, unknown>;
    expect(json).toEqual({ version: 1, ruleset: expect.objectContaining({ keywords: ['demo_'] }) });
    const defs = JSON.parse(await readFile(join(dirname(r.out), 'builtin-definitions.json'), 'utf8')) as { version: number; definitions: Array<{ id: string }> };
    expect(defs.version).toBe(1);
    expect(defs.definitions.map((d) => d.id)).toEqual(['demo-one', 'demo-two']);
  });
  it('names the file and the rule on a shape error, exit 1', async () => {
    const r = await build({ 'bad.yaml': rule('demo-one', '  severity2: x\n') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("rules build: rules/bad.yaml: rule 'demo-one': unknown field `severity2`\n");
  });
  it('names the file and the rule on a compile error, exit 1', async () => {
    const r = await build({ 'ok.yaml': rule('demo-one'), 'regex.yaml': rule('demo-two').replace("'(demo_[a-z]{4})'", "'(demo_[a-z'") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rules build: rules\/regex\.yaml: rule 'demo-two': invalid pattern: /);
  });
  it('reports invalid YAML with the file name', async () => {
    const r = await build({ 'broken.yaml': '- id: [unclosed\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rules build: rules\/broken\.yaml: not valid YAML/);
  });
});
