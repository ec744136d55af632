import type { TaskRecord, TaskSummary } from '../core/index.ts';
import { CorruptTaskError } from './errors.ts';
import { tagsOf, taskFacts } from './funnel/model.ts';
import { readFunnels } from './funnel/sql.ts';
import { batched } from './batches.ts';
import { jsonbText } from './jsonb.ts';
import { IDLE_MINUTE_MS, migrate, recordCheck } from './migrations.ts';
import { isDatabaseUnavailable } from './outage.ts';
import { stepOfRecord, taskRecordProblems } from '../persist/index.ts';
import type { ReadInstant, StoredJson, TaskStorage, WriteResult } from './storage.ts';

/** Something that runs one parameterised SQL statement: a PGlite database, a pg pool, a transaction. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
}

/** One statement and its parameters. */
export interface SqlStatement {
  text: string;
  params?: unknown[];
}

/** The client of one transaction (`SqlDatabase.transaction`). */
export interface SqlTransaction extends SqlClient {
  /**
   * Where the database can send several statements in one round trip (PostgreSQL on a pool in
   * pipeline mode): runs `statements`, the last ones of the transaction, and commits with them.
   * Resolves to the rows of each; a statement that fails rolls the transaction back. Nothing may
   * be queried in the transaction afterwards. Absent elsewhere: query them in turn.
   */
  commitWith?(statements: readonly SqlStatement[]): Promise<unknown[][]>;
}

/** A database connection the storage runs on: statements, transactions, and closing. */
export interface SqlDatabase extends SqlClient {
  /**
   * Where the database can (PostgreSQL): runs a short statement (one row by its key) on a connection
   * shared with the other such statements in flight, pipelined: those sent in one turn of the event
   * loop travel in one write and their answers come back together, fewer reads, writes and wake-ups
   * on both sides. Each statement still commits alone. Never for a statement that may run long: the
   * ones behind it would wait. Absent elsewhere: `query`.
   */
  queryShort?<Row = Record<string, unknown>>(text: string, params: unknown[]): Promise<Row[]>;
  /** Runs `work` in one transaction on one connection; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A stored record, checked: rows are validated on the way in, so a failure here means the row was edited outside the server. */
function parseStored(id: string, text: string): TaskRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CorruptTaskError(id, 'not JSON');
  }
  const problems = taskRecordProblems(raw);
  if (problems.length > 0) throw new CorruptTaskError(id, problems.join('; '));
  if ((raw as TaskRecord).id !== id) throw new CorruptTaskError(id, 'it names another task');
  return raw as TaskRecord;
}

/** A deleted task row: its key and its record as stored. */
interface DeletedRow {
  owner: string;
  id: string;
  record: string;
}

/**
 * Deletes the task rows `where` selects (its placeholders numbered from `$1` for `params`) and, in the same
 * transaction, keeps the outcome of each in `wayflow_task_outcomes` (flow, version, times, last step, history),
 * so a funnel still counts a task after it is gone. A row whose record is not readable (edited outside the server)
 * is deleted without an outcome rather than keep the sweep from deleting the others. Resolves to how many rows were deleted.
 */
async function deleteKeepingOutcomes(db: SqlDatabase, where: string, params: unknown[], endedAt: number, endedBy: 'expired' | 'deleted'): Promise<number> {
  return db.transaction(async (tx) => {
    const gone = await tx.query<DeletedRow>(`DELETE FROM wayflow_tasks WHERE ${where} RETURNING owner, id, record`, params);
    const kept = gone.flatMap((row) => {
      const record = readableRecord(row.record);
      if (!record) return [];
      const facts = taskFacts(record.history);
      return [
        {
          owner: row.owner,
          id: row.id,
          flow_id: record.flowId,
          flow_version: record.flowVersion,
          created_at: record.createdAt,
          last_active_at: record.lastActiveAt,
          last_step: facts.last,
          history: record.history,
          finished: facts.finished,
          tags: tagsOf(facts),
          spent_steps: facts.spentSteps,
          spent_ms: facts.spentMs,
        },
      ];
    });
    if (kept.length > 0) {
      await tx.query(
        `INSERT INTO wayflow_task_outcomes (${OUTCOME_COLUMNS}, ended_at, ended_by)
         SELECT ${OUTCOME_COLUMNS}, $2::float8, $3::text FROM jsonb_to_recordset($1::jsonb) AS kept (${OUTCOME_TYPES})`,
        [jsonbText(kept), endedAt, endedBy],
      );
    }
    return gone.length;
  });
}

