import { acceptCandidate, type CompiledRule, type CompiledRuleset } from '@pubguard/rules';
import { isInlineIgnored } from './ignore.js';
import { KeywordPrefilter } from './prefilter.js';

/**
 * Context kept around each rule window so that look-arounds and `\b` at a window's edge see
 * the real neighbouring bytes; a match touching an artificial edge is never trusted.
 */
export const WINDOW_MARGIN = 64;

/** How a segment of text sits in its file: which part it owns and whether its edges are the file's. */
export interface SegmentSpec {
  /** Matches starting in [ownedStart, ownedEnd) belong to this segment; the rest is context. */
  ownedStart: number;
  ownedEnd: number;
  atFileStart: boolean;
  atFileEnd: boolean;
  /** Path-gated rules (those with `paths`) whose globs match this file; others of them are skipped. */
  gated?: readonly number[];
}

/** A match that passed its validators, with positions relative to the segment. */
export interface RawMatch {
  rule: number;
  start: number;
  end: number;
  secretStart: number;
  secretEnd: number;
  secret: string;
  /** Newlines in [ownedStart, secretStart). */
  newlinesBefore: number;
  /** Position of the last newline in [ownedStart, secretStart), or -1. */
  lastNewline: number;
}

/** What a matcher found in one segment, and the line bookkeeping the caller needs. */
export interface SegmentResult {
  matches: RawMatch[];
  /**
   * Newlines in the owned range. Only the file's later segments need it, so a file's last
   * segment (`atFileEnd`) does not count them and says 0.
   */
  newlines: number;
  /** Position of the last newline in the owned range, relative to the segment, or -1 (always -1 at `atFileEnd`). */
  lastNewline: number;
  /** Candidates a validator or allowlist rejected (only counted; shown with --verbose). */
  suppressed: number;
}

interface ReadyRule {
  rule: CompiledRule;
  regex: RegExp;
  /**
   * For a rule that bounds where its keyword sits (`keywordWithin`): the same regex, sticky,
   * tried only where an occurrence of a keyword lets a match start, instead of at every
   * position of the window.
   */
  sticky: RegExp | undefined;
  /** Runs only in files whose path matches the rule's `paths`. */
  gated: boolean;
}

/** The detection core: keyword prefilter, rule regexes around hits, then validators. Does no I/O. */
export class Matcher {
  private readonly rules: ReadyRule[];
  private readonly prefilter: KeywordPrefilter;
  private readonly maxMatchLength: number;
  /** `maxLength` of each rule, by index. */
  private readonly maxLengths: Int32Array;
  /** `keywordWithin` of each rule, by index; -1 when the rule does not bound it. */
  private readonly keywordWithin: Int32Array;
  /** Rule windows of the segment being scanned (rule -> [from, to, from, to, ...]), filled by `onHit`. */
  private windows = new Map<number, number[]>();
  /** Length of the segment being scanned. */
  private segmentLength = 0;

  /**
   * `disabled`: rules not to run (stopped earlier for taking too long). `current`: when given,
   * the index of the rule being run is stored in slot 0 (-1 between rules), so a watchdog on
   * another thread can name the rule that hangs.
   */
  constructor(
    ruleset: CompiledRuleset,
    private readonly disabled: ReadonlySet<number> = new Set(),
    private readonly current?: Int32Array,
  ) {
    this.rules = ruleset.rules.map((rule) => {
      const flags = rule.flags.replace(/[gdy]/g, '');
      return {
        rule,
        // `d` gives group offsets; `g` lets one regex walk a whole merged window.
        regex: new RegExp(rule.source, `${flags}gd`),
        sticky: rule.keywordWithin === undefined ? undefined : new RegExp(rule.source, `${flags}yd`),
        gated: (rule.paths?.length ?? 0) > 0,
      };
    });
    this.prefilter = new KeywordPrefilter(ruleset.keywords, ruleset.keywordRules);
    this.maxMatchLength = ruleset.maxMatchLength;
    this.maxLengths = Int32Array.from(ruleset.rules, (rule) => rule.maxLength);
    this.keywordWithin = Int32Array.from(ruleset.rules, (rule) => rule.keywordWithin ?? -1);
  }

