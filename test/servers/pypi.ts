import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';

/** One file received through the legacy upload API. */
export interface ReceivedUpload {
  fields: Record<string, string>;
  filename: string;
  content: Buffer;
  /** SHA-256 of the received bytes, computed here. */
  sha256: string;
  username: string;
  password: string;
}

/** One request to the simple index, as received. */
export interface SimpleRequest {
  path: string;
  accept?: string;
  authorization?: string;
  /** The format answered. */
  format: 'json' | 'html';
}

/**
 * A loopback endpoint that speaks PyPI's legacy upload API (what twine uploads to), and lists
 * what it stored on a simple index (PEP 503 HTML and PEP 691 JSON) below `/simple/`.
 */
export interface PypiServer {
  url: string;
  /** The simple index: `/simple/<normalised project>/` lists the project's stored files. */
  simpleUrl: string;
  /** Files stored, in the order they arrived; a refused or repeated upload is not one. */
  uploads: ReceivedUpload[];
  /** Requests to the simple index, in order. */
  simpleRequests: SimpleRequest[];
  stop(): Promise<void>;
}

/** How `startPypiServer`'s endpoint answers. */
export interface PypiServerOptions {
  /**
   * A second upload of a file name. `pypi` (default), as PyPI's warehouse does: the same bytes
   * again are accepted and change nothing, other bytes are refused with 400 "File already
   * exists". `refuse`: refused whatever the bytes, with 409 as pypiserver does (GitLab, Nexus
   * and Artifactory also refuse any second upload, each in its own words).
   */
  existing?: 'pypi' | 'refuse';
  /** A status to answer the upload of a file with instead of storing it (a 5xx halfway through a release). */
  fail?: (filename: string) => number | undefined;
  /**
   * The simple index's format: `negotiate` (default) answers JSON when the Accept header
   * prefers it to HTML, as pypi.org does; `html` always answers HTML, as an index without
   * PEP 691 does; `json` always JSON.
   */
  simple?: 'negotiate' | 'json' | 'html';
}

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

/** The q-value an Accept header gives a media type (0 when it lists neither it nor a wildcard over it). */
function quality(accept: string, type: string): number {
  let best = 0;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = Number(/^q=([\d.]+)$/.exec(params.find((p) => p.startsWith('q=')) ?? 'q=1')?.[1] ?? '1');
    if (range === type || range === '*/*' || range === `${type.split('/')[0]}/*`) best = Math.max(best, Number.isFinite(q) ? q : 0);
  }
  return best;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const normalise = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Splits a multipart/form-data body into named parts (enough of RFC 7578 for twine). */
export function parseMultipart(data: Buffer, boundary: string): { name: string; filename?: string; value: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { name: string; filename?: string; value: Buffer }[] = [];
  let pos = data.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (data.subarray(start, start + 2).toString() === '--') break;
    const next = data.indexOf(delimiter, start);
    if (next === -1) break;
    const part = data.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const value = part.subarray(split + 4);
    const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    parts.push({ name, ...(filename === undefined ? {} : { filename }), value });
    pos = next;
  }
  return parts;
}

/** Starts the endpoint on 127.0.0.1; it accepts any Basic-auth password and records it for the test. */
export async function startPypiServer(options: PypiServerOptions = {}): Promise<PypiServer> {
  const uploads: ReceivedUpload[] = [];
  const simpleRequests: SimpleRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const data = await body(req);
    const simple = req.method === 'GET' ? /^\/simple\/([^/]+)\/$/.exec(req.url ?? '') : null;
    if (simple) {
      // Read without credentials, as pypi.org's is; the project name is looked for normalised.
      const project = decodeURIComponent(simple[1]!);
      const accept = req.headers.accept ?? '';
      const mode = options.simple ?? 'negotiate';
      const format = mode === 'negotiate' ? (quality(accept, JSON_TYPE) > quality(accept, 'text/html') ? 'json' : 'html') : mode;
      simpleRequests.push({ path: req.url!, ...(req.headers.accept ? { accept } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), format });
      const files = uploads.filter((u) => normalise(u.fields.name ?? '') === project);
      if (project !== normalise(project) || files.length === 0) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      if (format === 'json') {
        const page = { meta: { 'api-version': '1.1' }, name: project, versions: [...new Set(files.map((f) => f.fields.version))], files: files.map((f) => ({ filename: f.filename, url: `../../files/${f.filename}`, hashes: { sha256: f.sha256 }, size: f.content.length })) };
        res.writeHead(200, { 'content-type': JSON_TYPE, vary: 'Accept' }).end(JSON.stringify(page));
      } else {
        const links = files.map((f) => `    <a href="../../files/${escapeHtml(encodeURIComponent(f.filename))}#sha256=${f.sha256}">${escapeHtml(f.filename)}</a><br />`);
        const page = `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.1"><title>Links for ${escapeHtml(project)}</title></head>\n  <body>\n    <h1>Links for ${escapeHtml(project)}</h1>\n${links.join('\n')}\n  </body>\n</html>\n`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', vary: 'Accept' }).end(page);
      }
      return;
    }
    const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!auth) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="pypi"' }).end('authentication required');
      return;
    }
    const decoded = Buffer.from(auth[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
    if (req.method !== 'POST' || !boundary) {
      res.writeHead(400).end('expected a multipart POST');
      return;
    }
    const parts = parseMultipart(data, boundary[1] ?? boundary[2]!);
    const fields: Record<string, string> = {};
    let file: { filename: string; value: Buffer } | undefined;
    for (const p of parts) {
      if (p.filename !== undefined && p.name === 'content') file = { filename: p.filename, value: p.value };
      else fields[p.name] = p.value.toString('utf8');
    }
    if (fields[':action'] !== 'file_upload' || !file) {
      res.writeHead(400).end('not a file_upload');
      return;
    }
    const sha256 = createHash('sha256').update(file.value).digest('hex');
    if (fields.sha256_digest && fields.sha256_digest !== sha256) {
      res.writeHead(400).end('digest mismatch');
      return;
    }
    const failure = options.fail?.(file.filename);
    if (failure !== undefined) {
      res.writeHead(failure).end('upload failed');
      return;
    }
    const stored = uploads.find((u) => u.filename === file.filename);
    if (stored && options.existing === 'refuse') {
      res.writeHead(409, 'Conflict', { 'content-type': 'text/plain' }).end(`Package '${file.filename}' already exists!`);
      return;
    }
    if (stored && stored.sha256 === sha256) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      return;
    }
    if (stored) {
      // Warehouse's words (it also names the stored file's blake2_256 hash after the file name),
      // in the status line as well as the body: twine's --skip-existing reads either.
      const message = `File already exists ('${file.filename}'). See https://pypi.org/help/#file-name-reuse for more information.`;
      res.writeHead(400, message, { 'content-type': 'text/plain' }).end(`400 ${message}`);
      return;
    }
    uploads.push({ fields, filename: file.filename, content: file.value, sha256, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/legacy/`,
    simpleUrl: `http://127.0.0.1:${port}/simple/`,
    uploads,
    simpleRequests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback webhook that records every JSON body it receives. */
export async function startWebhook(): Promise<{ url: string; bodies: string[]; stop(): Promise<void> }> {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    bodies.push((await body(req)).toString('utf8'));
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hooks/T000/B000/secretpath`, bodies, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
