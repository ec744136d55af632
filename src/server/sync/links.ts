import { type Migration, migrate } from '../migrations.ts';
import { OPEN_STARTS_BACKFILL, openStartTriggers, recordStartFunction, recordStartFunction1104 } from './quota.ts';
import type { SqlClient, SqlDatabase } from '../sql.ts';

/**
 * The sync API's tables, in the automations database. `wayflow_sync_links`: which session or
 * user (`owner`, as `Caller.owner`) started which instance, and under which
 * `Idempotency-Key`; the primary key (owner, key) makes a retried start find the instance of
 * the first one (a row without `instance_id` is a reservation of an older version, taken over
 * by the next start). `wayflow_sync_messages`: the messages sent with an `Idempotency-Key` and
 * what their receivers returned, so a retried send is answered without delivering again.
 * `created_at` is indexed for `forgetKeys`, which the server's sweep runs. 1104 adds
 * `wayflow_record_start`, which records a start's key in one statement (see `recordStartFunction`);
 * 1105 flags the links that count toward the owner's cap (`open`, kept by triggers on the
 * instances, see `openStartTriggers`), so a start counts the open ones on an index instead of
 * reading every link of the owner and its instance.
 * Ids 1101+: after the automation migrations (1001+), sharing `wayflow_migrations` and its lock.
 */
export const syncMigrations: readonly Migration[] = [
  {
    id: 1101,
    name: 'sync links',
    sql: `
      CREATE TABLE wayflow_sync_links (
        owner text NOT NULL,
        idempotency_key text NOT NULL,
        automation text NOT NULL,
        instance_id text,
        created_at double precision NOT NULL,
        PRIMARY KEY (owner, idempotency_key)
      );
      CREATE INDEX wayflow_sync_links_instance ON wayflow_sync_links (instance_id, owner) WHERE instance_id IS NOT NULL
    `,
  },
  {
    id: 1102,
    name: 'sync message keys',
    sql: `
      CREATE TABLE wayflow_sync_messages (
        owner text NOT NULL,
        idempotency_key text NOT NULL,
        instance_id text NOT NULL,
        message text NOT NULL,
        result text NOT NULL,
        created_at double precision NOT NULL,
        PRIMARY KEY (owner, idempotency_key)
      )
    `,
  },
  {
    id: 1103,
    name: 'sync key retention',
    sql: `
      CREATE INDEX wayflow_sync_links_created ON wayflow_sync_links (created_at);
      CREATE INDEX wayflow_sync_messages_created ON wayflow_sync_messages (created_at)
    `,
  },
  { id: 1104, name: 'record start in one statement', sql: [recordStartFunction1104] },
  {
    id: 1105,
    name: 'open starts flagged and indexed for the cap',
    sql: [
      'ALTER TABLE wayflow_sync_links ADD COLUMN open boolean NOT NULL DEFAULT false',
      OPEN_STARTS_BACKFILL,
      'CREATE INDEX wayflow_sync_links_open ON wayflow_sync_links (owner) WHERE open',
      ...openStartTriggers,
      recordStartFunction,
    ],
  },
];

/** The instance a start with an `Idempotency-Key` made. */
export interface StartRecord {
  instanceId: string;
  automation: string;
}

/** A message sent with an `Idempotency-Key`, with the receiver's result (as JSON). */
export interface SentMessage {
  instanceId: string;
  message: string;
  result: unknown;
}

/** Instance ownership and idempotent starts and message sends, on PGlite or PostgreSQL. */
export interface SyncLinks {
  /**
   * Inside the transaction that creates `instanceId` (`sql`: `sqlTransactionOf(tx)`),
   * records that (owner, key) started it. Resolves to null when this start holds the key, to
   * what an earlier start with the key made (roll this creation back and answer with that),
   * or, with `maxUnfinished`, to `full` when the owner already has that many unfinished starts
   * (roll back and refuse). Concurrent starts of one owner wait for each other's transaction,
   * so one key never makes two instances and the cap holds, whenever a process or the database dies.
   */
  recordStart(sql: SqlClient, owner: string, key: string, automation: string, instanceId: string, now: number, maxUnfinished?: number): Promise<StartRecord | 'full' | null>;
  /** The instance (owner, key) started, if any. */
  find(owner: string, key: string): Promise<StartRecord | null>;
  /**
   * Inside the transaction that delivers the message (`sql`), records that (owner, key) sent
   * it and the receiver's `result`. Resolves to null when this send holds the key, else to the
   * earlier send with the key: roll this delivery back and answer with that.
   */
  recordMessage(sql: SqlClient, owner: string, key: string, sent: SentMessage, now: number): Promise<SentMessage | null>;
  /** The message (owner, key) sent, if any. */
  findMessage(owner: string, key: string): Promise<SentMessage | null>;
  /** Whether `owner` started (or was linked to) the instance. */
  owns(owner: string, instanceId: string): Promise<boolean>;
  /** Makes `owner` an owner of an instance started elsewhere (e.g. by server code for a signed-in user); idempotent. */
  link(owner: string, instanceId: string, automation: string, now?: number): Promise<void>;
  /**
   * Forgets the `Idempotency-Key`s recorded before `before` (ms since the epoch), in one
   * transaction: message keys, and start keys whose instance finished or is gone (the owner
   * keeps a finished instance, as a `link:` row). A key whose instance is unfinished is kept
   * until it finishes, so a retry never starts a second instance beside a running one; a retry
   * of a forgotten key is a new request. Also drops the links of instances deleted before.
   */
  forgetKeys(before: number): Promise<{ starts: number; messages: number }>;
}

