import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowAction, FlowControl, type FlowDefinition, suspend, systemClock } from '../../../src/automations/index.ts';
import { automationTransaction, type SqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { objectBoundRuns, parentAndChild, waitForTriggerAcrossRestart } from '../../automations/flowcontrol-scenarios.ts';
import { runConferenceOnRunner } from '../../automations/ws-scenarios.ts';
import { type AutomationDb, postgresAutomationDb, FLOW_RUNS } from './db.ts';

// No skip: the global set-up provides a PostgreSQL (found or started); one that does not answer fails this file in beforeAll.
let database: AutomationDb;
const opened: SqlAutomationStorage[] = [];
beforeAll(async () => {
  database = await postgresAutomationDb();
  await database.sql('CREATE TABLE action_runs (key text PRIMARY KEY, runner text NOT NULL)');
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  await database?.close();
});
const storage = async () => {
  const s = await database.storage();
  opened.push(s);
  return s;
};
const flowStore = async () => {
  const s = await database.flowStore();
  opened.push(s);
  return s;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('workflow engines on PostgreSQL', () => {
  it('runs the django-ws conference example through the runner, a second pool completing it', async () => {
    await database.reset();
    await runConferenceOnRunner(await storage(), storage);
  });

  it('binds runs to an object type and object and holds the per-object limits, on PostgreSQL', async () => {
    await database.reset();
    await objectBoundRuns(flowStore);
  });

  it('keeps a run waiting for a trigger until the trigger fires for its object, on PostgreSQL', async () => {
    await database.reset();
    await waitForTriggerAcrossRestart(flowStore);
  });

  it('runs child flow runs (parent_run) on PostgreSQL', async () => {
    await database.reset();
    await parentAndChild(flowStore);
  });

  it('lets two processes race continueFlowRuns without running any action twice', async () => {
    await database.reset(['action_runs']);
    const invocations = new Map<string, number>();
    const flows = (runner: string): FlowDefinition[] => {
      const record = (name: string) =>
        flowAction(name, async (ctx) => {
          const key = `${ctx.runId}:${name}`;
          invocations.set(key, (invocations.get(key) ?? 0) + 1);
          await sleep(1);
          await automationTransaction().query('INSERT INTO action_runs (key, runner) VALUES ($1, $2)', [key, runner]);
        });
      return [{ name: 'batch', actions: [record('a'), flowAction('pause', (ctx) => suspend(ctx.now)), record('b'), record('c')] }];
    };
    const one = new FlowControl({ flows: flows('one'), store: await flowStore(), clock: systemClock });
    const two = new FlowControl({ flows: flows('two'), store: await flowStore(), clock: systemClock });
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).createRun('batch')));
    const drain = async (control: FlowControl) => {
      for (;;) {
        const moved = await control.continueFlowRuns(4);
        if (moved.length === 0) return;
      }
    };
    await Promise.all([drain(one), drain(two)]);

    const rows = await database.sql<{ status: string; n: number }>(`SELECT status, count(*)::integer AS n FROM ${FLOW_RUNS} GROUP BY status`);
    expect(rows).toEqual([{ status: 'done', n: 40 }]);
    expect(invocations.size).toBe(40 * 3);
    expect([...invocations.values()].every((n) => n === 1)).toBe(true);
    const byRunner = await database.sql<{ runner: string; n: number }>('SELECT runner, count(*)::integer AS n FROM action_runs GROUP BY runner ORDER BY runner');
    expect(byRunner.map((r) => r.runner)).toEqual(['one', 'two']);
    expect(byRunner.reduce((sum, r) => sum + r.n, 0)).toBe(120);
    expect(runs.every((r) => r !== null)).toBe(true);
  });

  it('holds a flow’s concurrency limit when two processes create runs at the same time', async () => {
    await database.reset();
    const flows: FlowDefinition[] = [{ name: 'nightly', maxConcurrent: 3, actions: [flowAction('work', (ctx) => suspend(ctx.now + 60_000))] }];
    const one = new FlowControl({ flows, store: await flowStore() });
    const two = new FlowControl({ flows, store: await flowStore() });
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).createRun('nightly')));
    expect(created.filter((r) => r !== null)).toHaveLength(3);
  });
});
