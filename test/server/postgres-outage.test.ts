import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAutomationRunner, defineAutomation, flow, type NodeContext, systemClock } from '../../src/automations/index.ts';
import {
  automationTransaction,
  listenForDueTimes,
  openAutomationDatabase,
  openAutomationRuntime,
  startRuntimeScheduler,
} from '../../src/server/automations/index.ts';
import type { LogEntry } from '../../src/server/log.ts';
import { isDatabaseUnavailable, outageMonitor } from '../../src/server/outage.ts';
import { connectionSettings, type PostgresTimeouts, postgresDatabase, postgresStorage } from '../../src/server/postgres.ts';
import { startServerAutomations } from '../../src/server/server-automations.ts';
import { type DatabaseProxy, databaseProxy } from '../helpers/db-proxy.ts';
import { type AutomationDb, postgresAutomationDb } from './automations/db.ts';
import { DATABASE_URL } from './harness.ts';
import { asUser, syncApp } from './sync/helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(10);
  }
}

/** Three steps, each writing its idempotency key in the step's transaction; two behind short timers. */
function tick(node: string) {
  return flow.execute(async (ctx: NodeContext) => {
    await automationTransaction().query('INSERT INTO effects (key, node) VALUES ($1, $2)', [ctx.idempotencyKey, node]);
  });
}
const ticker = defineAutomation('Ticker', {
  nodes: { a: tick('a'), b: tick('b').afterWaitingFor(30), c: tick('c').afterWaitingFor(30), end: flow.end() },
  receivers: { poke: () => 'poked' },
});

let database: AutomationDb;
let proxy: DatabaseProxy;
beforeAll(async () => {
  database = await postgresAutomationDb();
  await database.sql('CREATE TABLE effects (key text NOT NULL, node text NOT NULL, at double precision NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000))');
  proxy = await databaseProxy(DATABASE_URL);
});
afterAll(async () => {
  await proxy?.close();
  await database?.close();
});

const messages = (log: LogEntry[], msg: RegExp) => log.filter((entry) => msg.test(entry.msg));

describe('postgresDatabase when the connection is lost', () => {
  it('rejects the transaction, without an unhandled error, when the connection ends between two statements', async () => {
    const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    pool.on('error', () => undefined);
    const db = postgresDatabase(pool);
    const attempt = db.transaction(async (tx) => {
      const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [row!.pid]);
      await sleep(200);
      return tx.query('SELECT 1');
    });
    await expect(attempt).rejects.toSatisfy(isDatabaseUnavailable);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await db.close();
    await admin.end();
  });

  it('drops a connection whose statement timed out instead of reusing it, so the next query answers at once', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, ...connectionSettings({ queryTimeoutMs: 200 }) });
    pool.on('error', () => undefined);
    const db = postgresDatabase(pool);
    await expect(db.transaction((tx) => tx.query('SELECT pg_sleep(3)'))).rejects.toSatisfy(isDatabaseUnavailable);
    const startedAt = performance.now();
    expect(await db.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    expect(performance.now() - startedAt).toBeLessThan(1500);
    await db.close();
  });
});

/** The tasks and automations API on the database behind the proxy, logging to `log`. */
async function serverThroughProxy(timeouts: PostgresTimeouts = {}) {
  const log: LogEntry[] = [];
  const logger = (entry: LogEntry) => void log.push(entry);
  const outage = outageMonitor(logger);
  const connectionString = proxy.url(DATABASE_URL);
  const storage = await postgresStorage({ connectionString, schema: database.schema!, outage, ...timeouts });
  const running = await startServerAutomations({
    definitions: [ticker],
    database: { kind: 'postgresql', connectionString, schema: database.schema!, ...timeouts },
    outage,
    logger,
  });
  const sync = { automations: { Ticker: { start: { schema: z.object({}) }, messages: ['poke'] } } };
  const app = syncApp(storage, running, sync, { logger });
  return { log, storage, running, user: asUser((request) => app.fetch(request), 'nobody'), binder: { 'wayflow-binder': 'binder-a' } };
}

