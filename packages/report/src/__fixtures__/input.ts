import { createHash } from 'node:crypto';
import type { Finding, ScanError } from '@pubguard/engine';
import type { ReportInput, RuleInfo } from '../types.js';

// Fingerprints are derived at test time from labels, never from anything secret-looking.
function fp(label: string): string {
  return `sha256:${createHash('sha256').update(label).digest('hex')}`;
}

/** Builds a finding; `entry` is the chain of archive members below the artifact. */
export function finding(
  artifact: string,
  entry: string[],
  line: number,
  column: number,
  rule: Pick<RuleInfo, 'id' | 'title' | 'severity'>,
  label: string,
): Finding {
  return {
    ruleId: rule.id,
    title: rule.title,
    severity: rule.severity,
    confidence: 'high',
    path: [artifact, ...entry].join('!'),
    location: { artifact, entry, line, column, byteOffset: (line - 1) * 80 + column - 1 },
    secret: `${label.slice(0, 4)}…${label.slice(-4)}`,
    fingerprint: fp(`${rule.id}:${label}`),
  };
}

/** `f` with its column in UTF-16 code units, as the engine gives it when its line starts in the bytes it matched. */
export function withUtf16Column(f: Finding, utf16Column: number): Finding {
  return { ...f, location: { ...f.location, utf16Column } };
}

/** Rule metadata of the two rules the fixture uses. */
export const RULES: RuleInfo[] = [
  {
    id: 'github-classic-token',
    title: 'GitHub personal access token',
    severity: 'critical',
    description: 'A GitHub classic token (ghp_, gho_, ghu_, ghs_, ghr_) with a valid CRC-32 checksum.',
    references: ['https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/'],
  },
  {
    id: 'aws-access-key-id',
    title: 'AWS access key ID',
    severity: 'high',
    references: ['https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html'],
  },
];

const [GITHUB, AWS] = RULES as [RuleInfo, RuleInfo];

/**
 * The golden input: a plain file, a finding three archives deep, awkward characters, two errors;
 * with `decoded`, also a secret found by decoding base64; with `named`, also one found in the
 * name of a directory in a tarball (its path shortened as the engine shows it).
 */
export function goldenInput(options: { decoded?: boolean; named?: boolean } = {}): ReportInput {
  const findings: Finding[] = [
    // Three archives deep: a zip holding a tgz holding a wheel.
    finding('dist/bundle.zip', ['inner/pkg-1.0.0.tgz', 'package/vendor/lib-1.0-py3-none-any.whl', 'lib/settings.py'], 3, 17, AWS, 'AKIA-label-deep-0001'),
    // Characters that need escaping in XML, URIs, workflow commands and terminals.
    // Two characters of two bytes before the secret on its line: 9 bytes, 7 UTF-16 units.
    withUtf16Column(
      finding('dist/we<i>rd & "q\'uote", 100%: #1.tgz', ['package/evil\nname\u0007\u001b[31m.js'], 2, 9, GITHUB, 'ghp_-label-escape-0002'),
      7,
    ),
    withUtf16Column(finding('dist/app/config.js', [], 12, 5, GITHUB, 'ghp_-label-plain-0003'), 5),
    finding('dist/app/config.js', [], 40, 1, AWS, 'AKIA-label-plain-0004'),
  ];
  // Found by decoding base64: an inline source map on the bundle's last line.
  if (options.decoded) findings.push({ ...finding('dist/app/bundle.js', [], 2, 1459, GITHUB, 'ghp_-label-base64-0005'), encoding: 'base64' });
  if (options.named) findings.push({ ...finding('dist/pkg-1.0.0.tgz', ['package/keys/ghp_…0006'], 1, 1, GITHUB, 'ghp_-label-name-0006'), in: 'name' });
  const errors: ScanError[] = [
    {
      path: 'dist/broken.whl',
      kind: 'corrupt',
      message: 'zip end of central directory not found: the file is truncated or not a zip archive',
    },
    {
      path: 'dist/bomb.tgz!package/huge.bin',
      kind: 'limit',
      message: 'entry is larger than 268435456 bytes uncompressed; raise --max-entry-bytes to scan it',
      limit: 'maxEntryBytes',
    },
  ];
  return {
    tool: { name: 'pubguard', version: '0.1.0' },
    findings,
    errors,
    stats: { artifacts: 4, files: 57, bytes: 3_456_789, durationMs: 1234 },
    rules: RULES,
  };
}

/** A report with nothing in it. */
export function emptyInput(): ReportInput {
  return {
    tool: { name: 'pubguard', version: '0.1.0' },
    findings: [],
    errors: [],
    stats: { artifacts: 1, files: 3, bytes: 2048, durationMs: 12 },
    rules: [],
  };
}
