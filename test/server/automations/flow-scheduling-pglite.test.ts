import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FlowControl, type FlowRun, systemClock } from '../../../src/automations/index.ts';
import { loadAutomationModule, loadAutomations, sqlAutomationStorage, startAutomationScheduler, stepCommand } from '../../../src/server/automations/index.ts';
import { pgliteDatabase } from '../../../src/server/pglite.ts';
import type { LogEntry } from '../../../src/server/log.ts';
import { storedRun } from '../../automations/flowcontrol-scenarios.ts';
import { type AutomationDb, pgliteAutomationDb } from './db.ts';
import { reminder } from './fixtures/reminder-flows.ts';

/** The scheduler's longest sleep (its default `maxSleepMs`): a run started or resumed by a poll would be this late; one woken by its due time or a notification is far less, even on a loaded machine. */
const POLL_MS = 5000;

const FLOWS = join(import.meta.dirname, 'fixtures/reminder-flows.ts');
const MIXED = join(import.meta.dirname, 'fixtures/mixed-automations.ts');
let database: AutomationDb;

beforeAll(async () => {
  database = await pgliteAutomationDb();
});
afterAll(async () => {
  await database?.close();
});

/** A FlowControl on its own store of the given database. */
async function flowControl(db: { flowStore: AutomationDb['flowStore'] }) {
  const store = await db.flowStore({ notify: false });
  return { store, control: new FlowControl({ flows: [reminder], store, clock: systemClock }) };
}

describe('flowcontrol flows in the automations module', () => {
  it('loads flows and their triggers beside automations, and names a module that exports neither', async () => {
    const flowsOnly = await loadAutomationModule(FLOWS);
    expect(flowsOnly.automations).toEqual([]);
    expect(flowsOnly.flows.map((f) => f.name)).toEqual(['Reminder']);
    expect(flowsOnly.triggers).toEqual([{ name: 'user_created', label: 'User created', description: 'A user signed up' }]);

    const mixed = await loadAutomationModule(MIXED);
    expect(mixed.automations.map((d) => d.name)).toEqual(['Quick']);
    expect(mixed.flows.map((f) => f.name)).toEqual(['Reminder']);
    // Triggers a flow names without the module declaring them are registered under their name.
    expect(mixed.triggers).toEqual([{ name: 'user_created' }]);

    // loadAutomations returns only the automations: none for a module of flows.
    expect(await loadAutomations(FLOWS)).toEqual([]);
    expect((await loadAutomationModule(FLOWS)).flows).toEqual([reminder]);

    await expect(loadAutomationModule(join(import.meta.dirname, 'db.ts'))).rejects.toMatchObject({
      code: 'automations-module',
      message: expect.stringContaining('it exports no automation definition and no flowcontrol flow'),
    });
  });
});

