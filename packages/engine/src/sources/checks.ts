import { posix } from 'node:path';
import type { Severity } from '@pubguard/rules';
import type { SourceStructure } from './types.js';
import { structure } from './context.js';

/** An archive-structure check described as a rule is, for reports and configs. */
export interface StructureRule {
  id: string;
  title: string;
  severity: Severity;
  description: string;
}

// A finding's title adds the entry's own detail to these titles; a report describing the
// check itself (a SARIF rule descriptor) needs them without it.
/** The archive-structure checks, whose findings carry these rule ids (docs/limits.md). */
export const STRUCTURE_RULES: readonly StructureRule[] = [
  {
    id: 'archive-path-traversal',
    title: 'Archive entry path escapes the extraction directory',
    severity: 'high',
    description: 'An entry name with a `..` segment or an absolute path: extracting the archive can write outside the target directory (zip-slip).',
  },
  {
    id: 'archive-link-outside',
    title: 'Archive link points outside the archive',
    severity: 'high',
    description: 'A symbolic or hard link whose target leaves the archive root or is absolute: extracting it exposes or overwrites files elsewhere on the system.',
  },
  {
    id: 'archive-device-file',
    title: 'Archive contains a device or FIFO entry',
    severity: 'high',
    description: 'A character or block device or a FIFO: extracting it as root creates a special file, which a package never needs.',
  },
  {
    id: 'archive-setuid',
    title: 'Archive entry has the setuid or setgid bit',
    severity: 'high',
    description: "An entry with the setuid or setgid bit: once extracted it runs with its owner's or group's privileges.",
  },
  {
    id: 'archive-duplicate-entry',
    title: 'Archive holds the same entry name twice with different content',
    severity: 'high',
    description: 'The same entry name twice with different content: extractors disagree on which copy wins, so what was reviewed may not be what gets installed.',
  },
  {
    id: 'archive-nonfile-data',
    title: 'Archive link or device entry carries data',
    severity: 'high',
    description:
      "A tar link, device or FIFO entry with a size above zero: tar-stream skips that many bytes as its data, while Python's tarfile (pip, for sdists) and GNU tar read them as further entries and extract those.",
  },
];

const TITLES = new Map(STRUCTURE_RULES.map((r) => [r.id, r.title]));

/** A structure finding with the title of its check. */
function structureFinding(chain: string[], ruleId: string, detail: string): SourceStructure {
  return structure(chain, ruleId, TITLES.get(ruleId) ?? ruleId, detail);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const NON_ASCII = /[^\x00-\x7f]/;

/** Decodes an entry name: UTF-8 when it is valid UTF-8, else each byte as latin1 so it is still shown. */
export function decodeName(raw: Uint8Array): string {
  const latin1 = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  // Nearly every name is ASCII, which reads the same either way: for the 5 000 names of a
  // package, the UTF-8 decoder took about 10 ms in a fresh process, this test under 1 ms.
  return NON_ASCII.test(latin1) ? utf8OrLatin1(raw, latin1) : latin1;
}

/** `decodeName` of a name that a reader has already decoded byte for byte as latin1. */
export function decodeLatin1Name(latin1: string): string {
  return NON_ASCII.test(latin1) ? utf8OrLatin1(Buffer.from(latin1, 'latin1'), latin1) : latin1;
}

/** `raw` as UTF-8 when it is valid UTF-8, else `latin1`, the same bytes read one per character. */
function utf8OrLatin1(raw: Uint8Array, latin1: string): string {
  try {
    return UTF8.decode(raw);
  } catch {
    return latin1;
  }
}

/** The file-type bits of a Unix mode. */
export type UnixType = 'file' | 'directory' | 'symlink' | 'character-device' | 'block-device' | 'fifo' | 'socket' | 'other';

/** Classifies the file-type bits of a Unix mode (as stored in tar headers and zip external attributes). */
export function unixType(mode: number): UnixType {
  switch (mode & 0o170000) {
    case 0o100000:
    case 0:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    case 0o020000:
      return 'character-device';
    case 0o060000:
      return 'block-device';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    default:
      return 'other';
  }
}

/** Findings about an entry's name: `..` segments or an absolute path. */
export function checkName(chain: string[], name: string): SourceStructure | undefined {
  const absolute = name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name);
  // Few names hold "..": splitting all 5 000 names of a package took 3–6 ms, looking first under 0.5 ms.
  const dotdot = name.includes('..') && name.split(/[/\\]/).includes('..');
  if (!absolute && !dotdot) return undefined;
  const why = absolute ? 'is an absolute path' : 'contains a ".." segment';
  return structureFinding(
    chain,
    'archive-path-traversal',
    `entry name "${name}" ${why}: extracting the archive can write outside the target directory (zip-slip)`,
  );
}

