#!/usr/bin/env node
// Runs the bundle that `pnpm build` writes (scripts/bundle.mjs): a handful of files instead of
// the ~180 modules of dist/ and its dependencies, which cost a small scan most of its time.
let entry;
try {
  entry = await import('../bundle/bin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('bin.js')) throw error;
  process.stderr.write('pubguard: packages/cli/bundle/ is missing; build it with `corepack pnpm build`\n');
  process.exit(2);
}
entry.main();
