import { createHash, randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PublishError } from './errors.js';
import { checkIndexFiles, parseSimpleProjectPage, readSimpleProject, simpleIndexFor, simpleIndexProblem, simpleProjectUrl } from './simple-index.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const WHEEL = 'acme_tool-1.0.0-py3-none-any.whl';
const SDIST = 'acme_tool-1.0.0.tar.gz';
const wheelSha = sha(`wheel ${randomBytes(8).toString('hex')}`);
const sdistSha = sha(`sdist ${randomBytes(8).toString('hex')}`);

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

/** A loopback index; `handler` answers every request, which is recorded. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/simple/`, requests };
}

function jsonPage(files: { filename: string; sha256?: string }[]): string {
  return JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'acme-tool', files: files.map((f) => ({ filename: f.filename, url: `../../files/${f.filename}`, hashes: f.sha256 ? { sha256: f.sha256 } : {} })) });
}

function htmlPage(files: { filename: string; sha256?: string }[]): string {
  const links = files.map((f) => `    <a href="../../files/${f.filename}${f.sha256 ? `#sha256=${f.sha256}` : ''}" data-requires-python="&gt;=3.8">${f.filename}</a><br />`);
  return `<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for acme-tool</h1>\n${links.join('\n')}\n  </body>\n</html>\n`;
}

/** An index that answers as PyPI does: JSON when the client prefers it, HTML otherwise. */
function negotiating(files: { filename: string; sha256?: string }[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url !== '/simple/acme-tool/') {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
      return;
    }
    if ((req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json')) res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(jsonPage(files));
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(htmlPage(files));
  };
}

const release = [
  { name: WHEEL, sha256: wheelSha, project: 'Acme_Tool' },
  { name: SDIST, sha256: sdistSha, project: 'Acme_Tool' },
];

describe('simple index', () => {
  it('knows the simple index of pypi.org and test.pypi.org only, and refuses an index URL with credentials', () => {
    expect(simpleIndexFor('https://upload.pypi.org/legacy/')).toBe('https://pypi.org/simple/');
    expect(simpleIndexFor('https://test.pypi.org/legacy/')).toBe('https://test.pypi.org/simple/');
    expect(simpleIndexFor('https://upload.pypi.org./legacy/')).toBe('https://pypi.org/simple/');
    expect(simpleIndexFor('http://127.0.0.1:8080/legacy/')).toBeUndefined();
    expect(simpleIndexFor('https://upload.pypi.org.example.net/legacy/')).toBeUndefined();
    expect(simpleIndexProblem('https://user:pw@pypi.example/simple/')).toContain('user name or password');
    expect(simpleIndexProblem('file:///srv/simple/')).toContain('not file://');
    expect(simpleIndexProblem('https://pypi.org/simple/')).toBeUndefined();
    // PEP 503: the normalised name, below the base URL, with a trailing slash.
    expect(simpleProjectUrl('https://pypi.org/simple', 'Acme__Tool.x')).toBe('https://pypi.org/simple/acme-tool-x/');
  });

  it('reads the JSON answer, asking for it first, and sends no credentials', async () => {
    const index = await serve(negotiating([{ filename: WHEEL, sha256: wheelSha.toUpperCase() }, { filename: SDIST, sha256: sdistSha }]));
    const checked = await checkIndexFiles(index.url, release);
    expect(checked.map((c) => [c.name, c.status])).toEqual([
      [WHEEL, 'approved'],
      [SDIST, 'approved'],
    ]);
    expect(index.requests).toHaveLength(1);
    expect(index.requests[0]!.url).toBe('/simple/acme-tool/');
    expect(index.requests[0]!.headers.accept).toBe('application/vnd.pypi.simple.v1+json, text/html;q=0.1');
    expect(index.requests[0]!.headers.authorization).toBeUndefined();
    expect(index.requests[0]!.headers.cookie).toBeUndefined();
  });

  it('reads the HTML answer of an index that has no JSON', async () => {
    const files = [{ filename: WHEEL, sha256: wheelSha }, { filename: SDIST, sha256: sha('other bytes') }];
    const index = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(htmlPage(files)));
    const checked = await checkIndexFiles(index.url, release);
    expect(checked).toEqual([
      { name: WHEEL, approved: wheelSha, status: 'approved', onIndex: wheelSha, url: `${index.url}acme-tool/` },
      { name: SDIST, approved: sdistSha, status: 'different', onIndex: sha('other bytes'), url: `${index.url}acme-tool/` },
    ]);
  });

  it('tells a file listed with other bytes, one not listed and one listed without a sha256 apart', async () => {
    const index = await serve(negotiating([{ filename: WHEEL, sha256: sha('not approved') }, { filename: 'acme_tool-1.0.0-py2-none-any.whl', sha256: sdistSha }]));
    const checked = await checkIndexFiles(index.url, release, { retryDelaysMs: [] });
    expect(checked.map((c) => [c.name, c.status, c.onIndex])).toEqual([
      [WHEEL, 'different', sha('not approved')],
      [SDIST, 'missing', undefined],
    ]);
    const bare = await serve(negotiating([{ filename: WHEEL }]));
    expect((await checkIndexFiles(bare.url, release.slice(0, 1))).map((c) => c.status)).toEqual(['no-digest']);
  });

  it('looks again for a file the index does not list yet, then says it is missing', async () => {
    let calls = 0;
    const index = await serve((req, res) => {
      calls++;
      // Listed from the third answer on, as a CDN's page once renewed.
      negotiating(calls >= 3 ? [{ filename: WHEEL, sha256: wheelSha }] : [])(req, res);
    });
    const found = await checkIndexFiles(index.url, release.slice(0, 1), { retryDelaysMs: [10, 10] });
    expect(found.map((c) => c.status)).toEqual(['approved']);
    expect(calls).toBe(3);
    calls = -10;
    const missing = await checkIndexFiles(index.url, release.slice(0, 1), { retryDelaysMs: [10, 10] });
    expect(missing.map((c) => c.status)).toEqual(['missing']);
    expect(calls).toBe(-7);
  });

  it('takes a project the index does not know (404) as listing no file', async () => {
    const index = await serve(negotiating([]));
    expect(await readSimpleProject(index.url, 'someone-else')).toEqual([]);
  });

  it('says what failed when the index cannot be reached, answers an HTTP error or garbage, or takes too long', async () => {
    const closed = await serve(() => undefined);
    const closedUrl = closed.url;
    await stops.pop()!();
    await expect(readSimpleProject(closedUrl, 'acme-tool')).rejects.toThrow(/could not be read: .*ECONNREFUSED/);

    const cases: [(res: ServerResponse) => void, RegExp][] = [
      [(res) => res.writeHead(503, 'Service Unavailable').end('busy'), /answered HTTP 503 Service Unavailable/],
      [(res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('OK'), /of type text\/plain, not a simple index page/],
      [(res) => res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end('{"files": [{"url": "x"'), /the JSON answer does not parse/],
      [(res) => res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end('{"meta": {"api-version": "1.0"}}'), /has no "files" list/],
      [(res) => res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end('{"meta": {"api-version": "2.0"}, "files": []}'), /api-version 2\.0/],
      [(res) => res.writeHead(200, { 'content-type': 'text/html' }).end('\u0000\u0001garbage'), /not an HTML page/],
    ];
    for (const [answer, message] of cases) {
      const index = await serve((_req, res) => answer(res));
      const error = await readSimpleProject(index.url, 'acme-tool').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(`${index.url}acme-tool/`);
    }

    const silent = await serve(() => undefined);
    const started = Date.now();
    await expect(readSimpleProject(silent.url, 'acme-tool', { timeoutMs: 200 })).rejects.toThrow(`${silent.url}acme-tool/ did not answer within 200 ms`);
    expect(Date.now() - started).toBeLessThan(5000);

    const huge = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('x'.repeat(4096)));
    await expect(readSimpleProject(huge.url, 'acme-tool', { maxBytes: 1024 })).rejects.toThrow('answered with more than 1024 bytes');
  });

  it('stops when the signal is aborted, with its reason', async () => {
    const silent = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by the user')), 50);
    await expect(readSimpleProject(silent.url, 'acme-tool', { signal: controller.signal })).rejects.toThrow('stopped by the user');
    const index = await serve(negotiating([]));
    const later = new AbortController();
    setTimeout(() => later.abort(new Error('stopped while waiting')), 50);
    await expect(checkIndexFiles(index.url, release, { signal: later.signal, retryDelaysMs: [60_000] })).rejects.toThrow('stopped while waiting');
  });

  it('parses the links of PEP 503 pages as indexes write them', () => {
    const page = [
      '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1"></head><body>',
      `<a href='https://files.example/a/${WHEEL}#sha256=${wheelSha}' data-dist-info-metadata="sha256=${sdistSha}">${WHEEL}</a>`,
      `<A HREF=../b/${SDIST}#md5=0123456789abcdef0123456789abcdef>${SDIST}</A>`,
      `<!-- <a href="x#sha256=${sdistSha}">${SDIST}</a> -->`,
      `<a href="/c/acme%2Btool-1.0.0.zip?a=1&amp;b=2#sha256=${sdistSha}">\n  acme&#43;tool-1.0.0.zip\n</a>`,
      '<a name="anchor-without-href">not a file</a>',
      '</body></html>',
    ].join('\n');
    expect(parseSimpleProjectPage(page, 'text/html; charset=utf-8')).toEqual([
      { filename: WHEEL, sha256: wheelSha },
      { filename: SDIST },
      { filename: 'acme+tool-1.0.0.zip', sha256: sdistSha },
    ]);
    expect(parseSimpleProjectPage(page, 'application/vnd.pypi.simple.v1+html')).toHaveLength(3);
  });
});