/** The columns of an outcome written from a deleted row, and their types. */
const OUTCOME_TYPED = {
  owner: 'text',
  id: 'text',
  flow_id: 'text',
  flow_version: 'integer',
  created_at: 'float8',
  last_active_at: 'float8',
  last_step: 'text',
  history: 'jsonb',
  finished: 'text',
  tags: 'text[]',
  spent_steps: 'text[]',
  spent_ms: 'float8[]',
};
const OUTCOME_COLUMNS = Object.keys(OUTCOME_TYPED).join(', ');
const OUTCOME_TYPES = Object.entries(OUTCOME_TYPED)
  .map(([column, type]) => `${column} ${type}`)
  .join(', ');

/** The fields of a stored record an outcome keeps, or null when the text is not such a record. */
function readableRecord(text: string): Pick<TaskRecord, 'flowId' | 'flowVersion' | 'createdAt' | 'lastActiveAt' | 'history'> | null {
  try {
    const record = JSON.parse(text) as Partial<TaskRecord> | null;
    const ok =
      typeof record?.flowId === 'string' &&
      Number.isSafeInteger(record.flowVersion) &&
      Number.isFinite(record.createdAt) &&
      Number.isFinite(record.lastActiveAt) &&
      Array.isArray(record.history);
    return ok ? (record as TaskRecord) : null;
  } catch {
    return null;
  }
}

/** First key of the advisory lock that serialises the creates of one owner (the second is a hash of the owner). */
const CREATE_LOCK = 0x7761_7974;

/** The liveness condition, given the placeholders of the server time and the caller's time. */
const live = (server: string, client: string) => `idle_until > ${server} AND expires_at > ${client}`;

/**
 * The statement of a read: the live row of a task, by owner, id and binder, at a server and a caller time, and whether
 * its record is intact (as a server wrote it for this id: migration 6).
 */
const READ_LIVE = `SELECT version, record, record_check IS NOT DISTINCT FROM ${recordCheck('id', 'record')} AS intact
  FROM wayflow_tasks WHERE owner = $1 AND id = $2 AND binder = $3 AND ${live('$4', '$5')}`;

/** A task's live row as a read finds it. */
interface StoredRow {
  version: number;
  record: string;
  intact: boolean;
}

/** The check every write stores beside the record, of its parameters `$2` (id) and `$5` (record). */
const WRITTEN_CHECK = recordCheck('$2::text', '$5::text');

/** An update of one task at version `expected`; `text` is its record as JSON. */
interface TaskUpdate {
  owner: string;
  record: TaskRecord;
  expected: number;
  idleUntil: number;
  serverNow: number;
  text: string;
}

/** The key of a task row. */
const taskKey = (owner: string, id: string) => `${owner}\u0000${id}`;

/** The update of one task: the live row at the expected version and binder, or nothing. */
const UPDATE_ONE = `UPDATE wayflow_tasks SET version = $4, record = $5, summary = $6, last_active_at = $7, expires_at = $8, idle_until = $9,
    record_check = ${WRITTEN_CHECK}
  WHERE owner = $1 AND id = $2 AND binder = $3 AND version = $10 AND idle_until > $11
  RETURNING version`;

/**
 * `UPDATE_ONE` for several tasks in one statement (one commit): their rows as one JSON array, each record and summary
 * as JSON within it (so stored as sent, escaped once); returns the key of each task written.
 */
