import type { FunnelView } from '../../sync/protocol.ts';
import type { SqlDatabase } from '../sql.ts';
import { BACK_EVENTS, emptyFigures, FORWARD_EVENTS, type FunnelFigures, type FunnelWindow, shapeFunnel } from './model.ts';

/** One row of the funnel query: a figure of `kind` for flow version `v`, about step `a` (and `b`). */
interface FigureRow {
  kind: 'completed' | 'aborted' | 'started' | 'abandoned' | 'waiting' | 'reached' | 'starts' | 'forward' | 'back' | 'refused' | 'field' | 'time';
  v: number;
  a: string | null;
  b: string | null;
  n: number;
  median: number | null;
  p90: number | null;
}

/**
 * The funnel query: every task of flow `$1` created in [`$2`, `$3`), the live ones (`wayflow_tasks`, ended when idle at
 * the server time `$4`) and the ended ones the sweeper kept (`wayflow_task_outcomes`), their histories unnested once,
 * grouped by version and step in one statement. The model of the arithmetic is `funnelsOf` (model.ts).
 */
const FUNNEL_SQL = `
WITH tasks AS (
  SELECT row_number() OVER () AS k, v, h, ended FROM (
    SELECT flow_version AS v, history AS h, true AS ended
      FROM wayflow_task_outcomes WHERE flow_id = $1 AND created_at >= $2 AND created_at < $3
    UNION ALL
    SELECT (r->>'flowVersion')::integer, r->'history', idle_until <= $4 OR expires_at <= $4
      FROM (SELECT record::jsonb AS r, idle_until, expires_at FROM wayflow_tasks WHERE summary::jsonb->>'flowId' = $1) AS live
      WHERE (r->>'createdAt')::float8 >= $2 AND (r->>'createdAt')::float8 < $3
  ) AS both_tables
),
summaries AS (
  SELECT v, ended, CASE WHEN h @> '[{"to":"$completed"}]' THEN 'completed' WHEN h @> '[{"to":"$aborted"}]' THEN 'aborted' END AS finished, h->-1->>'to' AS last
  FROM tasks
),
entries AS (
  SELECT t.k, t.v, e.n, e.event, e.src, e.dst, e.at, e.fields
  FROM tasks AS t,
    ROWS FROM (jsonb_to_recordset(t.h) AS (at float8, event text, "from" text, "to" text, fields jsonb)) WITH ORDINALITY AS e(at, event, src, dst, fields, n)
),
moves AS (
  SELECT v, dst, lead(at) OVER (PARTITION BY k ORDER BY n) - at AS spent FROM entries WHERE src IS DISTINCT FROM dst
)
SELECT 'started' AS kind, v, NULL AS a, NULL AS b, count(*)::integer AS n, NULL::float8 AS median, NULL::float8 AS p90 FROM summaries GROUP BY v
UNION ALL
SELECT finished, v, NULL, NULL, count(*)::integer, NULL, NULL FROM summaries WHERE finished IS NOT NULL GROUP BY v, finished
UNION ALL
SELECT CASE WHEN ended THEN 'abandoned' ELSE 'waiting' END, v, last, NULL, count(*)::integer, NULL, NULL
  FROM summaries WHERE finished IS NULL AND last IS NOT NULL GROUP BY v, ended, last
UNION ALL
SELECT 'reached', v, dst, NULL, count(*)::integer, NULL, NULL FROM (SELECT DISTINCT k, v, dst FROM entries WHERE left(dst, 1) <> '$') AS steps GROUP BY v, dst
UNION ALL
SELECT 'starts', v, dst, NULL, count(*)::integer, NULL, NULL FROM entries WHERE event = 'start' GROUP BY v, dst
UNION ALL
SELECT 'forward', v, src, dst, count(*)::integer, NULL, NULL FROM entries WHERE event = ANY($5) AND src IS NOT NULL AND src <> dst GROUP BY v, src, dst
UNION ALL
SELECT 'back', v, src, dst, count(*)::integer, NULL, NULL FROM entries WHERE event = ANY($6) AND src IS NOT NULL GROUP BY v, src, dst
UNION ALL
SELECT 'refused', v, src, NULL, count(*)::integer, NULL, NULL FROM entries WHERE event = 'refused' AND src IS NOT NULL GROUP BY v, src
UNION ALL
SELECT 'field', v, src, field, count(*)::integer, NULL, NULL
  FROM entries, jsonb_array_elements_text(CASE WHEN jsonb_typeof(fields) = 'array' THEN fields END) AS field
  WHERE event = 'refused' AND src IS NOT NULL GROUP BY v, src, field
UNION ALL
SELECT 'time', v, dst, NULL, count(*)::integer, percentile_disc(0.5) WITHIN GROUP (ORDER BY spent), percentile_disc(0.9) WITHIN GROUP (ORDER BY spent)
  FROM moves WHERE spent IS NOT NULL AND left(dst, 1) <> '$' GROUP BY v, dst
`;

/**
 * The funnels of flow `flowId` (one per flow version with tasks created in `window`, newest version first), computed in
 * SQL over the live tasks and the outcomes of ended ones. `serverNow` decides which live tasks have ended (idle past their deadline).
 */
export async function readFunnels(db: SqlDatabase, flowId: string, window: FunnelWindow, serverNow: number): Promise<FunnelView[]> {
  const rows = await db.transaction(async (tx) => {
    // The planner's cost of the jsonb functions is a guess far above their price: JIT would spend more compiling the query than running it.
    await tx.query('SET LOCAL jit = off');
    return tx.query<FigureRow>(FUNNEL_SQL, [flowId, window.since, window.until, serverNow, [...FORWARD_EVENTS], [...BACK_EVENTS]]);
  });
  const versions = new Map<number, FunnelFigures>();
  for (const row of rows) {
    const figures = versions.get(row.v) ?? emptyFigures(row.v);
    versions.set(row.v, figures);
    const a = row.a!;
    switch (row.kind) {
      case 'started':
      case 'completed':
      case 'aborted':
        figures[row.kind] = row.n;
        break;
      case 'abandoned':
        figures.abandonedAt[a] = row.n;
        break;
      case 'waiting':
        figures.inProgressAt[a] = row.n;
        break;
      case 'reached':
      case 'starts':
      case 'refused':
        figures[row.kind][a] = row.n;
        break;
      case 'field':
        figures.refusedFields[a] = { ...figures.refusedFields[a], [row.b!]: row.n };
        break;
      case 'forward':
      case 'back':
        figures[row.kind].push({ from: a, to: row.b!, count: row.n });
        break;
      case 'time':
        figures.times[a] = { medianMs: row.median!, p90Ms: row.p90! };
        break;
    }
  }
  return [...versions.values()].map((figures) => shapeFunnel(flowId, figures, window)).sort((a, b) => b.flowVersion - a.flowVersion);
}
