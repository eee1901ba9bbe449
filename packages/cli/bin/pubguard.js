#!/usr/bin/env node
'use strict';
// Runs the bundle that `pnpm build` writes (scripts/bundle.mjs): one CommonJS file, compiled
// from its code cache, instead of the ~180 modules of dist/ and its dependencies, which cost a
// small scan most of its time.
const { loadBundle, tuneCompiler, UnbuiltError, workerStartHook } = require('./load.js');

let entry;
try {
  entry = loadBundle('bin').exports;
} catch (error) {
  if (!(error instanceof UnbuiltError)) throw error;
  process.stderr.write(`pubguard: packages/cli/bundle/ is missing or incomplete (${error.message}); build it with \`corepack pnpm build\`\n`);
  process.exit(2);
}
// Node's built-in modules compile from code caches keyed to V8's flags as well: the ones a
// scan loads, and the streams behind stdin, stdout and stderr (which the command reads
// anyway), are loaded before the flags change. stdin from a file or /dev/null, as in CI,
// loads fs's stream classes: 1.4 ms now, 4-5 ms once the flags have changed.
for (const name of ['node:fs/promises', 'node:os', 'node:perf_hooks', 'node:worker_threads', 'node:zlib']) require(name);
void require('node:util').parseArgs;
void process.stdin;
void process.stdout;
void process.stderr;
tuneCompiler();
entry.main({ onWorkerStart: workerStartHook() }).catch((error) => {
  // run() turns every expected failure into a message and an exit code; this is a bug.
  process.stderr.write(`pubguard: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
