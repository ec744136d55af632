import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { remoteStore } from '../../src/persist/remote.ts';
import { makeRecord, storeContract } from '../persist/contract.ts';
import { storeProperties } from '../persist/properties.ts';
import { migrations } from '../../src/server/migrations.ts';
import { postgresDatabase, postgresStorage } from '../../src/server/postgres.ts';
import type { TaskStorage } from '../../src/server/storage.ts';
import { browserFetch, DATABASE_URL, postgresHarness, type StorageHarness, testApp } from './harness.ts';

// No skip: the global set-up provides a PostgreSQL (found or started); one that does not answer fails this file in beforeAll.
let harness: StorageHarness & { schema: string };
let second: TaskStorage;
beforeAll(async () => {
  harness = await postgresHarness();
  // A second pool on the same schema plays a second server process.
  second = await postgresStorage({ connectionString: DATABASE_URL, schema: harness.schema });
});
afterAll(async () => {
  await second?.close();
  await harness?.close();
});
beforeEach(() => harness.reset());

const create = async () => {
  await harness.reset();
  const app = testApp(harness.storage);
  return remoteStore({ baseUrl: 'http://wayflow.test', fetch: browserFetch((request) => app.fetch(request)), retryIntervalMs: 0 });
};

storeContract('remoteStore over the API on PostgreSQL', create);

describe('remoteStore over the API on PostgreSQL, properties', () => {
  storeProperties('remoteStore on PostgreSQL', create, 25);
});

