import type {
  AutomationStorage,
  AutomationStorageTx,
  DueScope,
  FlowRun,
  FlowRunQuery,
  HistoryChange,
  HistoryRow,
  InstanceQuery,
  InstanceRecord,
  QueuedMessage,
} from '../../automations/index.ts';
import type { SqlDatabase, SqlStatement, SqlTransaction } from '../sql.ts';
import { HistoryWrites, MessageWrites, WriteStatement } from './batch-sql.ts';
import { AutomationInstanceGoneError, AutomationUniqueKeyRaceError, AutomationVersionConflictError, NoAutomationTransactionError } from './errors.ts';
import { HAS_CHILDREN, RunWrites } from './run-sql.ts';
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
   * Only runs of these flowcontrol flows are listed as due and counted by `nextWakeAt` (the
   * flows this process runs). Default: all.
   */
  flows?: readonly string[];
}

/** One transaction of the SQL storage: automation instances and flowcontrol runs on one database transaction. */
export type SqlStorageTx = AutomationStorageTx;

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

/** A row of the write statement: an updated instance's new version and its due time before. */
interface WrittenRow {
  id: string;
  version: number;
  before: number | null;
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

/** One automation's figures for the dashboard (`SqlAutomationStorage.summary`). */
export interface AutomationSummary {
  running: number;
  finished: number;
  /** Running instances with a path at each node (nodes without any are absent). */
  nodes: Map<string, number>;
  /** The newest instances, newest first. */
  recent: InstanceRecord[];
}

/** The parts of the engine state kept in the `state` JSON column; the rest are columns. */
type StateJson = Pick<InstanceRecord, 'data' | 'paths' | 'nextTaskId' | 'nextPathId' | 'repeatAnchors' | 'parent'>;
type MessageBody = Omit<QueuedMessage, 'id' | 'createdAt' | 'error'>;

const INSTANCE_COLUMNS = 'id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version';
/** The columns of `instanceRow` with their types, for `json_to_recordset` (`state` as JSON, stored as its text). */
const INSTANCE_RECORD =
  'id text, automation text, key text, state json, finished boolean, created_at double precision, finished_at double precision, unique_key text, due_at double precision, updated_at double precision';
/** INSTANCE_COLUMNS but `version`, from `INSTANCE_RECORD`'s columns. */
const INSTANCE_VALUES = 'v.id, v.automation, v.key, v.state::text, v.finished, v.created_at, v.finished_at, v.unique_key, v.due_at, v.updated_at';
/** The database clock in epoch milliseconds; claims use it so all scheduler processes agree. */
const DB_NOW = '(extract(epoch FROM clock_timestamp()) * 1000)::double precision';
/**
 * The outbox messages a process may deliver: not failed, and to one of its automations (the
 * parameter `automations`, a `text[]`, null for all) or to a vanished instance (no automation).
 */
const deliverable = (automations: string) => `error IS NULL AND (${automations}::text[] IS NULL OR automation IS NULL OR automation = ANY(${automations}::text[]))`;

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
 * The one SQL storage of the automation runtime, on PostgreSQL or PGlite: node automations,
 * django-ws workflows and flowcontrol runs, all rows of `wayflow_automation_instances` (runs
 * with `kind = 'flow'`). Every `transaction` is one database transaction. `getInstance` and
 * `getRun` lock the row (`FOR UPDATE`); `dueInstances` claims due instances and runs with
 * `FOR UPDATE SKIP LOCKED`, so several schedulers share the work; `pendingMessages` locks the
 * messages it returns, skipping locked ones; every instance write checks the version read in
 * the same transaction; `lockFlow` is a transaction advisory lock. A commit that makes anything
 * due sooner sends one NOTIFY on `channel`.
 */
export class SqlAutomationStorage implements AutomationStorage {
  private readonly listeners = new Set<(dueAt: number) => void>();
  private readonly claimTimeoutMs: number;
  private readonly notify: boolean;
  private readonly automations: readonly string[] | null;
  private readonly flows: readonly string[] | null;

  constructor(
    private readonly db: SqlDatabase,
    /** The NOTIFY channel for due times, one per schema. */
    readonly channel: string,
    options: SqlAutomationStorageOptions = {},
  ) {
    this.claimTimeoutMs = options.claimTimeoutMs ?? 10_000;
    this.notify = options.notify ?? true;
    this.automations = options.automations ?? null;
    this.flows = options.flows ?? null;
  }

