import { mkdir } from 'node:fs/promises';
import { PGlite, parse, protocol } from '@electric-sql/pglite';
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

/** At most this many distinct statements are prepared; any further ones run through `pg.query` (statements built from data must not grow it unbounded). */
const MAX_PREPARED = 500;
/** SQLSTATEs after which a prepared statement is dropped and run once through `pg.query`: its plan must not change result type (a table changed), or it is gone (`DEALLOCATE`). */
const STALE_STATEMENT = new Set(['0A000', '26000']);

/** Joins protocol messages into one buffer, so the database gets them in one call. */
function joined(messages: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((size, message) => size + message.length, 0));
  let at = 0;
  for (const message of messages) {
    out.set(message, at);
    at += message.length;
  }
  return out;
}

/** The prepared statements of each PGlite instance, shared by every adapter of it (statement names are per database session). */
const preparedOf = new WeakMap<PGlite, ReturnType<typeof preparedStatements>>();

/** What the prepared path needs of PGlite beyond its documented API: its exclusive-query locks and raw protocol. */
const INTERNALS = ['_checkReady', '_runExclusiveTransaction', '_runExclusiveQuery', 'execProtocolStream'] as const;

/** Whether this PGlite has `INTERNALS`; a version without them runs every statement through `pg.query`, unprepared. */
function canPrepare(pg: PGlite): boolean {
  return INTERNALS.every((method) => typeof (pg as unknown as Record<string, unknown>)[method] === 'function');
}

/**
 * Runs statements with parameters as named prepared statements: the database parses and plans
 * each text once, then every run is one exchange (Bind, Describe, Execute, Sync) where
 * `pg.query` makes six and parses the text again. Same locks as `pg.query` (never inside
 * another caller's transaction), same parameter serializers and row parsers, same errors.
 */
function preparedStatements(pg: PGlite) {
  const statements = new Map<string, { name: string; types: number[] }>();
  let named = 0;
  const prepare = async (text: string) => {
    const name = `wayflow_${++named}`;
    const messages = await pg.execProtocolStream(joined([protocol.serialize.parse({ name, text }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()]), {
      syncToFs: false,
    });
    const description = messages.find((message): message is typeof message & { dataTypeIDs: number[] } => message.name === 'parameterDescription');
    const statement = { name, types: description?.dataTypeIDs ?? [] };
    statements.set(text, statement);
    return statement;
  };
  const execute = async <Row>(text: string, params: unknown[]): Promise<Row[]> => {
    const statement = statements.get(text) ?? (await prepare(text));
    const values = params.map((value, i) => (value === null || value === undefined ? null : (pg.serializers[statement.types[i]!] ?? String)(value)));
    const messages = await pg.execProtocolStream(
      joined([protocol.serialize.bind({ statement: statement.name, values }), protocol.serialize.describe({ type: 'P' }), protocol.serialize.execute({}), protocol.serialize.sync()]),
    );
    return parse.parseResults(messages, pg.parsers)[0]!.rows as Row[];
  };
  return async <Row>(text: string, params: unknown[]): Promise<Row[]> => {
    if (!statements.has(text) && statements.size >= MAX_PREPARED) return (await pg.query<Row>(text, params)).rows;
    await pg._checkReady();
    const rows = await pg._runExclusiveTransaction(() =>
      pg._runExclusiveQuery(async () => {
        try {
          return await execute<Row>(text, params);
        } catch (error) {
          if (!STALE_STATEMENT.has((error as { code?: string }).code ?? '')) throw Object.assign(error as Error, { query: text, params });
          const stale = statements.get(text);
          statements.delete(text);
          if (stale) await pg.execProtocolStream(joined([protocol.serialize.close({ type: 'S', name: stale.name }), protocol.serialize.sync()]), { syncToFs: false });
          return null;
        }
      }),
    );
    return rows ?? (await pg.query<Row>(text, params)).rows;
  };
}

/**
 * Adapts a PGlite instance (one connection; its statements run one at a time) to `SqlDatabase`.
 * Statements with parameters outside a transaction run prepared (see `preparedStatements`):
 * the server's statements are a small fixed set run again and again.
 */
export function pgliteDatabase(pg: PGlite): SqlDatabase {
  let prepared = preparedOf.get(pg);
  if (prepared === undefined && canPrepare(pg)) {
    prepared = preparedStatements(pg);
    preparedOf.set(pg, prepared);
  }
  const run = prepared;
  return {
    query: async <Row>(text: string, params?: unknown[]) => (run && params?.length ? run<Row>(text, params) : (await pg.query<Row>(text, params)).rows),
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
