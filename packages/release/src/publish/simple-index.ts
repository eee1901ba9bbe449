import { PublishError } from './errors.js';
import { normaliseProject, publicRegistry } from './tokens.js';

/** The simple index of pypi.org, where files uploaded to https://upload.pypi.org/legacy/ are listed. */
export const PYPI_SIMPLE_INDEX = 'https://pypi.org/simple/';
/** The simple index of test.pypi.org. */
export const TESTPYPI_SIMPLE_INDEX = 'https://test.pypi.org/simple/';

/** The Simple Repository API (PEP 503/691) index that lists what an upload URL received: known for pypi.org and test.pypi.org only. */
export function simpleIndexFor(repositoryUrl: string): string | undefined {
  const where = publicRegistry(repositoryUrl);
  return where === 'pypi' ? PYPI_SIMPLE_INDEX : where === 'testpypi' ? TESTPYPI_SIMPLE_INDEX : undefined;
}

/** Why a simple index URL cannot be read, or undefined when it can. */
export function simpleIndexProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `the index URL '${url}' is not a URL`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `the index URL must be an https:// or http:// URL, not ${u.protocol}//`;
  // The check must hold for anyone: no credentials travel with it (and fetch refuses them in a URL).
  if (u.username || u.password) return 'the index URL carries a user name or password: give the public simple index, which is read without credentials';
  return undefined;
}

/** The URL of a project's page on a simple index (PEP 503: the normalised name, with a trailing slash). */
export function simpleProjectUrl(indexUrl: string, project: string): string {
  const base = indexUrl.endsWith('/') ? indexUrl : `${indexUrl}/`;
  return new URL(`${encodeURIComponent(normaliseProject(project))}/`, base).href;
}

/** One file a simple index lists: its name and the SHA-256 its link or entry gives, if any. */
export interface SimpleIndexFile {
  filename: string;
  /** Lower-case hex; undefined when the index gives no sha256 for the file. */
  sha256?: string;
}

// Accepted by the parser: PEP 691's JSON, and the HTML of PEP 503 under either of its names.
const JSON_TYPE = /^application\/vnd\.pypi\.simple\.(?:v1|latest)\+json$/;
const HTML_TYPE = /^(?:text\/html|application\/vnd\.pypi\.simple\.(?:v1|latest)\+html)$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads a project page of a simple index, as PEP 691 JSON (`files[].filename`,
 * `files[].hashes.sha256`) or PEP 503 HTML (one anchor per file, its text the file name, its
 * href ending in `#sha256=<hex>`), told apart by `contentType`. Throws PublishError, saying
 * what is wrong, for an answer that is neither.
 */
export function parseSimpleProjectPage(body: string, contentType: string): SimpleIndexFile[] {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (JSON_TYPE.test(type)) return parseJsonPage(body);
  if (HTML_TYPE.test(type)) return parseHtmlPage(body);
  throw new PublishError(`the answer is ${type ? `of type ${type}` : 'without a content type'}, not a simple index page (application/vnd.pypi.simple.v1+json or text/html)`);
}

function parseJsonPage(body: string): SimpleIndexFile[] {
  let page: unknown;
  try {
    page = JSON.parse(body);
  } catch {
    throw new PublishError('the JSON answer does not parse');
  }
  const p = page as { meta?: { 'api-version'?: unknown }; files?: unknown } | null;
  if (p === null || typeof p !== 'object' || !Array.isArray(p.files)) throw new PublishError('the JSON answer has no "files" list');
  const version = p.meta?.['api-version'];
  // PEP 691: a client must not read a major version it does not know.
  if (typeof version === 'string' && !/^1(?:\.|$)/.test(version)) throw new PublishError(`the JSON answer is of api-version ${version}, and only 1.x is understood`);
  return p.files.map((f: unknown, i: number) => {
    const file = f as { filename?: unknown; hashes?: unknown } | null;
    if (file === null || typeof file !== 'object' || typeof file.filename !== 'string') throw new PublishError(`entry ${i + 1} of the JSON answer's "files" has no filename`);
    const sha256 = (file.hashes as { sha256?: unknown } | null | undefined)?.sha256;
    return { filename: file.filename, ...(typeof sha256 === 'string' && HEX64.test(sha256.toLowerCase()) ? { sha256: sha256.toLowerCase() } : {}) };
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (dec !== undefined || hex !== undefined) {
      const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex!, 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name!.toLowerCase()] ?? whole;
  });
}

function parseHtmlPage(body: string): SimpleIndexFile[] {
  // PEP 503 pages are flat lists of anchors; comments could hide or fake one.
  const html = body.replace(/<!--[\s\S]*?-->/g, '');
  if (!/<(?:!doctype\s+html|html|body|a)[\s>]/i.test(html)) throw new PublishError('the HTML answer is not an HTML page');
  const files: SimpleIndexFile[] = [];
  for (const m of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi)) {
    const attrs = m[1]!;
    const href = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i.exec(` ${attrs}`);
    if (!href) continue;
    const url = decodeEntities(href[1] ?? href[2] ?? href[3] ?? '');
    const filename = decodeEntities(m[2]!.replace(/<[^>]*>/g, '')).trim();
    if (!filename) continue;
    const fragment = url.includes('#') ? url.slice(url.indexOf('#') + 1) : '';
    const sha = /^sha256=([0-9a-f]{64})$/i.exec(fragment)?.[1]?.toLowerCase();
    files.push({ filename, ...(sha ? { sha256: sha } : {}) });
  }
  return files;
}

