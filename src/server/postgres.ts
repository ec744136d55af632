import pg from 'pg';
import { StorageError } from './errors.ts';
import { isDatabaseUnavailable, type OutageMonitor } from './outage.ts';
import type { SqlDatabase, SqlTransaction } from './sql.ts';
import { sqlStorage } from './sql.ts';
import type { TaskStorage } from './storage.ts';

/**
 * How long a pool waits before it calls the database unavailable (`503 database-unavailable`)
 * rather than hanging: a database whose packets are silently dropped never refuses a connection.
 */
export interface PostgresTimeouts {
  /** Most milliseconds to open a connection, or to wait for a free one in the pool (default 5000). */
  connectTimeoutMs?: number;
  /** Most milliseconds a statement waits for the database's answer (default 30000); the connection is then dropped. */
  queryTimeoutMs?: number;
}

/** The connect timeout when none is given: long enough for a distant database, short enough for a client's patience. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** The query timeout when none is given: every statement of the server is short. */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

/**
 * The `pg` client settings for `timeouts`: a connect and a read timeout, and TCP keepalive so a
 * silently dead idle connection is noticed too. Every pool and client of the server uses them.
 * @example
 * const pool = new pg.Pool({ connectionString, ...connectionSettings({ connectTimeoutMs: 2000 }) });
 */
