import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowAction, createAutomationRunner, FlowControl, ManualClock } from '../../../src/automations/index.ts';
import { automationTransaction } from '../../../src/server/automations/index.ts';
import { crashBetweenActions, immediateChild, inconsistentRunsRefused, objectBoundRuns, parentAndChild, suspendAcrossRestart, waitForTriggerAcrossRestart } from '../../automations/flowcontrol-scenarios.ts';
import { T0 } from '../../automations/harness.ts';
import { conferenceAutomation, runConferenceOnRunner } from '../../automations/ws-scenarios.ts';
import { type AutomationDb, pgliteAutomationDb, FLOW_RUNS } from './db.ts';

let database: AutomationDb;
beforeAll(async () => {
  database = await pgliteAutomationDb();
  await database.sql('CREATE TABLE flow_effects (key text PRIMARY KEY)');
});
afterAll(() => database?.close());

describe('django-ws workflows on the SQL storage (PGlite)', () => {
  it('runs the conference example through the runner, every activation a committed step', async () => {
    await database.reset();
    await runConferenceOnRunner(await database.storage(), () => database.storage());
    const [row] = await database.sql<{ automation: string; finished: boolean; state: string }>('SELECT automation, finished, state FROM wayflow_automation_instances');
    expect(row).toMatchObject({ automation: 'Organizing conference', finished: true });
    expect(JSON.parse(row?.state ?? '{}').data).toMatchObject({ channels: 3, total: 65 });
    const tasks = await database.sql<{ status: string; message: string }>("SELECT status, message FROM wayflow_automation_history WHERE status = 'Receive subscriptions' ORDER BY task_id");
    expect(tasks.map((t) => t.message)).toEqual(['OK', 'OK']);
  });

  it('keeps an instance waiting at an AND join in the database, with no due time', async () => {
    await database.reset();
    const runner = createAutomationRunner({ storage: await database.storage(), clock: new ManualClock(T0), automations: [conferenceAutomation([])] });
    const created = await runner.create('Organizing conference');
    await runner.submitForm(created.id, { node: 'Collect papers' }, { id: 'acc', groups: ['Accounting'] }, { papers: 3 });
    const [row] = await database.sql<{ due_at: number | null; state: string }>('SELECT due_at, state FROM wayflow_automation_instances');
    expect(row?.due_at).toBeNull();
    const paths = JSON.parse(row?.state ?? '{}').paths as { node: string; status: string; from: string }[];
    expect(paths.map((p) => [p.node, p.status, p.from])).toEqual([
      ['Search a location', 'form', null],
      ['Publicize', 'joined', 'Collect papers'],
    ]);
  });
});

describe('flowcontrol runs on the SQL AutomationStorage (PGlite)', () => {
  it('keeps a suspension across a restart and continues it when its time comes', async () => {
    await database.reset();
    await suspendAcrossRestart(() => database.flowStore());
    const [row] = await database.sql<{ status: string; continue_after: number | null }>(`SELECT status, continue_after FROM ${FLOW_RUNS}`);
    expect(row).toEqual({ status: 'done', continue_after: null });
  });

  it('commits one action per transaction: a crash repeats only the action in flight', async () => {
    await database.reset();
    // A run left pending by the crash stays claimed by the crashed execution for the claim time; none here, so the restart continues it at once.
    await crashBetweenActions(() => database.flowStore({ claimTimeoutMs: 0 }));
  });

  it('binds runs to an object type and object and holds the per-object limits (object_type, object_id columns)', async () => {
    await database.reset();
    await objectBoundRuns(() => database.flowStore());
    const rows = await database.sql<{ n: number }>(`SELECT count(*)::integer AS n FROM ${FLOW_RUNS} WHERE object_type = 'user' AND object_id = 'user:1'`);
    expect(rows).toEqual([{ n: 4 }]);
  });

  it('runs a child run started with immediate at once, each of its steps committed after the parent’s step', async () => {
    await database.reset();
    await immediateChild(() => database.flowStore());
  });

  it('refuses runs stored in an inconsistent state with FlowRunStateError, running the others', async () => {
    await database.reset();
    await inconsistentRunsRefused(() => database.flowStore());
  });

  it('keeps a run waiting for a trigger (no continue_after, its waiting_trigger column set) until the trigger fires for its object', async () => {
    await database.reset();
    await waitForTriggerAcrossRestart(() => database.flowStore());
    const rows = await database.sql<{ status: string; continue_after: number | null; waiting_trigger: string | null }>(
      `SELECT status, continue_after, waiting_trigger FROM ${FLOW_RUNS} ORDER BY seq`,
    );
    expect(rows).toEqual([
      { status: 'done', continue_after: null, waiting_trigger: null },
      { status: 'waiting', continue_after: null, waiting_trigger: 'order_paid' },
    ]);
  });

  it('starts child runs (parent_run) that run on their own and wake their waiting parent', async () => {
    await database.reset();
    await parentAndChild(() => database.flowStore());
    const rows = await database.sql<{ flow: string; parent_id: string | null }>(`SELECT flow, parent_id FROM ${FLOW_RUNS} ORDER BY seq`);
    expect(rows.map((r) => [r.flow, r.parent_id !== null])).toEqual([
      ['order', false],
      ['invoice', true],
      ['invoice', false],
      ['order', false],
    ]);
  });

  it('lets an action write through automationTransaction(), committed with its step', async () => {
    await database.reset(['flow_effects']);
    const control = new FlowControl({
      store: await database.flowStore(),
      clock: new ManualClock(T0),
      flows: [
        {
          name: 'effects',
          actions: [
            flowAction('record', async (ctx) => {
              await automationTransaction().query('INSERT INTO flow_effects (key) VALUES ($1)', [`${ctx.runId}:record`]);
            }),
            flowAction('fail', () => {
              throw new Error('payment declined');
            }),
          ],
        },
      ],
    });
    const run = await control.startRun('effects');
    expect(run).toMatchObject({ status: 'failed', error: 'Error: payment declined' });
    expect(await database.sql('SELECT key FROM flow_effects')).toEqual([{ key: `${run?.id}:record` }]);
  });
});
