'use strict';
// Runs a file of the bundle that `pnpm build` writes (scripts/bundle.mjs) with the V8 code cache
// the build makes next to it. Without the cache V8 parses and compiles every function the first
// time it runs, which cost about 20 ms of each run: a quarter of an empty scan. A cache that is
// missing, or that V8 rejects (another Node version, other V8 flags), only costs that time again.
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE_DIR = join(__dirname, '..', 'bundle');

/** Thrown when the bundle file itself cannot be read: the package was not built. */
class UnbuiltError extends Error {
  constructor(file, cause) {
    super(`${file}: ${cause.code ?? cause.message}`);
    this.name = 'UnbuiltError';
  }
}

/** The cache file of bundle file `name`. */
function cachePath(name) {
  return join(BUNDLE_DIR, `${name}.code-cache`);
}

/**
 * Compiles and runs bundle/<name>.js as a CommonJS module, with its code cache unless
 * `withCache` is false. Returns its exports, how the cache was used ('used', 'rejected' or
 * 'none') and the compiled script, from which a new cache can be made.
 */
function loadBundle(name, withCache = true) {
  const file = join(BUNDLE_DIR, `${name}.js`);
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UnbuiltError(file, error);
  }
  let cachedData;
  if (withCache) {
    try {
      cachedData = readFileSync(cachePath(name));
    } catch {
      cachedData = undefined;
    }
  }
  const script = new Script(wrap(source), { filename: file, cachedData });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, BUNDLE_DIR);
  return { exports: module.exports, cache, script };
}

/**
 * Runs the command `args` through the bundle, without a cache, then writes the code cache of
 * every function that run compiled. The build calls it on a sample of every kind of artifact.
 */
async function produceCodeCache(args) {
  const { exports, script } = loadBundle('bin', false);
  process.argv = [process.argv[0], join(__dirname, 'pubguard.js'), ...args];
  await exports.main();
  writeFileSync(cachePath('bin'), script.createCachedData());
}

module.exports = { loadBundle, produceCodeCache, UnbuiltError };
