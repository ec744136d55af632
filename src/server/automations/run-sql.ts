import { type FlowRun, type FlowRunQuery, flowRunDueAt, matchesRunQuery } from '../../automations/index.ts';
import type { SqlClient } from '../sql.ts';
import type { WriteStatement } from './batch-sql.ts';

/** A flow run row as `getRun` and the claim read it. */
export interface RunRow {
  id: string;
  state: string;
  due_at: number | null;
  /** Whether any run names it as parent (`HAS_CHILDREN`). */
  has_children: boolean;
}

/** The `has_children` column of a run row `i`: one probe of the parent index. */
export const HAS_CHILDREN = "(i.kind = 'flow' AND EXISTS (SELECT 1 FROM wayflow_automation_instances c WHERE c.parent_id = i.id)) AS has_children";

/**
 * The flowcontrol runs of one SQL storage transaction, rows of `wayflow_automation_instances`
 * with `kind = 'flow'`: the runs it holds (read under lock, claimed, written) are served from
 * memory, and its writes are held back and sent with the instance writes as one part of the
 * transaction's statement (`addTo`). `listRuns` reads the database and lays the held-back
 * writes over the rows, so listing a run's children costs no flush.
 */
export class RunWrites {
  /** Runs this transaction holds the row lock of (or wrote), as they now stand. */
  private readonly held = new Map<string, FlowRun>();
  /** The due time each held run had in the database when this transaction read it (absent: new, or written blind). */
  private readonly readDue = new Map<string, number | null>();
  /** Writes not sent yet, in the order of their first write. */
  private readonly pending = new Map<string, FlowRun>();
  /**
   * Held runs that had no child run when locked: only this transaction can start one (in the
   * run's own step), so their children are the held-back writes alone and listing them needs
   * no query (one fewer round trip per action).
   */
  private readonly childless = new Set<string>();
  /** Runs written with `executing`: claimed for the storage's claim time when sent. */
  private readonly executing = new Set<string>();

