#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateAcceptanceSet } from './acceptance.js';
import { CorpusError } from './errors.js';

/** Usage text of the corpus command. */
export const USAGE = `Usage: node corpus/dist/cli.js generate <outDir> [--clean] [--seed N] [--decoys]

Writes the acceptance artifacts (source dir, npm tgz, wheel, sdist, nested wheel, .gz,
renamed wheel, minified bundle, source map, 64 KiB straddle file) with fake secrets
planted from the built-in rules' examples, and manifest.json listing the findings a
scanner must report (paths relative to <outDir>).

Options:
  --clean     replace <outDir> if it holds a corpus generated earlier (or is empty)
  --seed N    seed for everything random (default 1); same seed, same bytes
  --decoys    plant decoys instead of secrets: the manifest then expects no findings
  -h, --help  show this help
`;

/** A mistake in how the command was called. */
export class CorpusUsageError extends Error {
  override name = 'CorpusUsageError';
}

async function prepare(outDir: string, clean: boolean): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch {
    return; // does not exist yet
  }
  if (entries.length === 0) return;
  if (!clean) throw new CorpusUsageError(`${outDir} is not empty; pass --clean to replace a corpus generated earlier`);
  // Only a directory this tool wrote is removed, so a mistyped path cannot wipe anything else.
  let generator: unknown;
  try {
    generator = (JSON.parse(await readFile(resolve(outDir, 'manifest.json'), 'utf8')) as { generator?: unknown }).generator;
  } catch {
    generator = undefined;
  }
  if (generator !== '@pubguard/corpus') {
    throw new CorpusUsageError(`${outDir} is not empty and holds no corpus manifest.json; refusing to delete it, choose another directory`);
  }
  await rm(outDir, { recursive: true, force: true });
}

/** Runs the corpus command; returns the exit code (0 ok, 2 usage or fatal error). */
export async function main(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<0 | 2> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        clean: { type: 'boolean', default: false },
        seed: { type: 'string' },
        decoys: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const [command, outDir, ...extra] = positionals;
    if (command !== 'generate') throw new CorpusUsageError(command ? `unknown command '${command}'` : 'missing command');
    if (!outDir) throw new CorpusUsageError('missing <outDir>');
    if (extra.length) throw new CorpusUsageError(`unexpected argument '${extra[0]}'`);
    let seed = 1;
    if (values.seed !== undefined) {
      if (!/^\d{1,10}$/.test(values.seed) || Number(values.seed) > 0xffffffff) {
        throw new CorpusUsageError(`--seed must be an integer from 0 to 4294967295, not '${values.seed}'`);
      }
      seed = Number(values.seed);
    }
    const dir = resolve(outDir);
    await prepare(dir, values.clean);
    const manifest = await generateAcceptanceSet(dir, { secrets: !values.decoys, seed });
    out(
      `wrote ${manifest.artifacts.length} artifacts to ${outDir} (${manifest.secrets ? `${manifest.findings.length} expected findings` : `decoys: ${manifest.decoys.join(', ')}`})\n`,
    );
    if (manifest.skipped.length) out(`not exercised: ${manifest.skipped.map((s) => `${s.ruleId} (${s.reason})`).join('; ')}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof CorpusUsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      err(`corpus: ${message}\n\n${USAGE}`);
    } else if (error instanceof CorpusError || (error instanceof Error && error.name !== 'Error' && error.name !== 'TypeError')) {
      err(`corpus: ${message}\n`);
    } else {
      err(`corpus: internal error: ${message}\n`);
    }
    return 2;
  }
}

/** Whether this module is the program Node was started with (not imported, as by tests). */
function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    // Node runs the real file behind a symlink; a URL's pathname would keep `%20` for a space.
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await main(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}
