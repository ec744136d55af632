import type { SqlDatabase } from './sql.ts';

/** The width of the buckets of idle deadlines the sweep finds rows by (`wayflow_tasks.idle_minute`); migration 5 writes it into the column, so it never changes. */
export const IDLE_MINUTE_MS = 60_000;

/** One schema change, applied once, in `id` order, and recorded in `wayflow_migrations`. */
export interface Migration {
  /** Unique across every list applied to one database (the tasks API uses 1 to 999). */
  id: number;
  name: string;
  /**
   * Statements separated by `;`, run one by one; a statement must not contain `;` itself. A
   * list is run one element per statement, unsplit (for function bodies).
   */
  sql: string | readonly string[];
}

/** The schema of the tasks API, oldest first. Never edit an applied migration: append a new one. */
export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'tasks',
    sql: `
      CREATE TABLE wayflow_tasks (
        owner text NOT NULL,
        id text NOT NULL,
        binder text NOT NULL,
        version integer NOT NULL,
        record text NOT NULL,
        summary text NOT NULL,
        last_active_at double precision NOT NULL,
        expires_at double precision NOT NULL,
        idle_until double precision NOT NULL,
        PRIMARY KEY (owner, id)
      );
      CREATE INDEX wayflow_tasks_by_binder ON wayflow_tasks (owner, binder, last_active_at DESC);
      CREATE INDEX wayflow_tasks_by_idle ON wayflow_tasks (idle_until);
    `,
  },
  {
    id: 2,
    name: 'secrets',
    sql: 'CREATE TABLE wayflow_secrets (name text PRIMARY KEY, value text NOT NULL);',
  },
  {
    // What funnels count of a task once its row is gone, written in the transaction that deletes the row (sweep or delete):
    // its history, and the facts a funnel counts read from it once (`TaskFacts`: `tagsOf` them, the time spent per visit),
    // so a funnel aggregates plain columns.
    id: 3,
    name: 'task outcomes',
    sql: `
      CREATE TABLE wayflow_task_outcomes (
        owner text NOT NULL,
        id text NOT NULL,
        flow_id text NOT NULL,
        flow_version integer NOT NULL,
        created_at double precision NOT NULL,
        last_active_at double precision NOT NULL,
        ended_at double precision NOT NULL,
        ended_by text NOT NULL,
        last_step text,
        history jsonb NOT NULL,
        finished text,
        tags text[] NOT NULL,
        spent_steps text[] NOT NULL,
        spent_ms double precision[] NOT NULL
      );
      CREATE INDEX wayflow_task_outcomes_by_flow ON wayflow_task_outcomes (flow_id, created_at);
    `,
  },
  {
    // The sweep forgets outcomes past their retention (`DEFAULT_OUTCOME_RETENTION_MS`).
    id: 4,
    name: 'task outcome retention',
    sql: 'CREATE INDEX wayflow_task_outcomes_by_end ON wayflow_task_outcomes (ended_at)',
  },
  {
    // Every put moved idle_until and last_active_at, both indexed, so no update could be HOT (rewritten in place, its
    // indexes untouched). The sweep now finds rows by the minute their idle deadline falls in, which a put changes about
    // once a minute; a binder's list is sorted without an index (it holds one user's tasks); and pages keep room for
    // the new version of a row.
    id: 5,
    name: 'task updates in place',
    sql: `
      ALTER TABLE wayflow_tasks ADD COLUMN idle_minute double precision GENERATED ALWAYS AS (floor(idle_until / ${IDLE_MINUTE_MS})) STORED;
      DROP INDEX wayflow_tasks_by_idle;
      CREATE INDEX wayflow_tasks_by_idle_minute ON wayflow_tasks (idle_minute);
      DROP INDEX wayflow_tasks_by_binder;
      CREATE INDEX wayflow_tasks_by_binder ON wayflow_tasks (owner, binder);
      ALTER TABLE wayflow_tasks SET (fillfactor = 80)
    `,
  },
  {
    // A read answered the stored text as is only in the process that wrote it (a cache of its own); every other process
    // parsed and checked it again. Every write now keeps a hash of the row's id and record, computed by the database: a
    // read whose row still matches it was written by a server as written, in any process. Rows written before (NULL) or
    // by an older server (its writes leave the hash behind) are checked as before.
    id: 6,
    name: 'task record check',
    sql: 'ALTER TABLE wayflow_tasks ADD COLUMN record_check bigint',
  },
];

/** The SQL expression of `wayflow_tasks.record_check`: a hash of a row's id and record (migration 6), given the two. */
export const recordCheck = (id: string, record: string) => `hashtextextended(${id} || ${record}, 0)`;

/** Advisory lock key that serialises migrators: several server processes may start at once. */
const MIGRATION_LOCK = 0x7761_7966;

/**
 * Applies the migrations `db` has not recorded yet, in one transaction under an
 * advisory lock, so concurrent starts on one database apply each exactly once.
 * Resolves to the ids applied by this call.
 */
export async function migrate(db: SqlDatabase, list: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS wayflow_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await tx.query<{ id: number }>('SELECT id FROM wayflow_migrations')).map((row) => row.id));
    const applied: number[] = [];
    for (const migration of [...list].sort((a, b) => a.id - b.id)) {
      if (done.has(migration.id)) continue;
      const statements = typeof migration.sql === 'string' ? migration.sql.split(';').map((s) => s.trim()).filter(Boolean) : migration.sql;
      for (const statement of statements) await tx.query(statement);
      await tx.query('INSERT INTO wayflow_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
      applied.push(migration.id);
    }
    return applied;
  });
}
