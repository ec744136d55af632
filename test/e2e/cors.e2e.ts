import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServer, serveTasks } from '../../src/server/serve.ts';
import { pgliteHarness, type StorageHarness } from '../server/harness.ts';
import { launchChromium, servePage } from './fixtures/persist/serve.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/cors/${name}`, import.meta.url));

let harness: StorageHarness;
let browser: Browser;
let page: { url: string; close(): Promise<void> };
const servers: RunningServer[] = [];

beforeAll(async () => {
  harness = await pgliteHarness();
  page = await servePage(fixture('page.ts'), fixture('index.html'));
  browser = await launchChromium();
});
afterAll(async () => {
  // The browser first: its tabs keep connections (and the store's retries) open, which would hold server.close() back.
  await browser?.close();
  for (const server of servers) await server.close();
  await page?.close();
  await harness?.close();
});
beforeEach(() => harness.reset());

/** The API on its own port (same host as the page, another origin), allowing `origins`. */
async function api(origins: string[]): Promise<RunningServer> {
  const server = await serveTasks({ storage: { ...harness.storage, close: async () => undefined }, port: 0, allowedOrigins: origins, logger: () => undefined });
  servers.push(server);
  return server;
}

type Outcome = { status: { connection: string; reason: string | null; pending: boolean }; item: string | null; version: number | null; listed: string[] };

async function exercise(server: RunningServer) {
  const tab = await (await browser.newContext()).newPage();
  await tab.goto(`${page.url}?api=${encodeURIComponent(server.url)}`);
  const outcome = (await tab.evaluate('window.exercise()')) as Outcome;
  return { tab, outcome };
}

describe('the remote store on a page of another origin, in Chromium', () => {
  it('works with the session cookie when the server lists the page origin: preflights answered, writes stored', async () => {
    const origin = new URL(page.url).origin;
    const server = await api([origin]);
    expect(new URL(server.url).port).not.toBe(new URL(page.url).port);
    const { tab, outcome } = await exercise(server);
    expect(outcome).toEqual({ status: { connection: 'online', reason: null, pending: false, waiting: 0, saving: false, conflicts: 0, error: null, since: expect.any(Number) }, item: 'pen', version: 2, listed: ['AAAAAAAAAAAAAAAAAAAAAA'] });
    expect(await harness.sql('SELECT version FROM wayflow_tasks')).toEqual([{ version: 2 }]);
    expect(await tab.locator('#status').getAttribute('data-connection')).toBe('online');
    // The cookie the server set is sent back: the two writes and the reads were one session.
    expect(await harness.sql('SELECT count(DISTINCT owner)::integer AS owners FROM wayflow_tasks')).toEqual([{ owners: 1 }]);
  });

  it('says so when the server does not allow the origin: the page shows it runs on the device copies, nothing reaches the server', async () => {
    const server = await api([]);
    const { tab, outcome } = await exercise(server);
    expect(outcome.status).toMatchObject({ connection: 'offline', reason: 'Failed to fetch', pending: true });
    expect(outcome).toMatchObject({ item: 'pen', version: 2 });
    expect(await harness.sql('SELECT version FROM wayflow_tasks')).toEqual([]);
    expect(await tab.locator('#status').getAttribute('data-connection')).toBe('offline');
    expect(await tab.locator('#status').textContent()).toMatch(/^Offline \(Failed to fetch\)/);
  });
});
