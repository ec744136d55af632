import type { SqlClient } from '../sql.ts';

/** First key of the advisory lock that serialises the starts of one owner (the second is a hash of the owner). */
const START_LOCK = 0x7761_7973;

/**
 * The condition "a start of `$1` (the owner) that has not finished", on `wayflow_sync_links l`:
 * a link left without an instance by an older version counts as a start; instances linked to
 * the owner by server code (`SyncLinks.link`, keys `link:…`) are not its starts and do not count.
 */
const UNFINISHED_START = `l.owner = $1 AND l.idempotency_key NOT LIKE 'link:%'
  AND (l.instance_id IS NULL OR EXISTS (SELECT 1 FROM wayflow_automation_instances i WHERE i.id = l.instance_id AND NOT i.finished))`;

/** SQL counting the unfinished starts of the owner `$1`, for a statement's condition. */
export const unfinishedStartsSql = `(SELECT count(*) FROM wayflow_sync_links l WHERE ${UNFINISHED_START})`;

/**
 * Inside a start's transaction, waits until no other start of `owner` is in progress, so that
 * the count a following statement makes stays true until this transaction ends (in PostgreSQL's
 * READ COMMITTED each statement sees what committed before it began: the count must be a
 * statement after this one).
 */
export async function lockStarts(sql: SqlClient, owner: string): Promise<void> {
  await sql.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [START_LOCK, owner]);
}

/** How many instances `owner` started from the browser that have not finished (see `unfinishedStartsSql`). */
export async function unfinishedStarts(db: SqlClient, owner: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT ${unfinishedStartsSql}::integer AS n`, [owner]);
  return row?.n ?? 0;
}
