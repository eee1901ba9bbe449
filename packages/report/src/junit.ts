import type { Finding } from '@pubguard/engine';
import { escapeChar } from './escape.js';
import { groupBy, sortErrors, sortFindings } from './order.js';
import { remediation } from './remedy.js';
import type { ReportInput } from './types.js';

// Characters XML 1.0 cannot carry at all, not even as character references: most C0
// controls, lone surrogates, U+FFFE and U+FFFF. They are written as visible escapes instead.
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function replaceInvalid(text: string): string {
  return text.replace(NOT_XML, escapeChar);
}

/** Escapes text for element content. */
function xmlText(text: string): string {
  return replaceInvalid(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes text for a double-quoted attribute; tab and newlines as references so parsers keep them. */
function xmlAttr(text: string): string {
  return xmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function failure(f: Finding): string {
  const where = f.in === 'name' ? `${f.path} (in the name)` : `${f.path}:${f.location.line}:${f.location.column}`;
  const message = `${f.title} (${f.severity}) at ${where}`;
  const body = [
    `rule: ${f.ruleId}`,
    `severity: ${f.severity}`,
    `confidence: ${f.confidence}`,
    `location: ${where}`,
    ...(f.secret === '' ? [] : [`secret: ${f.secret}`]),
    ...(f.encoding === undefined ? [] : [`encoding: ${f.encoding}`]),
    `fingerprint: ${f.fingerprint}`,
    remediation(f),
  ].join('\n');
  return `      <failure${attrs({ type: f.ruleId, message })}>${xmlText(body)}</failure>`;
}

/**
 * JUnit XML: one `<testsuite>` per artifact with findings, holding one `<testcase>` for the
 * artifact and one `<failure>` per finding; one more suite for scan errors if any. With no
 * findings, a single passing suite stands for the whole scan so CI shows it ran.
 */
export function formatJunit(input: ReportInput): string {
  const findings = sortFindings(input.findings);
  const errors = sortErrors(input.errors);
  const suites: string[] = [];
  const groups = groupBy(findings, (f) => f.location.artifact);
  for (const [artifact, list] of groups) {
    suites.push(
      `  <testsuite${attrs({ name: artifact, tests: 1, failures: 1, errors: 0, skipped: 0, time: '0.000' })}>`,
      `    <testcase${attrs({ classname: 'pubguard.scan', name: artifact, time: '0.000' })}>`,
      ...list.map(failure),
      '    </testcase>',
      '  </testsuite>',
    );
  }
  if (groups.size === 0) {
    const name = `${input.stats.artifacts} artifact${input.stats.artifacts === 1 ? '' : 's'} scanned`;
    suites.push(
      `  <testsuite${attrs({ name: 'pubguard', tests: 1, failures: 0, errors: 0, skipped: 0, time: seconds(input.stats.durationMs) })}>`,
      `    <testcase${attrs({ classname: 'pubguard.scan', name, time: seconds(input.stats.durationMs) })}/>`,
      '  </testsuite>',
    );
  }
  if (errors.length > 0) {
    suites.push(
      `  <testsuite${attrs({ name: 'pubguard errors', tests: errors.length, failures: 0, errors: errors.length, skipped: 0, time: '0.000' })}>`,
    );
    for (const e of errors) {
      const detail = e.limit !== undefined ? `${e.message}\nlimit: ${e.limit}` : e.message;
      suites.push(
        `    <testcase${attrs({ classname: 'pubguard.errors', name: e.path, time: '0.000' })}>`,
        `      <error${attrs({ type: e.kind, message: e.message })}>${xmlText(detail)}</error>`,
        '    </testcase>',
      );
    }
    suites.push('  </testsuite>');
  }
  const tests = Math.max(groups.size, 1) + errors.length;
  const head = `<testsuites${attrs({ name: 'pubguard', tests, failures: groups.size, errors: errors.length, time: seconds(input.stats.durationMs) })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites, '</testsuites>', ''].join('\n');
}
