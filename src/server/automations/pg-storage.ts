import type {
  AutomationStorage,
  AutomationStorageTx,
  FlowRun,
  FlowRunQuery,
  FlowRunStore,
  FlowRunStoreTx,
  HistoryChange,
  HistoryRow,
  InstanceQuery,
  InstanceRecord,
  QueuedMessage,
} from '../../automations/index.ts';
import type { SqlClient, SqlDatabase } from '../sql.ts';
import { AutomationInstanceGoneError, AutomationUniqueKeyRaceError, AutomationVersionConflictError } from './errors.ts';
import { type FlowRunScope, nextFlowRunWakeAt, SqlFlowRunsTx } from './flow-run-sql.ts';
import { migrateAutomations } from './migrations.ts';
import { withAutomationTransaction } from './transaction.ts';

/** Options of `sqlAutomationStorage`. */
export interface SqlAutomationStorageOptions {
  /**
   * How long a scheduler's claim on a due instance lasts (default 10 000 ms). Other
   * schedulers skip claimed instances; a claim ends when the instance is written, or when
   * it times out (the scheduler died, or the instance did not move, e.g. an `asSoonAs`
   * condition that does not hold yet: it is looked at again after this time).
   */
  claimTimeoutMs?: number;
  /**
   * Send a PostgreSQL NOTIFY on `channel` when a commit sets a due time earlier than before,
   * so schedulers in other processes wake up at once (default true; PGlite has one process, pass false).
   */
  notify?: boolean;
  /**
   * Only instances of these automations are listed as due, and only messages to them are
   * delivered (the automations this process can run). Default: all.
   */
  automations?: readonly string[];
  /**
   * Only runs of these flowcontrol flows are claimed by `continueFlowRuns` and counted by
   * `nextWakeAt` (the flows this process runs). Default: all.
   */
  flows?: readonly string[];
}

/** One transaction of the SQL storage: the automation operations and the flowcontrol run operations, on one database transaction. */
export type SqlStorageTx = AutomationStorageTx & FlowRunStoreTx;

/** Which kinds of work `nextWakeAt` looks for: automation instances and messages, flowcontrol runs, or both (the default). */
export interface WakeSides {
  automations?: boolean;
  flows?: boolean;
}

interface InstanceRow {
  id: string;
  automation: string;
  key: string;
  state: string;
  finished: boolean;
  created_at: number;
  finished_at: number | null;
  unique_key: string | null;
  due_at: number | null;
  updated_at: number;
  version: number;
}

interface HistoryDbRow {
  instance_id: string;
  task_id: number;
  path: string;
  status: string;
  created: number;
  finished: number | null;
  message: string | null;
  result: string;
  completed_by: string | null;
}

interface MessageRow {
  id: string;
  created_at: number;
  body: string;
  error: string | null;
}

/** An open form as `wayflow_automation_open_forms` keeps it. */
export interface OpenFormRow {
  instanceId: string;
  taskId: number;
  automation: string;
  node: string;
  /** When the path entered the form node. */
  since: number;
}

/** The parts of the engine state kept in the `state` JSON column; the rest are columns. */
type StateJson = Pick<InstanceRecord, 'data' | 'paths' | 'nextTaskId' | 'nextPathId' | 'repeatAnchors' | 'parent'>;
type MessageBody = Omit<QueuedMessage, 'id' | 'createdAt' | 'error'>;

const INSTANCE_COLUMNS = 'id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version';
/** The database clock in epoch milliseconds; claims use it so all scheduler processes agree. */
const DB_NOW = '(extract(epoch FROM clock_timestamp()) * 1000)::double precision';

/**
 * Opens the automation storage on a database (PGlite or PostgreSQL through `SqlDatabase`),
 * applying the automation migrations first.
 * @example
 * const storage = await sqlAutomationStorage(pgliteDatabase(await PGlite.create()), { notify: false });
 * const runner = createAutomationRunner({ storage, automations: [webinar] });
 */
