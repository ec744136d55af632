import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAutomationRunner, defineAutomation, flow, hours, ManualClock, minutes, type NodeContext, systemClock } from '../../../src/automations/index.ts';
import {
  automationSavepoint,
  automationTransaction,
  deleteHistoryCommand,
  NoAutomationTransactionError,
  openAutomationDatabase,
  sqlAutomationStorage,
  startAutomationScheduler,
  stepCommand,
} from '../../../src/server/automations/index.ts';
import { automationStorageContract } from '../../automations/storage-contract.ts';
import { T0 } from '../../automations/harness.ts';
import { type AutomationDb, pgliteAutomationDb } from './db.ts';
import { quick } from './fixtures/quick-automations.ts';

let database: AutomationDb;
beforeAll(async () => {
  database = await pgliteAutomationDb();
  await database.sql('CREATE TABLE mail_outbox (key text NOT NULL, body text NOT NULL)');
});
afterAll(() => database?.close());

automationStorageContract('SQL on PGlite', async () => {
  await database.reset();
  return database.storage();
});

/** The WebinarWorkflow of the django-automations "Getting started" page, mailing through a table in the step's transaction. */
function webinarWorkflow() {
  const mail = (kind: string) => async (ctx: NodeContext) => {
    await automationTransaction().query('INSERT INTO mail_outbox (key, body) VALUES ($1, $2)', [ctx.idempotencyKey, `${kind} ${ctx.data.email}`]);
    return { sent: kind };
  };
  return defineAutomation('WebinarWorkflow', {
    verboseName: 'Webinar preparation',
    nodes: {
      start: flow.execute((ctx) => {
        ctx.data.initialised = true;
      }),
      send_welcome_mail: flow.execute(mail('welcome')),
      send_reminder: flow.execute(mail('reminder')).afterWaitingUntil((ctx) => (ctx.data.webinarAt as number) - minutes(30)),
      send_replay_offer: flow.execute(mail('replay')).afterWaitingFor(minutes(150)),
      end: flow.end(),
    },
  });
}

