import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { indexedDbOfflineStore, memoryOfflineStore, type OfflineStore } from '../../src/persist/offline-store.ts';
import type { SyncConflict } from '../../src/persist/outbox.ts';
import { type RemoteStatus, type RemoteStoreOptions, remoteStore } from '../../src/persist/remote.ts';
import { browserFetch, pgliteHarness, type StorageHarness, testApp } from '../server/harness.ts';
import { makeRecord } from './contract.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());
beforeEach(() => harness.reset());

const ID = makeRecord().id;
const NOW = Date.now();
const record = (version: number, item: string, overrides: Partial<TaskRecord> = {}) =>
  makeRecord({ version, data: { item }, lastActiveAt: NOW, expiresAt: NOW + 3_600_000, ...overrides });

/** One browser session on the app, with a network that can be cut. */
function device(appOptions: Parameters<typeof testApp>[1] = {}) {
  const app = testApp(harness.storage, appOptions);
  const network = { down: false, gateway: false, databaseDown: false };
  const browser = browserFetch((request) => app.fetch(request));
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (network.down) throw new TypeError('fetch failed');
    if (network.gateway) return new Response('Bad Gateway', { status: 502 });
    if (network.databaseDown) {
      const body = JSON.stringify({ error: { code: 'database-unavailable', message: 'The database is unavailable for a moment.' } });
      return new Response(body, { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1' } });
    }
    return browser(input, init);
  }) as typeof globalThis.fetch;
  const open = (options: Partial<RemoteStoreOptions> = {}) => remoteStore({ baseUrl: 'http://wayflow.test', fetch, retryIntervalMs: 0, ...options });
  return { network, open, fetch };
}

