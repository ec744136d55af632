import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AutomationRuntime, openAutomationRuntime, startRuntimeScheduler } from '../../../src/server/automations/index.ts';
import { pgliteDatabase } from '../../../src/server/pglite.ts';
import type { SqlDatabase } from '../../../src/server/sql.ts';
import { chain } from './fixtures/chain-automations.ts';
import { relay, relayFlow } from './fixtures/three-models.ts';

const PER_MODEL = 8;
let runtime: AutomationRuntime;
let db: SqlDatabase;

beforeAll(async () => {
  db = pgliteDatabase(await PGlite.create());
  await db.query('CREATE TABLE effects (key text NOT NULL, node text NOT NULL, pid integer NOT NULL)');
  runtime = await openAutomationRuntime({ db, kind: 'pglite', automations: [chain, relay], flows: [relayFlow] });
});
afterAll(async () => {
  await runtime?.close();
});

describe('one runtime on PGlite', () => {
  it('keeps instances of both automation models and flowcontrol runs in one storage, driven by one scheduler loop', { timeout: 60_000 }, async () => {
    const automations = runtime.automations!;
    const flows = runtime.flows!;
    expect(flows.control.runner).toBe(automations.runner);
    for (let i = 0; i < PER_MODEL; i++) {
      await automations.runner.create(chain, { i }, { autorun: false });
      await automations.runner.create(relay, { i }, { autorun: false });
      await flows.control.createRun('RelayFlow');
    }
    const { scheduler, stop } = await startRuntimeScheduler(runtime, { maxSleepMs: 5000 });
    try {
      await vi.waitFor(
        async () => {
          expect((await automations.runner.list({ finished: true })).length).toBe(2 * PER_MODEL);
          expect((await automations.storage.transaction((tx) => tx.listRuns({ unfinished: true }))).length).toBe(0);
        },
        { timeout: 45_000, interval: 50 },
      );
    } finally {
      await stop();
    }
    const runs = await automations.storage.transaction((tx) => tx.listRuns({ flow: 'RelayFlow' }));
    expect(runs.map((run) => [run.status, run.log.map((entry) => entry.action)])).toEqual(Array(PER_MODEL).fill(['done', ['f1', 'pause', 'f2', 'f3']]));
    expect(scheduler.stats).toMatchObject({ advanced: expect.any(Number), flowActions: PER_MODEL * 4, errors: 0 });
    expect(scheduler.stats.advanced).toBeGreaterThanOrEqual(2 * PER_MODEL);
    // Every node step, ws activation and flow action committed its effect exactly once.
    const [effects] = await db.query<{ n: number; keys: number }>('SELECT count(*)::integer AS n, count(DISTINCT key)::integer AS keys FROM effects');
    expect(effects).toEqual({ n: PER_MODEL * (5 + 3 + 3), keys: PER_MODEL * (5 + 3 + 3) });
  });
});
