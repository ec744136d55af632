import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { type RunningServer, serveTasks } from '../../src/server/serve.ts';
import { makeRecord } from '../persist/contract.ts';
import { postgresStorage } from '../../src/server/postgres.ts';
import type { TaskStorage } from '../../src/server/storage.ts';
import { DATABASE_URL, ORIGIN, pgliteHarness, postgresHarness, type StorageHarness, TEST_LIMITS, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());
beforeEach(() => harness.reset());

const BASE = 'http://wayflow.test';
const SLOW = { perSecond: 0.001 };
const live = (overrides: Partial<TaskRecord> = {}) => makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 3_600_000, ...overrides });
const taskIds = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC', 'DDDDDDDDDDDDDDDDDDDDDD', 'EEEEEEEEEEEEEEEEEEEEEE'];

type Fetch = (request: Request) => Response | Promise<Response>;

/** A GET of the task list, as a client at `address` behind one trusted proxy, with `cookie` if given. */
const listFrom = (app: { fetch: Fetch }, address: string, cookie?: string) =>
  app.fetch(new Request(`${BASE}/tasks`, { headers: { 'wayflow-binder': 'binder-a', 'x-forwarded-for': address, ...(cookie ? { cookie } : {}) } }));

const cookieOf = (response: Response) => response.headers.get('set-cookie')?.split(';')[0] ?? null;

/** Expects a 429 with `code` and a Retry-After of whole seconds. */
async function expectTooMany(response: Response, code: string) {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
}

describe('limits per client address', () => {
  it('bounds the requests of one address across sessions: dropping the cookie is no way round it', async () => {
    const app = testApp(harness.storage, { trustProxy: 1, limits: { clientRate: { ...SLOW, burst: 3 } } });
    for (let i = 0; i < 3; i++) expect((await listFrom(app, '198.51.100.7')).status).toBe(200);
    await expectTooMany(await listFrom(app, '198.51.100.7'), 'rate-limited');
    expect((await listFrom(app, '198.51.100.8')).status).toBe(200);
  });

  it('counts the socket address on a real server, ignoring X-Forwarded-For unless a proxy is trusted', async () => {
    const warnings: string[] = [];
    // serveTasks closes the storage it serves: give it a view of the shared one that stays open.
    const server: RunningServer = await serveTasks({
      storage: { ...harness.storage, close: async () => undefined },
      port: 0,
      logger: (entry) => entry.level === 'warn' && warnings.push(entry.msg),
      limits: { ...TEST_LIMITS, clientRate: { ...SLOW, burst: 2 } },
      sweepIntervalMs: 60_000,
    });
    try {
      const get = (forwardedFor: string) => fetch(`${server.url}/tasks`, { headers: { 'wayflow-binder': 'b', 'x-forwarded-for': forwardedFor } });
      expect((await get('203.0.113.1')).status).toBe(200);
      expect((await get('203.0.113.2')).status).toBe(200);
      await expectTooMany(await get('203.0.113.3'), 'rate-limited');
      expect(warnings.filter((msg) => msg.includes('X-Forwarded-For'))).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('issues a bounded number of new sessions per address; a client that keeps its cookie goes on', async () => {
    const app = testApp(harness.storage, { trustProxy: 1, limits: { sessionRate: { ...SLOW, burst: 2 } } });
    const first = await listFrom(app, '198.51.100.9');
    expect(cookieOf(first)).not.toBeNull();
    expect(cookieOf(await listFrom(app, '198.51.100.9'))).not.toBeNull();
    const refused = await listFrom(app, '198.51.100.9');
    expect(refused.headers.get('set-cookie')).toBeNull();
    await expectTooMany(refused, 'too-many-sessions');
    expect((await listFrom(app, '198.51.100.9', cookieOf(first)!)).status).toBe(200);
  });
});

describe('limits per session or user', () => {
  it('bounds reads per session, apart from writes', async () => {
    const app = testApp(harness.storage, { trustProxy: 1, limits: { readRate: { ...SLOW, burst: 2 } } });
    const cookie = cookieOf(await listFrom(app, '198.51.100.10'))!;
    expect((await listFrom(app, '198.51.100.10', cookie)).status).toBe(200);
    await expectTooMany(await listFrom(app, '198.51.100.10', cookie), 'rate-limited');
    const record = live();
    const write = await app.request(`${BASE}/tasks/${record.id}`, {
      method: 'PUT',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/json', 'wayflow-binder': record.binder, 'if-match': '0' },
      body: JSON.stringify(record),
    });
    expect(write.status).toBe(201);
  });

  it('caps the live tasks a session stores; updates, deletes and expired tasks make room as they should', async () => {
    let now = Date.now();
    const app = testApp(harness.storage, { limits: { tasksPerCaller: 2 }, idleTimeoutMs: 60_000, clock: () => now });
    let cookie = '';
    const send = async (method: string, record: TaskRecord, ifMatch: number) => {
      const response = await app.request(`${BASE}/tasks/${record.id}`, {
        method,
        headers: { ...(cookie ? { cookie } : {}), origin: ORIGIN, 'content-type': 'application/json', 'wayflow-binder': record.binder, 'if-match': String(ifMatch) },
        ...(method === 'PUT' ? { body: JSON.stringify(record) } : {}),
      });
      cookie ||= cookieOf(response) ?? '';
      return response;
    };
    const task = (index: number, version = 1) => live({ id: taskIds[index]!, version, lastActiveAt: now, expiresAt: now + 3_600_000 });
    expect((await send('PUT', task(0), 0)).status).toBe(201);
    expect((await send('PUT', task(1), 0)).status).toBe(201);
    const refused = await send('PUT', task(2), 0);
    await expectTooMany(refused.clone(), 'too-many-tasks');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(`Task ${taskIds[2]}`);
    expect((await send('PUT', task(0, 2), 1)).status).toBe(200);
    expect((await send('DELETE', task(0, 2), 2)).status).toBe(204);
    expect((await send('PUT', task(2), 0)).status).toBe(201);
    now += 61_000;
    expect((await send('PUT', task(3), 0)).status).toBe(201);
    expect((await send('PUT', task(4), 0)).status).toBe(201);
    expect(await harness.sql('SELECT count(*)::integer AS n FROM wayflow_tasks')).toEqual([{ n: 4 }]);
  });
});

describe('the task cap on PostgreSQL with two server processes', () => {
  let pg: StorageHarness & { schema: string };
  let second: TaskStorage;
  beforeAll(async () => {
    pg = await postgresHarness();
    second = await postgresStorage({ connectionString: DATABASE_URL, schema: pg.schema });
  });
  afterAll(async () => {
    await second?.close();
    await pg?.close();
  });

  it('lets exactly the allowed number of concurrent creates through, whichever process takes them', async () => {
    const authenticate = () => ({ id: 'ada', credentials: 'header' as const });
    const apps = [pg.storage, second].map((storage) => testApp(storage, { authenticate, limits: { tasksPerCaller: 3 } }));
    const records = Array.from({ length: 12 }, (_, i) => live({ id: `T${String(i).padStart(21, '0')}` }));
    const statuses = await Promise.all(
      records.map(async (record, i) => {
        const response = await apps[i % 2]!.request(`${BASE}/tasks/${record.id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'wayflow-binder': record.binder, 'if-match': '0' },
          body: JSON.stringify(record),
        });
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(9);
    expect(await pg.sql('SELECT count(*)::integer AS n FROM wayflow_tasks')).toEqual([{ n: 3 }]);
  });
});