export async function sqlAutomationStorage(db: SqlDatabase, options: SqlAutomationStorageOptions = {}): Promise<SqlAutomationStorage> {
  await migrateAutomations(db);
  const [row] = await db.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  return new SqlAutomationStorage(db, `wayflow_automation_due_${row?.schema ?? 'public'}`.slice(0, 63), options);
}

/**
 * The one SQL storage of the automation runtime, on PostgreSQL or PGlite: an `AutomationStorage`
 * (node automations and django-ws workflows) and a `FlowRunStore` (flowcontrol runs). Every
 * `transaction` is one database transaction. `getInstance` and `get` lock the row (`FOR
 * UPDATE`); `dueInstances` and `runnable` claim due rows with `FOR UPDATE SKIP LOCKED`, so
 * several schedulers share the work; `pendingMessages` locks the messages it returns, skipping
 * locked ones; every instance write checks the version read in the same transaction. A commit
 * that makes anything due sooner sends one NOTIFY on `channel`.
 */
export class SqlAutomationStorage implements AutomationStorage, FlowRunStore {
  private readonly listeners = new Set<(dueAt: number) => void>();
  private readonly claimTimeoutMs: number;
  private readonly notify: boolean;
  private readonly automations: readonly string[] | null;
  /** The flow runs this storage claims: its claims count as free to itself across transactions. */
  private readonly flowScope: FlowRunScope;

  constructor(
    private readonly db: SqlDatabase,
    /** The NOTIFY channel for due times, one per schema. */
    readonly channel: string,
    options: SqlAutomationStorageOptions = {},
  ) {
    this.claimTimeoutMs = options.claimTimeoutMs ?? 10_000;
    this.notify = options.notify ?? true;
    this.automations = options.automations ?? null;
    this.flowScope = { token: crypto.randomUUID(), claimTimeoutMs: this.claimTimeoutMs, flows: options.flows ?? null };
  }

  /** Runs `work` in one database transaction; node functions and flow actions reach it through `automationTransaction()`. */
  async transaction<T>(work: (tx: SqlStorageTx) => Promise<T>): Promise<T> {
    let earliest: number | null = null;
    const result = await this.db.transaction(async (client) => {
      const tx = new SqlTx(client, { claimTimeoutMs: this.claimTimeoutMs, automations: this.automations, token: crypto.randomUUID() }, this.flowScope);
      const value = await withAutomationTransaction(client, () => work(tx));
      earliest = tx.earliestNewDue;
      if (earliest !== null && this.notify) await client.query('SELECT pg_notify($1, $2)', [this.channel, String(earliest)]);
      return value;
    });
    if (earliest !== null) for (const listener of this.listeners) listener(earliest);
    return result;
  }

