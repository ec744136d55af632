import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createAutomationRunner, defineAutomation, flow, type GroupStart, type InstanceRecord, MemoryAutomationStorage } from '../../../src/automations/index.ts';
import { START_GROUP_WAIT_MS, StartBatches } from '../../../src/server/sync/start-batches.ts';

const order = defineAutomation('Order', {
  nodes: {
    received: flow.execute((ctx) => {
      ctx.data.received = true;
    }),
    approve: flow.form(z.object({ ok: z.boolean() })),
    end: flow.end(),
  },
});

const start = (key: string): GroupStart => ({ automation: order, data: { key } });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A runner whose groups each wait for their `release` before they run: which starts went in which group, and when. */
function gatedRunner() {
  const runner = createAutomationRunner({ storage: new MemoryAutomationStorage(), automations: [order] });
  const groups: { keys: string[]; sentAt: number; release(): void }[] = [];
  const createGroup = runner.createGroup.bind(runner);
  vi.spyOn(runner, 'createGroup').mockImplementation(async (starts, options) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    groups.push({ keys: starts.map((s) => String(s.data?.key)), sentAt: performance.now(), release });
    await gate;
    return createGroup(starts, options);
  });
  return { runner, groups };
}

/** Waits (a few turns at most) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(1);
  expect(check()).toBe(true);
}

describe('StartBatches', () => {
  it('sends the starts of one turn at the end of that turn when no group is in flight', async () => {
    const { runner, groups } = gatedRunner();
    const batches = new StartBatches(runner);
    const started = [batches.create(start('a'), 'a'), batches.create(start('b'), 'b')];
    expect(groups).toEqual([]);
    await turn();
    expect(groups.map((g) => g.keys)).toEqual([['a', 'b']]);
    groups[0]!.release();
    const records = await Promise.all(started);
    expect(records.map((r) => [r.data.key, r.data.received, r.paths.map((p) => p.node)])).toEqual([
      ['a', true, ['approve']],
      ['b', true, ['approve']],
    ]);
  });

  it('gathers the starts of later turns behind a group in flight, and sends them as one group when it commits', async () => {
    const { runner, groups } = gatedRunner();
    const batches = new StartBatches(runner, undefined, 10_000);
    const started: Promise<InstanceRecord>[] = [batches.create(start('a'), 'a')];
    await turn();
    expect(groups.map((g) => g.keys)).toEqual([['a']]);
    // Three turns, one of them after a timer: all while the first group is in flight.
    started.push(batches.create(start('c'), 'c'));
    await turn();
    started.push(batches.create(start('b'), 'b'));
    await sleep(5);
    started.push(batches.create(start('d'), 'd'));
    await turn();
    expect(groups).toHaveLength(1);
    groups[0]!.release();
    await until(() => groups.length === 2);
    // Ordered by caller within the group.
    expect(groups[1]!.keys).toEqual(['b', 'c', 'd']);
    groups[1]!.release();
    expect((await Promise.all(started)).map((r) => r.data.key)).toEqual(['a', 'c', 'b', 'd']);
    expect(await runner.list({ automation: 'Order' })).toHaveLength(4);
  });

  it('waits at most START_GROUP_WAIT_MS behind a group in flight, then sends a second group; a third waits for one of them to end', async () => {
    const { runner, groups } = gatedRunner();
    const batches = new StartBatches(runner);
    const started: Promise<InstanceRecord>[] = [batches.create(start('a'), 'a')];
    await turn();
    const waitingFrom = performance.now();
    started.push(batches.create(start('b'), 'b'));
    await turn();
    expect(groups).toHaveLength(1);
    // The first group never ends meanwhile: the start behind it goes anyway, after the bound.
    await until(() => groups.length === 2);
    expect(groups[1]!.keys).toEqual(['b']);
    expect(groups[1]!.sentAt - waitingFrom).toBeGreaterThanOrEqual(START_GROUP_WAIT_MS - 1);
    // Two groups in flight: the next start waits for one of them to end, however long.
    started.push(batches.create(start('c'), 'c'));
    await sleep(3 * START_GROUP_WAIT_MS);
    expect(groups).toHaveLength(2);
    groups[1]!.release();
    await until(() => groups.length === 3);
    expect(groups[2]!.keys).toEqual(['c']);
    groups[0]!.release();
    groups[2]!.release();
    expect((await Promise.all(started)).map((r) => r.data.key)).toEqual(['a', 'b', 'c']);
  });

  it('answers each start of a group with its own outcome', async () => {
    const { runner, groups } = gatedRunner();
    const batches = new StartBatches(runner);
    const started = [batches.create(start('a'), 'a'), batches.create({ automation: 'Nope' }, 'b'), batches.create(start('c'), 'c')];
    await turn();
    groups[0]!.release();
    const outcomes = await Promise.allSettled(started);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).name).toBe('UnknownAutomationError');
  });
});
