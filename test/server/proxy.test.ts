import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serveTasks } from '../../src/server/serve.ts';
import { makeRecord } from '../persist/contract.ts';
import { pgliteHarness, type StorageHarness, TEST_LIMITS, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());

const record = () => makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 });

/** A PUT creating a task, as a browser page on `origin` sends it through a TLS proxy (`forwarded` headers). */
const createTask = (app: ReturnType<typeof testApp>, origin: string, forwarded: Record<string, string>) => {
  const task = record();
  return app.request(`http://127.0.0.1:8787/tasks/${task.id}`, {
    method: 'PUT',
    headers: { origin, 'content-type': 'application/json', 'wayflow-binder': task.binder, 'if-match': '0', ...forwarded },
    body: JSON.stringify(task),
  });
};

const TLS_PROXY = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example', 'x-forwarded-for': '203.0.113.5' };

describe('behind a trusted TLS proxy', () => {
  it('marks the session cookie Secure and accepts the https origin of the page, unlisted', async () => {
    const app = testApp(harness.storage, { trustProxy: 1, allowedOrigins: [] });
    const response = await createTask(app, 'https://shop.example', TLS_PROXY);
    expect(response.status).toBe(201);
    expect(response.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('believes the value the trusted proxy added, not what the client wrote before it', async () => {
    const app = testApp(harness.storage, { trustProxy: 1, allowedOrigins: [] });
    const forged = await createTask(app, 'https://evil.example', { ...TLS_PROXY, 'x-forwarded-host': 'evil.example, shop.example' });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('bad-origin');
  });

  it('ignores X-Forwarded-* when no proxy is trusted: no Secure cookie, the https origin refused', async () => {
    const app = testApp(harness.storage, { allowedOrigins: [] });
    const response = await createTask(app, 'https://shop.example', TLS_PROXY);
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).not.toMatch(/Secure/);
  });
});

/** `GET /health` on 127.0.0.1:`port` with this Host header (fetch does not let a caller set it; a rebinding browser does). */
const getWithHost = (port: number, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/health', headers: { host } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });

describe('allowed host names (DNS rebinding)', () => {
  it('answers only the loopback names when it listens on loopback', async () => {
    const server: RunningServer = await serveTasks({
      storage: { ...harness.storage, close: async () => undefined },
      port: 0,
      logger: () => undefined,
      limits: TEST_LIMITS,
    });
    try {
      const { port } = server;
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `app.localhost:${port}`, `[::1]:${port}`]) expect((await getWithHost(port, host)).status).toBe(200);
      const rebound = await getWithHost(port, `attacker.example:${port}`);
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'host-not-allowed', message: expect.stringContaining('attacker.example') } });
    } finally {
      await server.close();
    }
  });

  it('matches exact names and .domain patterns; behind a trusted proxy it checks the forwarded host', async () => {
    const app = testApp(harness.storage, { allowedHosts: ['.shop.example', 'admin.internal'], trustProxy: 1 });
    const status = async (host: string, forwardedHost?: string) =>
      (await app.request(`http://${host}/health`, { headers: forwardedHost ? { 'x-forwarded-host': forwardedHost } : {} })).status;
    expect(await status('shop.example')).toBe(200);
    expect(await status('www.shop.example:8443')).toBe(200);
    expect(await status('admin.internal')).toBe(200);
    expect(await status('evilshop.example')).toBe(403);
    expect(await status('127.0.0.1:8787', 'www.shop.example')).toBe(200);
    expect(await status('shop.example', 'attacker.example')).toBe(403);
  });
});
