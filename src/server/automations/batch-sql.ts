import type { HistoryChange, HistoryRow, QueuedMessage } from '../../automations/index.ts';

/**
 * The writes a storage transaction holds back, sent as ONE statement of data-modifying CTEs
 * (`WITH a AS (INSERT …), b AS (UPDATE …) …`): every instance, open form, history row and
 * message written in one transaction reaches the database in one round trip, whatever the
 * number of instances and steps (graphile-worker's batched completion, taken further). The
 * parts of one statement see the same snapshot, so each part must touch rows no other part
 * touches: history rows opened and closed in the transaction are merged into one insert, and
 * open forms are replaced by deleting the ones gone and upserting the others.
 */
export class WriteStatement {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** A parameter placeholder for `value`, cast to `type`. */
  param(value: unknown, type: string): string {
    this.params.push(value);
    return `$${this.params.length}::${type}`;
  }

  /** `unnest(...)` over parallel columns, each cast to its array type. */
  unnest(columns: readonly (readonly [readonly unknown[], string])[]): string {
    return `unnest(${columns.map(([values, type]) => this.param(values, `${type}[]`)).join(', ')})`;
  }

  /**
   * `json_to_recordset(…) AS alias(columns)` over `rows`, objects keyed by column name: one JSON
   * parameter however many columns, which costs the driver and the database less than an array
   * per column. `columns` declares each column and its type (`id text, due_at double precision`).
   */
  records(rows: readonly object[], alias: string, columns: string): string {
    return `json_to_recordset(${this.param(JSON.stringify(rows), 'json')}) AS ${alias}(${columns})`;
  }

  add(name: string, sql: string): void {
    this.parts.push(`${name} AS (${sql})`);
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  /** The statement: the parts, then `main` (which may read their RETURNING rows). */
  text(main: string): string {
    return `WITH ${this.parts.join(',\n')}\n${main}`;
  }
}

type CloseChange = Extract<HistoryChange, { type: 'close' }>;

/** History changes of one transaction, merged: a row opened and closed in it is inserted once, closed. */
export class HistoryWrites {
  private readonly opened = new Map<string, HistoryRow>();
  private readonly closed = new Map<string, CloseChange>();

  get size(): number {
    return this.opened.size + this.closed.size;
  }

  add(changes: readonly HistoryChange[]): void {
    for (const change of changes) {
      if (change.type === 'open') {
        this.opened.set(rowKey(change.row.instanceId, change.row.taskId), { ...change.row });
        continue;
      }
      const key = rowKey(change.instanceId, change.taskId);
      const open = this.opened.get(key);
      if (open) {
        open.finished = change.finished;
        open.message = change.message;
        open.result = change.result;
        if (change.completedBy !== undefined) open.completedBy = change.completedBy;
        continue;
      }
      const earlier = this.closed.get(key);
      this.closed.set(key, earlier && change.completedBy === undefined && earlier.completedBy !== undefined ? { ...change, completedBy: earlier.completedBy } : change);
    }
  }

  /** Adds the merged changes to `statement` (an insert and an update at most) and forgets them. */
  addTo(statement: WriteStatement): void {
    const rows = [...this.opened.values()];
    const closes = [...this.closed.values()];
    this.opened.clear();
    this.closed.clear();
    if (rows.length > 0) {
      statement.add(
        'history_opened',
        `INSERT INTO wayflow_automation_history (instance_id, task_id, path, status, created, finished, message, result, completed_by)
         SELECT * FROM ${statement.records(
           rows.map((r) => ({
             instance_id: r.instanceId,
             task_id: r.taskId,
             path: r.path,
             status: r.status,
             created: r.created,
             finished: r.finished,
             message: r.message,
             result: json(r.result),
             completed_by: r.completedBy ?? null,
           })),
           'h',
           'instance_id text, task_id integer, path text, status text, created double precision, finished double precision, message text, result text, completed_by text',
         )}`,
      );
    }
    if (closes.length > 0) {
      statement.add(
        'history_closed',
        `UPDATE wayflow_automation_history AS h SET finished = c.finished, message = c.message, result = c.result, completed_by = coalesce(c.completed_by, h.completed_by)
         FROM ${statement.unnest([
           [closes.map((c) => c.instanceId), 'text'],
           [closes.map((c) => c.taskId), 'integer'],
           [closes.map((c) => c.finished), 'double precision'],
           [closes.map((c) => c.message), 'text'],
           [closes.map((c) => json(c.result)), 'text'],
           [closes.map((c) => c.completedBy ?? null), 'text'],
         ])} AS c(instance_id, task_id, finished, message, result, completed_by)
         WHERE h.instance_id = c.instance_id AND h.task_id = c.task_id`,
      );
    }
  }
}

/** Messages queued in one transaction, by id (a message queued twice is written as last queued), in queue order. */
export class MessageWrites {
  private readonly queued = new Map<string, QueuedMessage>();

  get size(): number {
    return this.queued.size;
  }

  add(message: QueuedMessage): void {
    this.queued.set(message.id, message);
  }

  /**
   * Adds them to `statement` (one insert; an id already stored is replaced) and forgets them.
   * `automationOf` names the automation of a target instance this transaction knows (it may be
   * inserted by the same statement, which its parts cannot see); others are looked up.
   */
  addTo(statement: WriteStatement, automationOf: (instanceId: string) => string | null): void {
    const messages = [...this.queued.values()];
    this.queued.clear();
    if (messages.length === 0) return;
    const bodies = messages.map(({ id: _id, createdAt: _c, error: _e, ...body }) => JSON.stringify(body));
    // WITH ORDINALITY … ORDER BY: `seq` follows the order the messages were queued in.
    statement.add(
      'messages_queued',
      `INSERT INTO wayflow_automation_messages (id, created_at, automation, body, error)
       SELECT m.id, m.created_at, coalesce(m.automation, (SELECT automation FROM wayflow_automation_instances WHERE id = m.instance_id)), m.body, m.error
       FROM ${statement.unnest([
         [messages.map((m) => m.id), 'text'],
         [messages.map((m) => m.createdAt), 'double precision'],
         [messages.map((m) => ('automation' in m.to ? m.to.automation : automationOf(m.to.instanceId))), 'text'],
         [messages.map((m) => ('instanceId' in m.to ? m.to.instanceId : null)), 'text'],
         [bodies, 'text'],
         [messages.map((m) => m.error ?? null), 'text'],
       ])} WITH ORDINALITY AS m(id, created_at, automation, instance_id, body, error, n)
       ORDER BY m.n
       ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, automation = EXCLUDED.automation, body = EXCLUDED.body, error = EXCLUDED.error`,
    );
  }
}

const rowKey = (instanceId: string, taskId: number) => `${taskId}\u0000${instanceId}`;

/** JSON text of a history result; `undefined` (no result) is stored as null. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null) ?? 'null';
}
