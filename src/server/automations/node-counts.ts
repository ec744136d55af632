import type { PathStatus } from '../../automations/index.ts';
import type { SqlClient } from '../sql.ts';

/** What happened at one node of an automation (`nodeCounts`). */
export interface NodeFigures {
  /** Running instances with a path at the node now, not stopped by an error. */
  waiting: number;
  /** Visits of the node that finished `OK` (skipped visits and paths ended by another are not counted). */
  passed: number;
  /** Visits of the node that ended in an error, and paths stopped by an error there whose visit had not (e.g. no next node). */
  errors: number;
}

/** A running instance with a path at a node (`instancesAtNode`). */
export interface InstanceAtNode {
  id: string;
  createdAt: number;
  /** When its (earliest) path there entered the node. */
  since: number;
  /** What that path does there: `form` waits for a person, `error` was stopped by an error. */
  status: PathStatus;
  /** Why the path was stopped, when `status` is `error`. */
  error: string | null;
}

/** Counted rows (node, which figure, how many) gathered per node. */
function figuresByNode(rows: readonly { node: string; kind: keyof NodeFigures; count: number }[]): Map<string, NodeFigures> {
  const counts = new Map<string, NodeFigures>();
  for (const row of rows) {
    const figures = counts.get(row.node) ?? { waiting: 0, passed: 0, errors: 0 };
    figures[row.kind] += row.count;
    counts.set(row.node, figures);
  }
  return counts;
}

/** History messages that close a visit without an error: the node ran, was skipped, or another path ended or stopped the instance. */
const NOT_ERRORS = `('OK', 'skipped', 'ended', 'stopped')`;

/**
 * How many instances of `automation` wait at each node now, how many visits passed it and how
 * many failed there, counted in the database (no instance is loaded). Nodes with nothing to
 * count are absent. One statement: the running instances' paths from their state, the closed
 * visits from the history.
 */
export async function nodeCounts(sql: SqlClient, automation: string): Promise<Map<string, NodeFigures>> {
  const rows = await sql.query<{ node: string; kind: keyof NodeFigures; count: number }>(
    `WITH paths AS (
       SELECT i.id, p.value->>'node' AS node, p.value->>'status' AS status, (p.value->>'taskId')::integer AS task_id
       FROM wayflow_automation_instances i CROSS JOIN LATERAL jsonb_array_elements(i.state::jsonb->'paths') AS p(value)
       WHERE i.kind = 'automation' AND i.automation = $1 AND NOT i.finished
     )
     SELECT node, 'waiting' AS kind, count(DISTINCT id)::integer AS count FROM paths WHERE status <> 'error' GROUP BY node
     UNION ALL
     SELECT h.status, CASE WHEN h.message = 'OK' THEN 'passed' ELSE 'errors' END, count(*)::integer
     FROM wayflow_automation_instances i JOIN wayflow_automation_history h ON h.instance_id = i.id
     WHERE i.kind = 'automation' AND i.automation = $1 AND h.finished IS NOT NULL AND h.message NOT IN ('skipped', 'ended', 'stopped')
     GROUP BY 1, 2
     UNION ALL
     SELECT p.node, 'errors', count(*)::integer FROM paths p
     WHERE p.status = 'error' AND NOT EXISTS (
       SELECT 1 FROM wayflow_automation_history h
       WHERE h.instance_id = p.id AND h.task_id = p.task_id AND h.finished IS NOT NULL AND h.message NOT IN ${NOT_ERRORS})
     GROUP BY p.node`,
    [automation],
  );
  return figuresByNode(rows);
}

/**
 * The running instances of `automation` with a path at `node`, the longest there first, at most
 * `limit`: read from the instances' state in the database, without loading them.
 */
export async function instancesAtNode(sql: SqlClient, automation: string, node: string, limit: number): Promise<InstanceAtNode[]> {
  const rows = await sql.query<{ id: string; created_at: number; since: number; status: PathStatus; error: string | null }>(
    `SELECT * FROM (
       SELECT DISTINCT ON (i.id) i.id, i.created_at, (p.value->>'enteredAt')::double precision AS since, p.value->>'status' AS status, p.value->>'error' AS error
       FROM wayflow_automation_instances i CROSS JOIN LATERAL jsonb_array_elements(i.state::jsonb->'paths') AS p(value)
       WHERE i.kind = 'automation' AND i.automation = $1 AND NOT i.finished AND p.value->>'node' = $2
       ORDER BY i.id, (p.value->>'enteredAt')::double precision
     ) at_node ORDER BY since, id LIMIT $3`,
    [automation, node, limit],
  );
  return rows.map((row) => ({ id: row.id, createdAt: row.created_at, since: row.since, status: row.status, error: row.error }));
}

/** A flow run's action as `flowcontrolGraph` names it (its index path, `0.1`); a run not started yet counts at its first action. */
const RUN_NODE = `coalesce(nullif(array_to_string(ARRAY(SELECT jsonb_array_elements_text(i.state::jsonb->'position')), '.'), ''), '0')`;

/**
 * The figures of each action of the flowcontrol flow `flow` (node ids as `flowcontrolGraph`
 * gives them), counted in the database: `waiting` runs pending or suspended at the action,
 * `passed` times it ran (log entries; entries written before they named their action are not
 * counted), `errors` runs that failed there. One statement; actions with nothing to count are absent.
 */
export async function flowNodeCounts(sql: SqlClient, flow: string): Promise<Map<string, NodeFigures>> {
  const rows = await sql.query<{ node: string; kind: keyof NodeFigures; count: number }>(
    `SELECT ${RUN_NODE} AS node, CASE WHEN i.state::jsonb->>'status' = 'failed' THEN 'errors' ELSE 'waiting' END AS kind, count(*)::integer AS count
     FROM wayflow_automation_instances i
     WHERE i.kind = 'flow' AND i.automation = $1 AND i.state::jsonb->>'status' IN ('pending', 'waiting', 'failed')
     GROUP BY 1, 2
     UNION ALL
     SELECT e.value->>'node', 'passed', count(*)::integer
     FROM wayflow_automation_instances i CROSS JOIN LATERAL jsonb_array_elements(i.state::jsonb->'log') AS e(value)
     WHERE i.kind = 'flow' AND i.automation = $1 AND e.value ? 'node'
     GROUP BY 1, 2`,
    [flow],
  );
  return figuresByNode(rows);
}

/**
 * The unfinished runs of `flow` at the action `node` (its index path), the longest there first,
 * at most `limit`; `since` is when the run last ran an action (its creation before the first).
 */
export async function flowRunsAtNode(sql: SqlClient, flow: string, node: string, limit: number): Promise<InstanceAtNode[]> {
  const rows = await sql.query<{ id: string; created_at: number; since: number }>(
    `SELECT * FROM (
       SELECT i.id, i.created_at, coalesce((i.state::jsonb->'log'->-1->>'at')::double precision, i.created_at) AS since
       FROM wayflow_automation_instances i
       WHERE i.kind = 'flow' AND i.automation = $1 AND NOT i.finished AND ${RUN_NODE} = $2
     ) at_node ORDER BY since, id LIMIT $3`,
    [flow, node, limit],
  );
  return rows.map((row) => ({ id: row.id, createdAt: row.created_at, since: row.since, status: 'active', error: null }));
}
