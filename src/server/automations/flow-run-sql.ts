import type { FlowRun, FlowRunQuery, FlowRunStoreTx } from '../../automations/index.ts';
import type { SqlClient, SqlDatabase } from '../sql.ts';

/** The database clock in epoch milliseconds; claims use it so all processes agree. */
const DB_NOW = '(extract(epoch FROM clock_timestamp()) * 1000)::double precision';

/** Which flow runs a storage handles: the runs it claimed (`token`), how long a claim lasts, and the flows this process runs (null: all). */
export interface FlowRunScope {
  token: string;
  claimTimeoutMs: number;
  flows: readonly string[] | null;
}

/** When a run can be continued: now (`at`) while pending, its `continueAfter` while waiting (none while it waits for a trigger), never once finished. */
function runnableAt(run: Pick<FlowRun, 'status' | 'continueAfter'>, at: number): number | null {
  if (run.status === 'pending') return at;
  if (run.status === 'waiting') return run.continueAfter;
  return null;
}

/**
 * The flowcontrol run operations of one SQL storage transaction (table `wayflow_flow_runs`):
 * `get` locks the run (`FOR UPDATE`), `runnable` claims runs with `FOR UPDATE SKIP LOCKED`,
 * `lockFlow` takes a transaction advisory lock so limit checks hold across processes. Writes
 * that make a run runnable sooner are reported to `onEarlierDue`, for the storage's NOTIFY.
 */
export class SqlFlowRunsTx implements FlowRunStoreTx {
  /** How the runs read in this transaction stood, to tell whether a write makes one runnable sooner. */
  private readonly read = new Map<string, Pick<FlowRun, 'status' | 'continueAfter'>>();

  constructor(
    private readonly sql: SqlClient,
    private readonly scope: FlowRunScope,
    private readonly onEarlierDue: (at: number) => void,
  ) {}

  async get(id: string): Promise<FlowRun | null> {
    const [row] = await this.sql.query<{ body: string }>('SELECT body FROM wayflow_flow_runs WHERE id = $1 FOR UPDATE', [id]);
    if (!row) return null;
    const run = JSON.parse(row.body) as FlowRun;
    this.read.set(id, { status: run.status, continueAfter: run.continueAfter });
    return run;
  }

  /**
   * Notes when `run` becomes runnable sooner: a new run, a run that starts waiting, or a waiting
   * run whose time moves earlier. A waiting run resumed (pending again) is being executed by
   * this very transaction, so that is no news for other schedulers.
   */
  private noteWake(run: FlowRun): void {
    const now = Date.now();
    const before = this.read.get(run.id);
    const at = runnableAt(run, now);
    this.read.set(run.id, { status: run.status, continueAfter: run.continueAfter });
    if (at === null || (before && run.status === 'pending')) return;
    const was = before?.status === 'waiting' ? runnableAt(before, now) : null;
    if (was !== null && at >= was) return;
    this.onEarlierDue(at);
  }

  async put(run: FlowRun): Promise<void> {
    this.noteWake(run);
    // A run that stops being pending releases its claim: it is runnable again only by its continue_after.
    await this.sql.query(
      `INSERT INTO wayflow_flow_runs (id, flow, status, object_id, parent_id, created_at, continue_after, body, waiting_trigger, object_type)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO UPDATE SET flow = EXCLUDED.flow, status = EXCLUDED.status, object_id = EXCLUDED.object_id,
         parent_id = EXCLUDED.parent_id, continue_after = EXCLUDED.continue_after, body = EXCLUDED.body,
         waiting_trigger = EXCLUDED.waiting_trigger, object_type = EXCLUDED.object_type,
         claimed_by = CASE WHEN EXCLUDED.status = 'pending' THEN wayflow_flow_runs.claimed_by END,
         claimed_until = CASE WHEN EXCLUDED.status = 'pending' THEN wayflow_flow_runs.claimed_until END`,
      [
        run.id,
        run.flow,
        run.status,
        run.objectId,
        run.parentId ?? null,
        run.createdAt,
        run.continueAfter,
        JSON.stringify(run),
        run.status === 'waiting' ? (run.waitingTrigger ?? null) : null,
        run.objectType ?? null,
      ],
    );
  }

