import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/core/store.ts';
import { type FunnelTask, funnelsOf } from '../../../src/server/funnel/model.ts';
import { silentLogger } from '../../../src/server/log.ts';
import { startSweeper } from '../../../src/server/sweeper.ts';
import { pgliteHarness, postgresHarness, type StorageHarness } from '../harness.ts';

const STEPS = ['cart', 'address', 'pay', 'card', 'paypal', 'review'];
const EVENTS = ['start', 'submit', 'auto', 'error', 'resume', 'back', 'goto', 'refused', 'fork', 'abort', 'migrate'];
const FIELDS = ['email', 'card', 'name', 'zip'];

/** One random history entry, `at` relative to the previous one. */
const entryArb = fc.record({
  wait: fc.integer({ min: 0, max: 50 }),
  event: fc.constantFrom(...EVENTS),
  from: fc.option(fc.constantFrom(...STEPS), { nil: null, freq: 6 }),
  to: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...STEPS) }, { weight: 1, arbitrary: fc.constantFrom('$completed', '$aborted') }),
  fields: fc.uniqueArray(fc.constantFrom(...FIELDS), { maxLength: 3 }),
});

/** A random stored task: flow, version, creation time, history and its idle deadlines (server and client clocks). */
const taskArb = fc.record({
  flowId: fc.constantFrom('checkout', 'checkout', 'signup'),
  flowVersion: fc.integer({ min: 1, max: 2 }),
  createdAt: fc.integer({ min: 0, max: 1000 }),
  entries: fc.array(entryArb, { maxLength: 8 }),
  idleUntil: fc.integer({ min: 0, max: 3000 }),
  expiresAt: fc.integer({ min: 0, max: 3000 }),
});
/** A drawn entry: how long after the previous one, and what it says. */
interface DrawnEntry {
  wait: number;
  event: string;
  from: string | null;
  to: string;
  fields: string[];
}

/** A task as stored for the test: its row's deadlines and its record's fields. */
interface StoredTask {
  flowId: string;
  flowVersion: number;
  createdAt: number;
  history: HistoryEntry[];
  idleUntil: number;
  expiresAt: number;
}

/** The history of drawn entries, starting at `createdAt`; only a refused submission names fields. */
function historyOf(entries: DrawnEntry[], createdAt: number): HistoryEntry[] {
  let at = createdAt;
  return entries.map((entry): HistoryEntry => {
    at += entry.wait;
    const written: HistoryEntry = { at, event: entry.event, from: entry.from, to: entry.to, actor: null };
    if (entry.event === 'refused') written.fields = entry.fields;
    return written;
  });
}

async function store(harness: StorageHarness, tasks: StoredTask[]) {
  await harness.reset();
  for (const [i, task] of tasks.entries()) {
    const record = { id: `task-${i}`, flowId: task.flowId, flowVersion: task.flowVersion, createdAt: task.createdAt, lastActiveAt: task.createdAt, history: task.history };
    await harness.sql(
      `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until)
       VALUES ($1, $2, 'b', 1, $3, $4, $5, $6, $7)`,
      [`owner-${i % 3}`, `task-${i}`, JSON.stringify(record), JSON.stringify({ flowId: task.flowId, step: null }), task.createdAt, task.expiresAt, task.idleUntil],
    );
  }
}

const modelTasks = (tasks: StoredTask[], flowId: string, now: number): FunnelTask[] =>
  tasks
    .filter((task) => task.flowId === flowId)
    .map((task) => ({ flowVersion: task.flowVersion, createdAt: task.createdAt, history: task.history, ended: task.idleUntil <= now || task.expiresAt <= now }));

