// C0/C1 controls, DEL, and bidi overrides (which can make a path read differently than it is).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BUT_NEWLINES = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The visible escape of one character: `\\xNN` up to U+00FF, else `\\u{NNNN}`. */
export function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * Replaces control and bidi characters with visible `\xNN`/`\u{NNNN}` escapes, for terminal
 * and log output; with `keepNewlines`, CR and LF are left for the caller to encode.
 */
export function visible(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNSAFE_BUT_NEWLINES : UNSAFE, escapeChar);
}
