import type { ContentKind } from './detect.js';

/** What an archive's file name promises: the kind of content, and how to word it. */
const NAMED: readonly { suffix: string; kind: ContentKind; what: string }[] = [
  { suffix: '.tar.gz', kind: 'gzip', what: 'a gzip-compressed tarball (gzip)' },
  { suffix: '.tgz', kind: 'gzip', what: 'a gzip-compressed tarball (gzip)' },
  { suffix: '.gz', kind: 'gzip', what: 'gzip-compressed data' },
  { suffix: '.tar', kind: 'tar', what: 'a tarball (tar)' },
  { suffix: '.whl', kind: 'zip', what: 'a wheel (zip)' },
  { suffix: '.zip', kind: 'zip', what: 'a zip' },
  { suffix: '.jar', kind: 'zip', what: 'a jar (zip)' },
  { suffix: '.egg', kind: 'zip', what: 'an egg (zip)' },
];

/**
 * Why a file given by name, whose name says it is an archive, is no archive at all (a web page
 * saved under a wheel's name by a failed download, an empty file), or undefined when its
 * content is an archive or compressed data of any kind (a plain tar named `.tar.gz`, as a
 * download decompressed on the way leaves it, is opened and scanned as what it is) or its
 * name says nothing. `head` is its first bytes, `kind` what they are, `endsWithZip` whether it
 * ends with a zip behind a stub (as an executable jar does). Names are compared without
 * regard to case.
 */
export function namedKindMismatch(name: string, head: Uint8Array, kind: ContentKind, endsWithZip: boolean): string | undefined {
  if (kind !== 'plain') return undefined;
  const lower = name.toLowerCase();
  const named = NAMED.find((n) => lower.endsWith(n.suffix));
  if (named === undefined || (named.kind === 'zip' && endsWithZip)) return undefined;
  return `named like ${named.what} but it is no archive: its first bytes look like ${describePlain(head)}; scanned as a plain file`;
}

/** What the first bytes of content no archive reader takes look like, in a few words. */
function describePlain(head: Uint8Array): string {
  if (head.length === 0) return 'nothing (the file is empty)';
  const text = Buffer.from(head.subarray(0, 512)).toString('latin1');
  if (/^\s*</.test(text) && /<(!doctype html|html|head|body|title|\?xml)/i.test(text)) return 'text/HTML (a web page or an error page saved under that name?)';
  // Text: no control bytes but whitespace in what was read.
  if (!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) return 'text';
  return 'binary data, not an archive';
}
