import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRecord } from '../persist/contract.ts';
import { pgliteHarness, type StorageHarness, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());

const PAGE = 'http://127.0.0.1:5173';
const API = 'http://127.0.0.1:8787';

const preflight = (app: ReturnType<typeof testApp>, origin: string, method = 'PUT') =>
  app.request(`${API}/tasks/${makeRecord().id}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type,if-match,wayflow-binder,x-tenant' },
  });

describe('CORS for the listed origins', () => {
  it('answers the preflight of a listed origin with the methods and headers the clients send, credentials allowed', async () => {
    const response = await preflight(testApp(harness.storage, { allowedOrigins: [PAGE] }), PAGE);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toMatch(/PUT/);
    for (const header of ['Content-Type', 'If-Match', 'Wayflow-Binder', 'Idempotency-Key', 'Last-Event-ID', 'Authorization', 'x-tenant']) {
      expect(response.headers.get('access-control-allow-headers')).toContain(header);
    }
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('refuses the preflight of an unlisted origin with a JSON error naming the flag', async () => {
    const response = await preflight(testApp(harness.storage, { allowedOrigins: [PAGE] }), 'http://127.0.0.1:6666');
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: 'bad-origin', message: expect.stringContaining('--origin') } });
  });

  it('lets the page read answers and the headers it needs, and a write with its cookie passes the origin check', async () => {
    const app = testApp(harness.storage, { allowedOrigins: [PAGE] });
    const task = makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const created = await app.request(`${API}/tasks/${task.id}`, {
      method: 'PUT',
      headers: { origin: PAGE, 'content-type': 'application/json', 'wayflow-binder': task.binder, 'if-match': '0' },
      body: JSON.stringify(task),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(created.headers.get('access-control-allow-credentials')).toBe('true');
    expect(created.headers.get('access-control-expose-headers')).toMatch(/ETag.*Retry-After/);
    const other = await app.request(`${API}/tasks`, { headers: { origin: 'http://127.0.0.1:6666', 'wayflow-binder': 'b' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
