import pg from 'pg';
import { StorageError } from './errors.ts';
import type { SqlDatabase } from './sql.ts';
import { sqlStorage } from './sql.ts';
import type { TaskStorage } from './storage.ts';

/** How to reach PostgreSQL. */
export interface PostgresStorageOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/wayflow` (what `DATABASE_URL` holds). */
  connectionString: string;
  /** A schema to keep the tables in (created when missing); defaults to the connection's `search_path`. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Adapts a pg pool to `SqlDatabase`; a transaction holds one pooled connection. */
export function postgresDatabase(pool: pg.Pool): SqlDatabase {
  return {
    query: async <Row>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as Row[],
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({ query: async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[] });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Task storage on PostgreSQL. Several server processes may share one database:
 * every write is a single conditional statement, and migrations take an advisory lock.
 * @example
 * const storage = await postgresStorage({ connectionString: process.env.DATABASE_URL! });
 */
export async function postgresStorage(options: PostgresStorageOptions): Promise<TaskStorage> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StorageError(`"${schema}" is not a usable schema name: use lower-case letters, digits and underscores.`);
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection emits 'error'; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    if (schema) {
      // Two processes creating the schema at once: the loser sees a duplicate, which is fine.
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: { code?: string }) => {
        if (error.code !== '23505' && error.code !== '42P06') throw error;
      });
    }
    return await sqlStorage(postgresDatabase(pool));
  } catch (cause) {
    await pool.end().catch(() => undefined);
    const where = options.connectionString.replace(/\/\/[^@/]*@/, '//');
    throw new StorageError(`Cannot use PostgreSQL at ${where}: ${cause instanceof Error ? cause.message : String(cause)}. Check DATABASE_URL and that the server runs.`, cause);
  }
}
