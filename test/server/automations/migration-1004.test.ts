import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { flowAction, FlowControl, type FlowRun, hours, ManualClock, suspend, waitForTrigger } from '../../../src/automations/index.ts';
import { automationMigrations, sqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { migrate } from '../../../src/server/migrations.ts';
import { pgliteDatabase } from '../../../src/server/pglite.ts';
import { postgresDatabase } from '../../../src/server/postgres.ts';
import type { SqlDatabase } from '../../../src/server/sql.ts';
import { storedRun } from '../../automations/flowcontrol-scenarios.ts';
import { T0 } from '../../automations/harness.ts';
import { DATABASE_URL } from './db.ts';
import { SqlFlowRunsTx } from './fixtures/old-flow-run-sql.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** An empty in-memory PGlite database. */
async function emptyPglite(): Promise<SqlDatabase> {
  const pglite = await PGlite.create();
  cleanups.push(() => pglite.close());
  return pgliteDatabase(pglite);
}

/** An empty schema of its own on the local PostgreSQL, dropped afterwards. */
async function emptyPostgres(): Promise<SqlDatabase> {
  const schema = `wayflow_m1004_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
  cleanups.push(async () => {
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  return postgresDatabase(pool);
}

const clock = () => new ManualClock(T0 + hours(1));
const flows = [
  { name: 'pipeline', actions: [flowAction('a', () => undefined), flowAction('b', () => undefined)] },
  { name: 'onboarding', objectType: 'user', actions: [flowAction('wait', (ctx) => suspend(ctx.now + hours(24))), waitForTrigger('paid', 'order_paid'), flowAction('ship', () => undefined)] },
];

describe.each([
  ['PGlite', emptyPglite],
  ['PostgreSQL', emptyPostgres],
])('migration 1004 on %s: flow runs move into the instances table', (_name, open) => {
  it('carries runs written by the old code over, and the one runner continues them where they stood', { timeout: 60_000 }, async () => {
    const db = await open();
    // A database as the code before 1004 left it: its migrations, and runs written by its SQL.
    await migrate(
      db,
      automationMigrations.filter((m) => m.id !== 1004),
    );
    const old: FlowRun[] = [
      storedRun('pending', { createdAt: T0 }),
      storedRun('due', { flow: 'onboarding', status: 'waiting', position: [0], continueAfter: T0 + 1, objectId: 'user:1', objectType: 'user', createdAt: T0 + 1 }),
      storedRun('later', { flow: 'onboarding', status: 'waiting', position: [0], continueAfter: T0 + hours(5), objectId: 'user:2', objectType: 'user', createdAt: T0 + 2 }),
      storedRun('trigger', { flow: 'onboarding', status: 'waiting', position: [1], continueAfter: null, waitingTrigger: 'order_paid', objectId: 'user:3', objectType: 'user', createdAt: T0 + 3 }),
      storedRun('child', { status: 'done', position: [1], finishedAt: T0 + 4, parentId: 'pending', createdAt: T0 + 4, state: { a: true, b: true } }),
    ];
    await db.transaction(async (client) => {
      const tx = new SqlFlowRunsTx(client, { token: 'old', claimTimeoutMs: 10_000, flows: null }, () => undefined);
      for (const run of old) await tx.put(run);
    });

    const storage = await sqlAutomationStorage(db, { notify: false });
    expect(await db.query('SELECT count(*)::integer AS n FROM wayflow_flow_runs')).toEqual([{ n: 0 }]);
    const time = clock();
    const control = new FlowControl({ flows, store: storage, clock: time });
    // Every run reads back as it was written.
    for (const run of old) expect(await control.get(run.id)).toEqual(run);
    expect((await control.children('pending')).map((run) => run.id)).toEqual(['child']);
    expect((await control.runsForObject('user:1', 'user')).map((run) => run.id)).toEqual(['due']);
    // The per-object limit counts the moved runs.
    expect(await control.createRun('onboarding', { objectId: 'user:2' })).toBeNull();

    // Due ones continue (pending, then waiting by its time); the later one and the trigger's wait.
    const continued = await control.continueFlowRuns();
    expect(continued.map((run) => [run.id, run.status])).toEqual([
      ['pending', 'done'],
      ['due', 'waiting'],
    ]);
    expect(await control.get('due')).toMatchObject({ position: [1], waitingTrigger: 'order_paid' });
    const [resumed] = await control.triggerFlows('order_paid', { objectId: 'user:3', immediate: true });
    expect(resumed).toMatchObject({ id: 'trigger', status: 'done' });
    time.advance(hours(5));
    expect((await control.continueFlowRuns()).map((run) => [run.id, run.status])).toEqual([['later', 'waiting']]);
  });
});