describe('automations on PGlite', () => {
  it('runs the WebinarWorkflow with a manual clock, its timers stored as due times in the database', async () => {
    await database.reset(['mail_outbox']);
    const clock = new ManualClock(T0);
    let n = 0;
    const storage = await database.storage();
    const runner = createAutomationRunner({ storage, clock, automations: [webinarWorkflow()], newId: () => `w${++n}` });
    const webinarAt = T0 + hours(48);
    const mails = async () => (await database.sql<{ body: string }>('SELECT body FROM mail_outbox ORDER BY body')).map((row) => row.body);

    const created = await runner.create('WebinarWorkflow', { email: 'ada@example.org', webinarAt });
    expect(await mails()).toEqual(['welcome ada@example.org']);
    expect(created.paths.map((p) => p.node)).toEqual(['send_reminder']);
    const [stored] = await database.sql<{ due_at: number }>('SELECT due_at FROM wayflow_automation_instances WHERE id = $1', [created.id]);
    expect(stored!.due_at).toBe(webinarAt - minutes(30));

    clock.advance(hours(24));
    await runner.runUntilIdle();
    expect(await mails()).toHaveLength(1);

    // A fresh runner on the same database: nothing lives in memory between steps.
    const later = createAutomationRunner({ storage: await database.storage(), clock, automations: [webinarWorkflow()] });
    clock.set(webinarAt - minutes(30));
    await later.runUntilIdle();
    expect(await mails()).toEqual(['reminder ada@example.org', 'welcome ada@example.org']);
    expect((await later.get(created.id)).dueAt).toBe(webinarAt + minutes(120));

    clock.advance(minutes(150));
    await later.runUntilIdle();
    const done = await later.get(created.id);
    expect(done.finished).toBe(true);
    expect(done.finishedAt).toBe(clock.now());
    expect(done.dueAt).toBeNull();
    expect((await later.history(created.id)).map((row) => [row.status, row.message, row.result])).toEqual([
      ['start', 'OK', null],
      ['send_welcome_mail', 'OK', { sent: 'welcome' }],
      ['send_reminder', 'OK', { sent: 'reminder' }],
      ['send_replay_offer', 'OK', { sent: 'replay' }],
      ['end', 'OK', null],
    ]);
    const keys = await database.sql<{ key: string }>('SELECT key FROM mail_outbox ORDER BY key');
    expect(keys.map((row) => row.key)).toEqual([`${created.id}:2`, `${created.id}:3`, `${created.id}:4`]);
  });

  it('undoes the writes of a failed node function made in automationSavepoint(), and commits the recorded error', async () => {
    await database.reset(['mail_outbox']);
    let fail = true;
    const def = defineAutomation('Charge', {
      nodes: {
        charge: flow
          .execute((ctx) =>
            automationSavepoint(async (sql) => {
              await sql.query('INSERT INTO mail_outbox (key, body) VALUES ($1, $2)', [ctx.idempotencyKey, 'charged']);
              if (fail) throw new Error('card declined');
            }),
          )
          .onError('retry'),
        done: flow.end(),
        retry: flow.execute().next('charge'),
      },
    });
    const clock = new ManualClock(T0);
    const storage = await database.storage();
    const runner = createAutomationRunner({ storage, clock, automations: [def], maxStepsPerRun: 3 });
    const { id } = await runner.create(def);
    // Each failed attempt's insert rolled back with the function's changes.
    expect(await database.sql('SELECT * FROM mail_outbox')).toEqual([]);
    expect((await runner.history(id)).filter((row) => row.status === 'charge').map((row) => row.message)).toEqual([
      'Error: card declined',
      'Error: card declined',
    ]);
    fail = false;
    await runner.run(id);
    expect(await database.sql('SELECT body FROM mail_outbox')).toEqual([{ body: 'charged' }]);
    expect((await runner.get(id)).finished).toBe(true);
  });

  it('refuses automationTransaction() outside a step', () => {
    expect(() => automationTransaction()).toThrow(NoAutomationTransactionError);
  });

  it('deletes finished instances older than the given days with their history, keeping newer and running ones', async () => {
    await database.reset();
    const clock = new ManualClock(T0);
    const quick = defineAutomation('Quick', { nodes: { work: flow.execute(), end: flow.end() } });
    const slow = defineAutomation('Slow', { nodes: { wait: flow.execute().afterWaitingFor(hours(24 * 90)), end: flow.end() } });
    const runner = createAutomationRunner({ storage: await database.storage(), clock, automations: [quick, slow] });
    const old = await runner.create(quick);
    const running = await runner.create(slow);
    clock.advance(hours(24 * 40));
    const recent = await runner.create(quick);
    expect(await runner.deleteHistory(30)).toEqual({ deleted: 3, automations: 1, tasks: 2 });
    expect((await runner.list()).map((r) => r.id).sort()).toEqual([running.id, recent.id].sort());
    expect(await runner.history(old.id)).toEqual([]);
    expect(await runner.history(recent.id)).toHaveLength(2);
    clock.advance(hours(24 * 31));
    expect(await runner.deleteHistory()).toEqual({ deleted: 3, automations: 1, tasks: 2 });
    expect((await runner.list()).map((r) => r.id)).toEqual([running.id]);
  });

  it('runs the in-process scheduler: a timer fires at its due time, not after a poll interval', async () => {
    await database.reset();
    const storage = await database.storage();
    const def = defineAutomation('Soon', { nodes: { wait: flow.execute().afterWaitingFor(150), end: flow.end() } });
    const runner = createAutomationRunner({ storage, clock: systemClock, automations: [def] });
    const scheduler = startAutomationScheduler({ runner, storage, maxSleepMs: 60_000 });
    try {
      // Created after the scheduler went to sleep: the commit wakes it for the new due time.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const created = await runner.create(def);
      const deadline = Date.now() + 5000;
      while (!(await runner.get(created.id)).finished && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const [wait] = await runner.history(created.id);
      expect(wait!.finished! - created.dueAt!).toBeGreaterThanOrEqual(0);
      // Loose bound for a loaded CI machine; the poll interval here is a minute.
      expect(wait!.finished! - created.dueAt!).toBeLessThan(1000);
    } finally {
      await scheduler.stop();
    }
    expect(scheduler.stats.errors).toBe(0);
  });
});

describe('wayflow step and delete-history on a PGlite data folder', () => {
  it('advances the due instances of the folder, then deletes the finished ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-automations-'));
    try {
      const { db } = await openAutomationDatabase({ dataDir: dir });
      const storage = await sqlAutomationStorage(db, { notify: false });
      const runner = createAutomationRunner({ storage, clock: systemClock, automations: [quick] });
      for (let i = 0; i < 3; i++) await runner.create('Quick', { i }, { autorun: false });
      await storage.close();

      const lines: string[] = [];
      const io = { env: {}, write: (line: string) => lines.push(line) };
      const fixture = join(import.meta.dirname, 'fixtures/quick-automations.ts');
      expect(await stepCommand(['--automations', fixture, '--data', dir], io)).toEqual({ advanced: 3, delivered: 0, flowRuns: 0, flowActions: 0 });
      expect(await deleteHistoryCommand(['--data', dir, '--days', '0'], io)).toEqual({ deleted: 9, automations: 3, tasks: 6 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
