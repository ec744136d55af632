import { describe, expect, it } from 'vitest';
import {
  type AutomationStorage,
  type AutomationStorageTx,
  defineAutomation,
  flow,
  hours,
  ManualClock,
  MemoryAutomationStorage,
} from '../../src/automations/index.ts';
import { harness, T0 } from './harness.ts';

/** Storage whose next writing commit can be made to fail, like a process dying before COMMIT. */
class CrashingStorage implements AutomationStorage {
  crashNextCommit = false;
  constructor(private readonly inner: MemoryAutomationStorage) {}
  transaction<T>(work: (tx: AutomationStorageTx) => Promise<T>): Promise<T> {
    return this.inner.transaction(async (tx) => {
      let wrote = false;
      const watched: AutomationStorageTx = Object.create(tx);
      watched.putInstance = (record) => {
        wrote = true;
        return tx.putInstance(record);
      };
      const result = await work(watched);
      if (this.crashNextCommit && wrote) {
        this.crashNextCommit = false;
        throw new Error('process died before commit');
      }
      return result;
    });
  }
}

function counting(calls: string[]) {
  return defineAutomation('Counting', {
    nodes: {
      charge: flow.execute((ctx) => {
        calls.push(`charge ${ctx.idempotencyKey}`);
        return 'charged';
      }),
      ship: flow.execute(() => {
        calls.push('ship');
      }).afterWaitingFor(hours(1)),
      end: flow.end(),
    },
  });
}

describe('durability', () => {
  it('keeps timers in storage: a new runner on the same storage continues where the old one stopped', async () => {
    const calls: string[] = [];
    const storage = new MemoryAutomationStorage();
    const clock = new ManualClock(T0);
    const first = harness([counting(calls)], { storage, clock });
    const { id } = await first.runner.create('Counting');
    expect(calls).toEqual(['charge id1:1']);

    // The first process is gone; a fresh runner (no in-memory timers) picks the instance up when it is due.
    const second = harness([counting(calls)], { storage, clock });
    clock.advance(hours(1));
    await second.runner.runUntilIdle();
    expect(calls).toEqual(['charge id1:1', 'ship']);
    expect((await second.runner.get(id)).finished).toBe(true);
  });

  it('never runs a committed Execute again; a step whose commit failed runs again with the same idempotency key', async () => {
    const calls: string[] = [];
    const crashing = new CrashingStorage(new MemoryAutomationStorage());
    const clock = new ManualClock(T0);
    const def = counting(calls);
    const { runner } = harness([def], { storage: crashing as unknown as MemoryAutomationStorage, clock });
    const created = await runner.create(def, {}, { autorun: false });

    crashing.crashNextCommit = true;
    await expect(runner.stepAll()).rejects.toThrow('process died before commit');
    // The function ran but its step did not commit: the instance is still before "charge".
    expect(calls).toEqual(['charge id1:1']);
    expect((await runner.get(created.id)).paths[0]?.node).toBe('charge');
    expect(await runner.history(created.id)).toEqual([expect.objectContaining({ status: 'charge', finished: null })]);

    await runner.runUntilIdle();
    expect(calls).toEqual(['charge id1:1', 'charge id1:1']);
    clock.advance(hours(1));
    await runner.runUntilIdle();
    await runner.runUntilIdle();
    expect(calls).toEqual(['charge id1:1', 'charge id1:1', 'ship']);
    expect((await runner.history(created.id)).map((r) => [r.status, r.message])).toEqual([
      ['charge', 'OK'],
      ['ship', 'OK'],
      ['end', 'OK'],
    ]);
  });

  it('rolls a failed step back completely: data, history and queued messages', async () => {
    const crashing = new CrashingStorage(new MemoryAutomationStorage());
    const def = defineAutomation('Atomic', {
      nodes: {
        write: flow.execute((ctx) => {
          ctx.data.written = true;
        }),
        tell: flow.sendMessage({ automation: 'Atomic' }, 'noop'),
        end: flow.end(),
      },
      receivers: { noop: () => undefined },
    });
    const { runner } = harness([def], { storage: crashing as unknown as MemoryAutomationStorage });
    const { id } = await runner.create(def, {}, { autorun: false });
    crashing.crashNextCommit = true;
    await expect(runner.run(id)).rejects.toThrow();
    const after = await runner.get(id);
    expect(after.data.written).toBeUndefined();
    expect((await runner.history(id)).map((r) => r.finished)).toEqual([null]);
    await runner.run(id);
    expect((await runner.get(id)).finished).toBe(true);
  });

  it('two schedulers on one storage never run the same node twice', async () => {
    const calls: string[] = [];
    const storage = new MemoryAutomationStorage();
    const clock = new ManualClock(T0);
    const a = harness([counting(calls)], { storage, clock });
    const b = harness([counting(calls)], { storage, clock });
    const created = await Promise.all([1, 2, 3].map(() => a.runner.create('Counting', {}, { autorun: false })));
    await Promise.all([a.runner.stepAll(), b.runner.stepAll(), a.runner.stepAll()]);
    clock.advance(hours(1));
    await Promise.all([b.runner.runUntilIdle(), a.runner.runUntilIdle()]);
    expect(calls.filter((c) => c.startsWith('charge'))).toHaveLength(3);
    expect(calls.filter((c) => c === 'ship')).toHaveLength(3);
    for (const { id } of created) expect((await a.runner.get(id)).finished).toBe(true);
  });

  it('runs a long-running scheduler with an injected sleep instead of real timers', async () => {
    const calls: string[] = [];
    const { runner, clock } = harness([counting(calls)]);
    await runner.create('Counting');
    const stop = new AbortController();
    let sleeps = 0;
    await runner.runScheduler({
      intervalMs: 15 * 60_000,
      signal: stop.signal,
      sleep: async (ms) => {
        clock.advance(ms);
        if (++sleeps === 5) stop.abort();
      },
    });
    expect(calls).toEqual(['charge id1:1', 'ship']);
  });
});
