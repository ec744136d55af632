import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serveTasks } from '../../src/server/serve.ts';
import type { LogEntry } from '../../src/server/log.ts';
import { postgresHarness, type StorageHarness } from './harness.ts';

let harness: StorageHarness;
let server: RunningServer;
let dir: string;
const logs: LogEntry[] = [];

beforeAll(async () => {
  harness = await postgresHarness();
  dir = await mkdtemp(join(tmpdir(), 'wayflow-static-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
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

  it('serves index.html for deep links of the single-page app, but not for API or asset requests', async () => {
    const deep = await fetch(`${server.url}/checkout/pay/new/card?_id=x`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<title>demo</title>');
    expect((await fetch(`${server.url}/assets/missing.js`, { headers: { accept: '*/*' } })).status).toBe(404);
    const api = await fetch(`${server.url}/tasks`, { headers: { accept: 'text/html', 'wayflow-binder': 'b' } });
    expect(api.headers.get('content-type')).toContain('application/json');
  });
});
