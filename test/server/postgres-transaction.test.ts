import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDatabase, TransactionEndedError } from '../../src/server/postgres.ts';
import type { SqlDatabase } from '../../src/server/sql.ts';
import { DATABASE_URL } from './harness.ts';

const SCHEMA = `wayflow_tx_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
/** What the pool's connections were asked and answered, in order (`send:` and `done:` with the statement's first word). */
const timeline: string[] = [];
const pools: pg.Pool[] = [];

function database(pipeline: boolean): SqlDatabase {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, pipeline, options: `-c search_path=${SCHEMA}` });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (config: { text?: string } | string, ...rest: unknown[]) => Promise<unknown>;
    (client as { query: unknown }).query = (config: { text?: string } | string, ...rest: unknown[]) => {
      // The pool's own queries (with a callback) are not the transaction's.
      if (rest.some((arg) => typeof arg === 'function')) return query(config, ...rest);
      const word = (typeof config === 'string' ? config : (config.text ?? '')).trim().split(/\s+/)[0];
      timeline.push(`send:${word}`);
      const answer = query(config, ...rest);
      void answer.then(
        () => timeline.push(`done:${word}`),
        () => timeline.push(`failed:${word}`),
      );
      return answer;
    };
  });
  pools.push(pool);
  return postgresDatabase(pool);
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.query(`CREATE TABLE ${SCHEMA}.notes (id integer PRIMARY KEY, body text NOT NULL)`);
  await admin.end();
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
});

for (const pipeline of [false, true]) {
  describe(`postgresDatabase transactions ${pipeline ? 'on a pipelining pool' : 'without pipelining'}`, () => {
    const db = database(pipeline);
    const base = pipeline ? 100 : 200;

    it('commits the statements given to commitWith with the rest, and answers their rows', async () => {
      const rows = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [base + 1, 'first']);
        return tx.commitWith?.([
          { text: 'INSERT INTO notes VALUES ($1, $2) RETURNING id', params: [base + 2, 'second'] },
          { text: 'SELECT count(*)::integer AS n FROM notes WHERE id > $1 AND id < $2', params: [base, base + 10] },
        ]);
      });
      expect(rows).toEqual([[{ id: base + 2 }], [{ n: 2 }]]);
      expect(await db.query('SELECT body FROM notes WHERE id > $1 AND id < $2 ORDER BY id', [base, base + 10])).toEqual([{ body: 'first' }, { body: 'second' }]);
    });

    it('rolls the whole transaction back when a statement given to commitWith fails', async () => {
      const failing = db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [base + 3, 'kept?']);
        await tx.commitWith?.([
          { text: 'INSERT INTO notes VALUES ($1, $2)', params: [base + 4, 'kept?'] },
          { text: 'INSERT INTO notes VALUES ($1, $2)', params: [base + 1, 'duplicate key'] },
        ]);
      });
      await expect(failing).rejects.toMatchObject({ code: '23505' });
      expect(await db.query('SELECT id FROM notes WHERE id IN ($1, $2)', [base + 3, base + 4])).toEqual([]);
      expect(await db.transaction((tx) => tx.query('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
    });

    it('refuses a statement after commitWith: it would run outside the committed transaction', async () => {
      const late = db.transaction(async (tx) => {
        await tx.commitWith?.([{ text: 'INSERT INTO notes VALUES ($1, $2)', params: [base + 5, 'committed'] }]);
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [base + 6, 'too late']);
      });
      await expect(late).rejects.toBeInstanceOf(TransactionEndedError);
      expect(await db.query('SELECT id FROM notes WHERE id IN ($1, $2)', [base + 5, base + 6])).toEqual([{ id: base + 5 }]);
    });
  });
}

describe('postgresDatabase transactions on a pipelining pool', () => {
  const db = database(true);

  it('sends BEGIN with the first statement and COMMIT with the last ones, each before any answer', async () => {
    await db.query('SELECT 1');
    timeline.length = 0;
    await db.transaction(async (tx) => {
      await tx.query('SELECT $1::integer AS n', [1]);
      await tx.commitWith?.([{ text: 'INSERT INTO notes VALUES ($1, $2)', params: [301, 'pipelined'] }]);
    });
    expect(timeline).toEqual(['send:BEGIN', 'send:SELECT', 'done:BEGIN', 'done:SELECT', 'send:INSERT', 'send:COMMIT', 'done:INSERT', 'done:COMMIT']);
  });

  it('sends nothing for a transaction that runs no statement', async () => {
    timeline.length = 0;
    expect(await db.transaction(async (tx) => (await tx.commitWith?.([])) ?? 'none')).toEqual([]);
    expect(await db.transaction(async () => 'nothing')).toBe('nothing');
    expect(timeline).toEqual([]);
  });
});