  /**
   * Calls `listener` after each commit that set a due time earlier than before (a new
   * instance, a message that moved one on, a new or suspended flow run, a waiting parent
   * woken by its child), with that time. Returns the unsubscribe function.
   */
  onEarlierDueTime(listener: (dueAt: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * When a scheduler should look next (epoch ms): the earlier of the automations' and the flow
   * runs' wake-up times, for the `sides` it runs (default both). Null when nothing is scheduled.
   */
  async nextWakeAt(now: number, sides: WakeSides = {}): Promise<number | null> {
    const times = await Promise.all([
      sides.automations === false ? null : this.nextInstanceWakeAt(now),
      sides.flows === false ? null : nextFlowRunWakeAt(this.db, this.flowScope, now),
    ]);
    const set = times.filter((t): t is number => t !== null);
    return set.length ? Math.min(...set) : null;
  }

  /**
   * When to look at automations next: now if messages wait in the outbox, else the earliest
   * due time of an unclaimed instance, or the end of the earliest claim (taken over when it
   * times out). Null when nothing is scheduled.
   */
  private async nextInstanceWakeAt(now: number): Promise<number | null> {
    const filter = this.automations ? 'AND automation = ANY($1::text[])' : '';
    const params = this.automations ? [this.automations] : [];
    const [row] = await this.db.query<{ message: boolean; due: number | null; claim: number | null }>(
      `SELECT EXISTS (SELECT 1 FROM wayflow_automation_messages WHERE error IS NULL ${this.automations ? 'AND (automation IS NULL OR automation = ANY($1::text[]))' : ''}) AS message,
         (SELECT min(due_at) FROM wayflow_automation_instances
           WHERE NOT finished AND due_at IS NOT NULL AND (claimed_until IS NULL OR claimed_until <= ${DB_NOW}) ${filter}) AS due,
         (SELECT min(claimed_until) FROM wayflow_automation_instances
           WHERE NOT finished AND due_at IS NOT NULL AND claimed_until > ${DB_NOW} ${filter}) AS claim`,
      params,
    );
    if (!row) return null;
    if (row.message) return now;
    const times = [row.due, row.claim].filter((t): t is number => t !== null);
    return times.length ? Math.min(...times) : null;
  }

  /**
   * The open forms at the given (automation, node) pairs, oldest first: one query on the
   * `(automation, node, since)` index, reading no instance. The caller decides which form
   * nodes someone may process (their assignments are in the definitions, not the database).
   */
  async openFormsAt(nodes: readonly { automation: string; node: string }[]): Promise<OpenFormRow[]> {
    if (nodes.length === 0) return [];
    const rows = await this.db.query<{ instance_id: string; task_id: number; automation: string; node: string; since: number }>(
      `SELECT f.instance_id, f.task_id, f.automation, f.node, f.since
       FROM unnest($1::text[], $2::text[]) AS wanted(automation, node)
       JOIN wayflow_automation_open_forms f ON f.automation = wanted.automation AND f.node = wanted.node
       ORDER BY f.since, f.instance_id, f.task_id`,
      [nodes.map((n) => n.automation), nodes.map((n) => n.node)],
    );
    return rows.map((row) => ({ instanceId: row.instance_id, taskId: row.task_id, automation: row.automation, node: row.node, since: row.since }));
  }

  /** Closes the database. */
  close(): Promise<void> {
    return this.db.close();
  }
}

/** The open forms of a record: its paths waiting at a form, none once it has finished. */
function openFormsOf(record: InstanceRecord): { taskId: number; node: string; since: number }[] {
  if (record.finished) return [];
  return record.paths.filter((path) => path.status === 'form').map((path) => ({ taskId: path.taskId, node: path.node, since: path.enteredAt }));
}

/** A comparable summary of a record's open forms, to skip rewriting them when a write leaves them as they were. */
const formsKey = (record: InstanceRecord) => JSON.stringify(openFormsOf(record));

class SqlTx implements SqlStorageTx {
  /** Versions read (and locked) in this transaction, checked when the instance is written, with the open forms then stored. */
  private readonly versions = new Map<string, { version: number; dueAt: number | null; forms?: string }>();
  /** The earliest due time this transaction moved earlier (an instance, a flow run). */
  earliestNewDue: number | null = null;
  private readonly runs: SqlFlowRunsTx;

  constructor(
    private readonly sql: SqlClient,
    private readonly options: { claimTimeoutMs: number; automations: readonly string[] | null; token: string },
    flowScope: FlowRunScope,
  ) {
    this.runs = new SqlFlowRunsTx(sql, flowScope, (at) => this.dueMovedTo(at, null));
  }

  private dueMovedTo(dueAt: number | null, before: number | null | undefined): void {
    if (dueAt === null || (before !== undefined && before !== null && dueAt >= before)) return;
    this.earliestNewDue = this.earliestNewDue === null ? dueAt : Math.min(this.earliestNewDue, dueAt);
  }

  get(id: string): Promise<FlowRun | null> {
    return this.runs.get(id);
  }

  put(run: FlowRun): Promise<void> {
    return this.runs.put(run);
  }

  list(query: FlowRunQuery): Promise<FlowRun[]> {
    return this.runs.list(query);
  }

  runnable(now: number, limit: number): Promise<string[]> {
    return this.runs.runnable(now, limit);
  }

  lockFlow(flow: string): Promise<void> {
    return this.runs.lockFlow(flow);
  }

  async insertInstance(record: InstanceRecord): Promise<InstanceRecord | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.sql.query(
        `INSERT INTO wayflow_automation_instances (${INSTANCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)
         ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id`,
        instanceParams(record),
      );
      if (inserted.length === 1) {
        await this.writeOpenForms(record);
        this.versions.set(record.id, { version: 1, dueAt: record.dueAt, forms: formsKey(record) });
        this.dueMovedTo(record.dueAt, null);
        return null;
      }
      const [holder] = await this.sql.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE unique_key = $1`, [record.uniqueKey]);
      // The holder may have released the key between the two statements: try again.
      if (holder) return fromRow(holder);
    }
    throw new AutomationUniqueKeyRaceError(record.automation, record.uniqueKey ?? '');
  }

  async getInstance(id: string): Promise<InstanceRecord | null> {
    const [row] = await this.sql.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE id = $1 FOR UPDATE`, [id]);
    if (!row) return null;
    const record = fromRow(row);
    this.versions.set(id, { version: row.version, dueAt: row.due_at, forms: formsKey(record) });
    return record;
  }

