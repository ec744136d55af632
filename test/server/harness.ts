import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { expect } from 'vitest';
import { type AppOptions, createApp } from '../../src/server/app.ts';
import type { ServerLimits } from '../../src/server/limits.ts';
import { silentLogger } from '../../src/server/log.ts';
import { pgliteStorage } from '../../src/server/pglite.ts';
import { postgresStorage } from '../../src/server/postgres.ts';
import type { TaskStorage } from '../../src/server/storage.ts';
import { DATABASE_URL } from '../helpers/database-url.ts';
import { makeRecord } from '../persist/contract.ts';

export { DATABASE_URL };

/** The origin test clients send; the apps under test allow it. */
export const ORIGIN = 'http://app.test';

/** A storage shared by one test file, emptied between tests. */
export interface StorageHarness {
  storage: TaskStorage;
  /** Deletes every task row (keeps the session secret). */
  reset(): Promise<void>;
  /** Runs SQL directly, bypassing the storage (to inspect or damage rows). */
  sql<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** One in-memory PGlite database with the migrations applied. */
export async function pgliteHarness(): Promise<StorageHarness> {
  const db = await PGlite.create();
  const storage = await pgliteStorage({ db });
  return {
    storage,
    reset: async () => void (await db.query('TRUNCATE wayflow_tasks, wayflow_task_outcomes')),
    sql: async <Row>(text: string, params?: unknown[]) => (await db.query<Row>(text, params)).rows,
    close: () => storage.close(),
  };
}

/** A fresh schema on the local PostgreSQL, dropped by `close`. */
export async function postgresHarness(schema = `wayflow_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`): Promise<StorageHarness & { schema: string }> {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
  const storage = await postgresStorage({ connectionString: DATABASE_URL, schema });
  return {
    schema,
    storage,
    reset: async () => void (await admin.query('TRUNCATE wayflow_tasks, wayflow_task_outcomes')),
    sql: async <Row>(text: string, params?: unknown[]) => (await admin.query(text, params)).rows as Row[],
    async close() {
      // The storage may be closed already (serveTasks closes the storage it serves).
      await storage.close().catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

const UNBOUNDED = { perSecond: 1e6, burst: 1e6 };

/** Rates no test reaches by accident (the tests of the limits set their own). */
export const TEST_LIMITS: Partial<ServerLimits> = { clientRate: UNBOUNDED, sessionRate: UNBOUNDED, readRate: UNBOUNDED, writeRate: UNBOUNDED };

/** `createApp` with test defaults: silent logs, rates no test reaches by accident (merged under `options.limits`), the test origin allowed. */
export function testApp(storage: TaskStorage, options: Partial<AppOptions> = {}) {
  return createApp({ storage, logger: silentLogger, allowedOrigins: [ORIGIN], ...options, limits: { ...TEST_LIMITS, ...options.limits } });
}

/**
 * A browser-like client of `handler` (an app's `fetch`, or the global fetch for
 * a real server): keeps the session cookie like a browser and sends `Origin`.
 */
export function browserFetch(handler: (request: Request) => Response | Promise<Response>, origin: string | null = ORIGIN): typeof fetch & { cookie(): string | null } {
  let cookie: string | null = null;
  const client = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (cookie) request.headers.set('cookie', cookie);
    if (origin && request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('origin', origin);
    const response = await handler(request);
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return response;
  };
  return Object.assign(client, { cookie: () => cookie }) as typeof fetch & { cookie(): string | null };
}

/** Drops a PostgreSQL schema a test created (tables and all). */
export async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

const liveRecord = () => makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 });

/** Creates one task through a running server (checking it answers 201) and returns the session cookie. */
export async function writeTask(url: string): Promise<string> {
  const record = liveRecord();
  const response = await fetch(`${url}/tasks/${record.id}`, {
    method: 'PUT',
    headers: { origin: url, 'content-type': 'application/json', 'wayflow-binder': 'binder-a', 'if-match': '0' },
    body: JSON.stringify(record),
  });
  expect(response.status).toBe(201);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** Reads the task `writeTask` created, with its session cookie. */
export const readTask = (url: string, cookie: string) => fetch(`${url}/tasks/${liveRecord().id}`, { headers: { cookie, 'wayflow-binder': 'binder-a' } });
