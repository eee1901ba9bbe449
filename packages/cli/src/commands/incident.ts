import { resolve } from 'node:path';
import { type Ecosystem, type IncidentActionResult, type IncidentPlan, executeIncident, incidentPlan, incidentSecrets, redactText, redactValue } from '@pubguard/release';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';
import { type OptionSpecs, parseCommandArgs } from '../args.js';
import { checkTokenUrl } from '../token-url.js';
import { DEFAULT_AUDIT_PATH, actorOf, outputFormat, writeJson } from './audit.js';

const COMMON = `      --audit FILE        audit log (default ${DEFAULT_AUDIT_PATH})
      --actor NAME        who runs it (default: $GITHUB_ACTOR, else $USER)
  -f, --format FMT        text (default) or json`;

const NPM_HELP = `Usage: pubguard incident npm <package>@<version> [options]

A release leaked a secret. Give its exact version (npm would read 1 or 1.x as a range and
act on every version in it). Prints the plan and, with --execute, performs what npm lets a
tool do: \`npm deprecate\`, \`npm unpublish\` (with --unpublish, only within npm's 72-hour
window), \`npm token revoke\` (with --token-id). The commands printed are the ones run. The
npm token comes from $NPM_TOKEN and is handed over in a temporary userconfig. Every action
is an audit record. Then follow the rotation checklist it prints: removing a release never
makes a leaked secret safe again.

Unpublishing a package's only version removes the whole package, and npm then lets nobody
publish under its name for 24 hours; npm does it only with --force. So --unpublish refuses
that version (exit 1, after the other steps) unless --unpublish-package is given too,
which adds --force to the \`npm unpublish\` command.

Options:
      --registry URL      npm registry (default https://registry.npmjs.org/); plain http is
                          refused for registry.npmjs.org, and warned of for another host
                          that is not this machine (the token would be unencrypted)
      --message TEXT      deprecation message
      --unpublish         also unpublish when still within 72 hours of publishing
      --unpublish-package
                          with --unpublish: also when the version is the package's only
                          one, which removes the whole package (npm unpublish --force)
      --token-id ID       npm token to revoke (from \`npm token list\`)
      --token-env NAME    variable holding the npm token (default NPM_TOKEN)
      --execute           run the steps that can be automated (default: print the plan)
${COMMON}

Exit codes: 0 plan printed or every automated step done, 1 refused (no usable token, or
the version to unpublish is the package's only one and --unpublish-package is not given),
2 usage error or an automated step failed.
`;

const PYPI_HELP = `Usage: pubguard incident pypi <project> <version> [options]

A release leaked a secret. PyPI yanking and token removal are web-only, so this prints the
exact pages (https://pypi.org/manage/project/<project>/release/<version>/ and
https://pypi.org/manage/account/token/) and the rotation checklist, and records the
incident in the audit log. Nothing can be automated (PyPI has no API to yank a release or
remove a token), so there is no --execute: it is refused as a usage error.

Options:
${COMMON}

Exit codes: 0 plan printed, 2 usage error (--execute among them).
`;

function printPlan(io: CliIO, plan: IncidentPlan, results: IncidentActionResult[], secrets: readonly string[]): void {
  // The same masking as the audit log: --token-id may be the token itself, and a registry URL may carry it.
  const w = (s: string): void => io.stdout.write(`${redactText(s, secrets)}\n`);
  w(`Incident: ${plan.package} ${plan.version} (${plan.ecosystem === 'npm' ? 'npm' : 'PyPI'}, ${plan.registry})`);
  w('');
  plan.actions.forEach((a, i) => {
    const r = results.find((x) => x.id === a.id);
    const state = r ? ` [${r.outcome}]` : '';
    w(`${i + 1}. ${a.kind === 'automated' ? '(automated)' : '(by hand)  '} ${a.title}${state}`);
    if (a.command) w(`     $ ${a.command.map((x) => (/^[\w@./:-]+$/.test(x) ? x : JSON.stringify(x))).join(' ')}`);
    if (a.url) w(`     ${a.url}`);
    if (r && r.outcome !== 'manual' && r.message !== a.title) w(`     ${r.message}`);
    // A plan not run says what its steps depend on; once run, the outcome says it.
    const notRun = !r || (r.outcome === 'skipped' && (r.message.startsWith('plan only') || r.message.startsWith('not run:')));
    if (a.note && a.kind === 'automated' && notRun) w(`     note: ${a.note}`);
  });
  w('');
  w('Rotation checklist:');
  for (const c of plan.checklist) w(`  [ ] ${c}`);
}

