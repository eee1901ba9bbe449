import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFsError } from '@pubguard/engine';
import { CONFIG_FILE_NAME } from '../config.js';
import { parseStrict } from '../args.js';
import type { CliIO, CliResult, Command } from '../io.js';
import { ownFilesWarning, publishedSince } from '../published.js';

/** Where editors find the schema once `@pubguard/cli` is installed next to the config. */
export const SCHEMA_REF = './node_modules/@pubguard/cli/schemas/pubguard.config.schema.json';

/**
 * The command `init` puts in front of `prepublishOnly`: what npm would publish, not the whole
 * directory, whose local .env or test fixtures would stop a publish for files that never ship.
 */
export const PREPUBLISH_COMMAND = 'pubguard scan --npm-files .';

const HELP = `Usage: pubguard init [--yes]

Writes a starter ${CONFIG_FILE_NAME} in the current directory (never over an existing one).
When a package.json is there, also offers to run \`${PREPUBLISH_COMMAND}\` before every
\`npm publish\` by adding it to scripts.prepublishOnly (in front of what is already there;
a prepublishOnly that already runs pubguard scan is left as it is). That scans the files
npm would publish; npm runs prepublishOnly before prepack and prepare, so files those build
are not there yet: for the strongest check scan the tarball (\`npm pack && pubguard scan
./*.tgz\`) or publish with \`pubguard publish npm\`.
A warning says so when npm would publish ${CONFIG_FILE_NAME} (asked with \`npm pack
--dry-run\`, npm from PATH): leave it out with .npmignore or "files" in package.json.
On a terminal it asks first; elsewhere it only prints what to add, unless --yes is given.
It says to add @pubguard/cli to the dev dependencies when the package does not list it,
since the script needs the command on every machine that publishes. Without a package.json
(a Python project) the config has no $schema, and it says how to scan what is built.

Options:
  -y, --yes   add the prepublishOnly script without asking

Exit codes: 0 done, 2 a config file already exists or package.json cannot be read.
`;

/** A starting point for `init`: a project that cannot be set up as asked. */
export class InitError extends Error {
  override name = 'InitError';
}

