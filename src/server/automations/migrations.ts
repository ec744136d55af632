import { type Migration, migrate } from '../migrations.ts';
import type { SqlDatabase } from '../sql.ts';

/**
 * The automation tables, oldest first. Ids start at 1001 so they share the
 * `wayflow_migrations` record (and its advisory lock) with the tasks API without colliding.
 * Never edit an applied migration: append a new one.
 *
 * - `wayflow_automation_instances`: one row per instance. The engine state is JSON text;
 *   the columns the scheduler queries are real columns: `due_at` (the durable timer,
 *   indexed for unfinished instances), `unique_key` (a partial unique index), `version`
 *   (checked by every write) and the scheduler claim (`claimed_by`, `claimed_until`).
 * - `wayflow_automation_history`: one row per node visit.
 * - `wayflow_automation_messages`: the outbox; `seq` keeps insertion order among equal times;
 *   `automation` is the target's automation, so a scheduler delivers only what it can run.
 * - `wayflow_flow_runs` (1002): flowcontrol runs; the run is JSON in `body`, with the columns
 *   `continueFlowRuns` and the limit checks query (`status`, `continue_after` — the durable
 *   suspension time —, `flow`, `object_id`, `parent_id`) and the claim (`claimed_by`, `claimed_until`).
 * - `wayflow_automation_open_forms` (1003): one row per open form of an unfinished instance,
 *   written with the instance, so the task list (`GET /automations/forms`) is one indexed
 *   query for the form nodes a caller may process instead of a read of every instance.
 * - 1010 (flowcontrol seed parity): `wayflow_flow_runs.waiting_trigger` (the trigger a run
 *   waits for, `waitForTrigger`; indexed so firing a trigger finds its waiting runs) and
 *   `object_type` (the type of the bound object; the per-object limits and
 *   `cancelRunsForObject` query by flow and object).
 * - 1004 (one runtime): flowcontrol runs become rows of `wayflow_automation_instances`
 *   (`kind = 'flow'`, `automation` = the flow, the run JSON in `state`, `due_at` =
 *   `flowRunDueAt`), claimed, locked and batch-written like instances; the columns the run
 *   queries use are added (`object_id`, `object_type`, `parent_id`, `waiting_trigger` — set
 *   only while the run waits for it —, and `seq`, the insertion order, which breaks ties between
 *   equal due times: the due index becomes `(due_at, seq)`). Existing runs move over
 *   (read from their JSON `body`, so this also applies before 1010 on a new database) and
 *   `wayflow_flow_runs` is emptied and retired: nothing reads or writes it any more (it stays
 *   only because 1010, applied after 1004 on a new database, alters it).
 */
