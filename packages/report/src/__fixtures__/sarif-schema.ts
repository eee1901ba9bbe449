import { readFileSync } from 'node:fs';
import AjvDraft04 from 'ajv-draft-04';

const schema: unknown = JSON.parse(readFileSync(new URL('./sarif-schema-2.1.0.json', import.meta.url), 'utf8'));

// RFC 3986 character set: unreserved, reserved, and well-formed percent escapes only.
const URI_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/;

/** A validator of SARIF logs against the official SARIF 2.1.0 schema; its `errors` say what failed. */
export function sarifValidator() {
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false });
  // No ajv-formats dependency: the three formats the SARIF schema uses, checked strictly enough
  // to catch an unencoded path.
  ajv.addFormat('uri', (s: string) => URI_CHARS.test(s) && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s));
  ajv.addFormat('uri-reference', (s: string) => URI_CHARS.test(s));
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(schema as object);
}
