import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../audit.js';
import { unfinishedUploads } from './upload-trace.js';

let seq = 0;
const sha = (c: string): string => c.repeat(64);
function rec(stage: string, registry: string, files: [string, string][], extra: Record<string, unknown> = {}): AuditRecord {
  return {
    seq: ++seq,
    time: '2030-01-01T00:00:00.000Z',
    stage,
    outcome: stage.endsWith('start') ? 'started' : 'passed',
    actor: 'ci',
    subjects: files.map(([name, digest]) => ({ name, sha256: digest })),
    reason: '',
    details: { ecosystem: 'npm', registry, ...extra },
    prev: '',
    hash: '',
  };
}
const NPM = 'https://registry.npmjs.org/';
const A: [string, string][] = [['a-1.0.0.tgz', sha('a')]];
const B: [string, string][] = [['b-1.0.0.tgz', sha('b')]];

describe('unfinishedUploads', () => {
  it('names a start no upload record of the same files and registry follows', () => {
    const done = [rec('publish.upload-start', NPM, A), rec('publish.upload', NPM, A)];
    expect(unfinishedUploads(done)).toEqual([]);
    const killed = rec('publish.upload-start', NPM, A);
    expect(unfinishedUploads([...done, killed, rec('publish.notify', NPM, A)])).toEqual([killed]);
  });

  it('tells interleaved runs apart by their files and registry', () => {
    const a = rec('publish.upload-start', NPM, A);
    const b = rec('publish.upload-start', NPM, B);
    const elsewhere = rec('publish.upload-start', 'http://127.0.0.1:9/', A);
    expect(unfinishedUploads([a, b, elsewhere, rec('publish.upload', NPM, A)])).toEqual([b, elsewhere]);
    // Other bytes under the same name are other files.
    expect(unfinishedUploads([a, rec('publish.upload', NPM, [['a-1.0.0.tgz', sha('c')]])])).toEqual([a]);
  });

  it('keeps the start of a killed run when the release is run again, and lets no dry run answer it', () => {
    const killed = rec('publish.upload-start', NPM, A);
    const log = [killed, rec('publish.upload', NPM, A, { dryRun: true }), rec('publish.upload-start', NPM, A), rec('publish.upload', NPM, A)];
    expect(unfinishedUploads(log)).toEqual([killed]);
  });
});