export const automationMigrations: readonly Migration[] = [
  {
    id: 1001,
    name: 'automations',
    sql: `
      CREATE TABLE wayflow_automation_instances (
        id text PRIMARY KEY,
        automation text NOT NULL,
        key text NOT NULL UNIQUE,
        state text NOT NULL,
        finished boolean NOT NULL,
        created_at double precision NOT NULL,
        finished_at double precision,
        unique_key text,
        due_at double precision,
        updated_at double precision NOT NULL,
        version integer NOT NULL,
        claimed_by text,
        claimed_until double precision
      );
      CREATE UNIQUE INDEX wayflow_automation_instances_unique ON wayflow_automation_instances (unique_key) WHERE unique_key IS NOT NULL;
      CREATE INDEX wayflow_automation_instances_due ON wayflow_automation_instances (due_at) WHERE NOT finished AND due_at IS NOT NULL;
      CREATE INDEX wayflow_automation_instances_by_automation ON wayflow_automation_instances (automation, created_at);
      CREATE INDEX wayflow_automation_instances_finished ON wayflow_automation_instances (finished_at) WHERE finished;
      CREATE INDEX wayflow_automation_instances_claimed ON wayflow_automation_instances (claimed_until) WHERE claimed_until IS NOT NULL;
      CREATE TABLE wayflow_automation_history (
        instance_id text NOT NULL,
        task_id integer NOT NULL,
        path text NOT NULL,
        status text NOT NULL,
        created double precision NOT NULL,
        finished double precision,
        message text,
        result text NOT NULL,
        completed_by text,
        PRIMARY KEY (instance_id, task_id)
      );
      CREATE TABLE wayflow_automation_messages (
        id text PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        created_at double precision NOT NULL,
        automation text,
        body text NOT NULL,
        error text
      );
      CREATE INDEX wayflow_automation_messages_pending ON wayflow_automation_messages (created_at, seq) WHERE error IS NULL
    `,
  },
  {
    id: 1002,
    name: 'flowcontrol runs',
    sql: `
      CREATE TABLE wayflow_flow_runs (
        id text PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        flow text NOT NULL,
        status text NOT NULL,
        object_id text,
        parent_id text,
        created_at double precision NOT NULL,
        continue_after double precision,
        body text NOT NULL,
        claimed_by text,
        claimed_until double precision
      );
      CREATE INDEX wayflow_flow_runs_unfinished ON wayflow_flow_runs (flow, created_at, seq) WHERE status IN ('pending', 'waiting');
      CREATE INDEX wayflow_flow_runs_runnable ON wayflow_flow_runs (continue_after) WHERE status IN ('pending', 'waiting');
      CREATE INDEX wayflow_flow_runs_parent ON wayflow_flow_runs (parent_id, created_at, seq) WHERE parent_id IS NOT NULL
    `,
  },
  {
    id: 1003,
    name: 'open forms',
    sql: `
      CREATE TABLE wayflow_automation_open_forms (
        instance_id text NOT NULL,
        task_id integer NOT NULL,
        automation text NOT NULL,
        node text NOT NULL,
        since double precision NOT NULL,
        PRIMARY KEY (instance_id, task_id)
      );
      CREATE INDEX wayflow_automation_open_forms_by_node ON wayflow_automation_open_forms (automation, node, since);
      INSERT INTO wayflow_automation_open_forms (instance_id, task_id, automation, node, since)
        SELECT i.id, (p.value->>'taskId')::integer, i.automation, p.value->>'node', (p.value->>'enteredAt')::double precision
        FROM wayflow_automation_instances i CROSS JOIN LATERAL jsonb_array_elements(i.state::jsonb->'paths') AS p(value)
        WHERE NOT i.finished AND p.value->>'status' = 'form'
    `,
  },
  {
    id: 1010,
    name: 'flowcontrol triggers and objects',
    sql: `
      ALTER TABLE wayflow_flow_runs ADD COLUMN waiting_trigger text, ADD COLUMN object_type text;
      CREATE INDEX wayflow_flow_runs_waiting_trigger ON wayflow_flow_runs (waiting_trigger, created_at, seq) WHERE status = 'waiting' AND waiting_trigger IS NOT NULL;
      CREATE INDEX wayflow_flow_runs_object ON wayflow_flow_runs (object_id, flow, created_at, seq) WHERE object_id IS NOT NULL
    `,
  },
  {
    id: 1004,
    name: 'flow runs in the instances table',
    sql: `
      ALTER TABLE wayflow_automation_instances ADD COLUMN kind text NOT NULL DEFAULT 'automation', ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
        ADD COLUMN object_id text, ADD COLUMN object_type text, ADD COLUMN parent_id text, ADD COLUMN waiting_trigger text;
      INSERT INTO wayflow_automation_instances (id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version,
          kind, object_id, object_type, parent_id, waiting_trigger)
        SELECT r.id, r.flow, 'flow:' || r.id, r.body, r.status NOT IN ('pending', 'waiting'), r.created_at, (r.body::jsonb->>'finishedAt')::double precision, NULL,
          CASE r.status WHEN 'pending' THEN r.created_at WHEN 'waiting' THEN r.continue_after END, r.created_at, 1,
          'flow', r.object_id, r.body::jsonb->>'objectType', r.parent_id, CASE WHEN r.status = 'waiting' THEN r.body::jsonb->>'waitingTrigger' END
        FROM wayflow_flow_runs r ORDER BY r.created_at, r.seq;
      DELETE FROM wayflow_flow_runs;
      DROP INDEX wayflow_automation_instances_due;
      CREATE INDEX wayflow_automation_instances_due ON wayflow_automation_instances (due_at, seq) WHERE NOT finished AND due_at IS NOT NULL;
      CREATE INDEX wayflow_automation_instances_runs ON wayflow_automation_instances (automation, created_at, seq) WHERE kind = 'flow';
      CREATE INDEX wayflow_automation_instances_run_parent ON wayflow_automation_instances (parent_id, created_at, seq) WHERE parent_id IS NOT NULL;
      CREATE INDEX wayflow_automation_instances_run_trigger ON wayflow_automation_instances (waiting_trigger, created_at, seq) WHERE waiting_trigger IS NOT NULL;
      CREATE INDEX wayflow_automation_instances_run_object ON wayflow_automation_instances (object_id, automation, created_at, seq) WHERE object_id IS NOT NULL
    `,
  },
];

/** Applies the automation migrations `db` has not recorded yet (concurrent starts apply each once). Resolves to the ids applied. */
export function migrateAutomations(db: SqlDatabase): Promise<number[]> {
  return migrate(db, automationMigrations);
}
