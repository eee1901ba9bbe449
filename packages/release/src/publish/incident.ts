import { AuditLog } from '../audit.js';
import { redactText, secretsFromEnv } from '../redact.js';
import { isExactSemver } from '../version.js';
import { type CommandRunner, clientFailureSummary, npmRun } from './clients.js';
import { PublishError } from './errors.js';
import { type Ecosystem, NPM_REGISTRY, checkPublishToken, normaliseProject } from './tokens.js';

// npm's rules for a name (old packages may have capitals); PEP 508 for a PyPI project.
const NPM_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/i;
const PYPI_NAME = /^(?:[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** One step of an incident plan. */
export interface IncidentAction {
  id: 'deprecate' | 'unpublish' | 'revoke-token' | 'yank' | 'revoke-pypi-token' | 'rotate-secret';
  /** Whether `--execute` performs it or a person must. */
  kind: 'automated' | 'manual';
  title: string;
  /** The command run (automated), without credentials. */
  command?: string[];
  /** The page to do it on (manual). */
  url?: string;
  note?: string;
}

/** What to do about a release that leaked a secret. */
export interface IncidentPlan {
  ecosystem: Ecosystem;
  package: string;
  version: string;
  registry: string;
  actions: IncidentAction[];
  /** Rotation checklist, in order. */
  checklist: string[];
}

/** Inputs of `incidentPlan`. */
export interface IncidentPlanOptions {
  ecosystem: Ecosystem;
  package: string;
  version: string;
  registry?: string;
  /** npm token id to revoke (`npm token list` shows it). */
  tokenId?: string;
  /** Also unpublish (npm allows it within 72 hours of publishing if nothing depends on it). */
  unpublish?: boolean;
  /**
   * With `unpublish`, also when the version is the package's only one: npm then removes the
   * whole package and lets nobody publish under its name for 24 hours, which it does only with
   * `--force`. Without it, `executeIncident` refuses to unpublish a package's only version.
   */
  unpublishPackage?: boolean;
  /** Deprecation message. */
  message?: string;
}

/** How long after publishing npm lets a version be unpublished without further conditions. */
export const NPM_UNPUBLISH_WINDOW_MS = 72 * 3600 * 1000;

const LATE_UNPUBLISH =
  'after 72 hours npm allows it only without dependents, under 300 downloads last week and with a single owner: ask npm support (https://www.npmjs.com/support); the version number can never be reused';

/**
 * When `version` was published and which versions the package has, from `npm view <spec> time
 * versions --json`; undefined when the output does not say. The `time` object keeps the dates
 * of versions unpublished before, so only `versions` tells which remain.
 */
function readRelease(stdout: string, version: string): { published: number; versions: string[] } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const d = data as { time?: unknown; versions?: unknown } | null;
  if (typeof d !== 'object' || d === null || typeof d.time !== 'object' || d.time === null) return undefined;
  const published = Date.parse(String((d.time as Record<string, unknown>)[version] ?? ''));
  // Older npm releases print a list of one as its only item: take either.
  const versions = typeof d.versions === 'string' ? [d.versions] : d.versions;
  if (Number.isNaN(published) || !Array.isArray(versions) || !versions.every((v) => typeof v === 'string')) return undefined;
  return { published, versions: versions as string[] };
}

/** Builds the incident plan: what can be automated and what must be done by hand, with exact pages. */
export function incidentPlan(o: IncidentPlanOptions): IncidentPlan {
  // npm reads `pkg@1` or `pkg@1.x` as a range: deprecating it would mark every matching release.
  if (o.ecosystem === 'npm' && !isExactSemver(o.version)) {
    throw new PublishError(`'${o.version}' is not one exact version such as 1.2.3: npm would take it as a range and act on every version it matches`);
  }
  // A name npm or PyPI cannot hold would only give a command that fails and a page that does not exist.
  if (o.ecosystem === 'npm' && !(o.package.length <= 214 && NPM_NAME.test(o.package))) {
    throw new PublishError(`'${o.package}' is not an npm package name (such as acme, @scope/acme)`);
  }
  if (o.ecosystem === 'pypi' && !PYPI_NAME.test(o.package)) {
    throw new PublishError(`'${o.package}' is not a PyPI project name (letters, digits, '.', '_' and '-', starting and ending with a letter or digit)`);
  }
  if (o.unpublishPackage && !o.unpublish) throw new PublishError('unpublishPackage goes with unpublish: it lets unpublishing remove the whole package when the version is its only one');
  const spec = `${o.package}@${o.version}`;
  const actions: IncidentAction[] = [];
  const registry = o.registry ?? (o.ecosystem === 'npm' ? NPM_REGISTRY : 'https://pypi.org/');
  actions.push({
    id: 'rotate-secret',
    kind: 'manual',
    title: 'Revoke the leaked credential at its issuer now: it is public from the moment the release was downloadable',
    note: 'removing the release does not make the secret safe again',
  });
  if (o.ecosystem === 'npm') {
    const message = o.message ?? `${spec} contained a leaked credential; upgrade to a later version`;
    actions.push({ id: 'deprecate', kind: 'automated', title: `Deprecate ${spec}`, command: ['npm', 'deprecate', spec, message] });
    if (o.unpublish) {
      // npm removes a package's last version only with --force, and with it the package: the
      // command shown is the one run, so --force is there only when asked for.
      actions.push(
        o.unpublishPackage
          ? {
              id: 'unpublish',
              kind: 'automated',
              title: `Unpublish ${spec} if it was published less than 72 hours ago; if it is the only version of ${o.package}, this removes the whole package, and nobody can publish under its name for 24 hours`,
              command: ['npm', 'unpublish', spec, '--force'],
              note: LATE_UNPUBLISH,
            }
          : {
              id: 'unpublish',
              kind: 'automated',
              title: `Unpublish ${spec} if it was published less than 72 hours ago and is not the only version of ${o.package}`,
              command: ['npm', 'unpublish', spec],
              note: `unpublishing a package's only version removes the whole package and blocks its name for 24 hours: that is refused without --unpublish-package; ${LATE_UNPUBLISH}`,
            },
      );
    }
    actions.push(
      o.tokenId
        ? { id: 'revoke-token', kind: 'automated', title: `Revoke npm token ${o.tokenId}`, command: ['npm', 'token', 'revoke', o.tokenId] }
        : { id: 'revoke-token', kind: 'manual', title: 'Revoke the npm publishing token if it may be exposed (pass --token-id to automate)', url: 'https://www.npmjs.com/settings/~/tokens' },
    );
  } else {
    const project = normaliseProject(o.package);
    actions.push({
      id: 'yank',
      kind: 'manual',
      title: `Yank ${o.package} ${o.version} on PyPI (web only, PEP 592): Options → Yank`,
      url: `https://pypi.org/manage/project/${project}/release/${o.version}/`,
    });
    actions.push({
      id: 'revoke-pypi-token',
      kind: 'manual',
      title: 'Remove the PyPI API token used to publish if it may be exposed, and create a new project-scoped one',
      url: 'https://pypi.org/manage/account/token/',
    });
  }
  const tokenName = o.ecosystem === 'npm' ? 'NPM_TOKEN' : 'PYPI_TOKEN';
  const checklist = [
    'Revoke or rotate the leaked credential at its issuer; do not baseline the finding',
    "Read the issuer's access logs for use of the credential since the release was published",
    `Create a new publishing token scoped to this package only and replace the ${tokenName} secret of the release environment`,
    'Remove the secret from the source tree and its history, and add the file to the package ignore list',
    `Release a fixed version through \`pubguard publish ${o.ecosystem}\` (scan, approvals, token checks)`,
    'Tell users: changelog entry and, where it applies, a security advisory',
    'Keep the audit log head (`pubguard audit verify`) with the incident record',
  ];
  return { ecosystem: o.ecosystem, package: o.package, version: o.version, registry, actions, checklist };
}

/** The outcome of one executed action. */
export interface IncidentActionResult {
  id: IncidentAction['id'];
  /** `refused`: not run, as it would do more than the plan allows (remove a whole package). */
  outcome: 'done' | 'skipped' | 'failed' | 'manual' | 'refused';
  message: string;
}

/** Inputs of `executeIncident`. */
export interface ExecuteIncidentOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  auditPath: string;
  actor: string;
  /** Environment variable with the npm token (default NPM_TOKEN). */
  tokenEnv?: string;
  /** Run the automated steps; without it only the plan is recorded. */
  execute: boolean;
  runner?: CommandRunner;
  npmCommand?: string;
  now?: () => Date;
}