/** Request settings of `readSimpleProject` and `checkIndexFiles`. */
export interface SimpleIndexOptions {
  /** Per request, body included, in milliseconds (default 10000). */
  timeoutMs?: number;
  /** Stops the request (Ctrl-C). */
  signal?: AbortSignal;
  /** Largest answer read, in bytes (default 64 MiB: the pages of projects with thousands of files run to megabytes). */
  maxBytes?: number;
  /** Waits before looking again for files the index does not list yet (default 2000, 5000). */
  retryDelaysMs?: readonly number[];
  fetch?: typeof fetch;
}

const ACCEPT = 'application/vnd.pypi.simple.v1+json, text/html;q=0.1';

/**
 * Fetches a project's page on a simple index and lists its files; a project the index does not
 * know (404) lists none. Sends no credentials. Throws PublishError saying what failed (no
 * answer in time, an HTTP error, an answer that is not a simple index page); an abort of
 * `signal` rejects with its reason.
 */
export async function readSimpleProject(indexUrl: string, project: string, options: SimpleIndexOptions = {}): Promise<SimpleIndexFile[]> {
  const url = simpleProjectUrl(indexUrl, project);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = eitherSignal(timeout, options.signal);
  const failed = (error: unknown): never => {
    if (options.signal?.aborted) throw options.signal.reason;
    const e = error as Error;
    if (timeout.aborted) throw new PublishError(`${url} did not answer within ${timeoutMs} ms`);
    if (e instanceof PublishError) throw e;
    const why = e.cause instanceof Error ? e.cause.message : e.message;
    throw new PublishError(`${url} could not be read: ${why}`);
  };
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { headers: { accept: ACCEPT, 'user-agent': 'pubguard' }, redirect: 'follow', signal });
  } catch (error) {
    return failed(error);
  }
  let body: string;
  try {
    body = await readLimited(res, maxBytes, url);
  } catch (error) {
    return failed(error);
  }
  if (res.status === 404) return [];
  if (!res.ok) throw new PublishError(`${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  try {
    return parseSimpleProjectPage(body, res.headers.get('content-type') ?? '');
  } catch (error) {
    throw new PublishError(`${url}: ${(error as Error).message}`);
  }
}

async function readLimited(res: Response, maxBytes: number, url: string): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PublishError(`${url} answered with more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One approved file to look for on the index. */
export interface ApprovedFile {
  name: string;
  /** The approved SHA-256, hex. */
  sha256: string;
  /** The project it belongs to (its page on the index lists it). */
  project: string;
}

/** What the index shows of one approved file. */
export interface IndexFileCheck {
  name: string;
  approved: string;
  /**
   * `approved`: listed with the approved sha256; `different`: listed with another;
   * `missing`: not listed; `no-digest`: listed without a sha256.
   */
  status: 'approved' | 'different' | 'missing' | 'no-digest';
  /** The sha256 the index gives, when it gives one. */
  onIndex?: string;
  /** The project page looked at. */
  url: string;
}

/**
 * Looks up every file on its project's page of the simple index and compares the sha256 there
 * with the approved one. Files not listed are looked for again after each of `retryDelaysMs`
 * (an index behind a CDN lists a file uploaded moments ago only once its cache is renewed).
 * Throws PublishError when a page cannot be read.
 */
export async function checkIndexFiles(indexUrl: string, files: readonly ApprovedFile[], options: SimpleIndexOptions = {}): Promise<IndexFileCheck[]> {
  const delays = options.retryDelaysMs ?? [2000, 5000];
  const results = new Map<string, IndexFileCheck>();
  let pending = [...files];
  for (let attempt = 0; ; attempt++) {
    for (const project of [...new Set(pending.map((f) => f.project))]) {
      const listed = await readSimpleProject(indexUrl, project, options);
      for (const f of pending.filter((p) => p.project === project)) {
        const approved = f.sha256.toLowerCase();
        const entries = listed.filter((l) => l.filename === f.name);
        const url = simpleProjectUrl(indexUrl, project);
        // A page that lists a name twice is trusted only if every entry agrees.
        const other = entries.find((e) => e.sha256 !== undefined && e.sha256 !== approved);
        const status: IndexFileCheck['status'] = entries.length === 0 ? 'missing' : other ? 'different' : entries.some((e) => e.sha256 === undefined) ? 'no-digest' : 'approved';
        const onIndex = other?.sha256 ?? entries.find((e) => e.sha256)?.sha256;
        results.set(f.name, { name: f.name, approved, status, ...(onIndex ? { onIndex } : {}), url });
      }
    }
    pending = pending.filter((f) => results.get(f.name)?.status === 'missing');
    const delay = delays[attempt];
    if (pending.length === 0 || delay === undefined) break;
    await sleep(delay, options.signal);
  }
  return files.map((f) => results.get(f.name)!);
}

/** A signal that aborts when either does: AbortSignal.any, which Node 20 has only from 20.3. */
function eitherSignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  if (!b) return a;
  const both = new AbortController();
  const first = a.aborted ? a : b.aborted ? b : undefined;
  if (first) {
    both.abort(first.reason);
    return both.signal;
  }
  a.addEventListener('abort', () => both.abort(a.reason), { once: true });
  b.addEventListener('abort', () => both.abort(b.reason), { once: true });
  return both.signal;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const done = (): void => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