/** The starter config `init` writes. */
export function starterConfig(withSchema = true): string {
  const config = {
    // Only an npm project has node_modules, where the schema sits once @pubguard/cli is installed.
    ...(withSchema ? { $schema: SCHEMA_REF } : {}),
    ignore: ['node_modules/**', '.git/**'],
    rules: { disable: [], custom: [] },
    allowlist: { paths: [], regexes: [], stopwords: [] },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The `prepublishOnly` script with the scan in front; unchanged when it already runs pubguard scan. */
export function withPrepublishScan(existing: string | undefined): string {
  if (existing === undefined || existing.trim() === '') return PREPUBLISH_COMMAND;
  if (/(^|[\s;&|(])pubguard\s+scan(\s|$)/.test(existing)) return existing;
  return `${PREPUBLISH_COMMAND} && ${existing}`;
}

/** Indentation of a JSON text as written (the first indented line), so a rewrite keeps it. */
function indentOf(text: string): string | number {
  const m = /^[{[][^\S\r\n]*\r?\n([ \t]+)\S/.exec(text);
  return m?.[1] ?? 2;
}

/** package.json with `prepublishOnly` updated, formatted as the original was; undefined if nothing changes. */
export function updatePackageJson(text: string, file = 'package.json'): { text: string; script: string; previous: string | undefined } | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    throw new InitError(`${file} is not valid JSON (${(error as Error).message.replace(/,\s*".*$/s, '')}); fix it or run without it`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InitError(`${file} must hold a JSON object`);
  const pkg = data as Record<string, unknown>;
  if (pkg.scripts !== undefined && (typeof pkg.scripts !== 'object' || pkg.scripts === null || Array.isArray(pkg.scripts))) {
    throw new InitError(`${file}: "scripts" must be an object`);
  }
  const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
  const previous = scripts.prepublishOnly;
  if (previous !== undefined && typeof previous !== 'string') throw new InitError(`${file}: scripts.prepublishOnly must be a string`);
  const script = withPrepublishScan(previous);
  if (script === previous) return undefined;
  pkg.scripts = { ...scripts, prepublishOnly: script };
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  let out = JSON.stringify(pkg, null, indentOf(body));
  if (eol !== '\n') out = out.replace(/\n/g, eol);
  if (/\r?\n$/.test(body)) out += eol;
  return { text: (body === text ? '' : '\ufeff') + out, script, previous };
}

/** scripts.prepublishOnly of a package.json `updatePackageJson` has read, or ''. */
function prepublishScript(text: string): string {
  const pkg = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as { scripts?: { prepublishOnly?: unknown } };
  const script = pkg.scripts?.prepublishOnly;
  return typeof script === 'string' ? script : '';
}

function isYes(answer: string): boolean {
  return /^\s*(y|yes)?\s*$/i.test(answer);
}

async function runInit(argv: string[], io: CliIO): Promise<CliResult> {
  const { values } = parseStrict({ args: argv, allowPositionals: false, strict: true, options: { yes: { type: 'boolean', short: 'y' } } });
  const configPath = join(io.cwd, CONFIG_FILE_NAME);
  const pkgPath = join(io.cwd, 'package.json');

  // Read package.json first, so a broken one stops us before anything is written.
  let pkgText: string | undefined;
  try {
    pkgText = await readFile(pkgPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new InitError(`cannot read ${pkgPath}: ${describeFsError(error)}`);
  }
  const update = pkgText === undefined ? undefined : updatePackageJson(pkgText, pkgPath);

  try {
    await writeFile(configPath, starterConfig(pkgText !== undefined), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InitError(`${configPath} already exists; edit it, or remove it to start again`);
    }
    throw new InitError(`cannot write ${configPath}: ${describeFsError(error, { writing: true })}`);
  }
  io.stdout.write(`wrote ${CONFIG_FILE_NAME}\n`);

  if (pkgText === undefined) {
    // No npm package here: a Python project's release is what python -m build writes.
    io.stdout.write('next: scan the distributions before uploading them, e.g. python -m build && pubguard scan dist/*\n');
    return { exitCode: 0 };
  }
  const shipped = await publishedSince(new Map([['.', new Set<string>()]]), configPath, io);
  if (shipped !== undefined) io.stderr.write(ownFilesWarning('init', [shipped]));
  if (!update) {
    io.stdout.write('package.json: scripts.prepublishOnly already runs pubguard scan\n');
    // Set up by an earlier init, it scans the whole directory, files npm never publishes too.
    if (!/--npm-files\b/.test(prepublishScript(pkgText))) {
      io.stdout.write(`  (\`${PREPUBLISH_COMMAND}\` scans only the files npm would publish)\n`);
    }
    return { exitCode: 0 };
  }
  let apply = values.yes === true;
  if (!apply && io.prompt && io.stdin.isTTY === true) {
    const answer = await io.prompt(`Run \`${PREPUBLISH_COMMAND}\` before every npm publish (scripts.prepublishOnly in package.json)? [Y/n] `);
    apply = isYes(answer);
  }
  if (apply) {
    await writeFile(pkgPath, update.text).catch((error: unknown) => {
      throw new InitError(`cannot write ${pkgPath}: ${describeFsError(error, { writing: true })}`);
    });
    io.stdout.write(`package.json: scripts.prepublishOnly is now "${update.script}"\n`);
    if (!dependsOnCli(pkgText)) {
      // Installed globally here, the command is missing on the next machine: npm publish would
      // stop there with "pubguard: not found" and no hint of why.
      io.stdout.write('  add pubguard to the package\'s dev dependencies, so that the script finds it everywhere: npm install --save-dev @pubguard/cli\n');
    }
  } else {
    io.stdout.write(
      `To scan before every npm publish, set this in package.json:\n  "scripts": { "prepublishOnly": ${JSON.stringify(update.script)} }\n`,
    );
  }
  return { exitCode: 0 };
}

/** Whether package.json lists @pubguard/cli among its dependencies of any kind. */
function dependsOnCli(pkgText: string): boolean {
  try {
    const pkg = JSON.parse(pkgText) as Record<string, unknown>;
    return ['devDependencies', 'dependencies', 'optionalDependencies'].some((key) => {
      const deps = pkg[key];
      return typeof deps === 'object' && deps !== null && '@pubguard/cli' in deps;
    });
  } catch {
    return false;
  }
}

/** `pubguard init`: a starter config and, for an npm package, a scan before publishing. */
export const initCommand: Command = {
  name: 'init',
  help: HELP,
  run: runInit,
};