describe('remoteStore offline', () => {
  it('keeps working while the server is unreachable and sends the writes in order when it is back', async () => {
    const { network, open } = device();
    const store = open();
    await store.put(record(1, 'book'), 0);
    network.down = true;
    await store.put(record(2, 'pen'), 1);
    await store.put(record(3, 'ink'), 2);
    expect(await store.get(ID, 'binder-a', NOW)).toEqual(record(3, 'ink'));
    expect((await store.list('binder-a', NOW)).map((s) => s.id)).toEqual([ID]);
    expect(store.status()).toMatchObject({ waiting: 2, error: null });
    await expect(store.put(record(3, 'stale'), 2)).rejects.toMatchObject({ code: 'version-conflict', actual: 3 });
    expect(store.status()).toMatchObject({ waiting: 2, saving: false, error: { code: 'version-conflict' } });
    expect(await harness.sql('SELECT version FROM wayflow_tasks')).toEqual([{ version: 1 }]);
    network.down = false;
    expect(await store.get(ID, 'binder-a', NOW)).toEqual(record(3, 'ink'));
    expect(await harness.sql('SELECT version FROM wayflow_tasks')).toEqual([{ version: 3 }]);
    expect(store.status()).toMatchObject({ waiting: 0, error: { code: 'version-conflict' } });
    await store.put(record(4, 'paper'), 3);
    expect(store.status()).toMatchObject({ waiting: 0, error: null });
    expect(await store.sync()).toEqual({ pushed: 0, conflicts: [], waiting: 0 });
  });

  it('creates a task offline and treats a gateway error as offline', async () => {
    const { network, open } = device();
    const store = open();
    network.gateway = true;
    await store.put(record(1, 'book'), 0);
    expect(await store.get(ID, 'binder-a', NOW)).toEqual(record(1, 'book'));
    network.gateway = false;
    expect(await store.sync()).toEqual({ pushed: 1, conflicts: [], waiting: 0 });
    expect(await open().get(ID, 'binder-a', NOW)).toEqual(record(1, 'book'));
  });

  it('tells the app when it runs on the device copies, why, and when it is back online with nothing waiting', async () => {
    const { network, open } = device();
    const seen: RemoteStatus[] = [];
    const store = open({ onStatus: (status) => seen.push(status) });
    expect(store.status()).toMatchObject({ connection: 'unknown', reason: null, pending: false });
    await store.put(record(1, 'book'), 0);
    expect(store.status()).toMatchObject({ connection: 'online', reason: null, pending: false });
    network.down = true;
    await store.put(record(2, 'pen'), 1);
    expect(store.status()).toMatchObject({ connection: 'offline', reason: 'fetch failed', pending: true });
    const later: RemoteStatus[] = [];
    const unsubscribe = store.subscribe((status) => later.push(status));
    network.down = false;
    network.gateway = true;
    await store.get(ID, 'binder-a', NOW);
    expect(store.status()).toMatchObject({ connection: 'offline', reason: 'HTTP 502', pending: true });
    network.gateway = false;
    await store.sync();
    expect(store.status()).toMatchObject({ connection: 'online', reason: null, pending: false });
    unsubscribe();
    // Each write is reported while it runs (saving), and how many writes wait once one is kept on the device.
    expect(seen.map((s) => [s.connection, s.reason, s.pending, s.waiting, s.saving])).toEqual([
      ['unknown', null, false, 0, true],
      ['online', null, false, 0, true],
      ['online', null, false, 0, false],
      ['online', null, false, 0, true],
      ['offline', 'fetch failed', false, 0, true],
      ['offline', 'fetch failed', true, 0, true],
      ['offline', 'fetch failed', true, 1, true],
      ['offline', 'fetch failed', true, 1, false],
      ['offline', 'HTTP 502', true, 1, false],
      ['online', null, true, 1, false],
      ['online', null, false, 1, false],
      ['online', null, false, 0, false],
    ]);
    expect(later.map((s) => s.connection)).toEqual(['offline', 'online', 'online', 'online']);
    store.close();
  });

  it('reports how many tasks wait while the server stays down', async () => {
    const { network, open } = device();
    const store = open();
    network.down = true;
    await store.put(record(1, 'book'), 0);
    await store.put(record(1, 'pen', { id: 'CCCCCCCCCCCCCCCCCCCCCC' }), 0);
    expect(await store.sync()).toEqual({ pushed: 0, conflicts: [], waiting: 2 });
  });

  it('answers a read of a task it has no copy of, while offline, with a typed error', async () => {
    const { network, open } = device();
    network.down = true;
    await expect(open().get(ID, 'binder-a', NOW)).rejects.toMatchObject({ code: 'remote-unavailable' });
  });

  it('surfaces a conflict with writes made on the server meanwhile, and keeps the local copy until resolved', async () => {
    const { network, open } = device();
    const conflicts: SyncConflict[] = [];
    const laptop = open({ onConflict: (conflict) => conflicts.push(conflict) });
    const phone = open();
    await laptop.put(record(1, 'book'), 0);
    network.down = true;
    await laptop.put(record(2, 'offline edit'), 1);
    network.down = false;
    // The phone shares the session (same cookie jar) and writes first.
    await phone.put(record(2, 'phone edit'), 1);
    const report = await laptop.sync();
    expect(report.conflicts).toEqual([{ id: ID, binder: 'binder-a', local: record(2, 'offline edit'), remoteVersion: 2 }]);
    expect(conflicts).toEqual(report.conflicts);
    expect(await laptop.conflicts()).toEqual(report.conflicts);
    expect(laptop.status()).toMatchObject({ connection: 'online', conflicts: 1, waiting: 0 });
    expect((await laptop.get(ID, 'binder-a', NOW))!.data).toEqual({ item: 'phone edit' });
    await laptop.resolveConflict(ID, 'local');
    expect(await laptop.conflicts()).toEqual([]);
    expect(laptop.status()).toMatchObject({ conflicts: 0 });
    const resolved = await phone.get(ID, 'binder-a', NOW);
    expect(resolved).toMatchObject({ version: 3, data: { item: 'offline edit' } });
  });

  it('drops the local copy of a conflict only when asked to keep the remote one', async () => {
    const { network, open } = device();
    const laptop = open();
    await laptop.put(record(1, 'book'), 0);
    network.down = true;
    await laptop.put(record(2, 'offline edit'), 1);
    network.down = false;
    await open().put(record(2, 'phone edit'), 1);
    await laptop.sync();
    expect(await laptop.conflicts()).toHaveLength(1);
    await laptop.resolveConflict(ID, 'remote');
    expect(await laptop.conflicts()).toEqual([]);
    expect((await laptop.get(ID, 'binder-a', NOW))!.data).toEqual({ item: 'phone edit' });
  });

  it('deletes offline, and recreates after an offline delete, once the server is back', async () => {
    const { network, open } = device();
    const store = open();
    await store.put(record(1, 'book'), 0);
    await store.put(record(2, 'pen'), 1);
    network.down = true;
    await store.delete(ID, 'binder-a');
    expect(await store.get(ID, 'binder-a', NOW)).toBeNull();
    await store.put(record(1, 'again'), 0);
    network.down = false;
    expect(await store.sync()).toEqual({ pushed: 2, conflicts: [], waiting: 0 });
    expect(await open().get(ID, 'binder-a', NOW)).toEqual(record(1, 'again'));
  });

  it('lets two tabs sharing the offline store send the same unsent writes without a false conflict', async () => {
    const { network, open } = device();
    const shared = memoryOfflineStore();
    const first = open({ fallback: shared });
    const second = open({ fallback: shared });
    await first.put(record(1, 'book'), 0);
    network.down = true;
    await first.put(record(2, 'pen'), 1);
    await first.put(record(3, 'ink'), 2);
    network.down = false;
    const reports = await Promise.all([first.sync(), second.sync()]);
    expect(reports.flatMap((report) => report.conflicts)).toEqual([]);
    expect(await harness.sql('SELECT version FROM wayflow_tasks')).toEqual([{ version: 3 }]);
    expect(await first.get(ID, 'binder-a', NOW)).toEqual(record(3, 'ink'));
    expect(await second.conflicts()).toEqual([]);
  });

  it('keeps unsent writes in IndexedDB across a reload and sends them from the next page', async () => {
    const { network, open } = device();
    const name = `wayflow-remote-test-${Math.random()}`;
    const first = open({ fallback: indexedDbOfflineStore(name) });
    await first.put(record(1, 'book'), 0);
    network.down = true;
    await first.put(record(2, 'pen'), 1);
    first.close();
    network.down = false;
    const reloaded = open({ fallback: indexedDbOfflineStore(name) });
    expect(await reloaded.list('binder-a', NOW)).toHaveLength(1);
    expect(await harness.sql('SELECT version FROM wayflow_tasks')).toEqual([{ version: 2 }]);
  });

  it('retries on its own while writes wait', async () => {
    const { network, open } = device();
    const fallback: OfflineStore = memoryOfflineStore();
    const store = open({ fallback, retryIntervalMs: 20 });
    network.down = true;
    await store.put(record(1, 'book'), 0);
    network.down = false;
    await expect.poll(async () => harness.sql('SELECT version FROM wayflow_tasks'), { timeout: 2000 }).toEqual([{ version: 1 }]);
    expect((await fallback.all()).map((entry) => entry.pending)).toEqual([false]);
    store.close();
  });

  it('keeps writes made while the server answers 503, and sends them when its Retry-After says, not at the next interval', async () => {
    const { network, open } = device();
    const fallback: OfflineStore = memoryOfflineStore();
    const store = open({ fallback, retryIntervalMs: 60_000 });
    network.databaseDown = true;
    await store.put(record(1, 'book'), 0);
    expect(await store.get(ID, 'binder-a', NOW)).toEqual(record(1, 'book'));
    network.databaseDown = false;
    await expect.poll(async () => harness.sql('SELECT version FROM wayflow_tasks'), { timeout: 3000 }).toEqual([{ version: 1 }]);
    expect((await fallback.all()).map((entry) => entry.pending)).toEqual([false]);
    store.close();
  });

  it('keeps offline writes the server refuses for good as a conflict, and retries rate-limited ones later', async () => {
    const { network, open } = device({ limits: { bodyBytes: 1500, writeRate: { perSecond: 0.001, burst: 1 } } });
    const store = open();
    network.down = true;
    await store.put(record(1, 'x'.repeat(2000)), 0);
    await store.put(record(1, 'small', { id: 'CCCCCCCCCCCCCCCCCCCCCC' }), 0);
    network.down = false;
    const first = await store.sync();
    expect(first.conflicts).toEqual([{ id: ID, binder: 'binder-a', local: record(1, 'x'.repeat(2000)), remoteVersion: null }]);
    // The oversized write used the session's only write token; the next one is rate-limited and waits.
    expect(first.waiting).toBe(1);
    expect(first.pushed).toBe(0);
    expect(await store.conflicts()).toEqual(first.conflicts);
  });

  it('reports a record damaged on the server with its code, without dropping the local copy', async () => {
    const { open } = device();
    const fallback = memoryOfflineStore();
    const store = open({ fallback });
    await store.put(record(1, 'book'), 0);
    await harness.sql('UPDATE wayflow_tasks SET record = $1', ['not json']);
    await expect(store.get(ID, 'binder-a', NOW)).rejects.toMatchObject({ code: 'corrupt-record', status: 500 });
    expect((await fallback.get(ID))?.record).toEqual(record(1, 'book'));
  });

  it('refuses a malformed record before sending it', async () => {
    const { open } = device();
    await expect(open().put({ ...record(1, 'book'), history: 'none' } as unknown as TaskRecord, 0)).rejects.toMatchObject({ code: 'invalid-record' });
  });
});
