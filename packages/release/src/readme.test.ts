import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type PublishNotification, sendNotification } from './publish/notify.js';
import { approvalFileName, parseStatement } from './statement.js';

// What this package's README shows must be what the code writes and reads.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  const block = /^ {2}```json\n([\s\S]*?)^ {2}```$/m.exec(readme)?.[1]?.replace(/^ {2}/gm, '');

  it('shows an approval statement in the canonical form that approvals are read in', () => {
    expect(block).toBeDefined();
    // parseStatement refuses any statement that is not byte for byte canonical.
    expect(parseStatement(block!).approver).toBe('alice');
  });

  it("names the statement's file as approve does, for a fingerprint with + in its first 8 characters", () => {
    const m = /key `(SHA256:[^`]+)` approving the\s+statement below writes `([^`]+)`/.exec(readme);
    expect(m).not.toBeNull();
    expect(m![1]!.slice(7, 15)).toMatch(/[+/]/);
    expect(approvalFileName(parseStatement(block!), m![1])).toBe(m![2]);
  });

  it('lists every field of the publish notification', async () => {
    const message: Required<PublishNotification> = {
      text: 't',
      event: 'refused',
      ecosystem: 'npm',
      package: 'p',
      version: '1.0.0',
      distTag: 'next',
      registry: 'https://registry.npmjs.org/',
      artifacts: [],
      approvers: [],
      approvals: { policy: { path: '.pubguard/policy.json', sha256: 'ab' }, initiator: 'unknown', counted: [] },
      step: 'token',
      reason: 'r',
      auditError: 'e',
      auditHead: 'h',
      actor: 'a',
    };
    let body = '';
    const fetch = (async (_url: string, init: RequestInit) => {
      body = String(init.body);
      return new Response('ok');
    }) as typeof globalThis.fetch;
    expect((await sendNotification('https://hooks.example.com/x', message, { fetch })).ok).toBe(true);
    const table = /### Notification\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const listed = [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) => [...row[1]!.matchAll(/`([A-Za-z]+)`/g)].map((k) => k[1]!));
    expect(listed.sort()).toEqual(Object.keys(JSON.parse(body) as object).sort());
  });
});
