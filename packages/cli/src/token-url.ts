import { publicRegistry } from '@pubguard/release';
import { checkHttpUrl } from './args.js';
import { type CliIO, UsageError } from './io.js';

/** Whether `hostname` (as URL gives it) is this machine: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * `checkHttpUrl` for a URL that a token is sent to. Plain http to registry.npmjs.org,
 * upload.pypi.org or test.pypi.org is refused: their tokens are only checked for those hosts,
 * and would go out in cleartext. Over plain http to another host that is not this machine,
 * a private registry on an internal network may be meant, so it is a warning, not a refusal.
 */
export function checkTokenUrl(text: string, flag: string, io: Pick<CliIO, 'stderr'>): void {
  checkHttpUrl(text, flag);
  const url = new URL(text);
  if (url.protocol !== 'http:') return;
  if (publicRegistry(text) !== undefined) {
    url.protocol = 'https:';
    throw new UsageError(`${flag} ${url.host} over plain http would send the token unencrypted: use ${url.origin}${url.pathname}`);
  }
  if (!isLoopback(url.hostname)) io.stderr.write(`warning: ${flag} is plain http: the token travels unencrypted to ${url.host}; use https unless every network on the way is trusted\n`);
}

/**
 * `checkHttpUrl` for the simple index `publish pypi --skip-existing` compares files on. No token
 * goes there, but over plain http to another machine the listing, and so the comparison with
 * the approved bytes, could be altered on the way: a warning, as for a registry.
 */
export function checkIndexUrl(text: string, flag: string, io: Pick<CliIO, 'stderr'>): void {
  checkHttpUrl(text, flag);
  const url = new URL(text);
  if (url.username || url.password) throw new UsageError(`${flag} carries a user name or password: give the public simple index, which is read without credentials`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    io.stderr.write(`warning: ${flag} is plain http: what ${url.host} lists, and so the comparison with the approved bytes, could be altered on the way; use https unless every network on the way is trusted\n`);
  }
}