  /** Runs `work` in one database transaction; node functions and flow actions (`runCode`) reach it through `automationTransaction()`. */
  async transaction<T>(work: (tx: SqlStorageTx) => Promise<T>): Promise<T> {
    let earliest: number | null = null;
    const result = await this.db.transaction(async (client) => {
      const tx = new SqlTx(client, { claimTimeoutMs: this.claimTimeoutMs, automations: this.automations, flows: this.flows, token: crypto.randomUUID() });
      const value = await work(tx);
      earliest = await tx.finish(this.notify ? this.channel : null);
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
   * Whether a message this process may deliver waits in the outbox: one statement on the
   * pending index, no transaction (the scheduler pass opens one only when this says yes).
   */
  async mayHavePendingMessages(): Promise<boolean> {
    const [row] = await this.db.query<{ pending: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM wayflow_automation_messages WHERE ${deliverable('$1')}) AS pending`,
      [this.automations ? [...this.automations] : null],
    );
    return row?.pending !== false;
  }

  /**
   * When a scheduler should look next (epoch ms): now if messages wait in the outbox, else the
   * earliest due time of an unclaimed instance or flow run (of the automations and flows this
   * storage handles), or the end of the earliest claim (taken over when it times out). Null
   * when nothing is scheduled.
   */
  async nextWakeAt(now: number): Promise<number | null> {
    const filter = 'AND ($1::text[] IS NULL OR kind = $3 OR automation = ANY($1::text[])) AND ($2::text[] IS NULL OR kind <> $3 OR automation = ANY($2::text[]))';
    const params = [this.automations ? [...this.automations] : null, this.flows ? [...this.flows] : null, 'flow'];
    const [row] = await this.db.query<{ message: boolean; due: number | null; claim: number | null }>(
      `SELECT EXISTS (SELECT 1 FROM wayflow_automation_messages WHERE ${deliverable('$1')}) AS message,
         (SELECT min(due_at) FROM wayflow_automation_instances
           WHERE NOT finished AND due_at IS NOT NULL AND (claimed_until IS NULL OR claimed_until <= ${DB_NOW}) ${filter}) AS due,
         (SELECT min(claimed_until) FROM wayflow_automation_instances
           WHERE NOT finished AND due_at IS NOT NULL AND claimed_until > ${DB_NOW} ${filter}) AS claim`,
      params,
    );
    if (!row) return null;
    if (row.message && this.automations?.length !== 0) return now;
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

  /**
   * What the dashboard shows of each of `automations`, counted in the database (no instance is
   * loaded but the `recent` newest): running and finished instances, how many running instances
   * have a path at each node, and the newest instances.
   */
  async summary(automations: readonly string[], recent: number): Promise<Map<string, AutomationSummary>> {
    const summaries = new Map<string, AutomationSummary>(automations.map((name) => [name, { running: 0, finished: 0, nodes: new Map(), recent: [] }]));
    if (automations.length === 0) return summaries;
    const names = [...automations];
    const [counts, nodes, newest] = await Promise.all([
      this.db.query<{ automation: string; running: number; finished: number }>(
        `SELECT automation, (count(*) FILTER (WHERE NOT finished))::integer AS running, (count(*) FILTER (WHERE finished))::integer AS finished
         FROM wayflow_automation_instances WHERE kind = 'automation' AND automation = ANY($1::text[]) GROUP BY automation`,
        [names],
      ),
      this.db.query<{ automation: string; node: string; count: number }>(
        `SELECT i.automation, n.node, count(*)::integer AS count
         FROM wayflow_automation_instances i
         CROSS JOIN LATERAL (SELECT DISTINCT p.value->>'node' AS node FROM jsonb_array_elements(i.state::jsonb->'paths') AS p(value)) n
         WHERE NOT i.finished AND i.kind = 'automation' AND i.automation = ANY($1::text[])
         GROUP BY i.automation, n.node`,
        [names],
      ),
      this.db.query<InstanceRow>(
        `SELECT r.* FROM unnest($1::text[]) AS a(name)
         CROSS JOIN LATERAL (SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE kind = 'automation' AND automation = a.name ORDER BY created_at DESC, id DESC LIMIT $2) r`,
        [names, recent],
      ),
    ]);
    for (const row of counts) Object.assign(summaries.get(row.automation) ?? {}, { running: row.running, finished: row.finished });
    for (const row of nodes) summaries.get(row.automation)?.nodes.set(row.node, row.count);
    for (const row of newest) summaries.get(row.automation)?.recent.push(fromRow(row));
    return summaries;
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

/**
 * One transaction of the SQL storage. Instance, history and message writes are held back and
 * sent as one set-based statement per table (batch-sql.ts) before anything reads those tables
 * and before commit, so a transaction that runs many steps of many instances costs a handful
 * of statements. Rows this transaction locked (read, claimed, inserted) are served from memory.
 */
class SqlTx implements SqlStorageTx {
  /** Versions read (and locked) in this transaction, checked when the instance is written, with the open forms then stored. */
  private readonly versions = new Map<string, { version: number; dueAt: number | null; forms?: string }>();
  /** Instances this transaction holds the row lock of, as it last read or wrote them. */
  private readonly locked = new Map<string, InstanceRecord>();
  /** Instance writes not sent yet, by id (the last write of an instance wins). */
  private readonly puts = new Map<string, InstanceRecord>();
  /** New instances without a unique key (nothing to collide with), not sent yet: inserted in their last state. */
  private readonly inserts = new Map<string, InstanceRecord>();
  private readonly historyWrites = new HistoryWrites();
  private readonly messageWrites = new MessageWrites();
  /** Due rows this transaction locked as a scheduler's claim (`dueInstances`). */
  private readonly claimed = new Set<string>();
  /** Rows this transaction wrote (sent or held back), which releases their claim. */
  private readonly written = new Set<string>();
  /** The earliest due time this transaction moved earlier (an instance, a flow run). */
  earliestNewDue: number | null = null;
  private readonly runs: RunWrites;

  constructor(
    private readonly sql: SqlTransaction,
    private readonly options: { claimTimeoutMs: number; automations: readonly string[] | null; flows: readonly string[] | null; token: string },
  ) {
    this.runs = new RunWrites(sql, options, (dueAt, before) => this.dueMovedTo(dueAt, before));
  }

  /** The database client of this transaction (`sqlTransactionOf`). */
  get client(): SqlTransaction {
    return this.sql;
  }

  runCode<T>(work: () => Promise<T>): Promise<T> {
    return withAutomationTransaction(this.sql, work);
  }

  private dueMovedTo(dueAt: number | null, before: number | null | undefined): void {
    if (dueAt === null || (before !== undefined && before !== null && dueAt >= before)) return;
    this.earliestNewDue = this.earliestNewDue === null ? dueAt : Math.min(this.earliestNewDue, dueAt);
  }

  /**
   * Sends the held-back writes in one statement (batch-sql.ts): new instances, changed ones
   * (version-checked), their open forms, history rows, messages and flow runs.
   */
  async flush(final = false): Promise<void> {
    const write = this.takeWrites(final);
    if (write) write.check(await this.sql.query(write.text, write.params));
  }

  /**
   * The transaction's last writes: the held-back ones and, when a due time moved earlier and
   * `channel` is given, a NOTIFY on it. Without instance updates (a start, say) they travel
   * with the COMMIT in one round trip where the client can (`commitWith`); updates are checked
   * against the versions read once their rows are back, so they commit after that check.
   * Resolves to the earliest due time moved earlier.
   */
  async finish(channel: string | null): Promise<number | null> {
    const { commitWith } = this.sql;
    if (!commitWith || this.puts.size > 0) {
      await this.flush(true);
      if (this.earliestNewDue !== null && channel !== null) await this.sql.query('SELECT pg_notify($1, $2)', [channel, String(this.earliestNewDue)]);
      return this.earliestNewDue;
    }
    const write = this.takeWrites(true);
    const statements: SqlStatement[] = write ? [write] : [];
    if (this.earliestNewDue !== null && channel !== null) statements.push({ text: 'SELECT pg_notify($1, $2)', params: [channel, String(this.earliestNewDue)] });
    const results = await commitWith.call(this.sql, statements);
    write?.check(results[0] as WrittenRow[]);
    return this.earliestNewDue;
  }

  /**
   * The statement of the held-back writes (null when there are none), forgetting them; the due
   * times they move earlier are counted at once where known (new instances, instances read
   * here, flow runs). `check` takes its rows: it throws when a changed instance's version moved
   * since it was read (or the instance is gone), and records the new versions. `final` (the
   * transaction's last statement) adds the claims of the due rows it locked and never wrote.
   */
  private takeWrites(final = false): (SqlStatement & { params: unknown[]; check(rows: readonly WrittenRow[]): void }) | null {
    for (const id of this.puts.keys()) this.written.add(id);
    for (const id of this.runs.pendingIds()) this.written.add(id);
    const kept = final ? [...this.claimed].filter((id) => !this.written.has(id)) : [];
    if (this.inserts.size + this.puts.size + this.historyWrites.size + this.messageWrites.size + this.runs.size + kept.length === 0) return null;
    const statement = new WriteStatement();
    const inserted = [...this.inserts.values()];
    const updated = [...this.puts.values()];
    this.inserts.clear();
    this.puts.clear();
    if (inserted.length > 0) {
      statement.add(
        'inserted',
        `INSERT INTO wayflow_automation_instances (${INSTANCE_COLUMNS})
         SELECT ${INSTANCE_VALUES}, 1 FROM ${statement.records(inserted.map(instanceRow), 'v', INSTANCE_RECORD)}`,
      );
    }
    if (updated.length > 0) {
      const rows = updated.map((record) => ({ ...instanceRow(record), read_version: this.versions.get(record.id)?.version ?? null }));
      const records = statement.records(rows, 'v', `${INSTANCE_RECORD}, read_version integer`);
      // The due time before the write is known of every instance read here (a scheduler's group:
      // all of them); only for the others is it read back, a second look at each row by its key.
      const source = updated.every((record) => this.versions.has(record.id))
        ? `(SELECT v.*, NULL::double precision AS before FROM ${records}) AS v`
        : `(SELECT v.*, old.due_at AS before FROM ${records} JOIN wayflow_automation_instances AS old ON old.id = v.id) AS v`;
      // Writing releases the scheduler claim: the instance is due again only by its new due time.
      statement.add(
        'updated',
        `UPDATE wayflow_automation_instances AS i SET automation = v.automation, key = v.key, state = v.state::text, finished = v.finished,
           created_at = v.created_at, finished_at = v.finished_at, unique_key = v.unique_key, due_at = v.due_at, updated_at = v.updated_at,
           version = i.version + 1, claimed_by = NULL, claimed_until = NULL
         FROM ${source}
         WHERE i.id = v.id AND (v.read_version IS NULL OR i.version = v.read_version)
         RETURNING i.id, i.version, v.before`,
      );
    }
    const formsChanged = updated.filter((record) => formsKey(record) !== this.versions.get(record.id)?.forms);
    this.replaceOpenForms(statement, inserted, formsChanged);
    this.historyWrites.addTo(statement);
    this.messageWrites.addTo(statement, (id) => this.locked.get(id)?.automation ?? null);
    this.runs.addTo(statement, Date.now(), DB_NOW);
    if (kept.length > 0) {
      // Due rows left as they were (an `asSoonAs` that does not hold, a refused run): claimed for the claim time, looked at again after it.
      statement.add(
        'claims_kept',
        `UPDATE wayflow_automation_instances SET claimed_by = ${statement.param(this.options.token, 'text')},
           claimed_until = ${DB_NOW} + ${statement.param(this.options.claimTimeoutMs, 'double precision')}
         WHERE id = ANY(${statement.param(kept, 'text[]')})`,
      );
    }
    const reads = updated.map((record) => this.versions.get(record.id));
    for (const record of inserted) this.dueMovedTo(record.dueAt, null);
    updated.forEach((record, i) => {
      const read = reads[i];
      if (read) this.dueMovedTo(record.dueAt, read.dueAt);
    });
    return {
      text: statement.text(updated.length > 0 ? 'SELECT id, version, before FROM updated' : 'SELECT 1 WHERE false'),
      params: statement.params,
      check: (rows) => {
        for (const record of inserted) this.versions.set(record.id, { version: 1, dueAt: record.dueAt, forms: formsKey(record) });
        const written = new Map(rows.map((row) => [row.id, row]));
        updated.forEach((record, i) => {
          const read = reads[i];
          const row = written.get(record.id);
          if (!row) {
            if (read) throw new AutomationVersionConflictError(record.automation, record.id, read.version);
            throw new AutomationInstanceGoneError(record.automation, record.id);
          }
          if (!read) this.dueMovedTo(record.dueAt, row.before);
          this.versions.set(record.id, { version: row.version, dueAt: record.dueAt, forms: formsKey(record) });
        });
      },
    };
  }

  /**
   * Adds the open forms of new instances and of changed instances whose forms changed: the
   * forms no longer open are deleted, the others upserted (rows apart, as parts of one
   * statement must be).
   */
  private replaceOpenForms(statement: WriteStatement, inserted: readonly InstanceRecord[], changed: readonly InstanceRecord[]): void {
    const forms = [...inserted, ...changed].flatMap((record) => openFormsOf(record).map((form) => ({ ...form, instanceId: record.id, automation: record.automation })));
    if (changed.length > 0) {
      statement.add(
        'forms_closed',
        `DELETE FROM wayflow_automation_open_forms AS f WHERE f.instance_id = ANY(${statement.param(
          changed.map((r) => r.id),
          'text[]',
        )})
           AND NOT EXISTS (SELECT 1 FROM ${statement.unnest([
             [forms.map((f) => f.instanceId), 'text'],
             [forms.map((f) => f.taskId), 'integer'],
           ])} AS open(instance_id, task_id) WHERE open.instance_id = f.instance_id AND open.task_id = f.task_id)`,
      );
    }
    if (forms.length === 0) return;
    statement.add(
      'forms_open',
      `INSERT INTO wayflow_automation_open_forms (instance_id, task_id, automation, node, since)
       SELECT * FROM ${statement.records(
         forms.map((f) => ({ instance_id: f.instanceId, task_id: f.taskId, automation: f.automation, node: f.node, since: f.since })),
         'f',
         'instance_id text, task_id integer, automation text, node text, since double precision',
       )}
       ON CONFLICT (instance_id, task_id) DO UPDATE SET automation = EXCLUDED.automation, node = EXCLUDED.node, since = EXCLUDED.since`,
    );
  }

  async getRun(id: string): Promise<FlowRun | null> {
    // An instance this transaction holds (claimed with the runs, say) is no run: no query.
    if (this.locked.has(id) && !this.runs.holds(id)) return null;
    return this.runs.get(id);
  }

  async putRun(run: FlowRun, options: { executing?: boolean } = {}): Promise<void> {
    this.runs.put(run, options.executing === true);
  }

  listRuns(query: FlowRunQuery): Promise<FlowRun[]> {
    return this.runs.list(query);
  }

  lockFlow(flow: string): Promise<void> {
    return this.runs.lockFlow(flow);
  }

  async insertInstance(record: InstanceRecord): Promise<InstanceRecord | null> {
    if (record.uniqueKey === null) {
      this.inserts.set(record.id, record);
      this.locked.set(record.id, record);
      return null;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.sql.query(
        `INSERT INTO wayflow_automation_instances (${INSTANCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)
         ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id`,
        instanceParams(record),
      );
      if (inserted.length === 1) {
        await this.writeOpenForms([record]);
        this.versions.set(record.id, { version: 1, dueAt: record.dueAt, forms: formsKey(record) });
        this.locked.set(record.id, record);
        this.dueMovedTo(record.dueAt, null);
        return null;
      }
      await this.flush();
      const [holder] = await this.sql.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE unique_key = $1`, [record.uniqueKey]);
      // The holder may have released the key between the two statements: try again.
      if (holder) return fromRow(holder);
    }
    throw new AutomationUniqueKeyRaceError(record.automation, record.uniqueKey ?? '');
  }

  async getInstance(id: string): Promise<InstanceRecord | null> {
    const held = this.locked.get(id);
    if (held) return held;
    const [row] = await this.sql.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE id = $1 AND kind = 'automation' FOR UPDATE`, [id]);
    if (!row) return null;
    return this.hold(row);
  }

  /** Records a row this transaction locked: its version and open forms for the write, the record for later reads. */
  private hold(row: InstanceRow): InstanceRecord {
    const record = fromRow(row);
    this.versions.set(row.id, { version: row.version, dueAt: row.due_at, forms: formsKey(record) });
    this.locked.set(row.id, record);
    return record;
  }

  async getInstanceByKey(key: string): Promise<InstanceRecord | null> {
    await this.flush();
    const [row] = await this.sql.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances WHERE key = $1 AND kind = 'automation'`, [key]);
    return row ? fromRow(row) : null;
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    if (this.inserts.has(record.id)) {
      this.inserts.set(record.id, record);
      this.locked.set(record.id, record);
      return;
    }
    this.puts.set(record.id, record);
    if (this.versions.has(record.id)) this.locked.set(record.id, record);
  }

  /** Inserts the records' open forms (the caller has deleted the old ones). */
  private async writeOpenForms(records: readonly InstanceRecord[]): Promise<void> {
    const forms = records.flatMap((record) => openFormsOf(record).map((form) => ({ ...form, instanceId: record.id, automation: record.automation })));
    if (forms.length === 0) return;
    await this.sql.query(
      `INSERT INTO wayflow_automation_open_forms (instance_id, task_id, automation, node, since)
       SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::double precision[])`,
      [forms.map((f) => f.instanceId), forms.map((f) => f.taskId), forms.map((f) => f.automation), forms.map((f) => f.node), forms.map((f) => f.since)],
    );
  }

  async deleteInstance(id: string): Promise<boolean> {
    await this.flush();
    this.locked.delete(id);
    this.claimed.delete(id);
    const rows = await this.sql.query("DELETE FROM wayflow_automation_instances WHERE id = $1 AND kind = 'automation' RETURNING id", [id]);
    await this.sql.query('DELETE FROM wayflow_automation_history WHERE instance_id = $1', [id]);
    await this.sql.query('DELETE FROM wayflow_automation_open_forms WHERE instance_id = $1', [id]);
    this.versions.delete(id);
    return rows.length > 0;
  }

  async listInstances(query: InstanceQuery): Promise<InstanceRecord[]> {
    await this.flush();
    const rows = await this.sql.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM wayflow_automation_instances
       WHERE kind = 'automation' AND ($1::text IS NULL OR automation = $1::text) AND ($2::boolean IS NULL OR finished = $2::boolean)
       ORDER BY created_at, id`,
      [query.automation ?? null, query.finished ?? null],
    );
    return rows.map(fromRow);
  }

  async dueInstances(now: number, limit: number, scope?: DueScope): Promise<string[]> {
    await this.flush();
    const { token } = this.options;
    const automations = within(this.options.automations, scope?.automations);
    const flows = within(this.options.flows, scope?.flows);
    // Locks the due rows nobody else holds (a claim of this very transaction counts as free),
    // reading them: the steps this transaction runs on them need no further read. The lock is
    // the claim while the transaction runs (other schedulers skip locked rows); the claim
    // columns are written at commit only for the rows it leaves unwritten (`finish`), since
    // writing a row releases its claim: a claim column written here would be a second version of
    // every row, with its index entries, written again in the same transaction.
    const rows = await this.sql.query<InstanceRow & { kind: string; seq: string | number; has_children: boolean }>(
      `SELECT ${INSTANCE_COLUMNS.split(', ')
        .map((c) => `i.${c}`)
        .join(', ')}, i.kind, i.seq, ${HAS_CHILDREN}
       FROM wayflow_automation_instances AS i
       WHERE NOT i.finished AND i.due_at <= $1
         AND (i.claimed_until IS NULL OR i.claimed_by = $3 OR i.claimed_until <= ${DB_NOW})
         AND ($4::text[] IS NULL OR i.kind <> 'automation' OR i.automation = ANY($4::text[]))
         AND ($5::text[] IS NULL OR i.kind <> 'flow' OR i.automation = ANY($5::text[]))
       ORDER BY i.due_at, i.seq
       LIMIT $2
       FOR UPDATE OF i SKIP LOCKED`,
      [now, limit, token, automations, flows],
    );
    for (const row of rows) this.claimed.add(row.id);
    for (const row of rows) {
      if (row.kind === 'flow') {
        if (!this.runs.holds(row.id)) this.runs.hold(row);
      } else if (!this.locked.has(row.id)) this.hold(row);
    }
    return rows.sort((a, b) => (a.due_at ?? 0) - (b.due_at ?? 0) || Number(a.seq) - Number(b.seq)).map((row) => row.id);
  }

  async applyHistory(changes: readonly HistoryChange[]): Promise<void> {
    this.historyWrites.add(changes);
  }

  async history(instanceId: string): Promise<HistoryRow[]> {
    await this.flush();
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
    this.messageWrites.add(message);
  }

  async pendingMessages(limit: number): Promise<QueuedMessage[]> {
    await this.flush();
    // Locked, skipping locked ones: two schedulers never deliver the same message. Messages
    // to an automation this process does not run are left to one that does (a message to a
    // vanished instance has no automation: any process records it as undeliverable).
    const rows = await this.sql.query<MessageRow>(
      `SELECT id, created_at, body, error FROM wayflow_automation_messages
       WHERE ${deliverable('$2')}
       ORDER BY created_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit, this.options.automations ? [...this.options.automations] : null],
    );
    return rows.map(fromMessageRow);
  }

