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

/** A loopback endpoint that speaks PyPI's legacy upload API (what twine uploads to). */
export interface PypiServer {
  url: string;
  /** Files stored, in the order they arrived; a refused or repeated upload is not one. */
  uploads: ReceivedUpload[];
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
}

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
  const server: Server = createServer(async (req, res) => {
    const data = await body(req);
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
    uploads,
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