/** The values an incident's records and output must never show: the npm token and every secret-looking environment value. */
export function incidentSecrets(env: Record<string, string | undefined>, tokenEnv = 'NPM_TOKEN'): string[] {
  const token = env[tokenEnv];
  return [...(token ? [token] : []), ...secretsFromEnv(env)];
}

/** Records the plan and, with `execute`, runs its automated npm steps; every action is an audit record. */
export async function executeIncident(plan: IncidentPlan, o: ExecuteIncidentOptions): Promise<IncidentActionResult[]> {
  const tokenEnv = o.tokenEnv ?? 'NPM_TOKEN';
  const token = o.env[tokenEnv];
  const secrets = incidentSecrets(o.env, tokenEnv);
  const log = new AuditLog(o.auditPath, secrets);
  const now = o.now ?? (() => new Date());
  const subject = { name: `${plan.package}@${plan.version}` };
  const record = (stage: string, outcome: 'passed' | 'refused' | 'error', reason: string, details: Record<string, unknown> = {}) =>
    log.append({ stage: `incident.${stage}`, outcome, actor: o.actor, subjects: [subject], reason: redactText(reason, secrets), details: { ecosystem: plan.ecosystem, registry: plan.registry, ...details } }, now());

  await record('plan', 'passed', `${o.execute ? 'executing' : 'printed'} incident plan: ${plan.actions.map((a) => `${a.id} (${a.kind})`).join(', ')}`);
  const results: IncidentActionResult[] = [];
  // Without a usable token the automated steps are skipped, but the manual ones (revoking the
  // leaked secret first of all) are still handed over and recorded.
  let refusal: string | undefined;
  if (o.execute && plan.actions.some((a) => a.kind === 'automated')) {
    const check = checkPublishToken(token, { ecosystem: 'npm', registry: plan.registry, envName: tokenEnv });
    if (!check.ok) {
      await record('token', 'refused', check.reason);
      refusal = `not run: ${check.reason}`;
    }
  }
  for (const a of plan.actions) {
    if (a.kind === 'manual') {
      const message = a.url ? `${a.title}: ${a.url}` : a.title;
      results.push({ id: a.id, outcome: 'manual', message });
      await record(a.id, 'passed', `manual step handed to a person: ${message}`);
      continue;
    }
    if (!o.execute || refusal !== undefined) {
      results.push({ id: a.id, outcome: 'skipped', message: refusal ?? 'plan only (pass --execute)' });
      continue;
    }
    const run = (args: string[]) => npmRun(args, { registry: plan.registry, token: token!, packageName: plan.package, env: o.env, cwd: o.cwd, ...(o.runner ? { runner: o.runner } : {}), ...(o.npmCommand ? { npmCommand: o.npmCommand } : {}) });
    let done = a.title;
    if (a.id === 'unpublish') {
      const spec = `${plan.package}@${plan.version}`;
      const view = await run(['view', spec, 'time', 'versions', '--json']);
      const release = view.code === 0 ? readRelease(view.stdout, plan.version) : undefined;
      if (release === undefined) {
        const message = `cannot tell when ${spec} was published and which versions ${plan.package} has: not unpublished`;
        results.push({ id: a.id, outcome: 'failed', message });
        await record(a.id, 'error', message);
        continue;
      }
      const age = now().getTime() - release.published;
      if (age > NPM_UNPUBLISH_WINDOW_MS) {
        const message = `published ${Math.round(age / 3600_000)} hours ago, past npm's 72-hour window: ${LATE_UNPUBLISH}`;
        results.push({ id: a.id, outcome: 'skipped', message });
        await record(a.id, 'refused', message);
        continue;
      }
      // As npm tells a last version: the registry's version list holds this one and no other.
      const only = release.versions.length === 1 && release.versions[0] === plan.version;
      if (only && !a.command!.includes('--force')) {
        const message = `${plan.version} is the only version of ${plan.package}: unpublishing it removes the whole package, and nobody can publish under its name for 24 hours. Not unpublished; to do that, run again with --unpublish --unpublish-package (npm unpublish --force), or leave the release deprecated`;
        results.push({ id: a.id, outcome: 'refused', message });
        await record(a.id, 'refused', message, { versions: release.versions });
        continue;
      }
      if (only) done = `Unpublished ${spec}, the only version of ${plan.package}: the whole package is removed, and nobody can publish under its name for 24 hours`;
    }
    const out = await run(a.command!.slice(1));
    const text = redactText(`${out.stdout}${out.stderr}`, secrets).trim();
    if (out.code === 0) {
      results.push({ id: a.id, outcome: 'done', message: done });
      await record(a.id, 'passed', done);
    } else {
      const why = clientFailureSummary(text);
      const message = `${a.command!.slice(0, 3).join(' ')} exited with ${out.code ?? 'a signal'}${why ? `: ${why}` : ''}`;
      results.push({ id: a.id, outcome: 'failed', message });
      await record(a.id, 'error', message);
    }
  }
  return results;
}
