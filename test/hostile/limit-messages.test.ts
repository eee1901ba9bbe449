import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Prng, tgzBuffer, zipBuffer } from '@pubguard/corpus';
import { type ScanLimits, scanAll } from '@pubguard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from '../helpers.js';

let dir: string;
let help: string;
let baselineHelp: string;
let configKeys: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-limit-messages-'));
  help = (await runPubguard(['scan', '--help'])).stdout;
  baselineHelp = (await runPubguard(['baseline', 'create', '--help'])).stdout;
  const schema = JSON.parse(await readFile(new URL('../../packages/cli/schemas/pubguard.config.schema.json', import.meta.url), 'utf8')) as {
    properties: { limits: { properties: Record<string, unknown> } };
  };
  configKeys = Object.keys(schema.properties.limits.properties);
  const wheel = await zipBuffer([
    { path: 'pkg/a.py', content: 'a = 1\n' },
    { path: 'pkg/b.py', content: 'b = 2\n' },
    { path: 'pkg/inner.zip', content: await zipBuffer([{ path: 'x.txt', content: 'x\n' }]) },
  ]);
  await writeFile(join(dir, 'pkg.tgz'), await tgzBuffer([{ path: 'package/dist/pkg.whl', content: wheel }, { path: 'package/big.txt', content: 'y'.repeat(10_000) }]));
  await writeFile(join(dir, 'zeros.gz'), gzipSync(Buffer.alloc(8 * 1024 * 1024)));
  const rng = new Prng(5);
  await writeFile(join(dir, 'tokens.js'), `a = "${githubToken(rng)}";\nb = "${githubToken(rng)}";\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each limit with settings that make the fixtures cross it. */
const CASES: Array<[keyof ScanLimits, string, Partial<ScanLimits>]> = [
  ['maxDepth', 'pkg.tgz', { maxDepth: 1 }],
  ['maxEntries', 'pkg.tgz', { maxEntries: 1 }],
  ['maxEntryBytes', 'pkg.tgz', { maxEntryBytes: 5000 }],
  ['maxArtifactBytes', 'pkg.tgz', { maxArtifactBytes: 5000 }],
  ['maxCompressionRatio', 'zeros.gz', { maxCompressionRatio: 10, ratioThresholdBytes: 1024 }],
  ['maxSpillBytes', 'pkg.tgz', { maxInMemoryArchiveBytes: 16, maxSpillBytes: 64 }],
  ['maxFindingsPerFile', 'tokens.js', { maxFindingsPerFile: 1 }],
  ['maxFindingsPerArtifact', 'tokens.js', { maxFindingsPerArtifact: 1 }],
];

describe('limit events tell the user how to raise the limit', () => {
  // `pubguard publish` scans with the config's limits and has no limit flags: the message
  // must name the config key as well as the flag of `pubguard scan`.
  it.each(CASES)('%s names a flag pubguard scan has and its config key, or the library option', async (limit, input, limits) => {
    const { errors } = await scanAll([input], { cwd: dir, jobs: 0, limits, tmpDir: dir });
    const event = errors.find((e) => e.limit === limit);
    expect(event, JSON.stringify(errors)).toBeDefined();
    const how = /raise it with (?:(--[\w-]+) of pubguard scan( and baseline create)? or limits\.(\w+) in pubguard\.config\.json|(the scan\(\) option limits\.\w+)) if the input is trusted$/.exec(event?.message ?? '');
    expect(how, event?.message).not.toBeNull();
    const [, flag, baseline, key, option] = how ?? [];
    if (flag !== undefined) {
      expect(help).toContain(`${flag} `);
      // Named for `baseline create` exactly when it has the flag too.
      expect(baselineHelp.includes(`${flag} `), flag).toBe(baseline !== undefined);
      expect(configKeys).toContain(key);
    } else expect(option).toBe(`the scan() option limits.${limit}`);
  });

  it('says "1 entry" and "1 level", not "1 entries" and "1 levels"', async () => {
    const entries = (await scanAll(['pkg.tgz'], { cwd: dir, jobs: 0, limits: { maxEntries: 1 } })).errors.find((e) => e.limit === 'maxEntries');
    expect(entries?.message).toMatch(/^archive has more than 1 entry; the rest were not read \(limit maxEntries = 1\); raise it with --max-entries of pubguard scan or limits\.maxEntries in pubguard\.config\.json if the input is trusted$/);
    const depth = (await scanAll(['pkg.tgz'], { cwd: dir, jobs: 0, limits: { maxDepth: 0 } })).errors.find((e) => e.limit === 'maxDepth');
    expect(depth?.message).toMatch(/^archive nested 1 level deep was not opened /);
  });
});