  async getInstanceByKey(key: string): Promise<InstanceRecord | null> {
    const [row] = await this.sql.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE key = $1`, [key]);
    return row ? fromRow(row) : null;
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    const read = this.versions.get(record.id);
    // Writing releases the scheduler claim: the instance is due again only by its new due time.
    const rows = await this.sql.query<{ version: number; before: number | null }>(
      `UPDATE wayflow_automation_instances AS i SET automation = $2, key = $3, state = $4, finished = $5, created_at = $6, finished_at = $7,
         unique_key = $8, due_at = $9, updated_at = $10, version = i.version + 1, claimed_by = NULL, claimed_until = NULL
       FROM (SELECT due_at FROM wayflow_automation_instances WHERE id = $1) AS old
       WHERE i.id = $1 AND ($11::integer IS NULL OR i.version = $11::integer)
       RETURNING i.version, old.due_at AS before`,
      [...instanceParams(record), read?.version ?? null],
    );
    const [row] = rows;
    if (!row) {
      if (read) throw new AutomationVersionConflictError(record.automation, record.id, read.version);
      throw new AutomationInstanceGoneError(record.automation, record.id);
    }
    this.dueMovedTo(record.dueAt, read ? read.dueAt : row.before);
    const forms = formsKey(record);
    if (forms !== read?.forms) {
      await this.sql.query('DELETE FROM wayflow_automation_open_forms WHERE instance_id = $1', [record.id]);
      await this.writeOpenForms(record);
    }
    this.versions.set(record.id, { version: row.version, dueAt: record.dueAt, forms });
  }

  /** Inserts the record's open forms (the caller has deleted the old ones). */
  private async writeOpenForms(record: InstanceRecord): Promise<void> {
    const forms = openFormsOf(record);
    if (forms.length === 0) return;
    await this.sql.query(
      `INSERT INTO wayflow_automation_open_forms (instance_id, task_id, automation, node, since)
       SELECT $1, f.task_id, $2, f.node, f.since FROM unnest($3::integer[], $4::text[], $5::double precision[]) AS f(task_id, node, since)`,
      [record.id, record.automation, forms.map((f) => f.taskId), forms.map((f) => f.node), forms.map((f) => f.since)],
    );
  }

  async deleteInstance(id: string): Promise<boolean> {
    const rows = await this.sql.query('DELETE FROM wayflow_automation_instances WHERE id = $1 RETURNING id', [id]);
    await this.sql.query('DELETE FROM wayflow_automation_history WHERE instance_id = $1', [id]);
    await this.sql.query('DELETE FROM wayflow_automation_open_forms WHERE instance_id = $1', [id]);
    this.versions.delete(id);
    return rows.length > 0;
  }

  async listInstances(query: InstanceQuery): Promise<InstanceRecord[]> {
    const rows = await this.sql.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances
       WHERE ($1::text IS NULL OR automation = $1::text) AND ($2::boolean IS NULL OR finished = $2::boolean)
       ORDER BY created_at, id`,
      [query.automation ?? null, query.finished ?? null],
    );
    return rows.map(fromRow);
  }

  async dueInstances(now: number, limit: number): Promise<string[]> {
    const { automations, token, claimTimeoutMs } = this.options;
    // Claims the due rows nobody else holds (a claim of this very transaction counts as free).
    const rows = await this.sql.query<{ id: string; due_at: number }>(
      `WITH due AS (
         SELECT id FROM wayflow_automation_instances
         WHERE NOT finished AND due_at <= $1
           AND (claimed_until IS NULL OR claimed_by = $3 OR claimed_until <= ${DB_NOW})
           AND ($5::text[] IS NULL OR automation = ANY($5::text[]))
         ORDER BY due_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE wayflow_automation_instances AS i SET claimed_by = $3, claimed_until = ${DB_NOW} + $4
       FROM due WHERE i.id = due.id
       RETURNING i.id, i.due_at`,
      [now, limit, token, claimTimeoutMs, automations ? [...automations] : null],
    );
    return rows.sort((a, b) => a.due_at - b.due_at || (a.id < b.id ? -1 : 1)).map((row) => row.id);
  }

  async applyHistory(changes: readonly HistoryChange[]): Promise<void> {
    for (const change of changes) {
      if (change.type === 'open') {
        const row = change.row;
        await this.sql.query(
          `INSERT INTO wayflow_automation_history (instance_id, task_id, path, status, created, finished, message, result, completed_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [row.instanceId, row.taskId, row.path, row.status, row.created, row.finished, row.message, json(row.result), row.completedBy ?? null],
        );
        continue;
      }
      await this.sql.query(
        `UPDATE wayflow_automation_history SET finished = $3, message = $4, result = $5, completed_by = coalesce($6, completed_by)
         WHERE instance_id = $1 AND task_id = $2`,
        [change.instanceId, change.taskId, change.finished, change.message, json(change.result), change.completedBy ?? null],
      );
    }
  }

  async history(instanceId: string): Promise<HistoryRow[]> {
    const rows = await this.sql.query<HistoryDbRow>('SELECT * FROM wayflow_automation_history WHERE instance_id = $1 ORDER BY task_id', [instanceId]);
    return rows.map((row) => {
      const history: HistoryRow = {
        instanceId: row.instance_id,
        taskId: row.task_id,
        path: row.path,
        status: row.status,
        created: row.created,
        finished: row.finished,
        message: row.message,
        result: JSON.parse(row.result),
      };
      if (row.completed_by !== null) history.completedBy = row.completed_by;
      return history;
    });
  }

  async enqueueMessage(message: QueuedMessage): Promise<void> {
    const { id, createdAt, error, ...body } = message;
    const to = message.to;
    await this.sql.query(
      `INSERT INTO wayflow_automation_messages (id, created_at, automation, body, error)
       VALUES ($1, $2, coalesce($5::text, (SELECT automation FROM wayflow_automation_instances WHERE id = $6::text)), $3, $4)
       ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, automation = EXCLUDED.automation, body = EXCLUDED.body, error = EXCLUDED.error`,
      [id, createdAt, JSON.stringify(body), error ?? null, 'automation' in to ? to.automation : null, 'instanceId' in to ? to.instanceId : null],
    );
  }

  async pendingMessages(limit: number): Promise<QueuedMessage[]> {
    // Locked, skipping locked ones: two schedulers never deliver the same message. Messages
    // to an automation this process does not run are left to one that does (a message to a
    // vanished instance has no automation: any process records it as undeliverable).
    const rows = await this.sql.query<MessageRow>(
      `SELECT id, created_at, body, error FROM wayflow_automation_messages
       WHERE error IS NULL AND ($2::text[] IS NULL OR automation IS NULL OR automation = ANY($2::text[]))
       ORDER BY created_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit, this.options.automations ? [...this.options.automations] : null],
    );
    return rows.map(fromMessageRow);
  }

  async failedMessages(limit: number): Promise<QueuedMessage[]> {
    const rows = await this.sql.query<MessageRow>(
      'SELECT id, created_at, body, error FROM wayflow_automation_messages WHERE error IS NOT NULL ORDER BY created_at, seq LIMIT $1',
      [limit],
    );
    return rows.map(fromMessageRow);
  }

  async deleteMessage(id: string): Promise<void> {
    await this.sql.query('DELETE FROM wayflow_automation_messages WHERE id = $1', [id]);
  }

  async failMessage(id: string, error: string): Promise<void> {
    await this.sql.query('UPDATE wayflow_automation_messages SET error = $2 WHERE id = $1', [id, error]);
  }

  async deleteFinishedBefore(before: number): Promise<{ automations: number; tasks: number }> {
    const [row] = await this.sql.query<{ automations: number; tasks: number }>(
      `WITH gone AS (DELETE FROM wayflow_automation_instances WHERE finished AND finished_at < $1 RETURNING id),
            tasks AS (DELETE FROM wayflow_automation_history WHERE instance_id IN (SELECT id FROM gone) RETURNING 1)
       SELECT (SELECT count(*) FROM gone)::integer AS automations, (SELECT count(*) FROM tasks)::integer AS tasks`,
      [before],
    );
    return { automations: row?.automations ?? 0, tasks: row?.tasks ?? 0 };
  }
}

