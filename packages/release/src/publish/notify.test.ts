import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type PublishNotification, sendNotification, webhookProblem } from './notify.js';

const message: PublishNotification = {
  text: 'acme 1.0.0 published',
  event: 'published',
  ecosystem: 'npm',
  package: 'acme',
  version: '1.0.0',
  registry: 'http://127.0.0.1/',
  artifacts: [{ name: 'acme-1.0.0.tgz', sha256: 'a'.repeat(64) }],
  approvers: ['alice'],
  reason: 'used token s3cr3t-value-123 by mistake',
  actor: 'ci',
};

async function server(statuses: number[]): Promise<{ url: string; bodies: string[]; close(): void }> {
  const bodies: string[] = [];
  const s = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      bodies.push(b);
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}/hook`, bodies, close: () => s.close() };
}

describe('sendNotification', () => {
  it('retries 5xx with backoff and masks secrets in the body', async () => {
    const s = await server([503, 500]);
    const r = await sendNotification(s.url, message, { backoffMs: 10, secrets: ['s3cr3t-value-123'] });
    s.close();
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(s.bodies).toHaveLength(3);
    const body = JSON.parse(s.bodies[0]!) as PublishNotification;
    expect(body.text).toBe('acme 1.0.0 published');
    expect(s.bodies[0]).not.toContain('s3cr3t-value-123');
  });

  it('does not retry a 4xx and gives up after the bounded attempts', async () => {
    const s = await server([404]);
    expect(await sendNotification(s.url, message, { backoffMs: 1 })).toMatchObject({ ok: false, attempts: 1, status: 404 });
    const t = await server([500, 500, 500, 500]);
    expect(await sendNotification(t.url, message, { backoffMs: 1, attempts: 2 })).toMatchObject({ ok: false, attempts: 2, status: 500 });
    s.close();
    t.close();
  });

  it('times out a silent endpoint and reports it without throwing', async () => {
    const s = createServer(() => undefined);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const r = await sendNotification(`http://127.0.0.1:${(s.address() as { port: number }).port}/`, message, { timeoutMs: 100, attempts: 2, backoffMs: 1 });
    s.closeAllConnections();
    s.close();
    expect(r).toMatchObject({ ok: false, attempts: 2, error: 'no answer within 100 ms' });
  });

  it('never repeats the webhook URL (its path or password is the secret) in an error', async () => {
    const r = await sendNotification('http://hook-user:hook-password-42@127.0.0.1:9/services/T0/B0/path-secret-42', message, { attempts: 1 });
    expect(r.ok).toBe(false);
    expect(r.error).not.toContain('hook-password-42');
    expect(r.error).not.toContain('path-secret-42');
  });

  it('tells a URL that can never be posted to, without repeating it', () => {
    expect(webhookProblem('https://hooks.example.com/services/T0/B0/x')).toBeUndefined();
    expect(webhookProblem('http://127.0.0.1:8080/hook')).toBeUndefined();
    const urls = ['hooks.example.com/services/T0/B0/path-secret-42', 'ftp://hooks.example.com/path-secret-42', 'https://u:path-secret-42@hooks.example.com/x'];
    // Ports fetch refuses outright ("bad port"): every notification would fail after the release.
    urls.push('http://127.0.0.1:6000/path-secret-42', 'https://hooks.example.com:6667/path-secret-42', 'http://127.0.0.1:10080/path-secret-42');
    for (const url of urls) {
      const problem = webhookProblem(url);
      expect(problem, url).toMatch(/notification URL/);
      expect(problem).not.toContain('path-secret-42');
    }
  });
});