describe('the server during a database outage', () => {
  it('answers /tasks and /automations with 503 database-unavailable and Retry-After, logs the outage once, and serves again after it', async () => {
    const { log, storage, running, user, binder } = await serverThroughProxy();
    try {
      expect((await user.get('/tasks', binder)).status).toBe(200);
      const started = await user.post('/automations/start/Ticker', { input: {} }, { 'idempotency-key': 'before' });
      expect(started.status).toBe(201);
      const { instance } = (await started.json()) as { instance: { id: string } };

      await proxy.cut();
      const requests = [
        () => user.get('/tasks', binder),
        () => user.get('/tasks/AAAAAAAAAAAAAAAAAAAAAA', binder),
        () => user.get(`/automations/instances/${instance.id}`),
        () => user.post('/automations/start/Ticker', { input: {} }, { 'idempotency-key': 'during' }),
        () => user.post(`/automations/instances/${instance.id}/messages/poke`, {}, { 'idempotency-key': 'poke-1' }),
      ];
      // Ticker has no forms, so the task list needs no query and still answers.
      expect(await (await user.get('/automations/forms')).json()).toEqual({ forms: [] });
      for (const request of requests) {
        const response = await request();
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('database-unavailable');
      }
      expect(messages(log, /^database unavailable/)).toHaveLength(1);
      expect(messages(log, /unhandled error/)).toEqual([]);

      await proxy.restore();
      await until(async () => (await user.get('/tasks', binder)).status === 200, 5000, 'the API to answer again');
      const retried = await user.post('/automations/start/Ticker', { input: {} }, { 'idempotency-key': 'during' });
      expect(retried.status).toBe(201);
      expect(messages(log, /^database unavailable/)).toHaveLength(1);
      // Called over once requests have gone on succeeding for 250 ms.
      await until(async () => messages(log, /^database available again/).length > 0, 2000, 'the outage to be over');
      expect(messages(log, /^database available again/)).toHaveLength(1);
      expect(messages(log, /^database unavailable/)).toHaveLength(1);
    } finally {
      await proxy.restore();
      await running.stop();
      await storage.close();
      await database.reset(['effects']);
    }
  });
});

describe('the server when the database is black-holed', () => {
  it('answers 503 database-unavailable within its timeouts instead of hanging, and serves again after', async () => {
    const { log, storage, running, user, binder } = await serverThroughProxy({ connectTimeoutMs: 300, queryTimeoutMs: 800 });
    try {
      expect((await user.get('/tasks', binder)).status).toBe(200);
      proxy.blackHole();
      // Pooled connections go silent (the query timeout) and new ones are never answered (the connect timeout).
      for (const request of [
        () => user.get('/tasks', binder),
        () => user.get('/tasks', binder),
        () => user.post('/automations/start/Ticker', { input: {} }, { 'idempotency-key': 'black-hole' }),
      ]) {
        const startedAt = performance.now();
        const response = await request();
        expect(response.status).toBe(503);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('database-unavailable');
        expect(performance.now() - startedAt).toBeLessThan(3000);
      }
      expect(messages(log, /^database unavailable/)).toHaveLength(1);

      await proxy.restore();
      await until(async () => (await user.get('/tasks', binder)).status === 200, 5000, 'the API to answer again');
      expect((await user.post('/automations/start/Ticker', { input: {} }, { 'idempotency-key': 'black-hole' })).status).toBe(201);
      expect(messages(log, /unhandled error/)).toEqual([]);
    } finally {
      await proxy.restore();
      await running.stop();
      await storage.close();
      await database.reset(['effects']);
    }
  });
});

