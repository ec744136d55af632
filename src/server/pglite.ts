import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { StorageError } from './errors.ts';
import { FolderInUseError, type FolderLock, lockFolder } from './folder-lock.ts';
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

/** The folder locks of the PGlite instances `openPglite` opened, released when `pgliteDatabase(pg).close()` closes them. */
const folderLocks = new WeakMap<PGlite, FolderLock>();

/**
 * Opens PGlite with its data in `dataDir`, creating the folder (and its parents) first,
 * since PGlite only creates the last level; without `dataDir`, an in-memory database.
 * A data folder is locked for this process (`lockFolder`): a second process (a server, a
 * scheduler) opening it gets `FolderInUseError` instead of silently losing writes; the lock
 * goes when the database is closed through `pgliteDatabase`, or when the process exits.
 */
export async function openPglite(dataDir?: string): Promise<PGlite> {
  if (dataDir === undefined || dataDir.includes('://')) return PGlite.create(dataDir);
  await mkdir(dataDir, { recursive: true });
  const lock = await lockFolder(dataDir);
  try {
    const pg = await PGlite.create(dataDir);
    folderLocks.set(pg, lock);
    return pg;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Adapts a PGlite instance (one connection; its statements run one at a time) to `SqlDatabase`. */
export function pgliteDatabase(pg: PGlite): SqlDatabase {
  return {
    query: async <Row>(text: string, params?: unknown[]) => (await pg.query<Row>(text, params)).rows,
    transaction: (work) => pg.transaction((tx) => work({ query: async <Row>(text: string, params?: unknown[]) => (await tx.query<Row>(text, params)).rows })),
    async close() {
      try {
        await pg.close();
      } finally {
        await folderLocks.get(pg)?.release();
      }
    },
  };
}

/**
 * Task storage on PGlite, the embedded PostgreSQL: the default of `wayflow serve`,
 * with its data in a folder. One process per data folder: a second one is refused (`FolderInUseError`).
 * @example
 * const storage = await pgliteStorage({ dataDir: '.wayflow/data' });
 */
export async function pgliteStorage(options: PgliteStorageOptions = {}): Promise<TaskStorage> {
  let pg: PGlite;
  try {
    pg = options.db ?? (await openPglite(options.dataDir));
  } catch (cause) {
    if (cause instanceof FolderInUseError) throw cause;
    throw new StorageError(`Cannot open the PGlite database in "${options.dataDir ?? 'memory'}": ${cause instanceof Error ? cause.message : String(cause)}.`, cause);
  }
  return sqlStorage(pgliteDatabase(pg));
}
