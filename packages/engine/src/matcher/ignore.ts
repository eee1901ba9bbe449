// Inline markers that suppress a finding, ours and those of the tools people migrate from.
const SAME_LINE = /pubguard:allow(?!-next-line)|gitleaks:allow|trufflehog:ignore|pragma: ?allowlist secret|secretlint-disable-line/;
const NEXT_LINE = /pubguard:allow-next-line|secretlint-disable-next-line|pragma: ?allowlist nextline secret/;

// Long minified lines would make a same-line marker suppress everything in the bundle.
const MAX_MARKER_DISTANCE = 512;

/**
 * True when the text around `[start, end)` carries an inline ignore marker: on the same
 * line (within a short distance of the match), or a next-line marker on the line above.
 */
export function isInlineIgnored(text: string, start: number, end: number): boolean {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  let lineEnd = text.indexOf('\n', end);
  if (lineEnd < 0) lineEnd = text.length;
  const from = Math.max(lineStart, start - MAX_MARKER_DISTANCE);
  const to = Math.min(lineEnd, end + MAX_MARKER_DISTANCE);
  if (SAME_LINE.test(text.slice(from, to))) return true;
  if (lineStart === 0) return false;
  const prevStart = text.lastIndexOf('\n', lineStart - 2) + 1;
  const prev = text.slice(Math.max(prevStart, lineStart - 1 - MAX_MARKER_DISTANCE), lineStart - 1);
  return NEXT_LINE.test(prev);
}
