import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serveTasks } from '../../src/server/serve.ts';
import type { LogEntry } from '../../src/server/log.ts';
import { makeRecord } from '../persist/contract.ts';
import { postgresHarness, type StorageHarness } from './harness.ts';

/** Files a deployment may leave in the static folder by mistake. */
const SECRETS = { '.env': 'DATABASE_URL=postgres://admin:hunter2@db', '.git/config': '[remote "origin"]', '.htpasswd': 'admin:$apr1$x', 'assets/.secret': 'token' };

let harness: StorageHarness;
let server: RunningServer;
let dir: string;
const logs: LogEntry[] = [];

beforeAll(async () => {
  harness = await postgresHarness();
  dir = await mkdtemp(join(tmpdir(), 'wayflow-static-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
  await mkdir(join(dir, '.git'));
  await mkdir(join(dir, 'assets'));
  for (const [path, content] of Object.entries(SECRETS)) await writeFile(join(dir, path), content);
  await writeFile(join(dir, 'assets/app-Bx3kQ9_a.js'), 'export const app = 1;');
  await writeFile(join(dir, 'robots.txt'), 'User-agent: *');
  // serveTasks closes the storage it was given; the harness keeps its own connection to drop the schema.
  server = await serveTasks({ storage: harness.storage, port: 0, staticDir: dir, logger: (entry) => logs.push(entry), sweepIntervalMs: 60_000 });
});
afterAll(async () => {
  await server.close();
  await harness.close();
  await rm(dir, { recursive: true, force: true });
});

describe('serveTasks', () => {
  it('listens on loopback, serves the API and the static files beside it', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
    const page = await fetch(`${server.url}/index.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>demo</title>');
    const api = await fetch(`${server.url}/tasks/not-an-id`, { headers: { 'wayflow-binder': 'b' } });
    expect(api.status).toBe(400);
    expect(logs.find((entry) => entry.msg === 'listening')).toMatchObject({ level: 'info', url: server.url });
  });

  it('sends task reads and writes over HTTP with the headers every answer carries, the new session cookie included', async () => {
    const record = makeRecord({ binder: 'b', lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const send = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: { origin: server.url, 'wayflow-binder': 'b', ...init.headers } });
    const created = await send(`/tasks/${record.id}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': '"0"' }, body: JSON.stringify(record) });
    expect(created.status).toBe(201);
    expect(created.headers.get('set-cookie')).toMatch(/^wayflow_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = created.headers.get('set-cookie')!.split(';')[0]!;
    const read = await send(`/tasks/${record.id}`, { headers: { cookie } });
    const list = await send('/tasks', { headers: { cookie } });
    expect([read.status, list.status]).toEqual([200, 200]);
    expect(await read.json()).toEqual({ task: record });
    expect(read.headers.get('etag')).toBe('"1"');
    const names = (response: Response) => [...response.headers.keys()].filter((name) => !['etag', 'set-cookie', 'content-length'].includes(name));
    expect(names(created)).toEqual(names(list));
    expect(names(read)).toEqual(names(list));
    for (const response of [created, read]) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0);
    }
  });

  it('serves index.html for deep links of the single-page app, but not for API or asset requests', async () => {
    const deep = await fetch(`${server.url}/checkout/pay/new/card?_id=x`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<title>demo</title>');
    expect((await fetch(`${server.url}/assets/missing.js`, { headers: { accept: '*/*' } })).status).toBe(404);
    const api = await fetch(`${server.url}/tasks`, { headers: { accept: 'text/html', 'wayflow-binder': 'b' } });
    expect(api.headers.get('content-type')).toContain('application/json');
  });

  it('never serves dotfiles or files in dot-folders, whatever the Accept header or encoding', async () => {
    for (const path of [...Object.keys(SECRETS).map((p) => `/${p}`), '/%2eenv', '/assets/%2Esecret', '/.git/']) {
      for (const accept of ['*/*', 'text/html']) {
        const response = await fetch(`${server.url}${path}`, { headers: { accept } });
        expect([path, accept, response.status]).toEqual([path, accept, 404]);
        expect(await response.text()).not.toMatch(/hunter2|origin|apr1|token|<title>/);
      }
    }
  });

  it('answers unknown routes with the JSON 404 of the API, also beside static files', async () => {
    for (const path of ['/tasks/a/b/c', '/automations/forms', '/nope.js']) {
      const response = await fetch(`${server.url}${path}`, { headers: { accept: '*/*' } });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toMatchObject({ error: { code: 'not-found' } });
    }
  });

  it('issues the session cookie with the page, so tabs opened at once on a first visit share one session', async () => {
    const cookieOf = (response: Response) => response.headers.getSetCookie().find((c) => c.startsWith('wayflow_session='))?.split(';')[0];
    const pages = await Promise.all([0, 1].map(() => fetch(`${server.url}/checkout?_id=x`, { headers: { accept: 'text/html' } })));
    const cookies = pages.map(cookieOf);
    expect(cookies[0]).toMatch(/^wayflow_session=[\w-]{43}\./);
    expect(pages[0]!.headers.getSetCookie()[0]).toMatch(/HttpOnly/i);
    // The API takes the page's cookie as the session: it issues none of its own.
    const api = await fetch(`${server.url}/tasks`, { headers: { cookie: cookies[0]!, 'wayflow-binder': 'b' } });
    expect(api.status).toBe(200);
    expect(cookieOf(api)).toBeUndefined();
    // A page requested with the session already held keeps it; assets and API calls without one get none from the page layer.
    expect(cookieOf(await fetch(`${server.url}/checkout`, { headers: { accept: 'text/html', cookie: cookies[0]! } }))).toBeUndefined();
    expect(cookieOf(await fetch(`${server.url}/assets/app-Bx3kQ9_a.js`, { headers: { accept: '*/*' } }))).toBeUndefined();
    expect(cookieOf(await fetch(`${server.url}/health`, { headers: { accept: 'text/html' } }))).toBeUndefined();
  });

  it('lets browsers keep hashed assets for a year, revalidates other files, never caches the API', async () => {
    const hashed = await fetch(`${server.url}/assets/app-Bx3kQ9_a.js`);
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.url}/robots.txt`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${server.url}/checkout`, { headers: { accept: 'text/html' } })).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${server.url}/health`)).headers.get('cache-control')).toBe('no-store');
  });
});