  /** The compiled rule at `index`. */
  rule(index: number): CompiledRule {
    const ready = this.rules[index];
    if (!ready) throw new RangeError(`no rule at index ${index}`);
    return ready.rule;
  }

  /**
   * Scans one segment of a file (bytes, or a latin1 string for convenience) and returns the
   * matches it owns. Only the windows around keyword hits are ever decoded to strings.
   */
  matchSegment(input: Uint8Array | string, spec: SegmentSpec): SegmentResult {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const windows = new Map<number, number[]>();
    const scanTo = Math.min(bytes.length, spec.ownedEnd + this.maxMatchLength);
    this.windows = windows;
    this.segmentLength = bytes.length;
    this.prefilter.scan(bytes, spec.ownedStart, scanTo, this.onHit);

    const matches: RawMatch[] = [];
    let suppressed = 0;
    for (const [r, list] of windows) {
      const ready = this.rules[r];
      if (!ready || this.disabled.has(r) || (ready.gated && !spec.gated?.includes(r))) continue;
      if (this.current) Atomics.store(this.current, 0, r);
      for (let i = 0; i < list.length; i += 2) {
        suppressed += this.runWindow(ready, r, bytes, list[i] ?? 0, list[i + 1] ?? 0, spec, matches);
      }
    }
    if (this.current) Atomics.store(this.current, 0, -1);
    matches.sort((a, b) => a.secretStart - b.secretStart || a.rule - b.rule);
    return { matches, suppressed, ...countLines(bytes, spec, matches) };
  }

  /**
   * Widens the current segment's rule windows around a keyword hit. One function for the
   * matcher's lifetime, not a closure per segment: the prefilter then always calls the same
   * target, which V8 inlines instead of deoptimizing on every new closure.
   */
  private readonly onHit = (pos: number, len: number, rules: readonly number[]): void => {
    for (const r of rules) {
      const max = this.maxLengths[r] ?? 0;
      const within = this.keywordWithin[r] ?? -1;
      // A match holding this hit starts at most `maxLength` before the keyword's end and, when
      // the rule says so, at most `within` bytes before the keyword.
      const from = Math.max(0, pos + len - max - WINDOW_MARGIN, within >= 0 ? pos - within - WINDOW_MARGIN : 0);
      const to = Math.min(this.segmentLength, pos + max + WINDOW_MARGIN);
      const list = this.windows.get(r);
      // Hits arrive in order, so merging with the last window keeps each list disjoint.
      if (list && list.length > 0 && (list[list.length - 1] ?? 0) >= from) {
        list[list.length - 1] = Math.max(list[list.length - 1] ?? 0, to);
      } else if (list) {
        list.push(from, to);
      } else {
        this.windows.set(r, [from, to]);
      }
    }
  };

  private runWindow(ready: ReadyRule, r: number, bytes: Buffer, from: number, to: number, spec: SegmentSpec, out: RawMatch[]): number {
    const { rule, regex, sticky } = ready;
    // latin1 keeps one character per byte, so string offsets are byte offsets.
    const window = bytes.toString('latin1', from, to);
    const artificialStart = from > 0 || !spec.atFileStart;
    const artificialEnd = to < bytes.length || !spec.atFileEnd;
    let suppressed = 0;
    // The first match starting at or after `at` (an index in the window), as `exec` with `g`
    // finds it. A rule that bounds where its keyword sits can only match from `within` bytes
    // before one of its keywords up to it: its sticky regex is tried there alone, which finds
    // the same match without trying every position in between (every URL in a package is a
    // hit of the URL rule, and its window is some 600 bytes long).
    const starts = sticky === undefined ? undefined : keywordStarts(window, rule.keywords ?? [], rule.keywordWithin ?? 0);
    let range = 0;
    const next = (at: number): RegExpExecArray | null => {
      if (sticky === undefined || starts === undefined) {
        regex.lastIndex = at;
        return regex.exec(window);
      }
      for (; range < starts.length; range += 2) {
        for (let s = Math.max(starts[range] ?? 0, at); s <= (starts[range + 1] ?? 0); s++) {
          sticky.lastIndex = s;
          const m = sticky.exec(window);
          if (m !== null) return m;
        }
      }
      return null;
    };
    let at = 0;
    for (;;) {
      const m = next(at);
      if (m === null) break;
      const start = from + m.index;
      const end = start + m[0].length;
      if (m[0].length === 0) {
        at = m.index + 1;
        continue;
      }
      if ((artificialStart && m.index === 0) || (artificialEnd && end === to)) {
        // Cut by the window: the real match (if any) starts later or is someone else's.
        at = m.index + 1;
        continue;
      }
      at = m.index + m[0].length;
      if (start < spec.ownedStart || start >= spec.ownedEnd) continue;
      const group = m.indices?.[rule.secretGroup];
      const secret = m[rule.secretGroup];
      if (!group || secret === undefined) continue;
      const verdict = acceptCandidate(rule, secret, m[0]);
      if (!verdict.ok || inlineIgnored(bytes, start, end)) {
        suppressed++;
        continue;
      }
      const secretStart = from + group[0];
      out.push({ rule: r, start, end, secretStart, secretEnd: secretStart + verdict.secret.length, secret: verdict.secret, newlinesBefore: 0, lastNewline: -1 });
    }
    return suppressed;
  }
}

