#!/usr/bin/env node
// Scans the exact tarball `npm publish` is about to upload; wire it as "prepublishOnly".
// npm pack writes what publish would send; pubguard scans those bytes and fails the publish
// (exit 1) on any finding. The tarball is removed either way. Under `npm publish --dry-run`
// npm hands its scripts npm_config_dry_run=true, with which `npm pack` writes nothing: the pack
// below runs without it, so a dry run scans the tarball too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'prepublish-'));
const packEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.toLowerCase() !== 'npm_config_dry_run'));
try {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { encoding: 'utf8', env: packEnv }));
  const tarball = join(dir, packed[0].filename);
  execFileSync('pubguard', ['scan', tarball], { stdio: 'inherit' });
} catch (error) {
  process.exitCode = typeof error.status === 'number' ? error.status : 2;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
