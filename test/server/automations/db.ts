import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pgliteDatabase } from '../../../src/server/pglite.ts';
import { postgresDatabase } from '../../../src/server/postgres.ts';
import type { SqlDatabase } from '../../../src/server/sql.ts';
import { DATABASE_URL } from '../../helpers/database-url.ts';
import { type SqlAutomationStorage, type SqlAutomationStorageOptions, sqlAutomationStorage } from '../../../src/server/automations/index.ts';

export { DATABASE_URL };

/** One database for a test file: storages on it, a reset between tests, raw SQL, and cleanup. */
export interface AutomationDb {
  kind: 'pglite' | 'postgresql';
  /** Schema of the PostgreSQL database (absent on PGlite). */
  schema?: string;
  /** A storage on the shared database; on PostgreSQL each call opens a new pool, like another process. */
  storage(options?: SqlAutomationStorageOptions): Promise<SqlAutomationStorage>;
  /** The storage again, for flowcontrol runs (they live in it beside the instances); on PostgreSQL each call opens a new pool, like another process. */
  flowStore(options?: SqlAutomationStorageOptions): Promise<SqlAutomationStorage>;
  /** Empties the automation tables (and `extra` tables). */
  reset(extra?: string[]): Promise<void>;
  sql<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

const TABLES = ['wayflow_automation_instances', 'wayflow_automation_history', 'wayflow_automation_messages', 'wayflow_automation_open_forms'];

/** One in-memory PGlite database (about 4 s to start: one per file). */
export async function pgliteAutomationDb(): Promise<AutomationDb> {
  const pglite = await PGlite.create();
  const db = pgliteDatabase(pglite);
  // The storages share the one PGlite instance; closing it is the file's job.
  const shared: SqlDatabase = { ...db, close: async () => undefined };
  await sqlAutomationStorage(shared, { notify: false });
  return {
    kind: 'pglite',
    storage: (options) => sqlAutomationStorage(shared, { notify: false, ...options }),
    flowStore: (options) => sqlAutomationStorage(shared, { notify: false, ...options }),
    reset: async (extra = []) => void (await db.query(`TRUNCATE ${[...TABLES, ...extra].join(', ')}`)),
    sql: (text, params) => db.query(text, params),
    close: () => pglite.close(),
  };
}

/** A random schema on the local PostgreSQL, dropped by `close`. */
export async function postgresAutomationDb(): Promise<AutomationDb> {
  const schema = `wayflow_auto_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pools: pg.Pool[] = [];
  const open = () => {
    // Pipelining, as `openAutomationDatabase` opens the server's pool.
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, pipeline: true, options: `-c search_path=${schema}` });
    pool.on('error', () => undefined);
    pools.push(pool);
    return postgresDatabase(pool);
  };
  await sqlAutomationStorage(open());
  const sql = async <Row>(text: string, params?: unknown[]) => {
    const client = await admin.connect();
    try {
      await client.query(`SET search_path TO ${schema}`);
      return (await client.query(text, params)).rows as Row[];
    } finally {
      client.release();
    }
  };
  return {
    kind: 'postgresql',
    schema,
    storage: (options) => sqlAutomationStorage(open(), options),
    flowStore: (options) => sqlAutomationStorage(open(), options),
    reset: async (extra = []) => void (await sql(`TRUNCATE ${[...TABLES, ...extra].join(', ')}`)),
    sql,
    async close() {
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/**
 * The flowcontrol runs as the retired `wayflow_flow_runs` table showed them, for tests that
 * read runs with SQL: they are rows of `wayflow_automation_instances` with `kind = 'flow'`.
 */
export const FLOW_RUNS = `(SELECT id, automation AS flow, state::jsonb->>'status' AS status, object_id, object_type, parent_id, created_at,
  (state::jsonb->>'continueAfter')::double precision AS continue_after, state AS body, waiting_trigger, seq, claimed_by, claimed_until
  FROM wayflow_automation_instances WHERE kind = 'flow') AS wayflow_flow_runs`;
