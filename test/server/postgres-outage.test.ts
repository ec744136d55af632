import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/server/outage.ts';
import { postgresDatabase } from '../../src/server/postgres.ts';
import { DATABASE_URL } from './harness.ts';

let admin: pg.Pool;
beforeAll(() => {
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
});
afterAll(() => admin?.end());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('postgresDatabase when the connection is lost', () => {
  it('rejects the transaction, without an unhandled error, when the connection ends between two statements', async () => {
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
  });
});
