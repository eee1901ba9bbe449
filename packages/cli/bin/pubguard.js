#!/usr/bin/env node
// Runs the bundle that `pnpm build` writes (scripts/bundle.mjs): a handful of files instead of
// the ~180 modules of dist/ and its dependencies, which cost a small scan most of its time.
const BUNDLE_DIR = decodeURIComponent(new URL('../bundle/', import.meta.url).pathname);

// A file of the bundle missing (commands load theirs on first use) means a build to run;
// anything else is a real failure and keeps its stack.
function exitIfUnbuilt(error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(BUNDLE_DIR)) throw error;
  process.stderr.write('pubguard: packages/cli/bundle/ is missing or incomplete; build it with `corepack pnpm build`\n');
  process.exit(2);
}

let entry;
try {
  entry = await import(new URL('../bundle/bin.js', import.meta.url).href);
} catch (error) {
  exitIfUnbuilt(error);
}
await entry.main().catch(exitIfUnbuilt);
