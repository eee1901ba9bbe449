/** A key written twice in one object of a JSON text. */
export interface DuplicateJsonKey {
  /** Where the key is, as `rule.minApprovers`, `findings[2].fingerprint` or `approvers["a.b"]`. */
  path: string;
  /** The key as JSON.parse reads it (escapes decoded). */
  key: string;
  /** 1-based line and column of its second occurrence, the one JSON.parse keeps. */
  line: number;
  column: number;
  /** 1-based line of its first occurrence, the one a reader of the file may take for it. */
  firstLine: number;
}

type Frame = { kind: 'object'; keys: Map<string, number>; key: string | undefined; expectKey: boolean } | { kind: 'array'; index: number };

const PLAIN_SEGMENT = /^[A-Za-z0-9_$@-][A-Za-z0-9_$@-]*$/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The first key that one object of `text` holds twice, or undefined. JSON.parse keeps the last
 * of them without a word, so a file a person reviews can say one thing and mean another: keys
 * are compared as JSON.parse decodes them (`"a"` and `"\u0061"` are the same key). `text`
 * must be JSON that JSON.parse accepted (a leading BOM is skipped): the tokenizer checks no
 * syntax. It keeps its own stack rather than recursing, so nesting as deep as JSON.parse
 * takes cannot overflow it.
 */
export function findDuplicateJsonKey(text: string): DuplicateJsonKey | undefined {
  const stack: Frame[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7b /* { */) {
      stack.push({ kind: 'object', keys: new Map(), key: undefined, expectKey: true });
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push({ kind: 'array', index: 0 });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      if (top?.kind === 'array') top.index++;
      else if (top?.kind === 'object') top.expectKey = true;
      i++;
    } else if (c === 0x22 /* " */) {
      const start = i;
      const { value, end } = readString(text, i);
      i = end;
      if (top?.kind === 'object' && top.expectKey) {
        top.expectKey = false;
        const first = top.keys.get(value);
        if (first !== undefined) {
          const at = lineColumn(text, start);
          return { path: keyPath(stack, value), key: value, line: at.line, column: at.column, firstLine: lineColumn(text, first).line };
        }
        top.keys.set(value, start);
        top.key = value;
      }
    } else {
      // Whitespace, ':' and the characters of numbers, true, false and null.
      i++;
    }
  }
  return undefined;
}

/** The decoded string that starts with the quote at `start`, and the offset after its closing quote. */
function readString(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let value = '';
  let run = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return { value: value + text.slice(run, i), end: i + 1 };
    if (c !== 0x5c) {
      i++;
      continue;
    }
    value += text.slice(run, i);
    const e = text[i + 1] ?? '';
    if (e === 'u') {
      // One UTF-16 unit per escape, as JSON.parse decodes it: a pair of them makes one character.
      value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      value += ESCAPES[e] ?? e;
      i += 2;
    }
    run = i;
  }
  return { value: value + text.slice(run), end: text.length };
}

function keyPath(stack: readonly Frame[], key: string): string {
  let path = '';
  // The innermost frame is the object holding the key twice; each outer one names where it is.
  for (const frame of stack.slice(0, -1)) path += frame.kind === 'array' ? `[${frame.index}]` : segment(frame.key ?? '', path === '');
  path += segment(key, path === '');
  // The end of a path names the key; its start only says how deep it is.
  return path.length > 200 ? `…${path.slice(-199)}` : path;
}

function segment(key: string, first: boolean): string {
  // A message naming a key of a megabyte would bury what it says.
  if (key.length > 60) key = `${key.slice(0, 59)}…`;
  if (!PLAIN_SEGMENT.test(key)) return `[${JSON.stringify(key)}]`;
  return first ? key : `.${key}`;
}

/** 1-based line and column of a UTF-16 offset, lines ending at LF, CR or CR LF as an editor shows them. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  // An editor shows no column for a BOM.
  let lineStart = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let i = lineStart; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