  async failedMessages(limit: number): Promise<QueuedMessage[]> {
    await this.flush();
    const rows = await this.sql.query<MessageRow>(
      'SELECT id, created_at, body, error FROM wayflow_automation_messages WHERE error IS NOT NULL ORDER BY created_at, seq LIMIT $1',
      [limit],
    );
    return rows.map(fromMessageRow);
  }

  async deleteMessage(id: string): Promise<void> {
    await this.flush();
    await this.sql.query('DELETE FROM wayflow_automation_messages WHERE id = $1', [id]);
  }

  async failMessage(id: string, error: string): Promise<void> {
    await this.flush();
    await this.sql.query('UPDATE wayflow_automation_messages SET error = $2 WHERE id = $1', [id, error]);
  }

  async deleteFinishedBefore(before: number): Promise<{ automations: number; tasks: number }> {
    await this.flush();
    const [row] = await this.sql.query<{ automations: number; tasks: number }>(
      `WITH gone AS (DELETE FROM wayflow_automation_instances WHERE kind = 'automation' AND finished AND finished_at < $1 RETURNING id),
            tasks AS (DELETE FROM wayflow_automation_history WHERE instance_id IN (SELECT id FROM gone) RETURNING 1)
       SELECT (SELECT count(*) FROM gone)::integer AS automations, (SELECT count(*) FROM tasks)::integer AS tasks`,
      [before],
    );
    return { automations: row?.automations ?? 0, tasks: row?.tasks ?? 0 };
  }
}