/**
 * Findings about a link entry whose target resolves outside the archive root. Symbolic
 * links resolve from the entry's directory, hard links from the archive root.
 */
export function checkLink(chain: string[], name: string, target: string, hard: boolean): SourceStructure | undefined {
  const t = target.replace(/\\/g, '/');
  let outside: boolean;
  if (t.startsWith('/') || /^[A-Za-z]:/.test(t)) {
    outside = true;
  } else {
    const base = hard ? '.' : posix.dirname(name.replace(/\\/g, '/').replace(/^\/+/, ''));
    const resolved = posix.normalize(posix.join(base, t));
    outside = resolved === '..' || resolved.startsWith('../');
  }
  if (!outside) return undefined;
  const kind = hard ? 'hard link' : 'symbolic link';
  return structureFinding(
    chain,
    'archive-link-outside',
    `${kind} "${name}" points to "${target}", outside the archive root: extracting it can expose or overwrite files elsewhere on the system`,
  );
}

/** A finding for device and FIFO entries, which no package needs. */
export function checkDevice(chain: string[], name: string, type: UnixType): SourceStructure | undefined {
  if (type !== 'character-device' && type !== 'block-device' && type !== 'fifo') return undefined;
  const what = type === 'fifo' ? 'a FIFO' : `a ${type.replace('-', ' ')}`;
  return structureFinding(
    chain,
    'archive-device-file',
    `entry "${name}" is ${what}: extracting it as root creates a special file, which a package never needs`,
  );
}

/**
 * A finding for a tar link, device or FIFO entry whose header gives it data. Readers disagree
 * on where the next header is: tar-stream skips the data, Python's tarfile and GNU
 * tar (extracting) read the next block as a header, so the data can hold whole entries that
 * one side extracts and the other never sees.
 */
export function checkNonFileData(chain: string[], name: string, type: string, size: number): SourceStructure {
  const what = type === 'symlink' ? 'symbolic link' : type === 'link' ? 'hard link' : type === 'fifo' ? 'FIFO' : type.replace('-', ' ');
  return structureFinding(
    chain,
    'archive-nonfile-data',
    `${what} "${name}" carries ${size} bytes of data: tar-stream skips them, Python's tarfile (pip, for sdists) and GNU tar read them as further entries and extract those; they are scanned as the content of "${name}"`,
  );
}

/**
 * A finding for setuid or setgid permission bits on an entry extracted as a file. On a
 * directory the setgid bit only passes the directory's group on to what is created in it (a
 * build run in a group-shared directory leaves it on every directory of the archive: 36 in one
 * Eclipse jar), and no extractor applies a symbolic link's mode.
 */
export function checkSetuid(chain: string[], name: string, mode: number, kind: 'directory' | 'symlink' | 'other'): SourceStructure | undefined {
  const bits = mode & 0o6000;
  if (bits === 0 || kind !== 'other') return undefined;
  const which = bits === 0o6000 ? 'setuid and setgid bits' : bits === 0o4000 ? 'setuid bit' : 'setgid bit';
  return structureFinding(
    chain,
    'archive-setuid',
    `entry "${name}" has the ${which} (mode ${(mode & 0o7777).toString(8)}): once extracted it runs with its owner's or group's privileges`,
  );
}

/**
 * Remembers entry names of one archive to report a name seen twice with different
 * content. The key is cheap: the size, plus the CRC-32 when the container stores one.
 */
export class DuplicateTracker {
  private readonly seen = new Map<string, string>();

  /** A finding when `name` was seen before with a different signature (a readable size/CRC text). */
  check(chain: string[], name: string, signature: string): SourceStructure | undefined {
    const prev = this.seen.get(name);
    if (prev === undefined) {
      this.seen.set(name, signature);
      return undefined;
    }
    if (prev === signature) return undefined;
    return structureFinding(
      chain,
      'archive-duplicate-entry',
      `entry "${name}" appears more than once with different content (first ${prev}, then ${signature}): extractors disagree on which copy wins, so what was reviewed may not be what gets installed`,
    );
  }
}
