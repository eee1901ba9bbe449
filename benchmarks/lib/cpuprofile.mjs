// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and sums self time per function
// and per script, from the sample stream (samples + timeDeltas), not from hit counts.

/** Self time per function and per url: { totalMs, functions: [{ name, url, line, selfMs, share }], urls: [...] }. */
export function summariseProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfById = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let totalUs = 0;
  for (let i = 0; i < samples.length; i++) {
    // A delta is the time before its sample; attribute it to that sample's node.
    const dt = Math.max(0, deltas[i] ?? 0);
    totalUs += dt;
    selfById.set(samples[i], (selfById.get(samples[i]) ?? 0) + dt);
  }
  const functions = new Map();
  const urls = new Map();
  for (const [id, us] of selfById) {
    const frame = byId.get(id)?.callFrame ?? { functionName: '?', url: '', lineNumber: -1 };
    const name = frame.functionName || '(anonymous)';
    const url = shortUrl(frame.url);
    const key = `${name}\u0000${url}\u0000${frame.lineNumber}`;
    const f = functions.get(key) ?? { name, url, line: frame.lineNumber + 1, selfMs: 0 };
    f.selfMs += us / 1000;
    functions.set(key, f);
    // Compiled regex code has no script: group it under one name, and V8's own entries likewise.
    const u = url || (name.startsWith('RegExp:') ? '(regular expressions)' : `(${name})`);
    urls.set(u, (urls.get(u) ?? 0) + us / 1000);
  }
  const categories = new Map();
  for (const f of functions.values()) categories.set(categoryOf(f), (categories.get(categoryOf(f)) ?? 0) + f.selfMs);
  const totalMs = totalUs / 1000;
  const share = (ms) => (totalMs > 0 ? ms / totalMs : 0);
  return {
    totalMs,
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).map((f) => ({ ...f, share: share(f.selfMs) })),
    urls: [...urls].map(([url, selfMs]) => ({ url, selfMs, share: share(selfMs) })).sort((a, b) => b.selfMs - a.selfMs),
    categories: [...categories].map(([category, selfMs]) => ({ category, selfMs, share: share(selfMs) })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/**
 * A coarse bucket for a function, so a profile reads as "where the time goes". The keyword
 * prefilter is told from rule regexes by shape: one long alternation of literals.
 */
export function categoryOf({ name, url }) {
  if (name.startsWith('RegExp:')) return name.length > 300 && name.split('|').length > 20 ? 'keyword prefilter regex' : 'rule regexes';
  if (name === '(idle)') return 'idle (waiting for I/O or zlib on the thread pool)';
  if (name === '(garbage collector)') return 'garbage collection';
  if (url.startsWith('packages/engine/dist/matcher/')) return 'engine: matcher (JS)';
  if (url.startsWith('packages/engine/dist/sources/') || /node_modules\/(?:tar-stream|streamx|yauzl|b4a|fast-fifo|text-decoder)/.test(url)) return 'engine: sources (tar/zip parsing)';
  if (url.startsWith('packages/engine/dist/')) return 'engine: scan, pool, other';
  if (url.startsWith('packages/rules/dist/')) return 'rules: compiling at start-up';
  if (url === 'node:zlib' || url.startsWith('node:internal/streams') || url === 'node:events' || url === 'node:buffer' || url === 'node:internal/buffer' || ['latin1Slice', 'createUnsafeBuffer', 'FastBuffer'].includes(name)) return 'streams, zlib, buffers (JS side)';
  if (/node_modules\/(?:picomatch|fast-glob|micromatch)/.test(url)) return 'glob compiling and matching (picomatch, fast-glob)';
  if (
    url.startsWith('node:internal/modules') ||
    url.startsWith('node:internal/bootstrap') ||
    url.startsWith('node:internal/deps/cjs-module-lexer') ||
    url === 'node:internal/url' ||
    url === 'node:path' ||
    url.includes('node_modules/') ||
    ['internalModuleReadJSON', 'internalModuleStat', 'readFileUtf8', 'realpathSync'].includes(name)
  ) {
    return 'module loading and start-up';
  }
  if (name === '(program)') return '(program): V8 and native work outside JS';
  if (url.startsWith('packages/cli/dist/') || url.startsWith('packages/report/dist/')) return 'cli and report';
  return 'other';
}

/** Keeps a url readable: the part from `packages/` or `node_modules/` on, or the node: name. */
function shortUrl(url) {
  if (!url) return '';
  const m = /(?:packages|node_modules|benchmarks)\/.*$/.exec(url);
  return m ? m[0] : url.replace(/^file:\/\//, '');
}
