#!/usr/bin/env node
'use strict';
// Runs the bundle that `pnpm build` writes (scripts/bundle.mjs): one CommonJS file, compiled
// from its code cache, instead of the ~180 modules of dist/ and its dependencies, which cost a
// small scan most of its time.
const { loadBundle, UnbuiltError } = require('./load.js');

let entry;
try {
  entry = loadBundle('bin').exports;
} catch (error) {
  if (!(error instanceof UnbuiltError)) throw error;
  process.stderr.write(`pubguard: packages/cli/bundle/ is missing or incomplete (${error.message}); build it with \`corepack pnpm build\`\n`);
  process.exit(2);
}
entry.main().catch((error) => {
  // run() turns every expected failure into a message and an exit code; this is a bug.
  process.stderr.write(`pubguard: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
