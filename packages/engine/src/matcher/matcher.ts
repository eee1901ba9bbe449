import { acceptCandidate, type CompiledRule, type CompiledRuleset } from '@pubguard/rules';
import { BASE64_MARKER, base64Forms, bestShift, decode, encodedOffset, isText, MIN_FORM_LENGTH, MIN_RUN_LENGTH, runEnd, runStart } from './base64.js';
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
  /**
   * 1-based column of `secretStart` in UTF-16 code units of the line's UTF-8 text, as SARIF
   * viewers count; absent when the line starts before the segment's bytes (context included),
   * as a later chunk of a long line does.
   */
  utf16Column?: number;
  /**
   * Set when the match was found in base64 text, decoded: `secret` is the decoded value and the
   * positions are those of the base64 characters that encode it.
   */
  encoding?: 'base64';
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
  /**
   * Where the keywords of rules that bound where their keyword sits (`keywordWithin`) were hit
   * in the segment being scanned (rule -> positions, in order), filled by `onHit`: such a rule's
   * regex is tried only just before them.
   */
  private hits = new Map<number, number[]>();
  /** Length of the segment being scanned. */
  private segmentLength = 0;
  /** The segment being scanned, for `onHit` to look at a hit of an encoded keyword. */
  private segmentBytes: Buffer = Buffer.alloc(0);
  /** Rule index the prefilter reports for hits of keywords' base64 forms (one past the last rule). */
  private readonly base64Rule: number;
  /** The base64 forms of keywords, exactly (the prefilter folds case, base64 does not). */
  private readonly base64Forms: ReadonlySet<string>;
  /**
   * Base64 runs of the segment being scanned around hits of encoded keywords ([start, end, ...],
   * in order), or undefined while matching decoded text: decoding goes one level deep.
   */
  private runs: number[] | undefined;

  /**
   * `disabled`: rules not to run (stopped earlier for taking too long). `current`: when given,
   * the index of the rule being run is stored in slot 0 (-1 between rules), so a watchdog on
   * another thread can name the rule that hangs. `options.base64: false` leaves base64 text
   * encoded (file names are matched so: see `NameMatcher`).
   */
  constructor(
    ruleset: CompiledRuleset,
    private readonly disabled: ReadonlySet<number> = new Set(),
    private readonly current?: Int32Array,
    options: { base64?: boolean } = {},
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
    this.base64Rule = ruleset.rules.length;
    const forms = options.base64 === false ? [] : encodedKeywords(ruleset);
    this.base64Forms = new Set(forms);
    const triggers = options.base64 === false ? [] : [...forms, BASE64_MARKER];
    this.prefilter = new KeywordPrefilter([...ruleset.keywords, ...triggers], [...ruleset.keywordRules, ...triggers.map(() => [this.base64Rule])]);
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
    return this.match(input, spec, false);
  }

  /** `matchSegment`, or with `nested` the matching of decoded base64 text, which is not decoded further. */
  private match(input: Uint8Array | string, spec: SegmentSpec, nested: boolean): SegmentResult {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const windows = new Map<number, number[]>();
    const hits = new Map<number, number[]>();
    const scanTo = Math.min(bytes.length, spec.ownedEnd + this.maxMatchLength);
    const runs = nested ? undefined : [];
    this.windows = windows;
    this.hits = hits;
    this.segmentLength = bytes.length;
    this.segmentBytes = bytes;
    this.runs = runs;
    this.prefilter.scan(bytes, spec.ownedStart, scanTo, this.onHit);

    const matches: RawMatch[] = [];
    let suppressed = 0;
    for (const [r, list] of windows) {
      const ready = this.rules[r];
      if (!ready || this.disabled.has(r) || (ready.gated && !spec.gated?.includes(r))) continue;
      if (this.current) Atomics.store(this.current, 0, r);
      const ruleHits = hits.get(r);
      let next = 0;
      for (let i = 0; i < list.length; i += 2) {
        const from = list[i] ?? 0;
        const to = list[i + 1] ?? 0;
        // Windows and hits are both in order: the hits of this window follow those of the last.
        let last = next;
        if (ruleHits !== undefined) while (last < ruleHits.length && (ruleHits[last] as number) < to) last++;
        suppressed += this.runWindow(ready, r, bytes, from, to, spec, matches, ruleHits, next, last);
        next = last;
      }
    }
    if (this.current) Atomics.store(this.current, 0, -1);
    // After the rule windows: matching decoded text reuses the per-segment state they need.
    if (runs !== undefined && runs.length > 0) suppressed += this.matchRuns(bytes, spec, runs, matches);
    matches.sort((a, b) => a.secretStart - b.secretStart || a.rule - b.rule);
    const lines = countLines(bytes, spec, matches);
    // Decoded text's own columns are never reported: its matches are placed on the base64 text.
    if (!nested && matches.length > 0) utf16Columns(bytes, spec, matches);
    return { matches, suppressed, ...lines };
  }

  /**
   * Widens the current segment's rule windows around a keyword hit. One function for the
   * matcher's lifetime, not a closure per segment: the prefilter then always calls the same
   * target, which V8 inlines instead of deoptimizing on every new closure.
   */
  private readonly onHit = (pos: number, len: number, rules: readonly number[]): void => {
    // Rules come sorted, so an encoded keyword's marker, one past the last rule, comes last.
    let count = rules.length;
    if (rules[count - 1] === this.base64Rule) {
      this.encodedHit(pos, len);
      count--;
    }
    for (let i = 0; i < count; i++) {
      const r = rules[i] as number;
      const max = this.maxLengths[r] ?? 0;
      const within = this.keywordWithin[r] ?? -1;
      if (within >= 0) {
        const at = this.hits.get(r);
        if (at === undefined) this.hits.set(r, [pos]);
        else if (at[at.length - 1] !== pos) at.push(pos);
      }
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

  /**
   * Notes the base64 run around a hit of an encoded keyword, or the run that follows a data
   * URI's `;base64,`, unless a run noted already holds it.
   */
  private encodedHit(pos: number, len: number): void {
    const runs = this.runs;
    if (runs === undefined || (runs.length > 0 && pos < (runs[runs.length - 1] as number))) return;
    const bytes = this.segmentBytes;
    // No form holds a comma: a hit ending with one is the marker, in any case.
    if (bytes[pos + len - 1] === 0x2c) {
      const end = runEnd(bytes, pos + len);
      if (end > pos + len) runs.push(pos + len, end);
      return;
    }
    if (!this.base64Forms.has(bytes.toString('latin1', pos, pos + len))) return;
    runs.push(runStart(bytes, pos), runEnd(bytes, pos + len));
  }

  /**
   * Decodes each base64 run noted in the segment and matches what it decodes to, once: a
   * match is placed on the characters that encode its first byte, and belongs to the segment
   * that owns them, as any other match.
   */
  private matchRuns(bytes: Buffer, spec: SegmentSpec, runs: readonly number[], out: RawMatch[]): number {
    let suppressed = 0;
    for (let i = 0; i < runs.length; i += 2) {
      let start = runs[i] as number;
      const end = runs[i + 1] as number;
      if (end - start < MIN_RUN_LENGTH || end <= spec.ownedStart || start >= spec.ownedEnd) continue;
      // A run cut by the segment's start began in bytes this segment does not have: where its
      // groups of four start is found from what they decode to.
      const cutStart = start === 0 && !spec.atFileStart;
      // Documentation shortens base64 with an ellipsis (`"eyJ2ZXJzaW9u..."`): what it decodes to
      // stops mid-value, and a value running to its end has not ended.
      const elided = (bytes[end] === 0x2e && bytes[end + 1] === 0x2e && bytes[end + 2] === 0x2e) || (bytes[end] === 0xe2 && bytes[end + 1] === 0x80 && bytes[end + 2] === 0xa6);
      const cutEnd = (end === bytes.length && !spec.atFileEnd) || elided;
      if (cutStart) start += bestShift(bytes, start, end);
      // An image or a font is told by its first bytes, before the whole of it is decoded.
      if (end - start > 4 * SAMPLE_GROUPS && !isText(decode(bytes, start, start + 4 * SAMPLE_GROUPS))) continue;
      const decoded = decode(bytes, start, end);
      if (!isText(decoded)) continue;
      const inner = this.match(decoded, { ownedStart: 0, ownedEnd: decoded.length, atFileStart: !cutStart, atFileEnd: !cutEnd, ...(spec.gated ? { gated: spec.gated } : {}) }, true);
      suppressed += inner.suppressed;
      for (const m of inner.matches) {
        const at = start + encodedOffset(m.start);
        if (at < spec.ownedStart || at >= spec.ownedEnd) continue;
        const to = start + encodedOffset(m.end);
        // A marker next to the encoded text counts as well as one in the decoded text.
        if (inlineIgnored(bytes, at, to)) {
          suppressed++;
          continue;
        }
        const secretStart = start + encodedOffset(m.secretStart);
        out.push({ rule: m.rule, start: at, end: to, secretStart, secretEnd: start + encodedOffset(m.secretEnd), secret: m.secret, newlinesBefore: 0, lastNewline: -1, encoding: 'base64' });
      }
    }
    return suppressed;
  }

  /** `hits[firstHit, endHit)`: where the rule's keywords were hit in `[from, to)`, for a rule that bounds where they sit. */
  private runWindow(ready: ReadyRule, r: number, bytes: Buffer, from: number, to: number, spec: SegmentSpec, out: RawMatch[], hits: readonly number[] | undefined, firstHit: number, endHit: number): number {
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
    let starts: number[] | undefined;
    if (sticky !== undefined) {
      // The prefilter reports hits from the owned range on; a keyword in the context before it
      // (a segment that is not the file's first) is looked up in the window text, so that a
      // match starting there shadows what it would shadow in the segment that owns it.
      const early = from < spec.ownedStart ? keywordOffsets(window, rule.keywords ?? [], spec.ownedStart - from) : [];
      for (let i = firstHit; i < endHit; i++) early.push((hits?.[i] as number) - from);
      starts = keywordStarts(early, rule.keywordWithin ?? 0);
    }
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

/** Groups of four characters decoded first to tell binary from text (384 bytes). */
const SAMPLE_GROUPS = 128;

/**
 * Keywords of case-insensitive rules whose base64 forms are looked for too, in lower case: what
 * encoded configuration files (.npmrc, .pypirc, Docker's config, .env) hold. Every form costs
 * the prefilter a little on all text (the forms of every such keyword would add some 20 % of
 * positions to check in minified code, against 10 % for these and the case-sensitive rules'),
 * and an inline source map or data URI is decoded whatever it holds.
 */
const ENCODED_GENERIC_KEYWORDS: ReadonlySet<string> = new Set(['_auth', '_password', '"auths"', 'password', 'secret', 'token']);

/**
 * The base64 forms the prefilter looks for: those of the first six bytes of each keyword of a
 * case-sensitive rule, spelled as its pattern spells it (`AKIA`, `ghp_`, `npm_`: a token's
 * prefix, distinctive in any text), and of `ENCODED_GENERIC_KEYWORDS`. A run is decoded and
 * matched with every rule once one form is in it, so a few bytes of a keyword are enough.
 */
function encodedKeywords(ruleset: CompiledRuleset): string[] {
  const texts = new Set<string>();
  for (const rule of ruleset.rules) {
    const sensitive = !rule.flags.includes('i');
    const source = sensitive ? rule.source.toLowerCase() : '';
    for (const keyword of rule.keywords ?? []) {
      const at = sensitive ? source.indexOf(keyword) : -1;
      if (at >= 0) texts.add(rule.source.slice(at, at + keyword.length).slice(0, ENCODED_KEYWORD_BYTES));
      else if (sensitive || ENCODED_GENERIC_KEYWORDS.has(keyword)) texts.add(keyword.slice(0, ENCODED_KEYWORD_BYTES));
    }
  }
  const forms = new Set<string>();
  for (const text of texts) for (const form of base64Forms(text)) forms.add(selective(form));
  return [...forms];
}

/**
 * The part of an encoded form the prefilter looks for: `MIN_FORM_LENGTH` characters of it,
 * starting where its first three hold the fewest letters. The prefilter's first steps test
 * three case-folded bytes, and three letters (`doc` of `doc2VjX`, encoded `ecret`) are as
 * common in code as words are, where a digit or `+/-_` among them is rare; any part of a form
 * is in every encoding that holds the whole.
 */
function selective(form: string): string {
  let best = 0;
  let fewest = 4;
  for (let i = 0; i + MIN_FORM_LENGTH <= form.length; i++) {
    let letters = 0;
    for (let j = i; j < i + 3; j++) if (/[A-Za-z]/.test(form[j] as string)) letters++;
    if (letters < fewest) {
      fewest = letters;
      best = i;
    }
  }
  return form.slice(best, best + MIN_FORM_LENGTH);
}

/** Bytes of a keyword whose base64 forms the prefilter looks for. */
const ENCODED_KEYWORD_BYTES = 6;

/**
 * Where a match of a rule may start in a window: from `within` characters before each of the
 * keyword offsets `at` (sorted) up to it, as sorted, disjoint, inclusive [first, last] pairs.
 */
function keywordStarts(at: readonly number[], within: number): number[] {
  const ranges: number[] = [];
  for (const offset of at) {
    const start = Math.max(0, offset - within);
    if (ranges.length > 0 && (ranges[ranges.length - 1] ?? 0) >= start - 1) ranges[ranges.length - 1] = Math.max(ranges[ranges.length - 1] ?? 0, offset);
    else ranges.push(start, offset);
  }
  return ranges;
}

/** Offsets below `limit` in `text` where one of the (lower-case) `keywords` starts, sorted. */
function keywordOffsets(text: string, keywords: readonly string[], limit: number): number[] {
  const lower = text.toLowerCase();
  const found: number[] = [];
  for (const keyword of keywords) {
    if (keyword.length === 0) continue;
    for (let at = lower.indexOf(keyword); at >= 0 && at < limit; at = lower.indexOf(keyword, at + 1)) found.push(at);
  }
  return found.sort((a, b) => a - b);
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
  const breaks = new LineBreaks(bytes);
  for (;;) {
    const nl = pos < until ? breaks.next(pos) : -1;
    const stop = nl < 0 || nl >= until ? until : nl;
    // Matches are sorted by secretStart: settle every one that lies before this line break.
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
  const after = new LineBreaks(bytes);
  for (let m = matches[next]; m; m = matches[++next]) {
    let count = newlines;
    let last = lastNewline;
    for (let nl = after.next(spec.ownedEnd); nl >= 0 && nl < m.secretStart; nl = after.next(nl + 1)) {
      count++;
      last = nl;
    }
    m.newlinesBefore = count;
    m.lastNewline = last;
  }
  return spec.atFileEnd ? { newlines: 0, lastNewline: -1 } : { newlines, lastNewline };
}

/**
 * Finds the line breaks of a segment in order, as editors break lines: at a line feed, or at
 * a carriage return that no line feed follows (classic Mac OS text), a CR LF pair being one
 * break, placed on its LF. A carriage return at a segment's end is followed by the context
 * after it, or ends the file. The next position of each byte is kept, so text without
 * carriage returns is searched for one once.
 */
class LineBreaks {
  private lf = -2;
  private cr = -2;

  constructor(private readonly bytes: Buffer) {}

  /** The first break at or after `from`, or -1; `from` never goes back between calls. */
  next(from: number): number {
    const b = this.bytes;
    // -1: none left; -2: not searched yet.
    if (this.lf !== -1 && this.lf < from) this.lf = b.indexOf(10, from);
    while (this.cr !== -1 && (this.cr < from || b[this.cr + 1] === 10)) this.cr = b.indexOf(13, Math.max(from, this.cr + 1));
    if (this.lf < 0) return this.cr;
    return this.cr < 0 ? this.lf : Math.min(this.lf, this.cr);
  }
}

/** The last line break before `end` (see `LineBreaks`), or -1. */
function lastBreakBefore(bytes: Buffer, end: number): number {
  if (end <= 0) return -1;
  const lf = bytes.lastIndexOf(10, end - 1);
  let cr = bytes.lastIndexOf(13, end - 1);
  // A CR followed by its LF breaks at the LF: at `end` itself, so not before it; an earlier
  // pair's LF is found as a line feed.
  if (cr >= 0 && bytes[cr + 1] === 10) cr = cr > 0 ? bytes.lastIndexOf(13, cr - 1) : -1;
  return Math.max(lf, cr);
}

/**
 * Sets `utf16Column` of each match (sorted, lines counted) whose line starts in the segment.
 * Only the bytes from a line's start to its matches are looked at, once per line: a byte that
 * is no UTF-8 continuation byte starts a character, one unit, and a four-byte lead starts a
 * surrogate pair, two.
 */
function utf16Columns(bytes: Buffer, spec: SegmentSpec, matches: RawMatch[]): void {
  // Where a line holding no newline of the owned range starts: after the context's last one.
  let contextStart: number | undefined;
  let lineStart = -1;
  let pos = 0;
  let units = 0;
  for (const m of matches) {
    let start = m.lastNewline + 1;
    if (m.lastNewline < 0) {
      if (contextStart === undefined) {
        const nl = lastBreakBefore(bytes, spec.ownedStart);
        contextStart = nl >= 0 ? nl + 1 : spec.atFileStart ? 0 : -1;
      }
      start = contextStart;
    }
    if (start < 0) continue;
    if (start !== lineStart || m.secretStart < pos) {
      lineStart = start;
      pos = start;
      units = 0;
      // A byte-order mark opening the file is no character an editor shows on its first line.
      if (start === 0 && spec.atFileStart && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && m.secretStart >= 3) pos = 3;
    }
    for (const to = m.secretStart; pos < to; pos++) {
      const b = bytes[pos] as number;
      if ((b & 0xc0) !== 0x80) units++;
      if (b >= 0xf0 && b <= 0xf7) units++;
    }
    m.utf16Column = units + 1;
  }
}