  constructor(
    private readonly sql: SqlClient,
    private readonly claim: { claimTimeoutMs: number; token: string },
    /** Reports a due time a write moved earlier (for the commit's NOTIFY). */
    private readonly onDue: (dueAt: number | null, before: number | null | undefined) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** The runs with writes not sent yet. */
  pendingIds(): IterableIterator<string> {
    return this.pending.keys();
  }

  /** Whether this transaction holds the run. */
  holds(id: string): boolean {
    return this.held.has(id);
  }

  /** Records a run row this transaction locked or claimed. */
  hold(row: RunRow): FlowRun {
    const run = JSON.parse(row.state) as FlowRun;
    if (!row.has_children) this.childless.add(row.id);
    this.held.set(row.id, run);
    this.readDue.set(row.id, row.due_at);
    return run;
  }

  async get(id: string): Promise<FlowRun | null> {
    const held = this.held.get(id);
    if (held) return structuredClone(held);
    const [row] = await this.sql.query<RunRow>(`SELECT i.id, i.state, i.due_at, ${HAS_CHILDREN} FROM wayflow_automation_instances i WHERE i.id = $1 AND i.kind = 'flow' FOR UPDATE`, [id]);
    return row ? structuredClone(this.hold(row)) : null;
  }

  /**
   * Holds the write back. A run resumed by this very transaction (pending again after it read
   * it) is no news for other schedulers; a new run, or a due time moved earlier, is.
   */
  put(run: FlowRun, executing: boolean): void {
    const copy = structuredClone(run);
    // Sent with the next flush, the child is then in the database: list the parent's children there.
    if (run.parentId) this.childless.delete(run.parentId);
    if (executing) this.executing.add(run.id);
    else this.executing.delete(run.id);
    const before = this.readDue.get(run.id);
    if (!(this.readDue.has(run.id) && run.status === 'pending')) this.onDue(flowRunDueAt(run), before);
    this.held.set(run.id, copy);
    this.pending.set(run.id, copy);
  }

  async list(query: FlowRunQuery): Promise<FlowRun[]> {
    if (query.parentId !== undefined && Object.keys(query).length === 1 && this.childless.has(query.parentId)) return [];
    const rows = await this.sql.query<{ id: string; state: string }>(
      `SELECT id, state FROM wayflow_automation_instances
       WHERE kind = 'flow' AND ($1::text IS NULL OR automation = $1::text) AND (NOT $2::boolean OR NOT finished)
         AND ($3::text IS NULL OR parent_id = $3::text) AND ($4::text IS NULL OR waiting_trigger = $4::text)
         AND ($5::text IS NULL OR object_id = $5::text) AND ($6::text IS NULL OR object_type = $6::text)
       ORDER BY created_at, seq`,
      [query.flow ?? null, query.unfinished === true, query.parentId ?? null, query.waitingTrigger ?? null, query.objectId ?? null, query.objectType ?? null],
    );
    const listed = new Set<string>();
    const runs: FlowRun[] = [];
    for (const row of rows) {
      listed.add(row.id);
      const written = this.pending.get(row.id);
      if (!written) runs.push(JSON.parse(row.state) as FlowRun);
      else if (matchesRunQuery(written, query)) runs.push(structuredClone(written));
    }
    // Runs written but not sent yet come after the stored ones of the same creation time (their seq is larger).
    for (const run of this.pending.values()) if (!listed.has(run.id) && matchesRunQuery(run, query)) runs.push(structuredClone(run));
    return runs.sort((a, b) => a.createdAt - b.createdAt);
  }

  async lockFlow(flow: string): Promise<void> {
    await this.sql.query("SELECT pg_advisory_xact_lock(hashtext('wayflow_flow:' || $1::text))", [flow]);
  }

  /**
   * Adds the held-back writes to `statement` as one upsert (new runs inserted in write order, so
   * `seq` follows it) and forgets them. Writing releases the scheduler claim, as for instances,
   * but a run written `executing` is claimed for the claim time (`dbNow`: the database clock).
   */
  addTo(statement: WriteStatement, now: number, dbNow: string): void {
    const runs = [...this.pending.values()];
    const claimed = runs.map((run) => this.executing.has(run.id));
    this.pending.clear();
    this.executing.clear();
    if (runs.length === 0) return;
    const finished = runs.map((run) => run.status !== 'pending' && run.status !== 'waiting');
    statement.add(
      'runs_written',
      `INSERT INTO wayflow_automation_instances AS i (id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version,
           kind, object_id, object_type, parent_id, waiting_trigger, claimed_by, claimed_until)
       SELECT r.id, r.flow, 'flow:' || r.id, r.state, r.finished, r.created_at, r.finished_at, NULL, r.due_at, ${statement.param(now, 'double precision')}, 1,
           'flow', r.object_id, r.object_type, r.parent_id, r.waiting_trigger,
           CASE WHEN r.claimed THEN ${statement.param(this.claim.token, 'text')} END, CASE WHEN r.claimed THEN ${dbNow} + ${statement.param(this.claim.claimTimeoutMs, 'double precision')} END
       FROM ${statement.unnest([
         [runs.map((run) => run.id), 'text'],
         [runs.map((run) => run.flow), 'text'],
         [runs.map((run) => JSON.stringify(run)), 'text'],
         [finished, 'boolean'],
         [runs.map((run) => run.createdAt), 'double precision'],
         [runs.map((run) => run.finishedAt), 'double precision'],
         [runs.map((run) => flowRunDueAt(run)), 'double precision'],
         [runs.map((run) => run.objectId), 'text'],
         [runs.map((run) => run.objectType ?? null), 'text'],
         [runs.map((run) => run.parentId ?? null), 'text'],
         [runs.map((run) => (run.status === 'waiting' ? (run.waitingTrigger ?? null) : null)), 'text'],
         [claimed, 'boolean'],
       ])} WITH ORDINALITY AS r(id, flow, state, finished, created_at, finished_at, due_at, object_id, object_type, parent_id, waiting_trigger, claimed, n)
       ORDER BY r.n
       ON CONFLICT (id) DO UPDATE SET automation = EXCLUDED.automation, state = EXCLUDED.state, finished = EXCLUDED.finished,
         finished_at = EXCLUDED.finished_at, due_at = EXCLUDED.due_at, updated_at = EXCLUDED.updated_at, version = i.version + 1,
         object_id = EXCLUDED.object_id, object_type = EXCLUDED.object_type, parent_id = EXCLUDED.parent_id,
         waiting_trigger = EXCLUDED.waiting_trigger, claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until
       WHERE i.kind = 'flow'`,
    );
  }
}
