#!/usr/bin/env node
// The matcher alone, no I/O: MB/s of Matcher.matchSegment (given bytes, as the engine gives
// it) and of its keyword prefilter on its own, on generated prose, one-line minified JS and
// random binary, next to baselines measured in the same run over the same bytes.
// Usage: node benchmarks/matcher.bench.mjs [--mb N] [--time MS]
import { Buffer } from 'node:buffer';
import { parseArgs } from 'node:util';
import { Matcher } from '@pubguard/engine';
import { builtinRuleset } from '@pubguard/rules';
import { Bench } from 'tinybench';
// Not exported by the package: the file the engine's build writes.
import { KeywordPrefilter } from '../packages/engine/dist/matcher/prefilter.js';
import { minifiedJs, prose, randomBinary } from './lib/text.mjs';
import { formatRows } from './lib/table.mjs';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '6' }, time: { type: 'string', default: '3000' } } });
const bytes = Math.round(Number(values.mb) * 1e6);
const time = Number(values.time);
if (!(bytes > 0) || !(time > 0)) {
  console.error('usage: matcher.bench.mjs [--mb N] [--time MS]  (N megabytes per input, MS milliseconds per task)');
  process.exit(2);
}

const ruleset = builtinRuleset();
const matcher = new Matcher(ruleset);
const prefilter = new KeywordPrefilter(ruleset.keywords, ruleset.keywordRules);
const inputs = [
  { name: 'prose', text: prose(bytes, 1) },
  { name: 'minified-js', text: minifiedJs(bytes, 2) },
  { name: 'binary', text: randomBinary(bytes, 3) },
];

// Baselines: the cheapest passes any matcher needs over the text. `toLowerCase` is what the
// matcher does first; `indexOf` of one keyword over the bytes is a single-literal scan;
// `keyword-regex` is one alternation of every rule keyword run over the lower-cased text
// (longest first, restarting one past each hit): what a regex-based keyword prefilter costs
// on V8, for comparison with the matcher's own byte-level one.
const keywordRegex = new RegExp(
  [...new Set(ruleset.keywords)].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'),
  'g',
);
const spec = (text) => ({ ownedStart: 0, ownedEnd: text.length, atFileStart: true, atFileEnd: true });
let sink = 0;
const bench = new Bench({ time, iterations: 5, warmupTime: 500 });
for (const input of inputs) {
  const buf = Buffer.from(input.text, 'latin1');
  // The engine hands the matcher bytes; so does this benchmark.
  bench.add(`matcher ${input.name}`, () => {
    sink += matcher.matchSegment(buf, spec(buf)).matches.length;
  });
  // The keyword pass alone, over the same range matchSegment scans, counting hits.
  bench.add(`prefilter ${input.name}`, () => {
    prefilter.scan(buf, 0, buf.length, () => {
      sink++;
    });
  });
  bench.add(`toLowerCase ${input.name}`, () => {
    sink += input.text.toLowerCase().length;
  });
  const lower = input.text.toLowerCase();
  bench.add(`keyword-regex ${input.name}`, () => {
    keywordRegex.lastIndex = 0;
    for (let m = keywordRegex.exec(lower); m !== null; m = keywordRegex.exec(lower)) {
      sink++;
      keywordRegex.lastIndex = m.index + 1;
    }
  });
  bench.add(`indexOf ${input.name}`, () => {
    // Counts every occurrence, so the whole buffer is scanned.
    for (let i = buf.indexOf('password'); i !== -1; i = buf.indexOf('password', i + 1)) sink++;
  });
}
await bench.run();

const mbps = (task) => (task.result && 'latency' in task.result ? bytes / 1e6 / (task.result.latency.mean / 1000) : Number.NaN);
const rows = inputs.map((input) => {
  const m = mbps(bench.getTask(`matcher ${input.name}`));
  const pre = mbps(bench.getTask(`prefilter ${input.name}`));
  const lower = mbps(bench.getTask(`toLowerCase ${input.name}`));
  const idx = mbps(bench.getTask(`indexOf ${input.name}`));
  const kw = mbps(bench.getTask(`keyword-regex ${input.name}`));
  return {
    input: input.name,
    MB: bytes / 1e6,
    'matcher MB/s': m,
    'prefilter MB/s': pre,
    'toLowerCase MB/s': lower,
    'indexOf MB/s': idx,
    'keyword-regex MB/s': kw,
    'matcher/toLowerCase': m / lower,
    'matcher/indexOf': m / idx,
    'matcher/keyword-regex': m / kw,
  };
});
console.log(`Matcher alone (${ruleset.rules.length} rules, ${ruleset.keywords.length} keywords), mean of tinybench samples; ratios below 1 mean slower than the baseline.`);
console.log(formatRows(rows));
if (sink < 0) console.log(sink);
