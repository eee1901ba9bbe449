#!/usr/bin/env node
// Generates packages/rules/generated/builtin.json (the compiled ruleset) and, next to it,
// builtin-definitions.json (the definitions as written) from rules/*.yaml, so nothing is parsed
// or compiled from YAML when pubguard starts. Two files, because a scan needs only the first:
// the definitions, with every rule's examples, are 60% of the bytes.
// The compiler is the package's own TypeScript (built first), so there is one copy of it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
// --rules and --out exist so tests can build a rule set of their own; --skip-tsc when dist/ is fresh.
const { values: args } = parseArgs({
  options: { rules: { type: 'string' }, out: { type: 'string' }, 'skip-tsc': { type: 'boolean', default: false } },
});
const rulesDir = args.rules ?? join(pkgDir, 'rules');
const outFile = args.out ?? join(pkgDir, 'generated', 'builtin.json');

function fatal(message) {
  process.stderr.write(`rules build: ${message}\n`);
  process.exit(1);
}

const require = createRequire(join(pkgDir, 'package.json'));
const tscPkg = require.resolve('typescript/package.json');
const tsc = join(dirname(tscPkg), JSON.parse(readFileSync(tscPkg, 'utf8')).bin.tsc);
if (!args['skip-tsc']) {
  try {
    execFileSync(process.execPath, [tsc, '-b', pkgDir], { stdio: 'inherit' });
  } catch {
    fatal('compiling packages/rules failed (see the tsc output above)');
  }
}

const { compileRules, parseRuleDefinitions, RuleError } = await import(pathToFileURL(join(pkgDir, 'dist', 'index.js')).href);

const files = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .sort();
if (files.length === 0) fatal(`no rule files in ${rulesDir}`);

const definitions = [];
for (const file of files) {
  const origin = `rules/${file}`;
  let data;
  try {
    data = parse(readFileSync(join(rulesDir, file), 'utf8'), { prettyErrors: true });
  } catch (error) {
    fatal(`${origin}: not valid YAML: ${error.message}`);
  }
  try {
    definitions.push(...parseRuleDefinitions(data, origin));
  } catch (error) {
    if (error instanceof RuleError) fatal(error.message);
    throw error;
  }
}

let ruleset;
try {
  ruleset = compileRules(definitions);
} catch (error) {
  if (!(error instanceof RuleError)) throw error;
  const file = files.find((f) => readFileSync(join(rulesDir, f), 'utf8').includes(`id: ${error.ruleId}`));
  fatal(`${file ? `rules/${file}: ` : ''}${error.message}`);
}

mkdirSync(dirname(outFile), { recursive: true });
const definitionsFile = join(dirname(outFile), 'builtin-definitions.json');
// Write then rename, so a concurrent reader never sees half a file.
for (const [file, content] of [
  [definitionsFile, { version: 1, definitions }],
  [outFile, { version: 1, ruleset }],
]) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content)}\n`);
  renameSync(tmp, file);
}
process.stdout.write(`rules build: ${definitions.length} rules from ${files.length} files -> ${outFile}, ${definitionsFile}\n`);
