import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runPubguard } from './helpers.js';

// The example release workflow must keep its safety properties when someone edits it.
const text = readFileSync(fileURLToPath(new URL('../examples/github/publish.yml', import.meta.url)), 'utf8');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  if?: string;
  'continue-on-error'?: boolean;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string | boolean | number>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push?: { tags?: string[] }; workflow_dispatch?: { inputs?: Record<string, { required?: boolean }> } };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const wf = parse(text) as Workflow;
const jobs = Object.entries(wf.jobs);
const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const runs = (j: Job): string => j.steps.map((s) => s.run ?? '').join('\n');
const action = (s: Step, name: string): boolean => s.uses?.startsWith(`actions/${name}@`) === true;
/** Each `pubguard …` command line of a job's scripts. */
const pubguardLines = (j: Job): string[] => runs(j).split('\n').filter((l) => /^\s*pubguard /.test(l));
/** The value a command line gives an option, without quotes. */
const option = (line: string, name: string): string | undefined =>
  [...line.matchAll(/\s--([a-z-]+)\s+("[^"]*"|[^\s-]\S*)/g)].find((m) => m[1] === name)?.[2]?.replace(/^"|"$/g, '');

describe('examples/github/publish.yml', () => {
  it('triggers on strict version tags and on a manual run with version and confirm_release', () => {
    expect(wf.on.push?.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    const inputs = wf.on.workflow_dispatch?.inputs ?? {};
    expect(Object.keys(inputs).sort()).toEqual(['confirm_release', 'version']);
    expect(inputs.version?.required).toBe(true);
    expect(inputs.confirm_release?.required).toBe(true);
  });

  it('grants read-only permissions everywhere', () => {
    expect(wf.permissions).toEqual({ contents: 'read' });
    for (const [name, job] of jobs) {
      expect(job.permissions, name).toBeDefined();
      for (const level of Object.values(job.permissions ?? {})) expect(['read', 'none'], name).toContain(level);
    }
  });

  it('pins every action to a 40-hex commit SHA', () => {
    const uses = jobs.flatMap(([, j]) => j.steps.map((s) => s.uses).filter((u): u is string => u !== undefined));
    expect(uses.length).toBeGreaterThan(5);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
  });

  it('exposes the publishing tokens to the publish job only', () => {
    const secretRefs = (v: unknown): string[] => [...JSON.stringify(v ?? {}).matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]!);
    expect(secretRefs(wf.env)).toEqual([]);
    for (const [name, job] of jobs) {
      const refs = secretRefs(job);
      if (name === 'publish') expect(refs).toEqual(expect.arrayContaining(['NPM_TOKEN', 'PYPI_TOKEN']));
      else expect(refs.filter((r) => r === 'NPM_TOKEN' || r === 'PYPI_TOKEN'), name).toEqual([]);
    }
    // Tokens enter through the environment, never a command line.
    expect(runs(wf.jobs.publish!)).not.toMatch(/secrets\.|NPM_TOKEN|PYPI_TOKEN/);
  });

  it('publishes only after the approvals gate, and publish itself re-checks approvals', () => {
    const gate = jobs.find(([, j]) => runs(j).includes('pubguard approvals verify'));
    expect(gate).toBeDefined();
    expect(runs(gate![1])).toMatch(/pubguard confirm --phrase release --input "\$CONFIRM"/);
    const publish = wf.jobs.publish!;
    expect(needsOf(publish)).toContain(gate![0]);
    expect(publish.environment).toBe('release');
    expect(runs(publish)).toMatch(/pubguard publish npm .*--require-approvals/);
    expect(runs(publish)).toMatch(/pubguard publish pypi .*--require-approvals/);
  });

  it('verifies, before publishing, approvals of exactly the files each publish uploads', () => {
    // An approval covers exactly the files of one publish, so the gate must check the same sets.
    const files = (command: string): string => command.split(/\s+--/)[0]!.trim();
    const gate = jobs.find(([, j]) => runs(j).includes('pubguard approvals verify'))![1];
    const verified = [...runs(gate).matchAll(/pubguard approvals verify ([^\n]*)/g)].map((m) => files(m[1]!));
    const published = [...runs(wf.jobs.publish!).matchAll(/pubguard publish (?:npm|pypi) ([^\n]*)/g)].map((m) => files(m[1]!));
    expect(published).toHaveLength(2);
    for (const p of published) expect(verified).toContain(p);
  });

  it('verifies approvals from the release-approvals branch, and judges them by the policy of the run\'s own checkout', () => {
    // Approvals of this run's files can only be made after its build: they cannot be in the commit it started from.
    for (const name of ['approvals', 'publish']) {
      const job = wf.jobs[name]!;
      const branch = job.steps.find((s) => action(s, 'checkout') && s.with?.ref === 'release-approvals');
      expect(branch, name).toBeDefined();
      const dir = String(branch!.with?.path);
      expect(dir, name).not.toBe('undefined');
      expect(branch!.with?.['persist-credentials'], name).toBe(false);
      const gates = pubguardLines(job).filter((l) => /pubguard (approvals verify|publish (npm|pypi)) /.test(l));
      expect(gates.length, name).toBe(2);
      for (const line of gates) {
        expect(option(line, 'approvals'), line).toBe(`${dir}/$RELEASE_TAG`);
        const policy = option(line, 'policy') ?? '.pubguard/policy.json';
        expect(policy.startsWith(`${dir}/`), line).toBe(false);
      }
    }
  });

  it('keeps one audit log: every gate appends to it, and each job goes on from the log the job before it uploaded', () => {
    const writers = jobs.flatMap(([name, j]) =>
      pubguardLines(j)
        .filter((l) => /pubguard (version check|confirm|approvals verify|publish (npm|pypi)) /.test(l) && !l.includes('--no-audit'))
        .map((l) => [name, l] as const),
    );
    expect(writers.map(([name]) => name)).toEqual(expect.arrayContaining(['build', 'approvals', 'publish']));
    const logs = new Set(writers.map(([, l]) => option(l, 'audit')));
    expect([...logs]).toHaveLength(1);
    const log = [...logs][0]!;
    expect(log).toBeDefined();
    const uploads = (j: Job): string[] => j.steps.filter((s) => action(s, 'upload-artifact') && s.with?.path === log).map((s) => String(s.with?.name));
    for (const [name, job] of jobs) {
      // Uploaded even when a gate refused, so the record of the refusal is kept.
      const upload = job.steps.find((s) => action(s, 'upload-artifact') && s.with?.path === log);
      expect(upload?.if, name).toBe('always()');
      // A job with no log of its own yet takes up one that a job it needs uploaded.
      const before = needsOf(job).flatMap((n) => uploads(wf.jobs[n]!));
      if (needsOf(job).length === 0) continue;
      const downloaded = job.steps.filter((s) => action(s, 'download-artifact') && s['continue-on-error'] !== true).map((s) => String(s.with?.name));
      expect(downloaded.filter((d) => before.includes(d)), name).not.toEqual([]);
    }
    // The last job checks the whole chain before it keeps it.
    expect(pubguardLines(wf.jobs.publish!).some((l) => l === `pubguard audit verify ${log}` || l.startsWith(`pubguard audit verify ${log} `))).toBe(true);
  });

  it('checks the log each job takes up against a head the job before it gave as a job output', () => {
    // Whoever can write the log can recompute its chain: only a head from elsewhere tells.
    for (const [name, job] of jobs) {
      if (needsOf(job).length === 0) continue;
      const step = job.steps.find((s) => /^pubguard audit verify \S+ --head "\$([A-Z_]+)"$/.test(s.run ?? ''));
      expect(step, name).toBeDefined();
      const variable = /--head "\$([A-Z_]+)"/.exec(step!.run!)![1]!;
      const source = /^\$\{\{ needs\.([a-z-]+)\.outputs\.([a-z_]+) \}\}$/.exec(step!.env?.[variable] ?? '');
      expect(source, name).not.toBeNull();
      const [, from, output] = source!;
      expect(needsOf(job), name).toContain(from);
      // The output is the head of the log that job uploaded, taken after its last record.
      const given = wf.jobs[from!]!.outputs?.[output!];
      const id = /^\$\{\{ steps\.([a-z-]+)\.outputs\.([a-z_]+) \}\}$/.exec(given ?? '');
      expect(id, `${from}.outputs.${output}`).not.toBeNull();
      const steps = wf.jobs[from!]!.steps;
      const at = steps.findIndex((s) => s.id === id![1]);
      expect(steps[at]?.run, from).toMatch(/pubguard audit verify \S+ --format json/);
      expect(steps[at]?.run, from).toContain(`${id![2]}=`);
      const lastWriter = steps.findLastIndex((s) => /pubguard (version check|confirm|approvals verify|publish (npm|pypi)) /.test(s.run ?? '') && !(s.run ?? '').includes('--no-audit'));
      expect(at, from).toBeGreaterThan(lastWriter);
    }
  });

  it('gives each pubguard command only options it takes', async () => {
    const lines = jobs.flatMap(([, j]) => pubguardLines(j));
    expect(lines.length).toBeGreaterThan(8);
    for (const line of lines) {
      const words = /^\s*pubguard ((?:[a-z]+ )*)/.exec(line)![1]!.trim().split(' ');
      const help = await runPubguard([...words, '--help']);
      expect(help.code, line).toBe(0);
      for (const [flag] of line.matchAll(/(?<=\s)--[a-z][a-z-]*/g)) {
        expect(help.stdout, `${flag} in: ${line}`).toMatch(new RegExp(`(^|[\\s,\\[])${flag}(?![a-z-])`, 'm'));
      }
    }
  });

  it('never interpolates inputs into scripts', () => {
    for (const [, job] of jobs) for (const s of job.steps) expect(s.run ?? '').not.toContain('${{');
  });
});