/** Applies the sync migrations to `db` and returns the links over it. */
export async function syncLinks(db: SqlDatabase): Promise<SyncLinks> {
  await migrate(db, syncMigrations);
  const find = async (sql: SqlClient, owner: string, key: string): Promise<StartRecord | null> => {
    const [row] = await sql.query<{ instance_id: string; automation: string }>(
      'SELECT instance_id, automation FROM wayflow_sync_links WHERE owner = $1 AND idempotency_key = $2 AND instance_id IS NOT NULL',
      [owner, key],
    );
    return row ? { instanceId: row.instance_id, automation: row.automation } : null;
  };
  const findMessage = async (sql: SqlClient, owner: string, key: string): Promise<SentMessage | null> => {
    const [row] = await sql.query<{ instance_id: string; message: string; result: string }>(
      'SELECT instance_id, message, result FROM wayflow_sync_messages WHERE owner = $1 AND idempotency_key = $2',
      [owner, key],
    );
    return row ? { instanceId: row.instance_id, message: row.message, result: JSON.parse(row.result) } : null;
  };
  return {
    async recordStart(sql, owner, key, automation, instanceId, now, maxUnfinished) {
      const [row] = await sql.query<{ outcome: 'recorded' | 'earlier' | 'full'; instance_id: string | null; automation: string | null }>(
        'SELECT outcome, instance_id, automation FROM wayflow_record_start($1, $2, $3, $4, $5, $6)',
        [owner, key, automation, instanceId, now, maxUnfinished ?? null],
      );
      if (row?.outcome === 'earlier' && row.instance_id !== null && row.automation !== null) return { instanceId: row.instance_id, automation: row.automation };
      return row?.outcome === 'full' ? 'full' : null;
    },
    find: (owner, key) => find(db, owner, key),
    async recordMessage(sql, owner, key, sent, now) {
      const inserted = await sql.query(
        `INSERT INTO wayflow_sync_messages (owner, idempotency_key, instance_id, message, result, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING owner`,
        [owner, key, sent.instanceId, sent.message, JSON.stringify(sent.result ?? null), now],
      );
      return inserted.length === 1 ? null : await findMessage(sql, owner, key);
    },
    findMessage: (owner, key) => findMessage(db, owner, key),
    async owns(owner, instanceId) {
      const rows = await db.query('SELECT 1 FROM wayflow_sync_links WHERE instance_id = $1 AND owner = $2 LIMIT 1', [instanceId, owner]);
      return rows.length > 0;
    },
    forgetKeys: (before) =>
      db.transaction(async (sql) => {
        await sql.query(
          `INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at)
           SELECT l.owner, 'link:' || l.instance_id, l.automation, l.instance_id, l.created_at
           FROM wayflow_sync_links l JOIN wayflow_automation_instances i ON i.id = l.instance_id
           WHERE l.created_at < $1 AND i.finished AND l.idempotency_key NOT LIKE 'link:%'
           ON CONFLICT (owner, idempotency_key) DO NOTHING`,
          [before],
        );
        const starts = await sql.query(
          `DELETE FROM wayflow_sync_links l WHERE l.created_at < $1
           AND NOT EXISTS (SELECT 1 FROM wayflow_automation_instances i WHERE i.id = l.instance_id AND NOT i.finished)
           AND (l.idempotency_key NOT LIKE 'link:%' OR NOT EXISTS (SELECT 1 FROM wayflow_automation_instances i WHERE i.id = l.instance_id))
           RETURNING l.idempotency_key`,
          [before],
        );
        const messages = await sql.query('DELETE FROM wayflow_sync_messages WHERE created_at < $1 RETURNING owner', [before]);
        return { starts: starts.filter((row) => !(row as { idempotency_key: string }).idempotency_key.startsWith('link:')).length, messages: messages.length };
      }),
    async link(owner, instanceId, automation, now = Date.now()) {
      await db.query(
        `INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (owner, idempotency_key) DO NOTHING`,
        [owner, `link:${instanceId}`, automation, instanceId, now],
      );
    },
  };
}
