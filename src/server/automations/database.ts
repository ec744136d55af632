import pg from 'pg';
import { StorageError } from '../errors.ts';
import type { OutageMonitor } from '../outage.ts';
import { FolderInUseError } from '../folder-lock.ts';
import { connectionSettings, type PostgresTimeouts, postgresDatabase } from '../postgres.ts';
import type { SqlDatabase } from '../sql.ts';

/** Where the automation tables live: PostgreSQL when `databaseUrl` is given, else PGlite in `dataDir`. */
export interface AutomationDatabaseOptions extends PostgresTimeouts {
  /** e.g. `postgres://postgres@127.0.0.1:5432/wayflow` (what `DATABASE_URL` holds). */
  databaseUrl?: string;
  /** PGlite data folder when there is no `databaseUrl` (default `.wayflow/data`). */
  dataDir?: string;
  /** PostgreSQL schema for the tables (created when missing); default: the connection's `search_path`. */
  schema?: string;
  /** Most connections the pool opens (default 10, as the tasks API's pool: the sync routes run a transaction per request). */
  maxConnections?: number;
  /** PostgreSQL only: told about lost and regained connections, to log each outage once. */
  outage?: OutageMonitor;
}

/** An open database for the automation storage, and how to reach it again (for LISTEN). */
export interface AutomationDatabase {
  kind: 'postgresql' | 'pglite';
  db: SqlDatabase;
  /** PostgreSQL only: the connection string and schema, for a listening connection. */
  connectionString?: string;
  schema?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens PostgreSQL (a pool, with the schema on its search path) or PGlite, as the server does. */
export async function openAutomationDatabase(options: AutomationDatabaseOptions): Promise<AutomationDatabase> {
  const { databaseUrl, schema } = options;
  if (!databaseUrl) {
    const dataDir = options.dataDir ?? '.wayflow/data';
    // Loaded on demand: a PostgreSQL deployment never loads the PGlite WebAssembly.
    const { openPglite, pgliteDatabase } = await import('../pglite.ts');
    try {
      return { kind: 'pglite', db: pgliteDatabase(await openPglite(dataDir)) };
    } catch (cause) {
      if (cause instanceof FolderInUseError) throw cause;
      throw new StorageError(`Cannot open the PGlite database in "${dataDir}": ${cause instanceof Error ? cause.message : String(cause)}.`, cause);
    }
  }
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StorageError(`"${schema}" is not a usable schema name: use lower-case letters, digits and underscores.`);
  }
  // Pipeline mode: a transaction's BEGIN travels with its first statement and its COMMIT with its last writes (`postgresDatabase`).
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    pipeline: true,
    ...connectionSettings(options),
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection emits 'error'; the next query reconnects.
  pool.on('error', (error) => void options.outage?.failed(error));
  try {
    if (schema) {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: { code?: string }) => {
        if (error.code !== '23505' && error.code !== '42P06') throw error;
      });
    } else {
      await pool.query('SELECT 1');
    }
  } catch (cause) {
    await pool.end().catch(() => undefined);
    const where = databaseUrl.replace(/\/\/[^@/]*@/, '//');
    throw new StorageError(`Cannot use PostgreSQL at ${where}: ${cause instanceof Error ? cause.message : String(cause)}. Check DATABASE_URL and that the server runs.`, cause);
  }
  return { kind: 'postgresql', db: postgresDatabase(pool, options.outage), connectionString: databaseUrl, ...(schema ? { schema } : {}) };
}
