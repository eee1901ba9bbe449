import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The example release workflow must keep its safety properties when someone edits it.
const text = readFileSync(fileURLToPath(new URL('../examples/github/publish.yml', import.meta.url)), 'utf8');

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: string;
  env?: Record<string, string>;
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

  it('never interpolates inputs into scripts', () => {
    for (const [, job] of jobs) for (const s of job.steps) expect(s.run ?? '').not.toContain('${{');
  });
});