const UPDATE_SEVERAL = `UPDATE wayflow_tasks AS t SET version = v.version, record = v.record::text, summary = v.summary::text,
    last_active_at = v.last_active_at, expires_at = v.expires_at, idle_until = v.idle_until, record_check = ${recordCheck('v.id', 'v.record::text')}
  FROM json_to_recordset($1::json) AS v(owner text, id text, binder text, version integer, record json, summary json,
    last_active_at double precision, expires_at double precision, idle_until double precision, expected integer, server_now double precision)
  WHERE t.owner = v.owner AND t.id = v.id AND t.binder = v.binder AND t.version = v.expected AND t.idle_until > v.server_now
  RETURNING t.owner, t.id`;

/** The most record bytes one `UPDATE_SEVERAL` carries (a record alone may be larger: it goes alone). */
const BATCH_BYTES = 1 << 20;

/**
 * The `TaskStorage` both databases share: the same SQL runs on PGlite and on
 * PostgreSQL. Migrations are applied before the storage is returned.
 */
export async function sqlStorage(db: SqlDatabase): Promise<TaskStorage> {
  await migrate(db);
  /** The statements of a read and an update: one row by its key, on a shared connection where there is one. */
  const short = <Row>(text: string, params: unknown[]) => (db.queryShort ? db.queryShort<Row>(text, params) : db.query<Row>(text, params));
  const visibleVersion = async (owner: string, id: string, binder: string, serverNow: number) => {
    const rows = await db.query<{ version: number }>(
      'SELECT version FROM wayflow_tasks WHERE owner = $1 AND id = $2 AND binder = $3 AND idle_until > $4',
      [owner, id, binder, serverNow],
    );
    return rows[0]?.version ?? null;
  };
  /** The live row of the task, or null. */
  const stored = async (owner: string, id: string, binder: string, at: ReadInstant) => {
    const rows = await short<StoredRow>(READ_LIVE, [owner, id, binder, at.server, at.client]);
    return rows[0] ?? null;
  };
  const summaryOf = (record: TaskRecord) => JSON.stringify({ flowId: record.flowId, step: stepOfRecord(record) });
  const columns = (record: TaskRecord, text = JSON.stringify(record)) => [record.binder, record.version, text, summaryOf(record), record.lastActiveAt, record.expiresAt];
  /** The updates of the server's requests: one statement alone, several in one when they wait for each other (`batched`). */
  const update = batched<TaskUpdate, boolean>({
    single: async ({ owner, record, expected, idleUntil, serverNow, text }) =>
      (await short(UPDATE_ONE, [owner, record.id, ...columns(record, text), idleUntil, expected, serverNow])).length === 1,
    async several(updates) {
      const rows = updates.map(({ owner, record, expected, idleUntil, serverNow, text }) => {
        const json = JSON.stringify;
        return `{"owner":${json(owner)},"id":${json(record.id)},"binder":${json(record.binder)},"version":${json(record.version)},"record":${text},"summary":${summaryOf(record)},"last_active_at":${json(record.lastActiveAt)},"expires_at":${json(record.expiresAt)},"idle_until":${json(idleUntil)},"expected":${json(expected)},"server_now":${json(serverNow)}}`;
      });
      const written = new Set((await short<{ owner: string; id: string }>(UPDATE_SEVERAL, [`[${rows.join(',')}]`])).map((row) => taskKey(row.owner, row.id)));
      return updates.map(({ owner, record }) => written.has(taskKey(owner, record.id)));
    },
    key: ({ owner, record }) => taskKey(owner, record.id),
    size: ({ text }) => text.length,
    maxSize: BATCH_BYTES,
    failsAll: isDatabaseUnavailable,
  });
  return {
    async read(owner, id, binder, at) {
      const row = await stored(owner, id, binder, at);
      if (row === null) return null;
      return row.intact ? (JSON.parse(row.record) as TaskRecord) : parseStored(id, row.record);
    },
    async readJson(owner, id, binder, at): Promise<StoredJson | null> {
      const row = await stored(owner, id, binder, at);
      if (row === null) return null;
      if (row.intact) return { version: row.version, json: row.record };
      // Edited outside the server, or written before migration 6: answered as JSON.stringify writes the record it holds.
      return { version: row.version, json: JSON.stringify(parseStored(id, row.record)) };
    },
    async create(owner, record, idleUntil, serverNow, maxLive): Promise<WriteResult> {
      // A row whose idle deadline passed is dead: a create may take its place, atomically.
      const insert = (client: SqlClient) =>
        client.query(
          `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until, record_check)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${WRITTEN_CHECK})
           ON CONFLICT (owner, id) DO UPDATE SET binder = EXCLUDED.binder, version = EXCLUDED.version, record = EXCLUDED.record,
             summary = EXCLUDED.summary, last_active_at = EXCLUDED.last_active_at, expires_at = EXCLUDED.expires_at, idle_until = EXCLUDED.idle_until,
             record_check = EXCLUDED.record_check
           WHERE wayflow_tasks.idle_until <= $10
           RETURNING version`,
          [owner, record.id, ...columns(record), idleUntil, serverNow],
        );
      const rows =
        maxLive === undefined
          ? await insert(db)
          : await db.transaction(async (tx) => {
              // One create per owner at a time, so the count below stays true until the insert commits.
              await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CREATE_LOCK, owner]);
              const [live] = await tx.query<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_tasks WHERE owner = $1 AND idle_until > $2 AND id <> $3', [
                owner,
                serverNow,
                record.id,
              ]);
              return (live?.n ?? 0) >= maxLive ? null : insert(tx);
            });
      if (rows === null) return { ok: false, full: true };
      if (rows.length === 1) return { ok: true };
      return { ok: false, current: await visibleVersion(owner, record.id, record.binder, serverNow) };
    },
    async update(owner, record, expected, idleUntil, serverNow): Promise<WriteResult> {
      if (await update({ owner, record, expected, idleUntil, serverNow, text: JSON.stringify(record) })) return { ok: true };
      return { ok: false, current: await visibleVersion(owner, record.id, record.binder, serverNow) };
    },
    async remove(owner, id, binder, expected) {
      const where = 'owner = $1 AND id = $2 AND binder = $3 AND ($4::integer IS NULL OR version = $4::integer)';
      return (await deleteKeepingOutcomes(db, where, [owner, id, binder, expected ?? null], Date.now(), 'deleted')) > 0;
    },
    async list(owner, binder, at: ReadInstant) {
      const rows = await db.query<{ id: string; summary: string; last_active_at: number; expires_at: number }>(
        `SELECT id, summary, last_active_at, expires_at FROM wayflow_tasks
         WHERE owner = $1 AND binder = $2 AND ${live('$3', '$4')}
         ORDER BY last_active_at DESC, id`,
        [owner, binder, at.server, at.client],
      );
      return rows.map((row): TaskSummary => {
        const summary = JSON.parse(row.summary) as { flowId: string; step: string | null };
        return { id: row.id, flowId: summary.flowId, step: summary.step, lastActiveAt: row.last_active_at, expiresAt: row.expires_at };
      });
    },
    sweepOwner: (owner, at) => deleteKeepingOutcomes(db, 'owner = $1 AND (idle_until <= $2 OR expires_at <= $3)', [owner, at.server, at.client], at.server, 'expired'),
    sweepExpired: (serverNow) =>
      deleteKeepingOutcomes(db, `idle_minute <= floor($1::float8 / ${IDLE_MINUTE_MS}) AND idle_until <= $1::float8`, [serverNow], serverNow, 'expired'),
    forgetOutcomes: async (before) => (await db.query('DELETE FROM wayflow_task_outcomes WHERE ended_at < $1 RETURNING flow_id', [before])).length,
    funnels: (flowId, window, serverNow) => readFunnels(db, flowId, window, serverNow),
    async ping() {
      await db.query('SELECT 1');
    },
    async secret(name) {
      const fresh = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      await db.query('INSERT INTO wayflow_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, fresh]);
      const rows = await db.query<{ value: string }>('SELECT value FROM wayflow_secrets WHERE name = $1', [name]);
      return rows[0]!.value;
    },
    close: () => db.close(),
  };
}
