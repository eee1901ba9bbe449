import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from './clients.js';
import { executeIncident, incidentPlan } from './incident.js';

const REGISTRY = 'http://127.0.0.1:9/';

function setup() {
  const cwd = mkdtempSync(join(tmpdir(), 'pubguard-incident-'));
  const calls: string[][] = [];
  const runner: CommandRunner = async (_cmd, args) => {
    calls.push([...args]);
    return { code: 0, stdout: '', stderr: '' };
  };
  const auditPath = join(cwd, 'audit.jsonl');
  const stages = (): string[] =>
    readFileSync(auditPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l) as { stage: string; outcome: string };
        return `${r.stage}:${r.outcome}`;
      });
  return { cwd, calls, runner, auditPath, stages };
}

describe('executeIncident', () => {
  it('without a usable token skips the automated steps but still hands over and records the manual ones', async () => {
    const { cwd, calls, runner, auditPath, stages } = setup();
    const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, tokenId: 'abc123' });
    const results = await executeIncident(plan, { env: {}, cwd, auditPath, actor: 'ci', execute: true, runner });
    expect(calls).toEqual([]);
    expect(results.map((r) => `${r.id}:${r.outcome}`)).toEqual(['rotate-secret:manual', 'deprecate:skipped', 'revoke-token:skipped']);
    for (const r of results.filter((x) => x.outcome === 'skipped')) expect(r.message).toMatch(/^not run: no publishing token: set NPM_TOKEN/);
    expect(stages()).toEqual(['incident.plan:passed', 'incident.token:refused', 'incident.rotate-secret:passed']);
  });

  it('with a token runs the automated npm steps through a private userconfig', async () => {
    const { cwd, calls, runner, auditPath, stages } = setup();
    const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, tokenId: 'abc123', message: 'leaked' });
    const results = await executeIncident(plan, { env: { NPM_TOKEN: 'loopback-registry-token-0123456789' }, cwd, auditPath, actor: 'ci', execute: true, runner });
    expect(results.map((r) => `${r.id}:${r.outcome}`)).toEqual(['rotate-secret:manual', 'deprecate:done', 'revoke-token:done']);
    expect(calls.map((c) => c.slice(0, c.indexOf('--registry')))).toEqual([
      ['deprecate', 'acme@1.0.0', 'leaked'],
      ['token', 'revoke', 'abc123'],
    ]);
    expect(stages()).toEqual(['incident.plan:passed', 'incident.rotate-secret:passed', 'incident.deprecate:passed', 'incident.revoke-token:passed']);
    expect(readFileSync(auditPath, 'utf8')).not.toContain('loopback-registry-token-0123456789');
  });

  describe('unpublish', () => {
    const NOW = new Date('2030-01-01T12:00:00Z');
    const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000).toISOString();
    const TOKEN = { NPM_TOKEN: 'loopback-registry-token-0123456789' };
    /** A registry where `npm view` gives these publish dates and version list. */
    function registry(time: Record<string, string>, versions: unknown) {
      const calls: string[][] = [];
      const runner: CommandRunner = async (_cmd, args) => {
        calls.push(args.slice(0, args.indexOf('--registry')));
        const stdout = args[0] === 'view' ? JSON.stringify({ time: { created: hoursAgo(5), modified: hoursAgo(1), ...time }, versions }) : '';
        return { code: 0, stdout, stderr: '' };
      };
      return { calls, runner };
    }
    const execute = async (plan: ReturnType<typeof incidentPlan>, runner: CommandRunner) => {
      const { cwd, auditPath, stages } = setup();
      const results = await executeIncident(plan, { env: TOKEN, cwd, auditPath, actor: 'ci', execute: true, runner, now: () => NOW });
      return { unpublish: results.find((r) => r.id === 'unpublish'), stages: stages() };
    };

    it("refuses a package's only version, which npm removes with the package, and never adds --force to the plan's command", async () => {
      const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, unpublish: true });
      expect(plan.actions.find((a) => a.id === 'unpublish')?.command).toEqual(['npm', 'unpublish', 'acme@1.0.0']);
      const { calls, runner } = registry({ '1.0.0': hoursAgo(2) }, ['1.0.0']);
      const { unpublish, stages } = await execute(plan, runner);
      expect(unpublish).toEqual({
        id: 'unpublish',
        outcome: 'refused',
        message:
          '1.0.0 is the only version of acme: unpublishing it removes the whole package, and nobody can publish under its name for 24 hours. Not unpublished; to do that, run again with --unpublish --unpublish-package (npm unpublish --force), or leave the release deprecated',
      });
      expect(calls).toEqual([['deprecate', 'acme@1.0.0', 'acme@1.0.0 contained a leaked credential; upgrade to a later version'], ['view', 'acme@1.0.0', 'time', 'versions', '--json']]);
      expect(stages).toContain('incident.unpublish:refused');
      expect(plan.actions.find((a) => a.id === 'unpublish')?.command).toEqual(['npm', 'unpublish', 'acme@1.0.0']);
    });

    it('tells the versions left by the version list, not by the dates the registry keeps of unpublished ones', async () => {
      const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, unpublish: true });
      const { calls, runner } = registry({ '0.9.0': hoursAgo(4), '1.0.0': hoursAgo(2) }, ['1.0.0']);
      expect((await execute(plan, runner)).unpublish?.outcome).toBe('refused');
      expect(calls.some((c) => c[0] === 'unpublish')).toBe(false);
      // Older npm releases print a list of one as its only item.
      const single = registry({ '1.0.0': hoursAgo(2) }, '1.0.0');
      expect((await execute(plan, single.runner)).unpublish?.outcome).toBe('refused');
    });

    it('unpublishes one version of several as planned, without --force', async () => {
      const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, unpublish: true });
      const { calls, runner } = registry({ '0.9.0': hoursAgo(30), '1.0.0': hoursAgo(2) }, ['0.9.0', '1.0.0']);
      const { unpublish, stages } = await execute(plan, runner);
      expect(unpublish?.outcome).toBe('done');
      expect(calls.at(-1)).toEqual(['unpublish', 'acme@1.0.0']);
      expect(stages).toContain('incident.unpublish:passed');
    });

    it('with unpublishPackage plans and runs npm unpublish --force, and says the package is gone', async () => {
      const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, unpublish: true, unpublishPackage: true });
      const action = plan.actions.find((a) => a.id === 'unpublish');
      expect(action?.command).toEqual(['npm', 'unpublish', 'acme@1.0.0', '--force']);
      expect(action?.title).toContain('if it is the only version of acme, this removes the whole package, and nobody can publish under its name for 24 hours');
      const { calls, runner } = registry({ '1.0.0': hoursAgo(2) }, ['1.0.0']);
      const { unpublish } = await execute(plan, runner);
      expect(unpublish).toEqual({ id: 'unpublish', outcome: 'done', message: 'Unpublished acme@1.0.0, the only version of acme: the whole package is removed, and nobody can publish under its name for 24 hours' });
      expect(calls.at(-1)).toEqual(['unpublish', 'acme@1.0.0', '--force']);
      expect(() => incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', unpublishPackage: true })).toThrow(/unpublishPackage goes with unpublish/);
    });

    it('unpublishes nothing when npm view does not say which versions there are', async () => {
      const plan = incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.0.0', registry: REGISTRY, unpublish: true, unpublishPackage: true });
      for (const versions of [undefined, [1], {}]) {
        const { calls, runner } = registry({ '1.0.0': hoursAgo(2) }, versions);
        expect((await execute(plan, runner)).unpublish).toMatchObject({ outcome: 'failed', message: 'cannot tell when acme@1.0.0 was published and which versions acme has: not unpublished' });
        expect(calls.some((c) => c[0] === 'unpublish')).toBe(false);
      }
      const late = registry({ '1.0.0': hoursAgo(80) }, ['1.0.0']);
      expect((await execute(plan, late.runner)).unpublish).toMatchObject({ outcome: 'skipped', message: expect.stringMatching(/^published 80 hours ago, past npm's 72-hour window/) });
    });
  });

  it('refuses an npm version that npm would read as a range, before anything runs', () => {
    for (const version of ['1', '1.2', '1.x', 'x', '1.2.x', 'v1.2.3', 'latest']) {
      expect(() => incidentPlan({ ecosystem: 'npm', package: 'acme', version, registry: REGISTRY }), version).toThrow(/not one exact version/);
    }
    expect(incidentPlan({ ecosystem: 'npm', package: 'acme', version: '1.2.3-rc.1', registry: REGISTRY }).actions.find((a) => a.id === 'deprecate')?.command).toEqual([
      'npm',
      'deprecate',
      'acme@1.2.3-rc.1',
      'acme@1.2.3-rc.1 contained a leaked credential; upgrade to a later version',
    ]);
  });

  it('refuses a name npm or PyPI cannot hold, before anything runs', () => {
    for (const name of ['Foo Bar', '../acme', '.acme', '@scope', 'acme/../x', 'a'.repeat(215)]) {
      expect(() => incidentPlan({ ecosystem: 'npm', package: name, version: '1.0.0', registry: REGISTRY }), name).toThrow(/is not an npm package name/);
    }
    for (const name of ['acme widgets', 'acme/../x', '-acme', 'acme-', '']) {
      expect(() => incidentPlan({ ecosystem: 'pypi', package: name, version: '1.0.0' }), name).toThrow(/is not a PyPI project name/);
    }
    for (const name of ['acme', '@scope/acme.js', 'JSONStream', 'a', '@a/b_c-d~e']) expect(() => incidentPlan({ ecosystem: 'npm', package: name, version: '1.0.0' }), name).not.toThrow();
    for (const name of ['A', 'Acme_Tool', 'zope.interface', 'acme-2']) expect(() => incidentPlan({ ecosystem: 'pypi', package: name, version: '1.0.0' }), name).not.toThrow();
  });

  it('PyPI plans use the normalised project name in the yank page', () => {
    const plan = incidentPlan({ ecosystem: 'pypi', package: 'Acme_Tool', version: '2.0.1' });
    expect(plan.actions.find((a) => a.id === 'yank')?.url).toBe('https://pypi.org/manage/project/acme-tool/release/2.0.1/');
  });
});
