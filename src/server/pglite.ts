import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { StorageError } from './errors.ts';
import type { SqlDatabase } from './sql.ts';
import { sqlStorage } from './sql.ts';
import type { TaskStorage } from './storage.ts';

/** Where the embedded database lives: a folder on disk, or memory when omitted. */
export interface PgliteStorageOptions {
  /** Data folder (created when missing). Omit for an in-memory database, e.g. in tests. */
  dataDir?: string;
  /** An already open PGlite instance to use instead (it is closed with the storage). */
  db?: PGlite;
}

/**
 * Opens PGlite with its data in `dataDir`, creating the folder (and its parents) first,
 * since PGlite only creates the last level; without `dataDir`, an in-memory database.
 */
export async function openPglite(dataDir?: string): Promise<PGlite> {
  if (dataDir !== undefined && !dataDir.includes('://')) await mkdir(dataDir, { recursive: true });
  return PGlite.create(dataDir);
}

/** Adapts a PGlite instance (one connection; its statements run one at a time) to `SqlDatabase`. */
export function pgliteDatabase(pg: PGlite): SqlDatabase {
  return {
    query: async <Row>(text: string, params?: unknown[]) => (await pg.query<Row>(text, params)).rows,
    transaction: (work) => pg.transaction((tx) => work({ query: async <Row>(text: string, params?: unknown[]) => (await tx.query<Row>(text, params)).rows })),
    close: () => pg.close(),
  };
}

/**
 * Task storage on PGlite, the embedded PostgreSQL: the default of `wayflow serve`,
 * with its data in a folder. One server process per data folder.
 * @example
 * const storage = await pgliteStorage({ dataDir: '.wayflow/data' });
 */
export async function pgliteStorage(options: PgliteStorageOptions = {}): Promise<TaskStorage> {
  let pg: PGlite;
  try {
    pg = options.db ?? (await openPglite(options.dataDir));
  } catch (cause) {
    throw new StorageError(`Cannot open the PGlite database in "${options.dataDir ?? 'memory'}": is another server using that folder?`, cause);
  }
  return sqlStorage(pgliteDatabase(pg));
}
