import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { remoteStore } from '../../src/persist/remote.ts';
import { pgliteDatabase } from '../../src/server/pglite.ts';
import { storeContract } from '../persist/contract.ts';
import { storeProperties } from '../persist/properties.ts';
import { browserFetch, pgliteHarness, type StorageHarness, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());
beforeEach(() => harness.reset());

/** A remote store over the app in this process, as a fresh browser session. */
const create = async () => {
  await harness.reset();
  const app = testApp(harness.storage);
  return remoteStore({ baseUrl: 'http://wayflow.test', fetch: browserFetch((request) => app.fetch(request)), retryIntervalMs: 0 });
};

storeContract('remoteStore over the API on PGlite', create);

describe('remoteStore over the API on PGlite, properties', () => {
  storeProperties('remoteStore on PGlite', create, 25);
});

describe('pgliteDatabase', () => {
  it('answers statements with parameters, run prepared, with the rows pg.query gives', async () => {
    const pg = await PGlite.create();
    const db = pgliteDatabase(pg);
    try {
      await db.query('CREATE TABLE t (id integer PRIMARY KEY, big bigint, f float8, s text, b boolean, j jsonb, a text[], at timestamptz)');
      const row = [1, 9_007_199_254_740_991n, 1.5, 'x', true, { k: [1, 'two'] }, ['a', 'b'], new Date('2026-01-02T03:04:05Z')];
      await db.query('INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', row);
      await db.query('INSERT INTO t (id) VALUES ($1)', [2]);
      const text = 'SELECT * FROM t WHERE id >= $1 ORDER BY id';
      const expected = (await pg.query(text, [1])).rows;
      expect(await db.query(text, [1])).toEqual(expected);
      expect(await db.query(text, [1])).toEqual(expected);
      expect(expected[1]).toMatchObject({ id: 2, s: null, j: null });
    } finally {
      await db.close();
    }
  });

  it('keeps a failing statement usable, with the SQLSTATE and the query on the error', async () => {
    const pg = await PGlite.create();
    const db = pgliteDatabase(pg);
    try {
      await db.query('CREATE TABLE t (id integer PRIMARY KEY)');
      await db.query('INSERT INTO t VALUES ($1)', [1]);
      await expect(db.query('INSERT INTO t VALUES ($1)', [1])).rejects.toMatchObject({ code: '23505', query: 'INSERT INTO t VALUES ($1)' });
      await db.query('INSERT INTO t VALUES ($1)', [2]);
      expect(await db.query('SELECT count(*)::integer AS n FROM t WHERE id > $1', [0])).toEqual([{ n: 2 }]);
    } finally {
      await db.close();
    }
  });

  it('runs a statement again when its table changed its result type or the statement was deallocated', async () => {
    const pg = await PGlite.create();
    const db = pgliteDatabase(pg);
    try {
      await db.query('CREATE TABLE t (id integer PRIMARY KEY, v integer)');
      await db.query('INSERT INTO t VALUES ($1, $2)', [1, 7]);
      const text = 'SELECT v FROM t WHERE id = $1';
      expect(await db.query(text, [1])).toEqual([{ v: 7 }]);
      await db.query('ALTER TABLE t ALTER COLUMN v TYPE text');
      expect(await db.query(text, [1])).toEqual([{ v: '7' }]);
      expect(await db.query(text, [1])).toEqual([{ v: '7' }]);
      await db.query('DEALLOCATE ALL');
      expect(await db.query(text, [1])).toEqual([{ v: '7' }]);
      expect(await db.query(text, [1])).toEqual([{ v: '7' }]);
    } finally {
      await db.close();
    }
  });

  it('shares the prepared statements of one PGlite between its adapters (the tasks and the automations use one database)', async () => {
    const pg = await PGlite.create();
    const tasks = pgliteDatabase(pg);
    const automations = pgliteDatabase(pg);
    try {
      await tasks.query('CREATE TABLE t (id integer PRIMARY KEY, v text)');
      await tasks.query('INSERT INTO t VALUES ($1, $2)', [1, 'a']);
      await automations.query('INSERT INTO t VALUES ($1, $2)', [2, 'b']);
      expect(await automations.query('SELECT v FROM t WHERE id = $1', [1])).toEqual([{ v: 'a' }]);
      expect(await tasks.query('SELECT v FROM t WHERE id = $1', [2])).toEqual([{ v: 'b' }]);
      expect(await tasks.query('SELECT count(*)::integer AS n FROM t WHERE id > $1', [0])).toEqual([{ n: 2 }]);
    } finally {
      await tasks.close();
    }
  });

  it('runs statements unprepared on a PGlite without the internals the prepared path uses', async () => {
    const pg = await PGlite.create();
    // As a PGlite version that renamed its exclusive-query lock would look from outside.
    const renamed = new Proxy(pg, {
      get: (target, key) => {
        if (key === '_runExclusiveQuery') return undefined;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const db = pgliteDatabase(renamed);
    try {
      await db.query('CREATE TABLE t (id integer PRIMARY KEY, v text)');
      await db.query('INSERT INTO t VALUES ($1, $2)', [1, 'a']);
      expect(await db.query('SELECT v FROM t WHERE id = $1', [1])).toEqual([{ v: 'a' }]);
      const prepared = await pg.query<{ n: number }>('SELECT count(*)::integer AS n FROM pg_prepared_statements');
      expect(prepared.rows).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });

  it('never runs a statement inside another caller’s open transaction', async () => {
    const pg = await PGlite.create();
    const db = pgliteDatabase(pg);
    try {
      await db.query('CREATE TABLE t (id integer PRIMARY KEY)');
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const transaction = db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES ($1)', [1]);
        await held;
        throw new Error('rolled back');
      });
      const read = db.query<{ n: number }>('SELECT count(*)::integer AS n FROM t WHERE id > $1', [0]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await expect(transaction).rejects.toThrow('rolled back');
      expect(await read).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });
});
