import { basename, relative, resolve } from 'node:path';
import { maskNames } from '@pubguard/engine';
import { ArtifactError, type AuditSubject, checkArtifactVersions, sha256File } from '@pubguard/release';
import { visible } from '@pubguard/report';
import { type CliResult, type Command, InterruptedError, UsageError } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { gateHelp, GATE_OPTIONS, actorOf, outputFormat, recordGate, writeJson } from './audit.js';

const HELP = `Usage: pubguard version check <tag> [artifact...] [options]

Refuses a release tag that is not exactly 'v' + MAJOR.MINOR.PATCH (semver, no leading
zeros, no build metadata), and checks that every artifact carries that version:
package.json in an npm tarball (the semver), METADATA in a wheel and PKG-INFO in an
sdist (the PEP 440 normal form), and the version in wheel and sdist file names.
A leading refs/tags/ is accepted and stripped. Artifact paths are given, in text and JSON,
relative to the working directory when inside it.

Options:
      --allow-prerelease  accept -alpha.N, -beta.N, -rc.N and -dev.N, which map onto
                          PEP 440 as aN, bN, rcN and .devN; other pre-release forms sort
                          differently on npm and PyPI and are refused
      --no-v-prefix       accept a tag without the leading v
${gateHelp(26)}

Exit codes: 0 accepted, 1 refused, 2 usage error, an unreadable artifact, or one whose
metadata npm or twine could read from another member than the one checked, or interrupted
(Ctrl-C, SIGTERM, SIGHUP: recorded as an error, no verdict).

Examples:
  pubguard version check "$GITHUB_REF" dist/*.tgz dist/*.whl dist/*.tar.gz
  pubguard version check v2.0.0-rc.1 --allow-prerelease --format json
`;

/** `pubguard version check`. */
export const versionCheckCommand: Command = {
  name: 'version check',
  help: HELP,
  async run(argv, io): Promise<CliResult> {
    const { values, positionals } = parseCommandArgs(argv, {
      ...GATE_OPTIONS,
      'allow-prerelease': { type: 'boolean' },
      'no-v-prefix': { type: 'boolean' },
    });
    const format = outputFormat(values.format);
    const [tag, ...artifacts] = positionals;
    if (tag === undefined) throw new UsageError('give the tag to check, e.g. pubguard version check v1.2.3 dist/*');
    const paths = artifacts.map((a) => resolve(io.cwd, a));
    const audit = (outcome: 'passed' | 'refused' | 'error', reason: string, subjects: AuditSubject[]) =>
      recordGate(io, values, { stage: 'version', outcome, actor: actorOf(io, values.actor), subjects: [{ name: tag }, ...subjects], reason });
    const subjects: AuditSubject[] = [];
    let result;
    try {
      for (const p of paths) subjects.push({ name: basename(p), sha256: await sha256File(p, io.signal) });
      result = await checkArtifactVersions(tag, paths, {
        allowPrerelease: values['allow-prerelease'] === true,
        requireV: values['no-v-prefix'] !== true,
      });
      // A verdict reached after Ctrl-C is not one the user waited for: record the stop instead.
      if (io.signal?.aborted) throw new ArtifactError('interrupted before the check finished');
    } catch (error) {
      if (error instanceof ArtifactError) await audit('error', error.message, subjects);
      throw io.signal?.aborted && error instanceof ArtifactError ? new InterruptedError(`${error.message}: the version was not checked`) : error;
    }
    const reason = result.ok ? `tag ${tag} is version ${result.tag.semver} (PEP 440 ${result.tag.pep440})` : result.reason;
    await audit(result.ok ? 'passed' : 'refused', reason, subjects);
    // Paths as the user would type them: relative to where the command runs, when inside it,
    // in text and JSON alike.
    // A token in a file name is shortened, as a scan shortens it.
    const shown = (p: string): string => maskNames(p.startsWith(`${io.cwd}/`) ? relative(io.cwd, p) : p);
    if (format === 'json') {
      writeJson(io, {
        version: 1,
        stage: 'version',
        ok: result.ok,
        tag,
        ...(result.tag ? { semver: result.tag.semver, pep440: result.tag.pep440 } : {}),
        ...(result.ok ? {} : { reason: maskNames(result.reason), mismatches: result.mismatches.map((m) => ({ ...m, path: shown(m.path) })) }),
        artifacts: result.artifacts.map((a) => ({
          path: shown(a.path),
          kind: a.kind,
          name: maskNames(a.name),
          version: a.version,
          ...(a.fileNameVersion === undefined ? {} : { fileNameVersion: a.fileNameVersion }),
        })),
      });
    } else if (result.ok) {
      const n = result.artifacts.length;
      io.stdout.write(`accepted: ${reason}${n ? `; ${n} artifact${n === 1 ? '' : 's'} match` : ''}\n`);
    } else if (!result.ok && result.mismatches.length) {
      io.stdout.write(`refused: the artifacts do not carry the version of ${tag}\n`);
      for (const m of result.mismatches) io.stdout.write(`  ${shown(m.path)}: ${m.where} says ${m.actual}, expected ${m.expected}\n`);
    } else {
      // An empty tag (an unset variable) or one with a stray space must show as such.
      const shownTag = tag === '' || /[\s\p{C}]/u.test(tag) ? `'${visible(tag)}'` : tag;
      io.stdout.write(`refused: ${shownTag}: ${maskNames(result.reason)}\n`);
    }
    return { exitCode: result.ok ? 0 : 1 };
  },
};
