import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsModule, npmTarball, pythonModule, wheel, wheelFileName } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPubguard } from './helpers.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The first example of a built-in rule: the fake secrets the README's tour shows. */
async function example(ruleId: string): Promise<string> {
  const file = join(REPO, 'packages', 'rules', 'generated', 'builtin-definitions.json');
  const { definitions } = JSON.parse(await readFile(file, 'utf8')) as { definitions: Array<{ id: string; examples: string[] }> };
  const text = definitions.find((d) => d.id === ruleId)?.examples[0];
  if (text === undefined) throw new Error(`no rule ${ruleId}`);
  return text;
}

/** One `$ command` of a console block, what it prints and, from a following `echo $?`, its exit code. */
interface Step {
  command: string;
  output: string[];
  exitCode?: number;
}

function steps(block: string): Step[] {
  const out: Step[] = [];
  for (const line of block.replace(/\n$/, '').split('\n')) {
    const last = out[out.length - 1];
    if (line === '$ echo $?') out.push({ command: 'echo $?', output: [] });
    else if (line.startsWith('$ ')) out.push({ command: line.slice(2), output: [] });
    else if (last?.command === 'echo $?') out[out.length - 2]!.exitCode = Number(line);
    else last?.output.push(line);
  }
  return out.filter((s) => s.command !== 'echo $?');
}

/** Timings differ from run to run; everything else must not. */
const untimed = (text: string): string => text.replace(/ in \d+\.\d+ s: /g, ' in T s: ');

let dir: string;
beforeAll(async () => {
  // The tour's tarball: lib/upstream.js with two tokens, and a vendored wheel holding a private key.
  dir = await mkdtemp(join(tmpdir(), 'pubguard-readme-tour-'));
  const js = jsModule([await example('github-classic-token'), await example('google-api-key')], { path: 'lib/upstream.js' });
  const py = pythonModule([await example('pem-private-key')], { path: 'acme_inner/settings.py' });
  const inner = await wheel('acme_inner', '0.3.0', [{ path: py.path, content: py.content }]);
  const tgz = await npmTarball('acme-widgets', '1.0.0', [
    { path: js.path, content: js.content },
    { path: `vendor/${wheelFileName('acme_inner', '0.3.0')}`, content: inner },
  ]);
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', 'acme-widgets-1.0.0.tgz'), tgz);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the README's 60-second tour", () => {
  it('prints what the README shows, command by command', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```console\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(0);
    for (const step of blocks.flatMap(steps)) {
      expect(step.command).toMatch(/^pubguard [^'"$*]+$/);
      const result = await runPubguard(step.command.split(' ').slice(1), { cwd: dir });
      expect(untimed(result.stdout + result.stderr), step.command).toBe(untimed(`${step.output.join('\n')}\n`));
      if (step.exitCode !== undefined) expect(result.code, step.command).toBe(step.exitCode);
    }
  });
});