/**
 * Where a match of a rule may start in `text`: from `within` characters before each occurrence
 * of one of its (lower-case) keywords up to the occurrence, as sorted, disjoint, inclusive
 * [first, last] pairs.
 */
function keywordStarts(text: string, keywords: readonly string[], within: number): number[] {
  const lower = text.toLowerCase();
  const found: number[] = [];
  for (const keyword of keywords) {
    if (keyword.length === 0) continue;
    for (let at = lower.indexOf(keyword); at >= 0; at = lower.indexOf(keyword, at + 1)) found.push(at);
  }
  if (keywords.length > 1) found.sort((a, b) => a - b);
  const ranges: number[] = [];
  for (const at of found) {
    const first = Math.max(0, at - within);
    if (ranges.length > 0 && (ranges[ranges.length - 1] ?? 0) >= first - 1) ranges[ranges.length - 1] = Math.max(ranges[ranges.length - 1] ?? 0, at);
    else ranges.push(first, at);
  }
  return ranges;
}

// Enough text around a match for the markers `isInlineIgnored` looks for: its line (up to
// the marker distance) and the line above.
const IGNORE_CONTEXT_BEFORE = 1200;
const IGNORE_CONTEXT_AFTER = 600;

function inlineIgnored(bytes: Buffer, start: number, end: number): boolean {
  const from = Math.max(0, start - IGNORE_CONTEXT_BEFORE);
  const text = bytes.toString('latin1', from, Math.min(bytes.length, end + IGNORE_CONTEXT_AFTER));
  return isInlineIgnored(text, start - from, end - from);
}

function countLines(bytes: Buffer, spec: SegmentSpec, matches: RawMatch[]): { newlines: number; lastNewline: number } {
  // The totals of a file's last segment would only place matches of later segments of the
  // file, and there are none: there, counting stops at the last match (most files have none).
  const lastMatch = matches[matches.length - 1];
  const until = spec.atFileEnd ? Math.min(spec.ownedEnd, lastMatch ? lastMatch.secretStart : spec.ownedStart) : spec.ownedEnd;
  let newlines = 0;
  let lastNewline = -1;
  let pos = spec.ownedStart;
  let next = 0;
  for (;;) {
    const nl = pos < until ? bytes.indexOf(10, pos) : -1;
    const stop = nl < 0 || nl >= until ? until : nl;
    // Matches are sorted by secretStart: settle every one that lies before this newline.
    for (let m = matches[next]; m && m.secretStart <= stop; m = matches[++next]) {
      m.newlinesBefore = newlines;
      m.lastNewline = lastNewline;
    }
    if (stop === until) break;
    newlines++;
    lastNewline = nl;
    pos = nl + 1;
  }
  // A secret can start past ownedEnd when its match started inside: count on into the context.
  for (let m = matches[next]; m; m = matches[++next]) {
    let count = newlines;
    let last = lastNewline;
    for (let nl = bytes.indexOf(10, spec.ownedEnd); nl >= 0 && nl < m.secretStart; nl = bytes.indexOf(10, nl + 1)) {
      count++;
      last = nl;
    }
    m.newlinesBefore = count;
    m.lastNewline = last;
  }
  return spec.atFileEnd ? { newlines: 0, lastNewline: -1 } : { newlines, lastNewline };
}
