'use strict';
// Runs a file of the bundle that `pnpm build` writes (scripts/bundle.mjs) with the V8 code cache
// the build makes next to it. Without the cache V8 parses and compiles every function the first
// time it runs, which cost about 20 ms of each run: a quarter of an empty scan. A cache that is
// missing, or that V8 rejects (another Node version, other V8 flags), only costs that time again.
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');
const zlib = require('node:zlib');

const BUNDLE_DIR = join(__dirname, '..', 'bundle');

/** Thrown when the bundle file itself cannot be read: the package was not built. */
class UnbuiltError extends Error {
  constructor(file, cause) {
    super(`${file}: ${cause.code ?? cause.message}`);
    this.name = 'UnbuiltError';
  }
}

/** The cache file of bundle file `name`: the checksum of the file it was made from (`digestOf`), then V8's data. */
function cachePath(name) {
  return join(BUNDLE_DIR, `${name}.code-cache`);
}

/**
 * What heads a cache file: a checksum of the bundle file it was made from. V8 checks a cache
 * against its source's length only: a file edited in place (a patch to the installed package)
 * would run the old code. The check is against accidents, not attacks (whoever can edit the
 * bundle can edit its cache), so zlib's CRC-32 serves: 0.2 ms for the bundle, where
 * node:crypto, which a clean scan never needs otherwise, takes 2 ms to load and 1 ms to hash
 * it. Node before 20.15 has no zlib.crc32 and pays for the SHA-256.
 */
function digestOf(bytes) {
  if (typeof zlib.crc32 === 'function') {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(bytes));
    return crc;
  }
  return require('node:crypto').createHash('sha256').update(bytes).digest();
}

/**
 * Sets the V8 flags the command runs with, for this process and the worker threads it starts.
 * A scan of a small package is over before most of its code is optimised, while TurboFan's
 * jobs run on background threads that take turns with the scan on a two-CPU runner: in a
 * date-fns scan they took 830 ms for 97 functions, some compiled twice after running into
 * code they had no feedback for yet (the tar reader, twice 90-100 ms). Two flags cut that to
 * 280 ms for 77 functions:
 * - no inlining (460-550 ms alone): TurboFan inlined most into the large async generators of
 *   the sources, while matching, whose loops call no small functions worth inlining, runs as
 *   fast without;
 * - an interrupt budget 4 times Node 20's default: V8 optimises a function once it has run
 *   that much bytecode, so fewer functions are optimised, later and with more feedback.
 * V8 keys every code cache to its flags, Node's own included: so the command sets them once
 * the bundle is compiled from its cache, and the build makes the cache with the defaults.
 * A worker thread would compile Node's built-ins again under the changed flags and come
 * online about 30 ms later; workers start under the defaults instead (`workerStartHook`).
 * Node warns that flags changed at run time may misbehave; these two are heuristics V8 reads
 * each time it decides, unlike flags that set up the heap (`--single-threaded-gc`, set this
 * way, crashed V8's incremental marker), which are left alone.
 */
function tuneCompiler() {
  setCompilerFlags(true);
}

/**
 * The command's flags (`tuned`), or V8's defaults. Measured on Node 20's V8 (11.x) only: other
 * versions have other defaults, and V8 reports a flag it does not know on stdout, where it
 * would corrupt a JSON or SARIF report.
 */
function setCompilerFlags(tuned) {
  if (!process.versions.v8.startsWith('11.')) return;
  setFlagsFromString(tuned ? '--no-turbo-inlining' : '--turbo-inlining');
  // 67584 (66 KiB) is V8 11's default.
  setFlagsFromString(tuned ? '--interrupt-budget=270336' : '--interrupt-budget=67584');
}

/**
 * The scan's `onWorkerStart` hook: worker threads start under V8's default flags, and the
 * command's flags come back once every worker starting is running. A worker compiles Node's
 * built-ins when it starts, from their code cache only under the flags Node was built with:
 * an empty worker came online in 25 ms that way and in 54 ms under the command's flags
 * (monaco-editor's unpacked tree 446 -> 434 ms, a 112 MB bundle 429 -> 413 ms, the unpacked
 * 1 GB benchmark tree 1.04 -> 1.03 s on two cores). The flags go back as soon as the last
 * worker runs, so a scan runs tuned but for those milliseconds. `setFlags` is for tests.
 */
function workerStartHook(setFlags = setCompilerFlags) {
  let starting = 0;
  return () => {
    if (starting++ === 0) setFlags(false);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--starting === 0) setFlags(true);
    };
  };
}

/**
 * Compiles and runs bundle/<name>.js as a CommonJS module, with its code cache unless
 * `withCache` is false. Returns its exports; how the cache was used: 'used', 'rejected' (by
 * V8), 'stale' (made from other bytes) or 'none'; the compiled script, from which a new cache
 * can be made, and the digest of the file.
 */
function loadBundle(name, withCache = true) {
  const file = join(BUNDLE_DIR, `${name}.js`);
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UnbuiltError(file, error);
  }
  const digest = digestOf(bytes);
  let cachedData;
  let cache = 'none';
  if (withCache) {
    let stored;
    try {
      stored = readFileSync(cachePath(name));
    } catch {
      stored = undefined;
    }
    if (stored !== undefined) {
      if (stored.length > digest.length && stored.subarray(0, digest.length).equals(digest)) cachedData = stored.subarray(digest.length);
      else cache = 'stale';
    }
  }
  const script = new Script(wrap(bytes.toString('utf8')), { filename: file, cachedData });
  if (cachedData !== undefined) cache = script.cachedDataRejected ? 'rejected' : 'used';
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, BUNDLE_DIR);
  return { exports: module.exports, cache, script, digest };
}

/**
 * Runs the command `args` through the bundle, without a cache, then writes the code cache of
 * every function that run compiled. The build calls it on a sample of every kind of artifact.
 */
async function produceCodeCache(args) {
  const { exports, script, digest } = loadBundle('bin', false);
  process.argv = [process.argv[0], join(__dirname, 'pubguard.js'), ...args];
  // Without tuneCompiler: the cache is checked against the flags it was made under, and the
  // command compiles the bundle before setting its own.
  await exports.main();
  writeFileSync(cachePath('bin'), Buffer.concat([digest, script.createCachedData()]));
}

module.exports = { digestOf, loadBundle, produceCodeCache, tuneCompiler, UnbuiltError, workerStartHook };
