import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { sqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { migrate } from '../../../src/server/migrations.ts';
import { pgliteDatabase } from '../../../src/server/pglite.ts';
import { postgresDatabase } from '../../../src/server/postgres.ts';
import type { SqlClient, SqlDatabase } from '../../../src/server/sql.ts';
import { syncLinks, syncMigrations } from '../../../src/server/sync/index.ts';
import { DATABASE_URL } from '../../helpers/database-url.ts';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function pgliteDb(): Promise<SqlDatabase> {
  const db = pgliteDatabase(await PGlite.create());
  closers.push(() => db.close());
  return db;
}

async function postgresDb(): Promise<SqlDatabase> {
  const schema = `wayflow_open_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = postgresDatabase(new pg.Pool({ connectionString: DATABASE_URL, max: 2, pipeline: true, options: `-c search_path=${schema}` }));
  closers.push(async () => {
    await db.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  return db;
}

const instance = (db: SqlClient, id: string, finished: boolean) =>
  db.query(
    `INSERT INTO wayflow_automation_instances (id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version)
     VALUES ($1, 'A', $1, '{}', $2, 0, NULL, NULL, NULL, 0, 1)`,
    [id, finished],
  );
const link = (db: SqlDatabase, key: string, instanceId: string | null) =>
  db.query("INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at) VALUES ('o', $1, 'A', $2, 0)", [key, instanceId]);
const open = async (db: SqlDatabase) =>
  (await db.query<{ key: string }>("SELECT idempotency_key AS key FROM wayflow_sync_links WHERE open AND owner = 'o' ORDER BY 1")).map((row) => row.key);

describe.each([
  ['PGlite', pgliteDb],
  ['PostgreSQL', postgresDb],
])('the open starts the cap counts, on %s', (_name, connect) => {
  it('flags the unfinished starts of a database migrated from 1104, and keeps the flag as instances finish, end in their start or are deleted', async () => {
    const db = await connect();
    await sqlAutomationStorage(db, { notify: false });
    await migrate(db, syncMigrations.filter((migration) => migration.id <= 1104));
    await instance(db, 'running', false);
    await instance(db, 'done', true);
    await instance(db, 'linked', false);
    await link(db, 'k-running', 'running');
    await link(db, 'k-done', 'done');
    await link(db, 'k-reserved', null);
    await link(db, 'link:linked', 'linked');
    await link(db, 'k-gone', 'never-stored');

    const links = await syncLinks(db);
    // Only the unfinished start and the reservation of an older version count, as they did.
    expect(await open(db)).toEqual(['k-reserved', 'k-running']);

    const start = (key: string, instanceId: string) => db.transaction((tx) => links.recordStart(tx, 'o', key, 'A', instanceId, 1, 3));
    expect(await start('k-new', 'new')).toBeNull();
    expect(await start('k-over', 'over')).toBe('full');
    await instance(db, 'new', false);
    expect(await open(db)).toEqual(['k-new', 'k-reserved', 'k-running']);

    // A finished instance frees its place.
    await db.query("UPDATE wayflow_automation_instances SET finished = true WHERE id = 'running'");
    expect(await open(db)).toEqual(['k-new', 'k-reserved']);
    // A start whose instance ran to its end in the start's transaction (inserted finished) holds none.
    const quick = await db.transaction(async (tx) => {
      const outcome = await links.recordStart(tx, 'o', 'k-quick', 'A', 'quick', 1, 3);
      await instance(tx, 'quick', true);
      return outcome;
    });
    expect(quick).toBeNull();
    expect(await open(db)).toEqual(['k-new', 'k-reserved']);
    // Neither does a deleted instance, nor a start naming an instance already finished (a data-unique holder).
    await db.query("DELETE FROM wayflow_automation_instances WHERE id = 'new'");
    expect(await start('k-holder', 'done')).toBeNull();
    expect(await open(db)).toEqual(['k-reserved']);
    // The reservation taken over stays open, now with its instance.
    expect(await start('k-reserved', 'taken')).toBeNull();
    await instance(db, 'taken', false);
    expect(await open(db)).toEqual(['k-reserved']);
    await db.query("UPDATE wayflow_automation_instances SET finished = true WHERE id = 'taken'");
    expect(await open(db)).toEqual([]);
  });
});
