import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDLE_MINUTE_MS, migrate, migrations } from '../../src/server/migrations.ts';
import { pgliteDatabase } from '../../src/server/pglite.ts';
import { sqlStorage } from '../../src/server/sql.ts';
import { makeRecord } from '../persist/contract.ts';
import { pgliteHarness, postgresHarness, type StorageHarness } from './harness.ts';

const MINUTE = IDLE_MINUTE_MS;
/** An idle deadline near a few minute boundaries, or far from any. */
const deadlineArb = fc.oneof(
  fc.integer({ min: 0, max: 4 }).chain((minute) => fc.integer({ min: -2, max: 2 }).map((off) => Math.max(0, 1_700_000_000_000 + minute * MINUTE + off))),
  fc.integer({ min: 1_700_000_000_000 - 10 * MINUTE, max: 1_700_000_000_000 + 10 * MINUTE }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);

/** A task row of `owner`, bound to `binder-a`, that never expires on the caller's clock; its parameters: the record and its idle deadline. */
const insertRow = (record: ReturnType<typeof makeRecord>, idleUntil: number): [string, unknown[]] => [
  `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until)
   VALUES ('owner', $1, 'binder-a', 1, $2, '{"flowId":"flow","step":null}', 0, $3, $4)`,
  [record.id, JSON.stringify(record), Number.MAX_SAFE_INTEGER, idleUntil],
];

async function storeRows(harness: StorageHarness, deadlines: number[]) {
  await harness.reset();
  for (const [i, idleUntil] of deadlines.entries()) await harness.sql(...insertRow(makeRecord({ id: `task-${i}` }), idleUntil));
}

/**
 * Makes the storage's update counts visible to `pg_stat_user_tables`: PGlite's one backend flushes them on request
 * (`updates` does), PostgreSQL's pool backends when they exit, so the storage is closed (last test of the file).
 */
const closeStorage = (harness: StorageHarness) => harness.storage.close();

describe.each([
  ['PGlite', pgliteHarness, async () => undefined],
  ['PostgreSQL', () => postgresHarness(), closeStorage],
] as [string, () => Promise<StorageHarness>, (harness: StorageHarness) => Promise<void>][])('task rows on %s', (name, open, report) => {
  let harness: StorageHarness;
  beforeAll(async () => {
    harness = await open();
  }, 60_000);
  afterAll(() => harness.close());

  it('sweeps exactly the tasks whose idle deadline has passed, on either side of a minute boundary', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(deadlineArb, { maxLength: 12 }), deadlineArb, async (deadlines, now) => {
        await storeRows(harness, deadlines);
        const swept = await harness.storage.sweepExpired(now);
        const left = (await harness.sql<{ idle_until: number }>('SELECT idle_until FROM wayflow_tasks')).map((row) => row.idle_until);
        expect(swept).toBe(deadlines.filter((at) => at <= now).length);
        expect(left.sort()).toEqual(deadlines.filter((at) => at > now).sort());
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('lists a binder’s tasks most recently active first, then by id', async () => {
    await harness.reset();
    const at = { server: 1000, client: 1000 };
    for (const [id, lastActiveAt] of [['c', 30], ['a', 50], ['b', 30], ['d', 10]] as const) {
      const record = makeRecord({ id, lastActiveAt, expiresAt: 1e15 });
      expect(await harness.storage.create('owner', record, 1e15, 0)).toEqual({ ok: true });
    }
    expect((await harness.storage.list('owner', 'binder-a', at)).map((task) => task.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('answers a record as stored while its row matches the check its write stored, and checks it again once edited', async () => {
    await harness.reset();
    const at = { server: 0, client: 0 };
    const [id, other] = ['checkedAAAAAAAAAAAAAAA', 'movedAAAAAAAAAAAAAAAAA'];
    const record = makeRecord({ id, expiresAt: 1e15 });
    const stored = JSON.stringify(record);
    expect(await harness.storage.create('owner', record, 1e15, 0)).toEqual({ ok: true });
    const [written] = await harness.sql<{ matches: boolean }>(`SELECT record_check = hashtextextended(id || record, 0) AS matches FROM wayflow_tasks`);
    expect(written?.matches).toBe(true);
    expect(await harness.storage.readJson!('owner', id, 'binder-a', at)).toEqual({ version: 1, json: stored });

    // Spaced out, with its check computed anew: trusted, so answered exactly as stored.
    const spaced = JSON.stringify(record, null, 2);
    await harness.sql('UPDATE wayflow_tasks SET record = $1, record_check = hashtextextended(id || $1, 0)', [spaced]);
    expect((await harness.storage.readJson!('owner', id, 'binder-a', at))?.json).toBe(spaced);

    // Edited without the check (by hand, or by a server from before migration 6): parsed, checked, answered as JSON.stringify writes it.
    await harness.sql('UPDATE wayflow_tasks SET record = $1', [JSON.stringify({ ...record, data: { edited: true } }, null, 1)]);
    expect((await harness.storage.readJson!('owner', id, 'binder-a', at))?.json).toBe(JSON.stringify({ ...record, data: { edited: true } }));
    await harness.sql('UPDATE wayflow_tasks SET record = $1, record_check = NULL', [JSON.stringify({ ...record, history: 'none' })]);
    await expect(harness.storage.readJson!('owner', id, 'binder-a', at)).rejects.toMatchObject({ code: 'corrupt-record' });
    await expect(harness.storage.read('owner', id, 'binder-a', at)).rejects.toMatchObject({ code: 'corrupt-record' });

    // The check covers the id: an intact record moved to another task's row is not answered as that task.
    await harness.sql('UPDATE wayflow_tasks SET record = $1, record_check = hashtextextended(id || $1, 0)', [stored]);
    expect((await harness.storage.readJson!('owner', id, 'binder-a', at))?.json).toBe(stored);
    await harness.sql('UPDATE wayflow_tasks SET id = $1', [other]);
    await expect(harness.storage.readJson!('owner', other, 'binder-a', at)).rejects.toThrow(/names another task/);
  });

  it('rewrites a task in place on every put within its idle minute, leaving its indexes untouched (HOT)', async () => {
    await harness.reset();
    const idleUntil = 1_700_000_000_000 + MINUTE / 2;
    let record = makeRecord({ id: 'hot', expiresAt: 1e15 });
    expect(await harness.storage.create('owner', record, idleUntil, 0)).toEqual({ ok: true });
    const before = await updates(harness);
    for (let i = 0; i < 20; i++) {
      const next = makeRecord({ id: 'hot', version: record.version + 1, lastActiveAt: record.lastActiveAt + 1, expiresAt: 1e15, data: { item: `item ${i}` } });
      expect(await harness.storage.update('owner', next, record.version, idleUntil + i, 0)).toEqual({ ok: true });
      record = next;
    }
    const [row] = await harness.sql<{ matches: boolean }>('SELECT record_check = hashtextextended(id || record, 0) AS matches FROM wayflow_tasks');
    expect(row?.matches, 'an update stores the check of what it wrote').toBe(true);
    await report(harness);
    await expect.poll(async () => (await updates(harness)).all - before.all, { timeout: 10_000, interval: 100 }).toBe(20);
    const after = await updates(harness);
    expect(after.hot - before.hot, `${name}: HOT updates of 20`).toBeGreaterThanOrEqual(18);
  }, 20_000);
});

// Apart from the rows above: the HOT test counts every update its storage's connections made.
describe.each([
  ['PGlite', pgliteHarness],
  ['PostgreSQL', () => postgresHarness()],
] as [string, () => Promise<StorageHarness>][])('task updates on %s', (_name, open) => {
  let harness: StorageHarness;
  beforeAll(async () => {
    harness = await open();
  }, 60_000);
  afterAll(() => harness.close());

  it('commits updates made while another is in flight together, each checked against its own version, stored as sent', async () => {
    await harness.reset();
    const ids = Array.from({ length: 8 }, (_, i) => `together${i}AAAAAAAAAAAAA`.slice(0, 22));
    for (const id of ids) expect(await harness.storage.create('owner', makeRecord({ id, expiresAt: 1e15 }), 1e15, 0)).toEqual({ ok: true });
    await harness.sql('UPDATE wayflow_tasks SET idle_until = 5 WHERE id = $1', [ids[7]]);
    const next = (id: string, text: string) =>
      makeRecord({ id, version: 2, lastActiveAt: 2_000_000, expiresAt: 1e15, data: { item: text }, history: [{ at: 1, event: 'submit', from: 'a', to: 'b', actor: null }] });
    const texts = ['plain', 'a "quoted" \\ back', 'line\u2028separator', 'é ü 🚀', '{"looks":"like json"}', 'tab\there', 'second', 'late'];
    const results = await Promise.all([
      ...ids.map((id, i) => harness.storage.update('owner', next(id, texts[i]!), 1, 1e15, 10)),
      // The same task twice, both based on version 1: the second is sent after the first and refused.
      harness.storage.update('owner', next(ids[0]!, 'lost'), 1, 1e15, 10),
      // Based on a version the task is not at; under another binder.
      harness.storage.update('owner', { ...next(ids[1]!, 'stale'), version: 6 }, 5, 1e15, 10),
      harness.storage.update('owner', { ...next(ids[2]!, 'other binder'), binder: 'binder-b' }, 1, 1e15, 10),
    ]);
    // The last of `ids` is idle past its deadline at server time 10: gone.
    expect(results).toEqual([...ids.slice(0, 7).map(() => ({ ok: true })), { ok: false, current: null }, { ok: false, current: 2 }, { ok: false, current: 2 }, { ok: false, current: null }]);
    const rows = await harness.sql<{ id: string; version: number; record: string; summary: string; intact: boolean; xmin: string }>(
      'SELECT id, version, record, summary, record_check = hashtextextended(id || record, 0) AS intact, xmin::text AS xmin FROM wayflow_tasks ORDER BY id',
    );
    for (const [i, id] of ids.slice(0, 7).entries()) {
      const row = rows.find((r) => r.id === id)!;
      expect(row).toMatchObject({ version: 2, record: JSON.stringify(next(id, texts[i]!)), summary: JSON.stringify({ flowId: 'flow', step: 'step' }), intact: true });
    }
    expect(new Set(rows.slice(0, 7).map((row) => row.xmin)).size, 'the first alone, the others in one transaction').toBeLessThan(7);
    const at = { server: 10, client: 10 };
    expect(await harness.storage.readJson!('owner', ids[3]!, 'binder-a', at)).toEqual({ version: 2, json: JSON.stringify(next(ids[3]!, texts[3]!)) });
  });
});

/** The table's update counts as the statistics collector has them (its own pending counts flushed first). */
async function updates(harness: StorageHarness): Promise<{ all: number; hot: number }> {
  await harness.sql('SELECT pg_stat_force_next_flush()');
  await harness.sql('SELECT pg_stat_clear_snapshot()');
  const [row] = await harness.sql<{ all: string; hot: string }>(
    "SELECT n_tup_upd AS all, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'wayflow_tasks' AND schemaname = current_schema()",
  );
  return { all: Number(row?.all ?? 0), hot: Number(row?.hot ?? 0) };
}

describe('migration 5 on a database written before it', () => {
  it('buckets the idle deadlines of the rows it finds, so the sweep finds them', async () => {
    const pg = await PGlite.create();
    try {
      const db = pgliteDatabase(pg);
      await migrate(db, migrations.filter((migration) => migration.id < 5));
      const old = 1_700_000_000_000;
      for (const [id, idleUntil] of [['gone', old], ['kept', old + 5 * MINUTE]] as const) await db.query(...insertRow(makeRecord({ id }), idleUntil));
      const storage = await sqlStorage(db);
      expect(await db.query('SELECT id, idle_minute FROM wayflow_tasks ORDER BY id')).toEqual([
        { id: 'gone', idle_minute: Math.floor(old / MINUTE) },
        { id: 'kept', idle_minute: Math.floor(old / MINUTE) + 5 },
      ]);
      expect(await storage.sweepExpired(old + MINUTE)).toBe(1);
      expect((await db.query<{ id: string }>('SELECT id FROM wayflow_tasks')).map((row) => row.id)).toEqual(['kept']);
    } finally {
      await pg.close();
    }
  }, 30_000);
});
