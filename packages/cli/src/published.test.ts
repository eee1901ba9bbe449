import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownFilesPublished } from './published.js';

describe('ownFilesPublished', () => {
  const cwd = join('/', 'work', 'repo');
  it("names pubguard's files in npm's lists as a scan reports them, once each", () => {
    const lists = new Map([
      ['.', new Set(['index.js', 'pubguard.config.json', '.pubguard/baseline.json', 'packages/a/.pubguard/audit.jsonl', 'state/accepted.json', 'lib/pubguard.config.json.js'])],
      ['packages/a', new Set(['.pubguard/audit.jsonl', 'index.js', 'pubguard/x.js'])],
      ['./other/', new Set(['sub/pubguard.config.json', 'baseline.json'])],
    ]);
    expect(ownFilesPublished(lists, cwd, [join(cwd, 'state', 'accepted.json'), undefined, 'other/baseline.json'])).toEqual([
      '.pubguard/baseline.json',
      'other/baseline.json',
      'other/sub/pubguard.config.json',
      'packages/a/.pubguard/audit.jsonl',
      'pubguard.config.json',
      'state/accepted.json',
    ]);
    expect(ownFilesPublished(new Map([['.', new Set(['index.js', '.pubguardrc', 'a.pubguard/x'])]]), cwd, [])).toEqual([]);
  });
});