async function runIncident(ecosystem: Ecosystem, argv: string[], io: CliIO): Promise<CliResult> {
  const extra: OptionSpecs =
    ecosystem === 'npm'
      ? {
          registry: { type: 'string' },
          message: { type: 'string' },
          unpublish: { type: 'boolean' },
          'unpublish-package': { type: 'boolean' },
          'token-id': { type: 'string' },
          'token-env': { type: 'string' },
        }
      : {};
  const { values, positionals } = parseCommandArgs(argv, {
    execute: { type: 'boolean' },
    audit: { type: 'string' },
    actor: { type: 'string' },
    format: { type: 'string', short: 'f' },
    ...extra,
  });
  const v = values as Record<string, string | boolean | undefined>;
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const format = outputFormat(str('format'));
  // Accepting it would let a runbook believe the release was yanked.
  if (ecosystem === 'pypi' && v.execute === true) {
    throw new UsageError('incident pypi has nothing to execute: PyPI offers no API to yank a release or remove a token, both are done on pypi.org; run it without --execute to print the pages and the checklist');
  }
  let pkg: string;
  let version: string;
  if (ecosystem === 'npm') {
    const spec = positionals[0];
    const at = spec?.lastIndexOf('@') ?? -1;
    if (positionals.length !== 1 || spec === undefined || at <= 0 || at === spec.length - 1) throw new UsageError('give the release as <package>@<version>, e.g. acme@1.2.3 or @scope/acme@1.2.3');
    pkg = spec.slice(0, at);
    version = spec.slice(at + 1);
  } else {
    if (positionals.length !== 2) throw new UsageError('give the project and the version, e.g. acme-tool 1.2.3');
    [pkg, version] = positionals as [string, string];
  }
  if (!/^[\w.+-]+$/.test(version)) throw new UsageError(`'${version}' is not a version`);
  if (v['unpublish-package'] === true && v.unpublish !== true) {
    throw new UsageError("--unpublish-package goes with --unpublish: it lets unpublishing remove the whole package when the version is the package's only one");
  }
  const registry = str('registry');
  if (registry !== undefined) checkTokenUrl(registry, '--registry', io);
  const plan = incidentPlan({
    ecosystem,
    package: pkg,
    version,
    ...(registry ? { registry } : {}),
    ...(str('token-id') ? { tokenId: str('token-id')! } : {}),
    ...(str('message') ? { message: str('message')! } : {}),
    unpublish: v.unpublish === true,
    unpublishPackage: v['unpublish-package'] === true,
  });
  const results = await executeIncident(plan, {
    env: io.env,
    cwd: io.cwd,
    auditPath: resolve(io.cwd, str('audit') ?? DEFAULT_AUDIT_PATH),
    actor: actorOf(io, str('actor')),
    execute: v.execute === true,
    ...(str('token-env') ? { tokenEnv: str('token-env')! } : {}),
  });
  const refusals = results.filter((r) => r.outcome === 'refused' || (r.outcome === 'skipped' && r.message.startsWith('not run:')));
  const refused = refusals.length > 0;
  const failed = results.some((r) => r.outcome === 'failed');
  const secrets = incidentSecrets(io.env, str('token-env'));
  if (format === 'json') writeJson(io, redactValue({ version: 1, stage: 'incident', plan, results }, secrets));
  else {
    printPlan(io, plan, results, secrets);
    // The token's refusal is the same for every step: once is enough.
    for (const message of new Set(refusals.map((r) => r.message))) io.stderr.write(`pubguard incident ${ecosystem}: ${redactText(message, secrets)}\n`);
  }
  return { exitCode: failed ? 2 : refused ? 1 : 0 };
}

/** `pubguard incident npm`. */
export const incidentNpmCommand: Command = {
  name: 'incident npm',
  help: NPM_HELP,
  run: (argv, io) => runIncident('npm', argv, io),
};

/** `pubguard incident pypi`. */
export const incidentPypiCommand: Command = {
  name: 'incident pypi',
  help: PYPI_HELP,
  run: (argv, io) => runIncident('pypi', argv, io),
};