function instanceParams(record: InstanceRecord): unknown[] {
  const state: StateJson = { data: record.data, paths: record.paths, nextTaskId: record.nextTaskId, nextPathId: record.nextPathId, repeatAnchors: record.repeatAnchors };
  if (record.parent) state.parent = record.parent;
  return [
    record.id,
    record.automation,
    record.key,
    JSON.stringify(state),
    record.finished,
    record.createdAt,
    record.finishedAt,
    record.uniqueKey,
    record.dueAt,
    record.updatedAt,
  ];
}

function fromRow(row: InstanceRow): InstanceRecord {
  const state = JSON.parse(row.state) as StateJson;
  return {
    id: row.id,
    automation: row.automation,
    key: row.key,
    ...state,
    finished: row.finished,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    uniqueKey: row.unique_key,
    dueAt: row.due_at,
    updatedAt: row.updated_at,
  };
}

function fromMessageRow(row: MessageRow): QueuedMessage {
  const body = JSON.parse(row.body) as MessageBody;
  const message: QueuedMessage = { id: row.id, ...body, createdAt: row.created_at };
  if (row.error !== null) message.error = row.error;
  return message;
}

/** JSON text of a history result; `undefined` (no result) is stored as null. */
function json(value: unknown): string {
  return JSON.stringify(value ?? null) ?? 'null';
}

/** Options of `sqlFlowRunStore`: those of the shared SQL storage. */
export type SqlFlowRunStoreOptions = SqlAutomationStorageOptions;

/** A flowcontrol run store on SQL: the shared `SqlAutomationStorage` (runs in `wayflow_flow_runs`). */
export type SqlFlowRunStore = SqlAutomationStorage;

/**
 * Opens the shared SQL storage for flowcontrol runs: `sqlAutomationStorage` under the name
 * `new FlowControl({ store })` code knows. Pass `flows` to claim only runs of those flows.
 * @example
 * const store = await sqlFlowRunStore(db, { flows: ['onboarding'] });
 * const control = new FlowControl({ flows: [onboarding], store });
 */
export function sqlFlowRunStore(db: SqlDatabase, options: SqlFlowRunStoreOptions = {}): Promise<SqlFlowRunStore> {
  return sqlAutomationStorage(db, options);
}
