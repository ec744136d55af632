import { type Migration, migrate } from '../migrations.ts';
import type { SqlDatabase } from '../sql.ts';

/**
 * The sync API's table, in the automations database: which session or user (`owner`, as
 * `Caller.owner`) started which instance, and under which `Idempotency-Key`. The primary key
 * (owner, key) makes a retried start find the instance of the first one. A row whose
 * `instance_id` is still null is a start in progress (a reservation). Id 1101: after the
 * automation migrations (1001+), sharing `wayflow_migrations` and its lock.
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
];

/** What `SyncLinks.reserve` found for (owner, key). */
export type Reservation =
  | { kind: 'new' }
  | { kind: 'existing'; instanceId: string; automation: string }
  | { kind: 'pending'; automation: string };

/** Instance ownership and idempotent starts, on PGlite or PostgreSQL. */
export interface SyncLinks {
  /**
   * Reserves (owner, key) for starting `automation`: `new` when this call holds it now (then
   * `complete` or `release` it), `existing` when an earlier start made its instance, `pending`
   * while another request holds it (a reservation older than `staleMs` is taken over).
   */
  reserve(owner: string, key: string, automation: string, now: number, staleMs?: number): Promise<Reservation>;
  /** Records the instance a reservation started. */
  complete(owner: string, key: string, instanceId: string): Promise<void>;
  /** Drops a reservation whose start failed. */
  release(owner: string, key: string): Promise<void>;
  /** The instance (owner, key) started, if any. */
  find(owner: string, key: string): Promise<{ instanceId: string | null; automation: string } | null>;
  /** Whether `owner` started (or was linked to) the instance. */
  owns(owner: string, instanceId: string): Promise<boolean>;
  /** Makes `owner` an owner of an instance started elsewhere (e.g. by server code for a signed-in user); idempotent. */
  link(owner: string, instanceId: string, automation: string, now?: number): Promise<void>;
}

/** Applies the sync migration to `db` and returns the links over it. */
export async function syncLinks(db: SqlDatabase): Promise<SyncLinks> {
  await migrate(db, syncMigrations);
  const find = async (owner: string, key: string) => {
    const [row] = await db.query<{ instance_id: string | null; automation: string; created_at: number }>(
      'SELECT instance_id, automation, created_at FROM wayflow_sync_links WHERE owner = $1 AND idempotency_key = $2',
      [owner, key],
    );
    return row ?? null;
  };
  return {
    async reserve(owner, key, automation, now, staleMs = 30_000) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await db.query(
          `INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at) VALUES ($1, $2, $3, NULL, $4)
           ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING owner`,
          [owner, key, automation, now],
        );
        if (inserted.length === 1) return { kind: 'new' };
        const row = await find(owner, key);
        if (!row) continue; // released meanwhile: try again
        if (row.instance_id !== null) return { kind: 'existing', instanceId: row.instance_id, automation: row.automation };
        if (row.created_at > now - staleMs) return { kind: 'pending', automation: row.automation };
        // The request holding it died: take the reservation over (one taker wins).
        const taken = await db.query(
          `UPDATE wayflow_sync_links SET created_at = $3, automation = $4
           WHERE owner = $1 AND idempotency_key = $2 AND instance_id IS NULL AND created_at = $5 RETURNING owner`,
          [owner, key, now, automation, row.created_at],
        );
        if (taken.length === 1) return { kind: 'new' };
      }
      return { kind: 'pending', automation };
    },
    async complete(owner, key, instanceId) {
      await db.query('UPDATE wayflow_sync_links SET instance_id = $3 WHERE owner = $1 AND idempotency_key = $2', [owner, key, instanceId]);
    },
    async release(owner, key) {
      await db.query('DELETE FROM wayflow_sync_links WHERE owner = $1 AND idempotency_key = $2 AND instance_id IS NULL', [owner, key]);
    },
    async find(owner, key) {
      const row = await find(owner, key);
      return row ? { instanceId: row.instance_id, automation: row.automation } : null;
    },
    async owns(owner, instanceId) {
      const rows = await db.query('SELECT 1 FROM wayflow_sync_links WHERE instance_id = $1 AND owner = $2 LIMIT 1', [instanceId, owner]);
      return rows.length > 0;
    },
    async link(owner, instanceId, automation, now = Date.now()) {
      await db.query(
        `INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (owner, idempotency_key) DO NOTHING`,
        [owner, `link:${instanceId}`, automation, instanceId, now],
      );
    },
  };
}
