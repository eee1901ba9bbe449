import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// examples/twine/twine-upload.sh keeps pubguard's exit codes: 2 for a usage mistake.
const SCRIPT = fileURLToPath(new URL('../examples/twine/twine-upload.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pubguard-e2e-twine-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in pubguard that prints the arguments it was given.
writeFileSync(join(dir, 'pubguard'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
chmodSync(join(dir, 'pubguard'), 0o755);

function script(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['RELEASE_TAG', 'REPOSITORY_URL'].includes(k)));
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, ...args], { env: { ...base, PATH: `${dir}:${process.env.PATH ?? ''}`, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('examples/twine/twine-upload.sh', () => {
  it('hands the files, the tag and the repository URL to pubguard publish pypi', async () => {
    const r = await script(['dist/a-1.0.0-py3-none-any.whl', 'dist/a-1.0.0.tar.gz'], { RELEASE_TAG: 'v1.0.0', REPOSITORY_URL: 'http://127.0.0.1:9/legacy/' });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'publish',
      'pypi',
      'dist/a-1.0.0-py3-none-any.whl',
      'dist/a-1.0.0.tar.gz',
      '--tag-name',
      'v1.0.0',
      '--repository-url',
      'http://127.0.0.1:9/legacy/',
    ]);
  });

  it('exits 2, a usage error, without files or without RELEASE_TAG', async () => {
    const none = await script([], { RELEASE_TAG: 'v1.0.0' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: RELEASE_TAG=vX.Y.Z');
    for (const env of [{}, { RELEASE_TAG: '' }] as Record<string, string>[]) {
      const r = await script(['dist/a-1.0.0.tar.gz'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('set RELEASE_TAG to the release tag, e.g. v1.2.3');
      expect(r.stdout).toBe('');
    }
  });
});
