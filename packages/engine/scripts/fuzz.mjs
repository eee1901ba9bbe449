#!/usr/bin/env node
// The long fuzz run: the suite's fuzz test (src/fuzz.test.ts) with many more iterations and a
// fresh random seed, printed first so any failure can be replayed.
//   pnpm fuzz                        random seed, 20 000 iterations
//   pnpm fuzz -- --seed N --iterations M
//   PUBGUARD_FUZZ_SEED=N PUBGUARD_FUZZ_ONLY=I pnpm fuzz   replay one case
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = 'usage: fuzz.mjs [--seed N] [--iterations M] (whole numbers)';
// `pnpm fuzz -- --seed N` hands the script a literal `--` first.
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
let values;
try {
  ({ values } = parseArgs({ args, options: { seed: { type: 'string' }, iterations: { type: 'string' } }, allowPositionals: false }));
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}

const seed = values.seed ?? process.env.PUBGUARD_FUZZ_SEED ?? String(randomInt(0, 2 ** 32 - 1));
const iterations = values.iterations ?? process.env.PUBGUARD_FUZZ_ITERATIONS ?? '20000';
if (!/^\d+$/.test(seed) || !/^\d+$/.test(iterations)) {
  console.error(USAGE);
  process.exit(2);
}

console.log(`pubguard fuzz: seed ${seed}, ${process.env.PUBGUARD_FUZZ_ONLY !== undefined ? `only iteration ${process.env.PUBGUARD_FUZZ_ONLY}` : `${iterations} iterations`}`);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const result = spawnSync('corepack', ['pnpm', 'exec', 'vitest', 'run', 'packages/engine/src/fuzz.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PUBGUARD_FUZZ_SEED: seed, PUBGUARD_FUZZ_ITERATIONS: iterations, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' },
});
if (result.status !== 0) console.error(`pubguard fuzz failed with seed ${seed}: the failing iterations are listed above`);
process.exit(result.status ?? 2);
