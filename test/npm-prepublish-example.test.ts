import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from '@pubguard/corpus';
import { afterAll, describe, expect, it } from 'vitest';
import { githubToken, PUBGUARD_BIN, withoutCiIdentity } from './helpers.js';

// examples/npm/prepublish-scan.mjs as npm runs it from prepublishOnly, with the built pubguard on PATH.
const SCRIPT = fileURLToPath(new URL('../examples/npm/prepublish-scan.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pubguard-e2e-prepublish-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bin = join(dir, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'pubguard'), `#!/bin/sh\nexec "${process.execPath}" "${PUBGUARD_BIN}" "$@"\n`, { mode: 0o755 });

function pkg(name: string, index: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.2.3', main: 'index.js' }));
  writeFileSync(join(root, 'index.js'), index);
  copyFileSync(SCRIPT, join(root, 'scripts', 'prepublish-scan.mjs'));
  return root;
}

function prepublish(cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/prepublish-scan.mjs'], { cwd, env: { ...withoutCiIdentity(process.env), NO_COLOR: '1', PATH: `${bin}:${process.env.PATH ?? ''}`, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('examples/npm/prepublish-scan.mjs', () => {
  const leaky = pkg('leaky-package', `module.exports = '${githubToken(new Prng(31))}';\n`);
  const clean = pkg('clean-package', 'module.exports = 1;\n');

  // npm gives its scripts the settings of the command as npm_config_*: a dry run's included.
  for (const [how, env] of [['npm publish', {}], ['npm publish --dry-run', { npm_config_dry_run: 'true' }]] as const) {
    it(`under ${how}, scans the packed tarball: exit 1 on a finding, 0 when clean`, async () => {
      const found = await prepublish(leaky, env);
      expect(found.stdout + found.stderr).toContain('github-classic-token');
      expect(found.code).toBe(1);
      const ok = await prepublish(clean, env);
      expect(ok.stderr).not.toContain('not-found');
      expect(ok.stdout).toMatch(/Scanned 1 artifact, \d+ files?, [\d.]+ MB in [\d.]+ s: 0 findings, 0 errors/);
      expect(ok.code).toBe(0);
    });
  }
});
