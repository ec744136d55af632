import type { SqlClient } from '../sql.ts';

/**
 * How many instances `owner` started from the browser that have not finished (a link left
 * without an instance by an older version counts as a start). Instances linked to the owner by
 * server code (`SyncLinks.link`) are not its starts and do not count.
 */
export async function unfinishedStarts(db: SqlClient, owner: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM wayflow_sync_links l
     LEFT JOIN wayflow_automation_instances i ON i.id = l.instance_id
     WHERE l.owner = $1 AND l.idempotency_key NOT LIKE 'link:%' AND (l.instance_id IS NULL OR i.finished = false)`,
    [owner],
  );
  return row?.n ?? 0;
}