describe('PostgreSQL with several server processes', () => {
  const OWNER = 'session:racer';
  const NOW = Date.now();

  it('applies migrations once when processes start together, and records them', async () => {
    const more = await Promise.all([1, 2, 3].map(() => postgresStorage({ connectionString: DATABASE_URL, schema: harness.schema })));
    await Promise.all(more.map((storage) => storage.close()));
    const rows = await harness.sql<{ id: number }>('SELECT id FROM wayflow_migrations ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual(migrations.map((migration) => migration.id));
  });

  it('lets exactly one of two processes win each version of a task, over 50 rounds', async () => {
    const record = makeRecord({ expiresAt: NOW + 60_000 });
    expect(await harness.storage.create(OWNER, record, NOW + 60_000, NOW)).toEqual({ ok: true });
    for (let version = 1; version <= 50; version++) {
      const left = { ...record, version: version + 1, data: { by: 'left', version } };
      const right = { ...record, version: version + 1, data: { by: 'right', version } };
      const results = await Promise.all([
        harness.storage.update(OWNER, left, version, NOW + 60_000, NOW),
        second.update(OWNER, right, version, NOW + 60_000, NOW),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(results.find((result) => !result.ok)).toEqual({ ok: false, current: version + 1 });
      const stored = await second.read(OWNER, record.id, record.binder, { server: NOW, client: NOW });
      expect(stored!.version).toBe(version + 1);
      expect(stored!.data).toEqual(results[0]!.ok ? left.data : right.data);
    }
  });

  it('lets exactly one of two processes create a task with a given id', async () => {
    for (let round = 0; round < 20; round++) {
      const id = `RACE${String(round).padStart(18, '0')}`;
      const results = await Promise.all([
        harness.storage.create(OWNER, makeRecord({ id, data: { by: 'left' } }), NOW + 60_000, NOW),
        second.create(OWNER, makeRecord({ id, data: { by: 'right' } }), NOW + 60_000, NOW),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
    }
  });

  it('serves one browser session from two apps on one database, with conflicts across them', async () => {
    const one = testApp(harness.storage);
    const two = testApp(second);
    // One cookie jar for both hosts: the session cookie is signed with the secret both processes share.
    const browser = browserFetch((request) => (new URL(request.url).host === 'one.test' ? one.fetch(request) : two.fetch(request)));
    const viaOne = remoteStore({ baseUrl: 'http://one.test', fetch: browser, retryIntervalMs: 0 });
    const viaTwo = remoteStore({ baseUrl: 'http://two.test', fetch: browser, retryIntervalMs: 0 });
    const record = makeRecord({ expiresAt: NOW + 60_000 });
    await viaOne.put(record, 0);
    expect(await viaTwo.get(record.id, 'binder-a', NOW)).toEqual(record);
    await viaTwo.put({ ...record, version: 2, data: { item: 'pen' } }, 1);
    await expect(viaOne.put({ ...record, version: 2, data: { item: 'lost' } }, 1)).rejects.toMatchObject({ code: 'version-conflict', actual: 2 });
    expect((await viaOne.get(record.id, 'binder-a', NOW))!.data).toEqual({ item: 'pen' });
  });
});

describe('postgresDatabase', () => {
  it('prepares each statement once per connection, and still answers when another process changes the table under it', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, options: `-c search_path=${harness.schema}` });
    const db = postgresDatabase(pool);
    try {
      await db.query('CREATE TABLE prepared_probe (id integer PRIMARY KEY, name text NOT NULL)');
      await db.query('INSERT INTO prepared_probe VALUES ($1, $2)', [1, 'ada']);
      const read = () => db.query('SELECT * FROM prepared_probe WHERE id = $1', [1]);
      expect(await read()).toEqual([{ id: 1, name: 'ada' }]);
      expect(await read()).toEqual([{ id: 1, name: 'ada' }]);
      const prepared = await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', ['SELECT * FROM prepared_probe WHERE id = $1']);
      expect(prepared).toHaveLength(1);
      await harness.sql('ALTER TABLE prepared_probe ADD COLUMN city text');
      expect(await read()).toEqual([{ id: 1, name: 'ada', city: null }]);
      expect(await db.transaction((tx) => tx.query('SELECT * FROM prepared_probe WHERE id = $1', [1]))).toEqual([{ id: 1, name: 'ada', city: null }]);
    } finally {
      await db.close();
    }
  });

  it('sends the short statements of one turn on one shared connection, each answered alone, and opens another when it is lost', async () => {
    const app = `short_probe_${process.pid}`;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, application_name: app, options: `-c search_path=${harness.schema}` });
    const db = postgresDatabase(pool);
    const backend = 'SELECT pg_backend_pid() AS pid, $1::integer AS n';
    try {
      // Ten statements sent in one turn, one of them failing: all on one backend, the others answered.
      const sent = Array.from({ length: 10 }, (_, n) => db.queryShort!<{ pid: number; n: number }>(n === 4 ? 'SELECT 1 / ($1::integer - 4) AS pid' : backend, [n]).then((rows) => rows[0]!, (error: Error) => error));
      const answers = await Promise.all(sent);
      expect(answers[4]).toBeInstanceOf(Error);
      const rows = answers.filter((answer): answer is { pid: number; n: number } => !(answer instanceof Error));
      expect(rows.map((row) => row.n)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
      expect(new Set(rows.map((row) => row.pid)).size).toBe(1);
      // Its backend killed: the next statements open another connection and are answered.
      await harness.sql(`SELECT pg_terminate_backend(${rows[0]!.pid})`);
      let after: { pid: number }[] = [];
      for (let attempt = 0; attempt < 20 && after.length === 0; attempt++) after = await db.queryShort!<{ pid: number }>(backend, [1]).catch(() => []);
      expect(after[0]!.pid).not.toBe(rows[0]!.pid);
      // The pool's own connections are not taken by them.
      expect(pool.totalCount).toBe(0);
    } finally {
      await db.close();
    }
    // Closed with the database: no connection of it is left (a backend takes a moment to go once its client left).
    let left = -1;
    for (let attempt = 0; attempt < 50 && left !== 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      left = (await harness.sql<{ n: number }>(`SELECT count(*)::integer AS n FROM pg_stat_activity WHERE application_name = '${app}'`))[0]!.n;
    }
    expect(left).toBe(0);
    // A statement after close is refused, as the pool refuses one: it opens no connection that nobody would close.
    await expect(db.queryShort!(backend, [2])).rejects.toThrow(/storage was closed/);
    expect((await harness.sql<{ n: number }>(`SELECT count(*)::integer AS n FROM pg_stat_activity WHERE application_name = '${app}'`))[0]!.n).toBe(0);
  });

  it('closes a shared connection left unused for the pool’s idleTimeoutMillis, and opens another for the next statement', async () => {
    const app = `short_idle_${process.pid}`;
    // One connection (max 1), so every statement takes it.
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, idleTimeoutMillis: 1000, application_name: app });
    const db = postgresDatabase(pool);
    const connected = async () => (await harness.sql<{ n: number }>(`SELECT count(*)::integer AS n FROM pg_stat_activity WHERE application_name = '${app}'`))[0]!.n;
    const backend = 'SELECT pg_backend_pid() AS pid, $1::integer AS n';
    try {
      // Statements kept coming for longer than the idle timeout: the connection they use stays open.
      const [first] = await db.queryShort!<{ pid: number }>(backend, [0]);
      const pids = new Set<number>();
      for (let n = 0; n < 25; n++) {
        for (const row of await db.queryShort!<{ pid: number }>(backend, [n])) pids.add(row.pid);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect([...pids], 'one connection served every statement, 1.25 s on').toEqual([first!.pid]);
      // Then unused: closed, the pool's idle connections too.
      await expect.poll(connected, { timeout: 5_000, interval: 50 }).toBe(0);
      const [again] = await db.queryShort!<{ pid: number }>(backend, [1]);
      expect(pids.has(again!.pid)).toBe(false);
      expect(await connected()).toBe(1);
    } finally {
      await db.close();
    }
  });
});
