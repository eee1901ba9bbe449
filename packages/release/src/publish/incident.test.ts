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
