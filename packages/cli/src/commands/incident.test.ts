import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-incident-'));

describe('pubguard incident npm', () => {
  it('never prints or records the password of a registry URL', async () => {
    const registry = 'https://ci:url-password-0123@npm.corp.example/';
    for (const format of ['text', 'json']) {
      const io = memoryIO({ cwd });
      expect((await run(['incident', 'npm', 'acme@1.2.3', '--registry', registry, '-f', format], io)).exitCode).toBe(0);
      expect(io.out()).toContain('https://ci:[redacted]@npm.corp.example/');
      expect(io.out() + io.err()).not.toContain('url-password-0123');
    }
    expect(readFileSync(join(cwd, '.pubguard/audit.jsonl'), 'utf8')).not.toContain('url-password-0123');
  });
});