describe('a scheduler through database outages', () => {
  it('keeps running across outages, steps each node once, and takes up work within a second of the database coming back, busy or idle', async () => {
    const log: LogEntry[] = [];
    const logger = (entry: LogEntry) => void log.push(entry);
    const outage = outageMonitor(logger);
    const connectionString = proxy.url(DATABASE_URL);
    const opened = await openAutomationDatabase({ databaseUrl: connectionString, schema: database.schema!, outage });
    // A short claim: instances claimed by a pass the outage cut are taken up again soon.
    const runtime = await openAutomationRuntime({ db: opened.db, kind: 'postgresql', automations: [ticker], flows: [], claimTimeoutMs: 500 });
    const running = await startRuntimeScheduler(runtime, { connectionString, outage, logger });
    // Another process creating instances, straight on the database.
    const elsewhere = await database.storage();
    const creator = createAutomationRunner({ storage: elsewhere, clock: systemClock, automations: [ticker] });
    const finished = async () => (await database.sql<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE NOT finished'))[0]!.n === 0;
    const PER_ROUND = 10;
    const rounds = ['busy', 'idle', 'busy', 'idle'] as const;
    const recoveries: number[] = [];
    let created = 0;
    try {
      for (const [round, state] of rounds.entries()) {
        if (state === 'busy') {
          // Steps in flight and timers running when the database goes.
          for (let i = 0; i < PER_ROUND; i++) await creator.create(ticker, { round, i }, { autorun: false });
          created += PER_ROUND;
          await sleep(20);
        } else {
          // Asleep until its next look at the database, seconds away.
          await until(finished, 10_000, 'the scheduler to be idle');
          await sleep(100);
        }
        await proxy.cut();
        // Created while the scheduler cannot hear their NOTIFY.
        for (let i = 0; i < PER_ROUND; i++) await creator.create(ticker, { round, i, during: true }, { autorun: false });
        created += PER_ROUND;
        await sleep(400);
        await proxy.restore();
        const back = Date.now();
        const first = await until(
          async () => (await database.sql<{ at: number | null }>('SELECT min(at) AS at FROM effects WHERE at >= $1', [back]))[0]?.at,
          10_000,
          'a first step after the database came back',
        );
        recoveries.push(first - back);
        // An outage is over once operations have gone on succeeding for 250 ms: the next one is a new one after that.
        await until(async () => messages(log, /^database available again/).length === round + 1, 5000, 'the outage to be over');
      }
      await until(finished, 15_000, 'every instance to finish');
      const effects = await database.sql<{ key: string }>('SELECT key FROM effects');
      expect(effects).toHaveLength(created * 3);
      expect(new Set(effects.map((row) => row.key)).size).toBe(created * 3);
      expect(Math.max(...recoveries)).toBeLessThan(1000);
      expect(messages(log, /^database unavailable/)).toHaveLength(rounds.length);
      expect(messages(log, /^database available again/)).toHaveLength(rounds.length);
      expect(log.filter((entry) => entry.level === 'error')).toEqual([]);
    } finally {
      await proxy.restore();
      await running.stop();
      await runtime.close();
      await elsewhere.close();
      await database.reset(['effects']);
    }
  });
});

describe('listenForDueTimes', () => {
  it('reports a lost connection once, reconnects soon after the database is back, and says so', async () => {
    const errors: unknown[] = [];
    let reconnects = 0;
    const listener = await listenForDueTimes({
      connectionString: proxy.url(DATABASE_URL),
      channel: 'wayflow_outage_test',
      onDue: () => undefined,
      onError: (error) => errors.push(error),
      onReconnect: () => {
        reconnects += 1;
      },
    });
    try {
      await proxy.cut();
      await sleep(600);
      await proxy.restore();
      const back = Date.now();
      await until(async () => reconnects === 1, 2000, 'the listener to reconnect');
      expect(Date.now() - back).toBeLessThan(500);
      expect(errors).toHaveLength(1);
      expect(isDatabaseUnavailable(errors[0])).toBe(true);
    } finally {
      await proxy.restore();
      await listener.close();
    }
  });
});