  async list(query: FlowRunQuery): Promise<FlowRun[]> {
    const rows = await this.sql.query<{ body: string }>(
      `SELECT body FROM wayflow_flow_runs
       WHERE ($1::text IS NULL OR flow = $1::text) AND (NOT $2::boolean OR status IN ('pending', 'waiting'))
         AND ($3::text IS NULL OR parent_id = $3::text)
         AND ($4::text IS NULL OR (status = 'waiting' AND waiting_trigger = $4::text))
         AND ($5::text IS NULL OR object_id = $5::text) AND ($6::text IS NULL OR object_type = $6::text)
       ORDER BY created_at, seq`,
      [query.flow ?? null, query.unfinished === true, query.parentId ?? null, query.waitingTrigger ?? null, query.objectId ?? null, query.objectType ?? null],
    );
    return rows.map((row) => JSON.parse(row.body) as FlowRun);
  }

  async runnable(now: number, limit: number): Promise<string[]> {
    const { token, claimTimeoutMs, flows } = this.scope;
    const rows = await this.sql.query<{ id: string; created_at: number; seq: number | string }>(
      `WITH runnable AS (
         SELECT id FROM wayflow_flow_runs
         WHERE (status = 'pending' OR (status = 'waiting' AND continue_after <= $1))
           AND (claimed_until IS NULL OR claimed_by = $3 OR claimed_until <= ${DB_NOW})
           AND ($5::text[] IS NULL OR flow = ANY($5::text[]))
         ORDER BY created_at, seq
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE wayflow_flow_runs AS r SET claimed_by = $3, claimed_until = ${DB_NOW} + $4
       FROM runnable WHERE r.id = runnable.id
       RETURNING r.id, r.created_at, r.seq`,
      [now, limit, token, claimTimeoutMs, flows ? [...flows] : null],
    );
    return rows.sort((a, b) => a.created_at - b.created_at || Number(a.seq) - Number(b.seq)).map((row) => row.id);
  }

  async lockFlow(flow: string): Promise<void> {
    await this.sql.query("SELECT pg_advisory_xact_lock(hashtext('wayflow_flow:' || $1::text))", [flow]);
  }
}

/**
 * When a scheduler should continue runs next (epoch ms, the app clock): `now` if a run of the
 * scope's flows is pending and free, else the earliest `continue_after` of a free waiting run,
 * or the end of the earliest claim another process holds (taken over when it times out).
 * Null when no run is unfinished.
 */
export async function nextFlowRunWakeAt(db: SqlDatabase, scope: FlowRunScope, now: number): Promise<number | null> {
  const free = `(claimed_until IS NULL OR claimed_by = $1 OR claimed_until <= ${DB_NOW}) AND ($2::text[] IS NULL OR flow = ANY($2::text[]))`;
  const [row] = await db.query<{ ready: boolean; due: number | null; claim: number | null }>(
    `SELECT EXISTS (SELECT 1 FROM wayflow_flow_runs WHERE status = 'pending' AND ${free}) AS ready,
       (SELECT min(continue_after) FROM wayflow_flow_runs WHERE status = 'waiting' AND ${free}) AS due,
       (SELECT min(claimed_until) FROM wayflow_flow_runs
         WHERE status IN ('pending', 'waiting') AND claimed_until > ${DB_NOW} AND claimed_by <> $1
           AND ($2::text[] IS NULL OR flow = ANY($2::text[]))) AS claim`,
    [scope.token, scope.flows ? [...scope.flows] : null],
  );
  if (!row) return null;
  if (row.ready) return now;
  const times = [row.due, row.claim].filter((t): t is number => t !== null);
  return times.length ? Math.min(...times) : null;
}