/**
 * The database client of a transaction of the SQL automation storage, as the transaction's
 * callbacks receive it (`CreateOptions.inTransaction`, `SendOptions.inTransaction`): what is
 * written through it commits with the transaction. Throws `NoAutomationTransactionError` for a
 * transaction of another storage.
 * @example
 * await runner.create(order, data, { inTransaction: (instance, tx) => sqlTransactionOf(tx).query('INSERT INTO audit (id) VALUES ($1)', [instance.id]).then(() => undefined) });
 */
export function sqlTransactionOf(tx: AutomationStorageTx): SqlTransaction {
  if (!(tx instanceof SqlTx)) throw new NoAutomationTransactionError('sqlTransactionOf() was given a transaction of another storage: it only reads the client of a transaction of the SQL automation storage (sqlAutomationStorage).');
  return tx.client;
}

/** The names both filters allow (null: no filter). */
function within(fixed: readonly string[] | null, wanted: readonly string[] | undefined): string[] | null {
  if (!wanted) return fixed ? [...fixed] : null;
  return fixed ? wanted.filter((name) => fixed.includes(name)) : [...wanted];
}

/** The part of a record kept in the `state` column. */
function stateJson(record: InstanceRecord): StateJson {
  const state: StateJson = { data: record.data, paths: record.paths, nextTaskId: record.nextTaskId, nextPathId: record.nextPathId, repeatAnchors: record.repeatAnchors };
  if (record.parent) state.parent = record.parent;
  return state;
}

/** A record as a row of `INSTANCE_RECORD` (its state as JSON within the row's JSON, not a string in it: escaped once). */
function instanceRow(record: InstanceRecord) {
  return {
    id: record.id,
    automation: record.automation,
    key: record.key,
    state: stateJson(record),
    finished: record.finished,
    created_at: record.createdAt,
    finished_at: record.finishedAt,
    unique_key: record.uniqueKey,
    due_at: record.dueAt,
    updated_at: record.updatedAt,
  };
}

function instanceParams(record: InstanceRecord): unknown[] {
  const state = stateJson(record);
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
