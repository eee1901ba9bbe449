import { describe, expect, it } from 'vitest';
import { RULES, emptyInput, finding, goldenInput } from './__fixtures__/input.js';
import { sarifValidator as validator } from './__fixtures__/sarif-schema.js';
import { formatSarif } from './index.js';
import { sortFindings } from './order.js';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn?: number } };
    logicalLocations: { fullyQualifiedName: string }[];
  }[];
  partialFingerprints: Record<string, string>;
}
interface SarifLog {
  runs: {
    tool: { driver: { name: string; rules: { id: string; helpUri?: string; help: { text: string }; defaultConfiguration: { level: string } }[] } };
    invocations: { executionSuccessful: boolean; toolExecutionNotifications: { message: { text: string } }[] }[];
    results: SarifResult[];
  }[];
}

describe('formatSarif', () => {
  const validate = validator();

  it('validates against the SARIF 2.1.0 schema (golden input)', () => {
    const log: unknown = JSON.parse(formatSarif(goldenInput({ decoded: true, named: true })));
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('validates against the SARIF 2.1.0 schema (empty report)', () => {
    const text = formatSarif(emptyInput());
    const log = JSON.parse(text) as SarifLog;
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]!.results).toEqual([]);
    expect(log.runs[0]!.invocations[0]!.executionSuccessful).toBe(true);
  });

  it('the schema check rejects an unencoded URI (the check itself can fail)', () => {
    const log = JSON.parse(formatSarif(goldenInput())) as SarifLog;
    log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri = 'dist/a b<c>.tgz';
    expect(validate(log)).toBe(false);
  });

  it('describes each rule used once, with the index results point at', () => {
    const log = JSON.parse(formatSarif(goldenInput())) as SarifLog;
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('pubguard');
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(['github-classic-token', 'aws-access-key-id']);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
    const gh = run.tool.driver.rules[0]!;
    expect(gh.helpUri).toBe(RULES[0]!.references![0]);
    expect(gh.help.text).toContain('Rotate the credential, remove it from the artifact, rebuild');
    expect(gh.defaultConfiguration.level).toBe('error');
  });

  it('uses relative URIs with %SRCROOT%, the ! chain for archive members, and fingerprints', () => {
    const log = JSON.parse(formatSarif(goldenInput())) as SarifLog;
    const results = log.runs[0]!.results;
    for (const r of results) {
      const loc = r.locations[0]!.physicalLocation;
      expect(loc.artifactLocation.uriBaseId).toBe('%SRCROOT%');
      expect(loc.artifactLocation.uri).not.toMatch(/^[A-Za-z][A-Za-z0-9+.-]*:|^\//);
      expect(r.partialFingerprints['pubguardSecret/v1']).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    const deep = results.find((r) => r.locations[0]!.logicalLocations[0]!.fullyQualifiedName.startsWith('dist/bundle.zip!'))!;
    expect(deep.locations[0]!.physicalLocation.artifactLocation.uri).toBe(
      'dist/bundle.zip!inner/pkg-1.0.0.tgz!package/vendor/lib-1.0-py3-none-any.whl!lib/settings.py',
    );
    expect(deep.locations[0]!.physicalLocation.region).toEqual({ startLine: 3 });
    const weird = results.find((r) => r.locations[0]!.logicalLocations[0]!.fullyQualifiedName.startsWith('dist/we'))!;
    const uri = weird.locations[0]!.physicalLocation.artifactLocation.uri;
    const [outer, inner] = uri.split('!');
    expect(decodeURIComponent(outer!.replace(/^dist\//, ''))).toBe('we<i>rd & "q\'uote", 100%: #1.tgz');
    expect(decodeURIComponent(inner!.replace(/^package\//, ''))).toBe('evil\nname\u0007\u001b[31m.js');
    expect(weird.message.text).not.toMatch(/[\u0000-\u001f]/);
  });

  it('gives the start column in UTF-16 code units where the finding has it, else none, and the byte offset and column in properties', () => {
    const log = JSON.parse(formatSarif(goldenInput())) as SarifLog;
    const results = log.runs[0]!.results as (SarifResult & { properties: { byteOffset: number; byteColumn: number } })[];
    const input = sortFindings(goldenInput().findings);
    expect(input.some((f) => f.location.utf16Column !== undefined && f.location.utf16Column !== f.location.column)).toBe(true);
    expect(input.some((f) => f.location.utf16Column === undefined && f.location.column > 1)).toBe(true);
    expect(results.map((r) => r.locations[0]!.physicalLocation.region.startColumn)).toEqual(
      input.map((f) => f.location.utf16Column ?? (f.location.column === 1 ? 1 : undefined)),
    );
    for (const r of results) if (r.locations[0]!.physicalLocation.region.startColumn === undefined) expect(Object.keys(r.locations[0]!.physicalLocation.region)).toEqual(['startLine']);
    expect(results.map((r) => r.properties.byteOffset)).toEqual(input.map((f) => f.location.byteOffset));
    expect(results.map((r) => r.properties.byteColumn)).toEqual(input.map((f) => f.location.column));
  });

  it('declares the line breaks lines are counted by, a lone CR among them, as SARIF defaults to CR LF and LF only', () => {
    const run = (JSON.parse(formatSarif(goldenInput())) as { runs: { newlineSequences?: string[] }[] }).runs[0];
    expect(run?.newlineSequences).toEqual(['\r\n', '\n', '\r']);
  });

  it('reports errors as notifications and marks the run unsuccessful', () => {
    const log = JSON.parse(formatSarif(goldenInput())) as SarifLog;
    const inv = log.runs[0]!.invocations[0]!;
    expect(inv.executionSuccessful).toBe(false);
    expect(inv.toolExecutionNotifications.map((n) => n.message.text)).toEqual([
      expect.stringContaining('dist/bomb.tgz!package/huge.bin: limit:'),
      expect.stringContaining('dist/broken.whl: corrupt:'),
    ]);
  });

  it('describes a rule missing from input.rules from its findings', () => {
    const input = goldenInput();
    input.rules = [];
    const log = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(log)).toBe(true);
    expect(log.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual(['github-classic-token', 'aws-access-key-id']);
  });

  it('makes absolute paths below srcRoot relative, and Windows separators forward', () => {
    const input = emptyInput();
    input.findings = [
      finding('/home/ci/repo/dist/a.tgz', ['package/x.js'], 1, 1, RULES[0]!, 'ghp_-label-abs-0001'),
      finding('/elsewhere/b.js', [], 1, 1, RULES[0]!, 'ghp_-label-abs-0002'),
      finding('./dist/c.js', [], 1, 1, RULES[0]!, 'ghp_-label-abs-0003'),
    ];
    const log = JSON.parse(formatSarif(input, { srcRoot: '/home/ci/repo' })) as SarifLog;
    expect(validate(log)).toBe(true);
    const uris = log.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
    expect(uris).toEqual([
      { uri: 'dist/c.js', uriBaseId: '%SRCROOT%' },
      { uri: 'file:///elsewhere/b.js' },
      { uri: 'dist/a.tgz!package/x.js', uriBaseId: '%SRCROOT%' },
    ]);
  });

  it('makes absolute paths below srcRoot relative also where the scan shortened a token in its name', () => {
    const token = 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789';
    const masked = 'ghp_aB…6789';
    const input = emptyInput();
    input.findings = [
      finding(`/home/ci/${masked}/repo/dist/a.tgz`, ['package/x.js'], 1, 1, RULES[0]!, 'ghp_-label-masked-0001'),
      finding(`/home/ci/${token}/repo/dist/b.js`, [], 1, 1, RULES[0]!, 'ghp_-label-masked-0002'),
      finding(`/home/ci/${masked}/other/c.js`, [], 1, 1, RULES[0]!, 'ghp_-label-masked-0003'),
    ];
    input.errors = [{ path: `/home/ci/${masked}/repo/dist/broken.tgz`, kind: 'corrupt', message: 'truncated' }];
    const log = JSON.parse(formatSarif(input, { srcRoot: `/home/ci/${token}/repo`, maskedSrcRoot: `/home/ci/${masked}/repo` })) as SarifLog;
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const uris = log.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
    // The one in full (`--show-secrets`) below srcRoot itself; one outside both stays a file: URI, shortened.
    expect(uris).toEqual(
      expect.arrayContaining([
        { uri: `file:///home/ci/${encodeURIComponent(masked)}/other/c.js` },
        { uri: 'dist/a.tgz!package/x.js', uriBaseId: '%SRCROOT%' },
        { uri: 'dist/b.js', uriBaseId: '%SRCROOT%' },
      ]),
    );
    expect(uris).toHaveLength(3);
    const notification = log.runs[0]!.invocations[0]!.toolExecutionNotifications[0] as unknown as { locations: { physicalLocation: { artifactLocation: unknown } }[] };
    expect(notification.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: 'dist/broken.tgz', uriBaseId: '%SRCROOT%' });
    // Without maskedSrcRoot, as before: a shortened path is no path below srcRoot.
    const plain = JSON.parse(formatSarif(input, { srcRoot: `/home/ci/${token}/repo` })) as SarifLog;
    const result = plain.runs[0]!.results.find((r) => r.locations[0]!.logicalLocations[0]!.fullyQualifiedName.endsWith('a.tgz!package/x.js'));
    expect(result?.locations[0]!.physicalLocation.artifactLocation.uri).toMatch(/^file:/);
  });

  it('takes helpUri from the first reference that is a URI, so free-text references stay valid', () => {
    const input = emptyInput();
    const custom = { id: 'acme-key', title: 'Acme API key', severity: 'high' as const };
    input.rules = [{ ...custom, references: ['internal wiki: Acme keys', 'https://wiki.example.com/acme keys', 'https://wiki.example.com/acme'] }];
    input.findings = [finding('dist/a.js', [], 1, 1, custom, 'acme-label-0001')];
    const log = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.runs[0]!.tool.driver.rules[0]!.helpUri).toBe('https://wiki.example.com/acme');
    input.rules = [{ ...custom, references: ['see the security handbook'] }];
    const plain = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(plain)).toBe(true);
    expect(plain.runs[0]!.tool.driver.rules[0]!.helpUri).toBeUndefined();
  });

  it('encodes a ! inside a name, so only the ! between an archive and its member is bare', () => {
    const input = emptyInput();
    input.findings = [finding('dist/wow!.tgz', ['package/vendor/a!b.whl', 'pkg/c!d.py'], 1, 1, RULES[0]!, 'ghp_-label-bang-0001')];
    const log = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(log)).toBe(true);
    const uri = log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri;
    expect(uri).toBe('dist/wow%21.tgz!package/vendor/a%21b.whl!pkg/c%21d.py');
    expect(uri.split('!').map(decodeURIComponent)).toEqual(['dist/wow!.tgz', 'package/vendor/a!b.whl', 'pkg/c!d.py']);
  });

  it('handles Windows paths: relative below srcRoot, file: URIs outside it', () => {
    const input = emptyInput();
    input.findings = [
      finding('C:\\repo\\dist\\a b.tgz', ['package/x.js'], 1, 1, RULES[0]!, 'ghp_-label-win-0001'),
      finding('D:\\other\\c.js', [], 1, 1, RULES[0]!, 'ghp_-label-win-0002'),
    ];
    const log = JSON.parse(formatSarif(input, { srcRoot: 'C:\\repo' })) as SarifLog;
    expect(validate(log)).toBe(true);
    const uris = log.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
    expect(uris).toEqual([
      { uri: 'dist/a%20b.tgz!package/x.js', uriBaseId: '%SRCROOT%' },
      { uri: 'file:///D:/other/c.js' },
    ]);
  });

  it('words a finding without a secret value without an empty secret', () => {
    const input = emptyInput();
    input.findings = [{ ...finding('dist/a.tgz', ['package/.env'], 1, 1, RULES[0]!, 'label-path'), secret: '' }];
    const log = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(log)).toBe(true);
    expect(log.runs[0]!.results[0]!.message.text).toBe(
      'GitHub personal access token in dist/a.tgz!package/.env:1:1. Remove it from the artifact and rebuild; rotate any credential it contains.',
    );
  });

  it('places a secret found in a name on the file or directory as a whole, and says it is in its name', () => {
    const input = emptyInput();
    input.findings = [{ ...finding('dist/a.tgz', ['package/keys/ghp_…0007'], 1, 1, RULES[0]!, 'ghp_-label-name-0007'), in: 'name' }];
    const log = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const result = log.runs[0]!.results[0]!;
    expect(result.message.text).toBe('GitHub personal access token (ghp_…0007) in the name of dist/a.tgz!package/keys/ghp_…0007. Rotate the credential, remove it from the artifact, rebuild.');
    // Code scanning takes no result without a region: the file's first line stands for all of it.
    expect(result.locations[0]!.physicalLocation.region).toEqual({ startLine: 1, startColumn: 1 });
    expect((result as unknown as { properties: { in?: string } }).properties.in).toBe('name');
  });

  it("gives a rule whose findings have no secret value that advice in its help, not a secret's", () => {
    const input = emptyInput();
    const dotenv = { id: 'dotenv-file', title: 'Environment file (.env) in the package', severity: 'medium' as const };
    input.rules = [dotenv, RULES[0]!];
    input.findings = [
      { ...finding('dist/a.tgz', ['package/.env'], 1, 1, dotenv, 'label-path'), secret: '' },
      finding('dist/a.tgz', ['package/x.js'], 1, 1, RULES[0]!, 'ghp_-label-help-0001'),
    ];
    const log = JSON.parse(formatSarif(input)) as SarifLog;
    expect(validate(log)).toBe(true);
    const help = new Map(log.runs[0]!.tool.driver.rules.map((r) => [r.id, r.help.text]));
    expect(help.get('dotenv-file')).toContain('Remediation: Remove it from the artifact and rebuild; rotate any credential it contains.');
    expect(help.get('dotenv-file')).not.toContain('Rotate the credential');
    expect(help.get('github-classic-token')).toContain('Remediation: Rotate the credential, remove it from the artifact, rebuild.');
  });
});
