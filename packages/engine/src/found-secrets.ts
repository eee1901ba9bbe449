import { redact } from '@pubguard/rules';

/**
 * Secrets shorter than this are left as they are in paths: a short one (a password, a word)
 * is as likely to be an ordinary name that happens to be spelt the same (`development`,
 * `production`), and shortening it there would hide which file a report is about.
 */
export const MIN_MASKED_SECRET = 12;

// Candidates are looked up by their first characters, so that masking a text costs about one
// map lookup per character however many secrets a scan found.
const HEAD = 8;

/**
 * The secrets a scan found (by any rule, in contents as in names), to shorten wherever a path
 * or message the scan shows holds one: rules from a config file are not matched against names,
 * yet a file named after the key it holds must not show the key in full next to its finding.
 */
export class FoundSecrets {
  private readonly byHead = new Map<string, string[]>();
  private readonly known = new Set<string>();
  /** First characters of the secrets held: most characters of a path start none. */
  private readonly firsts = new Set<number>();

  /** How many secrets are held. */
  get size(): number {
    return this.known.size;
  }

  /** Remembers `secret` (as found, in full), unless it is shorter than `MIN_MASKED_SECRET`. */
  add(secret: string): void {
    if (secret.length < MIN_MASKED_SECRET || this.known.has(secret)) return;
    this.known.add(secret);
    const head = secret.slice(0, HEAD);
    const list = this.byHead.get(head);
    // Longest first, so that a secret holding another is shortened whole.
    if (list === undefined) this.byHead.set(head, [secret]);
    else {
      list.push(secret);
      list.sort((a, b) => b.length - a.length);
    }
    this.firsts.add(secret.charCodeAt(0));
  }

  /** `text` with every secret held shortened as reports shorten a finding's secret. */
  mask(text: string): string {
    if (this.known.size === 0 || text.length < MIN_MASKED_SECRET) return text;
    let out = '';
    let from = 0;
    for (let i = 0; i + MIN_MASKED_SECRET <= text.length; ) {
      const secret = this.firsts.has(text.charCodeAt(i)) ? this.byHead.get(text.slice(i, i + HEAD))?.find((s) => text.startsWith(s, i)) : undefined;
      if (secret === undefined) {
        i++;
        continue;
      }
      out += text.slice(from, i) + redact(secret);
      i += secret.length;
      from = i;
    }
    return from === 0 ? text : out + text.slice(from);
  }
}
