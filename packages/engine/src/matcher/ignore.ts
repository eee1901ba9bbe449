// Inline markers that suppress a finding, ours and those of the tools people migrate from.
// A marker is a whole word: no identifier character just before it, and none just after it
// (nor a hyphen going on with one: `pubguard:allow-next-line` is not `pubguard:allow`), so
// `pubguard:allowed` or `xgitleaks:allow` in a sentence suppress nothing, while
// `<!--pubguard:allow-->` and `--pubguard:allow` still work.
function markers(alternatives: string): RegExp {
  return new RegExp(`(?<![A-Za-z0-9_$])(?:${alternatives})(?![A-Za-z0-9_$]|-[A-Za-z0-9_$])`, 'g');
}

const SAME_LINE = markers('pubguard:allow|gitleaks:allow|trufflehog:ignore|pragma: ?allowlist secret|secretlint-disable-line');
const NEXT_LINE = markers('pubguard:allow-next-line|secretlint-disable-next-line|pragma: ?allowlist nextline secret');

// A marker before the match counts only where it opens a comment: in a minified bundle a
// regex or string holding a marker (`var re=/gitleaks:allow/;`) must not hide a key after it.
const COMMENT_OPENER = /(?:\/\/|\/\*|#|<!--|--)[ \t]*$/;

/**
 * How far from the match a same-line marker may be, in bytes: the rest of a statement and its
 * trailing comment. Farther along a long minified line it belongs to other code.
 */
export const MARKER_DISTANCE = 256;

// How far back the line above is read for a next-line marker.
const PREVIOUS_LINE_REACH = 512;

/** Start offsets of the whole-word markers of `re` lying within [from, to) of `text`. */
function markersWithin(re: RegExp, text: string, from: number, to: number): Array<{ at: number; end: number }> {
  const found: Array<{ at: number; end: number }> = [];
  // Matched on the whole text, so the word-boundary checks see the real neighbouring bytes.
  re.lastIndex = from;
  for (let m = re.exec(text); m !== null && m.index < to; m = re.exec(text)) {
    if (m.index + m[0].length <= to) found.push({ at: m.index, end: m.index + m[0].length });
  }
  return found;
}

/**
 * True when the text around the match `[start, end)` carries an inline ignore marker, as a
 * whole word:
 * - on the match's line after the match, starting at most MARKER_DISTANCE bytes after its end
 *   (`key = "…" # pubguard:allow`);
 * - on the match's line before it, opening a comment (`//`, `/*`, `#`, `<!--` or `--`, then
 *   the marker) that ends at most MARKER_DISTANCE bytes before the match
 *   (`/* pubguard:allow *\/ key = "…"`);
 * - a next-line marker on the line just above (`# pubguard:allow-next-line`).
 */
export function isInlineIgnored(text: string, start: number, end: number): boolean {
  const lineStart = lineBreakBefore(text, start) + 1;
  const lineEnd = lineEndFrom(text, end);
  // Reach a little past the distance, so a marker starting just within it is read whole.
  const longest = 32;
  const from = Math.max(lineStart, start - MARKER_DISTANCE - longest);
  const to = Math.min(lineEnd, end + MARKER_DISTANCE + longest);
  for (const marker of markersWithin(SAME_LINE, text, from, to)) {
    if (marker.at >= start) {
      if (marker.at - end <= MARKER_DISTANCE) return true;
    } else if (marker.end <= start && start - marker.end <= MARKER_DISTANCE) {
      if (COMMENT_OPENER.test(text.slice(Math.max(lineStart, marker.at - 16), marker.at))) return true;
    }
  }
  if (lineStart === 0) return false;
  // The line above ends where the break before this line begins (its CR, for a CR LF pair).
  const prevEnd = lineStart >= 2 && text.charCodeAt(lineStart - 1) === 10 && text.charCodeAt(lineStart - 2) === 13 ? lineStart - 2 : lineStart - 1;
  const prevStart = lineBreakBefore(text, prevEnd) + 1;
  return markersWithin(NEXT_LINE, text, Math.max(prevStart, prevEnd - PREVIOUS_LINE_REACH), prevEnd).length > 0;
}

/**
 * Where the last line break before `at` ends, or -1: lines end at a line feed, a carriage
 * return, or both together (CR LF), as editors count them, so classic Mac OS text has lines.
 */
function lineBreakBefore(text: string, at: number): number {
  if (at <= 0) return -1;
  return Math.max(text.lastIndexOf('\n', at - 1), text.lastIndexOf('\r', at - 1));
}

/** Where the line holding `at` ends: its first CR or LF at or after `at`, or the text's end. */
function lineEndFrom(text: string, at: number): number {
  const lf = text.indexOf('\n', at);
  const cr = text.indexOf('\r', at);
  if (lf < 0) return cr < 0 ? text.length : cr;
  return cr < 0 ? lf : Math.min(lf, cr);
}