export function connectionSettings(timeouts: PostgresTimeouts = {}) {
  return {
    connectionTimeoutMillis: timeouts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    query_timeout: timeouts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

/** How to reach PostgreSQL. */
export interface PostgresStorageOptions extends PostgresTimeouts {
  /** e.g. `postgres://postgres@127.0.0.1:5432/wayflow` (what `DATABASE_URL` holds). */
  connectionString: string;
  /** A schema to keep the tables in (created when missing); defaults to the connection's `search_path`. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  maxConnections?: number;
  /** Told about lost and regained connections, to log each outage once (`wayflow serve` shares one among its pools). */
  outage?: OutageMonitor;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** SQLSTATE of "cached plan must not change result type": a prepared statement outlived a change of its table. */
const STALE_PLAN = '0A000';
/** At most this many distinct statements are prepared; any further ones run unprepared (statements built from data must not grow it unbounded). */
const MAX_PREPARED = 500;

/**
 * Names statements with parameters so that each connection parses and plans them once
 * (`pg` prepares a named statement on first use per connection): the server's statements are
 * a small fixed set run again and again. Statements without parameters (migrations, several
 * statements in one text) stay unnamed.
 */
function preparedStatements(): (text: string, params?: unknown[]) => pg.QueryConfig {
  const names = new Map<string, string>();
  return (text, params) => {
    if (!params?.length) return { text };
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= MAX_PREPARED) return { text, values: params };
      name = `wayflow_${names.size + 1}`;
      names.set(text, name);
    }
    return { name, text, values: params };
  };
}

/** Thrown when a transaction is queried after `commitWith` ended it: the statement would run outside it. */
export class TransactionEndedError extends StorageError {
  override readonly name: string = 'TransactionEndedError';
  constructor() {
    super('A statement was sent after commitWith() committed the transaction: send it among the statements given to commitWith(), or in a new transaction.');
  }
}

/** The connections whose socket is corked until the current turn of the event loop ends. */
const corked = new WeakSet<pg.ClientBase>();

/**
 * Corks `client`'s socket until the promise jobs of this turn are done: pg writes each statement as
 * it is queried, so the statements queried meanwhile (by this caller or others) leave in one write.
 */
function corkUntilTurnEnds(client: pg.ClientBase): void {
  const stream = (client as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  if (corked.has(client) || !stream?.cork || !stream.uncork) return;
  corked.add(client);
  stream.cork();
  process.nextTick(() => {
    corked.delete(client);
    stream.uncork?.();
  });
}

/**
 * Adapts a pg pool to `SqlDatabase`; a transaction holds one pooled connection. Statements with
 * parameters are prepared once per connection (see `preparedStatements`). A connection
 * lost meanwhile fails the operation (and is dropped from the pool), never the process;
 * `outage` is told about every operation, to log outages. On a pool whose clients pipeline
 * (`new pg.Pool({ pipeline: true })`) a transaction's BEGIN travels with its first statement (a
 * transaction that sends none costs no round trip) and `commitWith` sends its last statements
 * with the COMMIT, each in one round trip. `queryShort` statements go over one pipelined
 * connection of their own, those of one turn of the event loop in one write (`sharedConnection`).
 */
export function postgresDatabase(pool: pg.Pool, outage?: OutageMonitor): SqlDatabase {
  const prepared = preparedStatements();
  /** Runs one statement on `client`, prepared once per connection when it has parameters. */
  const run = async <Row>(client: pg.Pool | pg.ClientBase, text: string, params?: unknown[]): Promise<Row[]> => {
    const config = prepared(text, params);
    try {
      return (await client.query(config)).rows as Row[];
    } catch (error) {
      // A table changed under a prepared statement whose result it shapes (a migration of another process): run it unprepared
      // (outside a transaction only: inside one the error has aborted it, and the caller's retry starts a new one).
      if ((error as { code?: unknown }).code !== STALE_PLAN || !('name' in config) || (client !== pool && !shared.has(client))) throw error;
      return (await client.query(text, params)).rows as Row[];
    }
  };
  const shared = sharedConnection(pool);
  const observed = async <T>(work: () => Promise<T>): Promise<T> => {
    const startedAt = performance.now();
    try {
      const result = await work();
      outage?.succeeded(startedAt);
      return result;
    } catch (error) {
      outage?.failed(error, startedAt);
      throw error;
    }
  };
  return {
    query: <Row>(text: string, params?: unknown[]) => observed(() => run<Row>(pool, text, params)),
    queryShort: <Row>(text: string, params: unknown[]) =>
      observed(() =>
        shared.use(async (client) => {
          try {
            return await run<Row>(client, text, params);
          } catch (error) {
            // A lost or timed-out connection fails every statement in flight on it: the next one opens another.
            if (isDatabaseUnavailable(error)) shared.drop(client);
            throw error;
          }
        }),
      ),
    transaction: (work) =>
      observed(async () => {
        const client = await pool.connect();
        // pg-pool takes its own 'error' listener off a client while it is checked out: without
        // this one, a connection lost between two statements is an unhandled 'error' event.
        let lost: Error | undefined;
        const onError = (error: Error) => {
          lost ??= error;
        };
        client.on('error', onError);
        // Queries sent before the answers of earlier ones share their round trip (pg's pipeline mode).
        const pipelined = (client as { pipeline?: boolean }).pipeline === true;
        const tx = { phase: 'unopened' as 'unopened' | 'open' | 'committed' };
        /** Sends `statements` in the transaction (pipelined: opening it first if no statement did); with `commit`, commits after them. */
        const send = async (statements: readonly { text: string; params?: unknown[] | undefined }[], commit: boolean): Promise<unknown[][]> => {
          if (tx.phase === 'committed') throw new TransactionEndedError();
          const first = tx.phase === 'unopened' ? 1 : 0;
          if (first && commit && statements.length === 0) {
            tx.phase = 'committed';
            return [];
          }
          const texts = [...(first ? [{ text: 'BEGIN' }] : []), ...statements, ...(commit ? [{ text: 'COMMIT' }] : [])];
          tx.phase = commit ? 'committed' : 'open';
          if (!pipelined) {
            const results: unknown[][] = [];
            for (const { text, params } of texts) results.push(await run(client, text, params));
            return results.slice(0, statements.length);
          }
          // Written at once (pg writes each statement as it is queried, to a stream corked until the end of this
          // turn: statements several callers send in one turn share one write), awaited together: a failed
          // statement's rejection is never left unhandled.
          corkUntilTurnEnds(client);
          const answers = texts.map(({ text, params }) => run(client, text, params));
          const results = await Promise.all(answers);
          return results.slice(first, first + statements.length);
        };
        const sql: SqlTransaction = {
          query: async <Row>(text: string, params?: unknown[]) => (await send([{ text, params }], false))[0] as Row[],
          commitWith: (statements) => send(statements, true),
        };
        try {
          // Without pipelining nothing is gained by waiting: BEGIN first, as always.
          if (!pipelined) {
            await client.query('BEGIN');
            tx.phase = 'open';
          }
          const result = await work(sql);
          if (tx.phase === 'open') await client.query('COMMIT');
          return result;
        } catch (error) {
          if (lost) throw lost;
          // A timed-out statement leaves the connection waiting for an answer: drop it, don't reuse it.
          if (isDatabaseUnavailable(error)) lost = error as Error;
          else if (tx.phase !== 'unopened') await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          // Synchronous with release, which puts the pool's listener back: no moment without one.
          client.removeListener('error', onError);
          client.release(lost);
        }
      }),
    close: async () => {
      await shared.close();
      await pool.end();
    },
  };
}

/**
 * The connection `queryShort` statements share: a pipelined client with the pool's settings (not one of the
 * pool's: the pool keeps its connections for the other statements and transactions), opened on first use and
 * again after it is lost. The statements sent in one turn of the event loop leave in one write, its socket
 * corked until the turn ends. One, not several: with two server processes on a two-core machine, two shared
 * connections each cost the servers a third more CPU per request than one (bench/server.mjs), and the task
 * updates that wait for each other already go as one statement (`batched`). Like the pool's own, it is closed
 * once unused for the pool's `idleTimeoutMillis` (pg's default: 10 s; 0: never), and opened again by the next statement.
 */
function sharedConnection(pool: pg.Pool) {
  const options = (pool as unknown as { options: pg.ClientConfig & { idleTimeoutMillis?: number } }).options;
  const idleMs = options.idleTimeoutMillis ?? 10_000;
  /** The connection (or its opening), how many statements are in flight on it, and when the last one ended. */
  let opening: Promise<pg.Client> | null = null;
  let current: pg.Client | null = null;
  let busy = 0;
  let usedAt = 0;
  let closed = false;
  const dropped = new WeakSet<pg.Client>();
  /** Forgets `client` and closes it: the statements in flight on it have failed, the next one opens another connection. */
  const drop = (client: pg.Client) => {
    if (dropped.has(client)) return;
    dropped.add(client);
    if (current === client) {
      current = null;
      opening = null;
    }
    client.end().catch(() => undefined);
  };
  /** Looks for the connection left idle, while it is open; it keeps no process alive. */
  let idleCheck: ReturnType<typeof setInterval> | undefined;
  const closeIdle = () => {
    if (current && busy === 0 && performance.now() - usedAt >= idleMs) drop(current);
    if (opening !== null) return;
    clearInterval(idleCheck);
    idleCheck = undefined;
  };
  const open = async () => {
    const client = new pg.Client({ ...options, pipeline: true } as pg.ClientConfig);
    // A connection lost while idle emits 'error': forget it, the next statement opens another.
    client.on('error', () => drop(client));
    client.on('end', () => drop(client));
    try {
      await client.connect();
    } catch (error) {
      opening = null;
      client.end().catch(() => undefined);
      throw error;
    }
    current = client;
    if (idleMs > 0) idleCheck ??= setInterval(closeIdle, Math.max(50, idleMs / 2)).unref();
    return client;
  };
  return {
    /** Whether `client` is this connection. */
    has: (client: unknown) => current !== null && current === client,
    /** Runs `work` on the connection. */
    async use<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
      // As the pool refuses a query once ended: a statement after close() must not open a connection nobody closes.
      if (closed) throw new StorageError('The storage was closed: open it again to run statements.');
      busy++;
      try {
        opening ??= open();
        const client = await opening;
        corkUntilTurnEnds(client);
        return await work(client);
      } finally {
        busy--;
        usedAt = performance.now();
      }
    },
    drop,
    async close() {
      closed = true;
      clearInterval(idleCheck);
      idleCheck = undefined;
      const client = current ?? (await opening?.catch(() => null)) ?? null;
      opening = null;
      current = null;
      await client?.end().catch(() => undefined);
    },
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
    ...connectionSettings(options),
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection emits 'error'; the next query reconnects.
  pool.on('error', (error) => void options.outage?.failed(error));
  try {
    if (schema) {
      // Two processes creating the schema at once: the loser sees a duplicate, which is fine.
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: { code?: string }) => {
        if (error.code !== '23505' && error.code !== '42P06') throw error;
      });
    }
    return await sqlStorage(postgresDatabase(pool, options.outage));
  } catch (cause) {
    await pool.end().catch(() => undefined);
    const where = options.connectionString.replace(/\/\/[^@/]*@/, '//');
    throw new StorageError(`Cannot use PostgreSQL at ${where}: ${cause instanceof Error ? cause.message : String(cause)}. Check DATABASE_URL and that the server runs.`, cause);
  }
}
