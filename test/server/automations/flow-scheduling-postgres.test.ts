import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { flowAction, createAutomationRunner, FlowControl, type FlowRun, systemClock } from '../../../src/automations/index.ts';
import { type RunningAutomationScheduler, type SqlAutomationStorage, schedulerCommand, stepCommand } from '../../../src/server/automations/index.ts';
import { type AutomationDb, DATABASE_URL, postgresAutomationDb, FLOW_RUNS } from './db.ts';
import { quick } from './fixtures/quick-automations.ts';
import { reminder } from './fixtures/reminder-flows.ts';

/** The scheduler's longest sleep (its default `maxSleepMs`): a run started or resumed by a poll would be this late; one woken by its due time or a notification is far less, even on a loaded machine. */
const POLL_MS = 5000;

// No skip: the global set-up provides a PostgreSQL (found or started); one that does not answer fails this file in beforeAll.
const FLOWS = join(import.meta.dirname, 'fixtures/reminder-flows.ts');
const MIXED = join(import.meta.dirname, 'fixtures/mixed-automations.ts');
let database: AutomationDb;
let store: SqlAutomationStorage;
/** Another process's FlowControl on the shared database (its own pool). */
let control: FlowControl;
let schemaArgs: string[];
const io = { env: { DATABASE_URL }, write: () => undefined };
const running: RunningAutomationScheduler[] = [];

beforeAll(async () => {
  database = await postgresAutomationDb();
  await database.sql('CREATE TABLE flow_effects (run_id text NOT NULL, action text NOT NULL)');
  store = await database.flowStore();
  control = new FlowControl({ flows: [reminder], store, clock: systemClock });
  schemaArgs = ['--schema', database.schema!];
});
afterAll(async () => {
  await Promise.all(running.map((scheduler) => scheduler.stop()));
  await store?.close();
  await database?.close();
});
beforeEach(async () => {
  await database.reset(['flow_effects']);
});

async function scheduler(...extra: string[]): Promise<RunningAutomationScheduler> {
  const started = await schedulerCommand(['--automations', FLOWS, ...schemaArgs, '--log-level', 'warn', ...extra], io);
  running.push(started);
  return started;
}

const statuses = async () => database.sql<{ status: string; n: number }>(`SELECT status, count(*)::integer AS n FROM ${FLOW_RUNS} GROUP BY status ORDER BY status`);

describe('flowcontrol runs scheduled on PostgreSQL', () => {
  it('wayflow step continues every runnable flow run once, beside the automations of the same module', async () => {
    const pending = (await Promise.all([1, 2, 3].map(() => control.createRun('Reminder', { state: { delayMs: 60_000, effects: true } })))) as FlowRun[];
    const due = (await control.startRun('Reminder', { state: { delayMs: 0 } })) as FlowRun;
    const later = (await control.startRun('Reminder', { state: { delayMs: 60_000 } })) as FlowRun;
    const automationStorage = await database.storage();
    try {
      await createAutomationRunner({ storage: automationStorage, clock: systemClock, automations: [quick] }).create(quick, {}, { autorun: false });
    } finally {
      await automationStorage.close();
    }

    expect(await stepCommand(['--automations', MIXED, ...schemaArgs], io)).toEqual({ advanced: 1, delivered: 0, flowRuns: 4, flowActions: 7 });
    expect(await database.sql("SELECT finished FROM wayflow_automation_instances WHERE kind = 'automation'")).toEqual([{ finished: true }]);
    expect(await stepCommand(['--automations', FLOWS, ...schemaArgs], io)).toEqual({ advanced: 0, delivered: 0, flowRuns: 0, flowActions: 0 });
    for (const run of pending) expect(await control.get(run.id)).toMatchObject({ status: 'waiting', log: [{ action: 'greet' }, { action: 'pause' }] });
    expect((await control.get(due.id)).status).toBe('done');
    expect((await control.get(later.id)).log).toHaveLength(2);
    expect(await database.sql('SELECT action, count(*)::integer AS n FROM flow_effects GROUP BY action')).toEqual([{ action: 'greet', n: 3 }]);
  });

  it('wayflow step works through more runs than one claim holds, and leaves runs of flows the module does not export', async () => {
    const other = new FlowControl({ flows: [{ name: 'Other', actions: [flowAction('work', () => undefined)] }], store, clock: systemClock });
    const foreign = (await other.createRun('Other'))!;
    await Promise.all(Array.from({ length: 230 }, () => control.createRun('Reminder', { state: { delayMs: 60_000 } })));
    expect(await stepCommand(['--automations', FLOWS, ...schemaArgs], io)).toEqual({ advanced: 0, delivered: 0, flowRuns: 230, flowActions: 460 });
    expect(await statuses()).toEqual([
      { status: 'pending', n: 1 },
      { status: 'waiting', n: 230 },
    ]);
    expect(await database.sql(`SELECT claimed_by FROM ${FLOW_RUNS} WHERE id = $1`, [foreign.id])).toEqual([{ claimed_by: null }]);
  });

  it('the scheduler resumes SUSPENDed runs on their due time, not on a poll, woken by other processes', async () => {
    const started = await scheduler();
    // Created pending by another process: the NOTIFY of its insert wakes the scheduler, which runs it and sleeps until its due time.
    const created = (await control.createRun('Reminder', { state: { delayMs: 300 } })) as FlowRun;
    // Suspended by another process: the NOTIFY of its suspension tells the scheduler when to resume it.
    const suspended = (await control.startRun('Reminder', { state: { delayMs: 400 } })) as FlowRun;
    expect(suspended.status).toBe('waiting');
    await vi.waitFor(
      async () => {
        for (const run of [created, suspended]) expect((await control.get(run.id)).status).toBe('done');
      },
      { timeout: 5_000, interval: 20 },
    );
    const first = await control.get(created.id);
    expect((first.state.greetAt as number) - first.createdAt).toBeLessThan(POLL_MS / 2);
    for (const run of [first, await control.get(suspended.id)]) {
      const late = (run.state.remindAt as number) - (run.state.resumeAt as number);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(POLL_MS / 2);
    }
    expect(started.stats).toMatchObject({ flowActions: 4, errors: 0 });
    await started.stop();
  });

  it('two schedulers share the runs and never run one action twice', async () => {
    const one = await scheduler('--batch', '3');
    const two = await scheduler('--batch', '3');
    const RUNS = 60;
    await Promise.all(Array.from({ length: RUNS }, (_, i) => control.createRun('Reminder', { state: { delayMs: 20 + (i % 5) * 15, effects: true } })));
    await vi.waitFor(async () => expect(await statuses()).toEqual([{ status: 'done', n: RUNS }]), { timeout: 15_000, interval: 50 });
    await Promise.all([one.stop(), two.stop()]);

    const effects = await database.sql<{ run_id: string; action: string }>('SELECT run_id, action FROM flow_effects');
    expect(effects).toHaveLength(RUNS * 2);
    expect(new Set(effects.map((e) => `${e.run_id}:${e.action}`)).size).toBe(RUNS * 2);
    // Every action ran once in all: greet, pause, remind per run.
    expect(one.stats.flowActions + two.stats.flowActions).toBe(RUNS * 3);
    expect(one.stats.flowActions).toBeGreaterThan(0);
    expect(two.stats.flowActions).toBeGreaterThan(0);
    expect(one.stats.errors + two.stats.errors).toBe(0);
  });
});
