import type { HistoryChange, HistoryRow, QueuedMessage } from '../../automations/index.ts';
import type { SqlClient } from '../sql.ts';

/**
 * Set-based statements for the writes a storage transaction holds back: every instance,
 * history row and message written in one transaction goes to the database in one statement
 * per table, whatever the number of instances and steps (graphile-worker's batched
 * completion). The caller decides when to send them: before anything reads what they change,
 * and before commit.
 */

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

  /** Sends the merged changes (one INSERT, one UPDATE at most) and forgets them. */
  async send(sql: SqlClient): Promise<void> {
    const rows = [...this.opened.values()];
    const closes = [...this.closed.values()];
    this.opened.clear();
    this.closed.clear();
    if (rows.length > 0) {
      await sql.query(
        `INSERT INTO wayflow_automation_history (instance_id, task_id, path, status, created, finished, message, result, completed_by)
         SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::double precision[], $6::double precision[], $7::text[], $8::text[], $9::text[])`,
        [
          rows.map((r) => r.instanceId),
          rows.map((r) => r.taskId),
          rows.map((r) => r.path),
          rows.map((r) => r.status),
          rows.map((r) => r.created),
          rows.map((r) => r.finished),
          rows.map((r) => r.message),
          rows.map((r) => json(r.result)),
          rows.map((r) => r.completedBy ?? null),
        ],
      );
    }
    if (closes.length > 0) {
      await sql.query(
        `UPDATE wayflow_automation_history AS h SET finished = c.finished, message = c.message, result = c.result, completed_by = coalesce(c.completed_by, h.completed_by)
         FROM unnest($1::text[], $2::integer[], $3::double precision[], $4::text[], $5::text[], $6::text[]) AS c(instance_id, task_id, finished, message, result, completed_by)
         WHERE h.instance_id = c.instance_id AND h.task_id = c.task_id`,
        [
          closes.map((c) => c.instanceId),
          closes.map((c) => c.taskId),
          closes.map((c) => c.finished),
          closes.map((c) => c.message),
          closes.map((c) => json(c.result)),
          closes.map((c) => c.completedBy ?? null),
        ],
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

  /** Sends them in one INSERT (an id already stored is replaced) and forgets them. */
  async send(sql: SqlClient): Promise<void> {
    const messages = [...this.queued.values()];
    this.queued.clear();
    if (messages.length === 0) return;
    const bodies = messages.map(({ id: _id, createdAt: _c, error: _e, ...body }) => JSON.stringify(body));
    // WITH ORDINALITY … ORDER BY: `seq` follows the order the messages were queued in.
    await sql.query(
      `INSERT INTO wayflow_automation_messages (id, created_at, automation, body, error)
       SELECT m.id, m.created_at, coalesce(m.automation, (SELECT automation FROM wayflow_automation_instances WHERE id = m.instance_id)), m.body, m.error
       FROM unnest($1::text[], $2::double precision[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
         AS m(id, created_at, automation, instance_id, body, error, n)
       ORDER BY m.n
       ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, automation = EXCLUDED.automation, body = EXCLUDED.body, error = EXCLUDED.error`,
      [
        messages.map((m) => m.id),
        messages.map((m) => m.createdAt),
        messages.map((m) => ('automation' in m.to ? m.to.automation : null)),
        messages.map((m) => ('instanceId' in m.to ? m.to.instanceId : null)),
        bodies,
        messages.map((m) => m.error ?? null),
      ],
    );
  }
}

const rowKey = (instanceId: string, taskId: number) => `${taskId}\u0000${instanceId}`;

/** JSON text of a history result; `undefined` (no result) is stored as null. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null) ?? 'null';
}