describe('flowcontrol runs scheduled on PGlite', () => {
  // Opens the data folder four times (seed, two `wayflow step` processes, the check): ~4 s each on a quiet machine.
  it('wayflow step continues every runnable flow run once, in the data folder, and reports the actions', { timeout: 90_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-flow-step-'));
    try {
      const seed = await PGlite.create(dir);
      const store = await sqlAutomationStorage(pgliteDatabase(seed), { notify: false });
      const control = new FlowControl({ flows: [reminder], store, clock: systemClock });
      const pending = await Promise.all([1, 2, 3].map(() => control.createRun('Reminder', { state: { delayMs: 60_000 } })));
      // Greets and suspends until now: runnable again at once.
      const due = (await control.startRun('Reminder', { state: { delayMs: 0 } })) as FlowRun;
      const later = (await control.startRun('Reminder', { state: { delayMs: 60_000 } })) as FlowRun;
      expect([due.status, later.status]).toEqual(['waiting', 'waiting']);
      await store.close();

      const lines: Record<string, unknown>[] = [];
      const io = { env: {}, write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
      // Three pending runs: greet + pause each; the due run: remind (then done).
      expect(await stepCommand(['--automations', FLOWS, '--data', dir], io)).toEqual({ advanced: 0, delivered: 0, flowRuns: 4, flowActions: 7 });
      expect(lines).toEqual([expect.objectContaining({ msg: 'wayflow step', flowRuns: 4, flowActions: 7 })]);
      // Once: the runs the pass suspended for a minute are not continued again.
      expect(await stepCommand(['--automations', FLOWS, '--data', dir], io)).toEqual({ advanced: 0, delivered: 0, flowRuns: 0, flowActions: 0 });

      const check = await PGlite.create(dir);
      const after = new FlowControl({ flows: [reminder], store: await sqlAutomationStorage(pgliteDatabase(check), { notify: false }) });
      try {
        for (const run of pending) expect((await after.get(run!.id)).log.map((l) => l.action)).toEqual(['greet', 'pause']);
        expect(await after.get(due.id)).toMatchObject({ status: 'done', log: [{ action: 'greet' }, { action: 'pause' }, { action: 'remind' }] });
        expect((await after.get(later.id)).log).toHaveLength(2);
      } finally {
        await check.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the scheduler starts new runs at once and resumes SUSPENDed runs on their due time, not on a poll', async () => {
    await database.reset();
    const { store, control } = await flowControl(database);
    // maxSleepMs 5000 (the default): a poll would be seconds late.
    const scheduler = startAutomationScheduler({ runner: control.runner, storage: store });
    try {
      const delays = [250, 400, 150];
      const runs = (await Promise.all(delays.map((delayMs) => control.createRun('Reminder', { state: { delayMs } })))) as FlowRun[];
      await vi.waitFor(
        async () => {
          for (const run of runs) expect((await control.get(run.id)).status).toBe('done');
        },
        { timeout: 5_000, interval: 20 },
      );
      for (const { id } of runs) {
        const { state, createdAt } = await control.get(id);
        expect((state.greetAt as number) - createdAt).toBeLessThan(POLL_MS / 2);
        const late = (state.remindAt as number) - (state.resumeAt as number);
        expect(late).toBeGreaterThanOrEqual(0);
        expect(late).toBeLessThan(POLL_MS / 2);
      }
      expect(scheduler.stats).toMatchObject({ flowActions: 9, errors: 0 });
    } finally {
      await scheduler.stop();
    }
  });

  it('the scheduler logs a run the store holds in an inconsistent state, leaves it as it is and runs the others', async () => {
    await database.reset();
    const { store, control } = await flowControl(database);
    const broken = storedRun('broken', { flow: 'Reminder', status: 'waiting', position: [], continueAfter: Date.now() - 1000 });
    await store.transaction((tx) => tx.putRun(broken));
    const lines: LogEntry[] = [];
    const scheduler = startAutomationScheduler({ runner: control.runner, storage: store, logger: (entry) => lines.push(entry) });
    try {
      const run = (await control.createRun('Reminder', { state: { delayMs: 0 } })) as FlowRun;
      await vi.waitFor(async () => expect((await control.get(run.id)).status).toBe('done'), { timeout: 10_000, interval: 20 });
      await vi.waitFor(() => expect(lines.some((line) => line.msg === 'flowcontrol run refused')).toBe(true), { timeout: 10_000, interval: 20 });
      expect(lines.find((line) => line.msg === 'flowcontrol run refused')).toMatchObject({
        level: 'error',
        run: 'broken',
        code: 'flowcontrol-run-state',
        error: expect.stringContaining('Flow "Reminder", run broken: is waiting but stands at no action'),
      });
      expect(await control.get('broken')).toEqual(broken);
    } finally {
      await scheduler.stop();
    }
  });

  it('a scheduler without automations or flows is refused', () => {
    expect(() => startAutomationScheduler({} as never)).toThrow(expect.objectContaining({ code: 'automation-scheduler-options' }));
  });
});
