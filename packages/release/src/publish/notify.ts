import { redactValue } from '../redact.js';
import type { ArtifactDigest } from '../statement.js';

/** The policy an approvals step read (path as given, SHA-256 of its bytes), who started the release, and the keys it counted. */
export interface PublishApprovals {
  policy: { path: string; sha256: string };
  /** The initiator's names, or "unknown" when nobody was named and CI did not say. */
  initiator: string[] | 'unknown';
  counted: { person: string; group?: string; key: string }[];
}

/** What a publish notification carries besides the Slack-compatible `text`. */
export interface PublishNotification {
  /** One line for chat (Slack, Mattermost, Teams incoming webhooks read `text`). */
  text: string;
  event: 'published' | 'dry-run' | 'refused' | 'failed';
  ecosystem: string;
  package?: string;
  version?: string;
  /** npm only, once the version step passed: the dist-tag the version goes (or would go) out under. */
  distTag?: string;
  registry: string;
  artifacts: ArtifactDigest[];
  approvers: string[];
  /** Which policy judged the approvals and the keys it counted; absent when the approvals step did not run or there was no policy. */
  approvals?: PublishApprovals;
  /** The step that refused or failed. */
  step?: string;
  reason: string;
  /** Set when the package was published but its audit record could not be written: what failed and what to do. */
  auditError?: string;
  /** SHA-256 of the last audit line when the message was sent. */
  auditHead?: string;
  actor: string;
}

/** Retry and timeout settings of `sendNotification`. */
export interface NotifyOptions {
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Per-attempt timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Delay before the second attempt, doubled after each (default 500). */
  backoffMs?: number;
  /** Values to mask in the message. */
  secrets?: readonly string[];
  fetch?: typeof fetch;
}

/** The outcome of `sendNotification`. */
export interface NotifyResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Hides credentials in a webhook URL (Slack puts its secret in the path) for logs and messages. */
export function describeWebhook(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

// The ports fetch refuses to connect to ("bad port", WHATWG Fetch §2.9, as Node 20's undici has them).
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137,
  139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723,
  2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Why a webhook URL cannot be posted to, or undefined when it can; the message never repeats
 * the URL, whose path is often the webhook's secret.
 */
export function webhookProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'the notification URL is not a URL: give the whole webhook address, https:// included';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `the notification URL must be http:// or https://, not ${u.protocol}//`;
  // fetch refuses such a URL outright, so every notification would fail after the release.
  if (u.username || u.password) return 'the notification URL carries a user name or password, which cannot be sent: use the address the webhook provider gives';
  if (FETCH_BAD_PORTS.has(Number(u.port))) return `the notification URL's port ${u.port} is one that fetch never connects to (reserved for another protocol): use the port the webhook listens on`;
  return undefined;
}

/**
 * POSTs the notification as JSON; retries network errors, timeouts, 429 and 5xx with
 * exponential backoff; never throws, so a failed notification cannot undo a publish.
 */
export async function sendNotification(url: string, message: PublishNotification, options: NotifyOptions = {}): Promise<NotifyResult> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const timeoutMs = options.timeoutMs ?? 5000;
  let delay = options.backoffMs ?? 500;
  const doFetch = options.fetch ?? fetch;
  const body = JSON.stringify({ ...redactValue(message, options.secrets ?? []), pubguard: 1 });
  let last: NotifyResult = { ok: false, attempts: 0 };
  for (let i = 1; i <= attempts; i++) {
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'pubguard' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, attempts: i, status: res.status };
      last = { ok: false, attempts: i, status: res.status, error: `HTTP ${res.status}` };
      if (res.status !== 429 && res.status < 500) return last;
    } catch (error) {
      const e = error as Error;
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.cause instanceof Error ? e.cause.message : e.message;
      // fetch quotes the URL in some messages; its path and password are the webhook's secret.
      last = { ok: false, attempts: i, error: why.split(url).join(describeWebhook(url)) };
    }
    if (i < attempts) {
      await sleep(delay);
      delay *= 2;
    }
  }
  return last;
}