describe.each([
  ['PGlite', pgliteHarness],
  ['PostgreSQL', () => postgresHarness()],
] as [string, () => Promise<StorageHarness>][])('the funnel on %s', (_, open) => {
  let harness: StorageHarness;
  beforeAll(async () => {
    harness = await open();
  }, 60_000);
  afterAll(() => harness.close());

  it('counts what the model counts over random histories, before and after the sweeper deletes the expired tasks', async () => {
    const stored = fc.array(
      taskArb.map(({ entries, ...task }): StoredTask => ({ ...task, history: historyOf(entries, task.createdAt) })),
      { maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(stored, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 0, max: 3000 }), async (tasks, since, span, sweepAt) => {
        await store(harness, tasks);
        const window = { since, until: since + span };
        const now = 3000;
        const expected = funnelsOf('checkout', modelTasks(tasks, 'checkout', now), window);
        expect(await harness.storage.funnels('checkout', window, now)).toEqual(expected);
        await harness.storage.sweepExpired(sweepAt);
        expect(await harness.storage.funnels('checkout', window, now)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  }, 120_000);

  it('keeps the outcome of a swept or deleted task, written with its delete; an unreadable row is deleted without one', async () => {
    const history = historyOf([{ wait: 0, event: 'start', from: null, to: 'cart', fields: [] }, { wait: 5, event: 'submit', from: 'cart', to: 'pay', fields: [] }], 100);
    const task = { flowId: 'checkout', flowVersion: 3, createdAt: 100, history, idleUntil: 500, expiresAt: 500 };
    await store(harness, [task, { ...task, idleUntil: 2000, expiresAt: 2000 }, task]);
    await harness.sql("UPDATE wayflow_tasks SET record = 'not json' WHERE id = 'task-2'");
    expect(await harness.storage.sweepExpired(1000)).toBe(2);
    expect(await harness.storage.remove('owner-1', 'task-1', 'b')).toBe(true);
    const kept = await harness.sql<Record<string, unknown>>('SELECT owner, id, flow_id, flow_version, created_at, ended_at, ended_by, last_step, history FROM wayflow_task_outcomes ORDER BY id');
    expect(kept).toEqual([
      { owner: 'owner-0', id: 'task-0', flow_id: 'checkout', flow_version: 3, created_at: 100, ended_at: 1000, ended_by: 'expired', last_step: 'pay', history },
      { owner: 'owner-1', id: 'task-1', flow_id: 'checkout', flow_version: 3, created_at: 100, ended_at: expect.any(Number), ended_by: 'deleted', last_step: 'pay', history },
    ]);
    expect(await harness.sql('SELECT id FROM wayflow_tasks')).toEqual([]);
  });

  it('counts, sweeps and deletes tasks whose flow, steps and actor hold a NUL (no PostgreSQL text can), keeping U+FFFD in their outcomes', async () => {
    const history = historyOf([{ wait: 0, event: 'start', from: null, to: 'ca\0rt', fields: [] }, { wait: 5, event: 'submit', from: 'ca\0rt', to: 'pay', fields: [] }], 100);
    history[0]!.actor = 'u\0';
    const odd = { flowId: 'check\0out', flowVersion: 1, createdAt: 100, history, idleUntil: 500, expiresAt: 500 };
    const plain = { ...odd, flowId: 'checkout', history: historyOf([{ wait: 0, event: 'start', from: null, to: 'cart', fields: [] }], 100), idleUntil: 2000, expiresAt: 2000 };
    await store(harness, [odd, { ...odd, idleUntil: 2000, expiresAt: 2000 }, plain]);
    const window = { since: 0, until: 1000 };
    expect(await harness.storage.funnels('checkout', window, 300)).toEqual(funnelsOf('checkout', modelTasks([plain], 'checkout', 300), window));
    // The funnel of the flow as PostgreSQL can name it counts both tasks, their steps named with U+FFFD.
    const named = { ...odd, flowId: 'check\uFFFDout', history: JSON.parse(JSON.stringify(history).replaceAll('\\u0000', '\\ufffd')) as HistoryEntry[] };
    const asNamed = [named, { ...named, idleUntil: 2000, expiresAt: 2000 }];
    expect(await harness.storage.funnels(named.flowId, window, 300)).toEqual(funnelsOf(named.flowId, modelTasks(asNamed, named.flowId, 300), window));
    expect(await harness.storage.sweepExpired(1000)).toBe(1);
    expect(await harness.storage.remove('owner-1', 'task-1', 'b')).toBe(true);
    const kept = await harness.sql<Record<string, unknown>>('SELECT id, flow_id, last_step, history FROM wayflow_task_outcomes ORDER BY id');
    const written = [{ at: 100, event: 'start', from: null, to: 'ca\uFFFDrt', actor: 'u\uFFFD' }, { at: 105, event: 'submit', from: 'ca\uFFFDrt', to: 'pay', actor: null }];
    expect(kept).toEqual([
      { id: 'task-0', flow_id: 'check\uFFFDout', last_step: 'pay', history: written },
      { id: 'task-1', flow_id: 'check\uFFFDout', last_step: 'pay', history: written },
    ]);
  });

  it('forgets the outcomes that ended before the retention, and only those, in the periodic sweep', async () => {
    const history = historyOf([{ wait: 0, event: 'start', from: null, to: 'cart', fields: [] }], 100);
    const task = { flowId: 'checkout', flowVersion: 1, createdAt: 100, history, idleUntil: 500, expiresAt: 500 };
    await store(harness, [task, { ...task, idleUntil: 1500, expiresAt: 1500 }]);
    expect(await harness.storage.sweepExpired(1000)).toBe(1);
    expect(await harness.storage.sweepExpired(2000)).toBe(1);
    const sweeper = startSweeper({ storage: harness.storage, intervalMs: 60_000, logger: silentLogger, clock: () => 2500, outcomeRetentionMs: 1000 });
    await sweeper.sweepNow();
    await sweeper.stop();
    expect(await harness.sql('SELECT ended_at FROM wayflow_task_outcomes')).toEqual([{ ended_at: 2000 }]);
  });
});
