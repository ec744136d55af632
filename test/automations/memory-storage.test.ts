import { describe, expect, it } from 'vitest';
import { flowAction, FlowControl, ManualClock, MemoryAutomationStorage } from '../../src/automations/index.ts';
import { automationStorageContract, record } from './storage-contract.ts';

automationStorageContract('memory', () => new MemoryAutomationStorage());

describe('MemoryAutomationStorage', () => {
  it('runs transactions one at a time, in the order they were started', async () => {
    const storage = new MemoryAutomationStorage();
    const order: string[] = [];
    const slow = storage.transaction(async (tx) => {
      order.push('slow start');
      await new Promise((resolve) => setImmediate(resolve));
      await tx.insertInstance(record({ id: 'a' }));
      order.push('slow end');
    });
    const fast = storage.transaction(async (tx) => {
      order.push('fast');
      return tx.getInstance('a');
    });
    await slow;
    expect((await fast)?.id).toBe('a');
    expect(order).toEqual(['slow start', 'slow end', 'fast']);
  });

  it('keeps flowcontrol runs beside automation instances, and rolls both back together', async () => {
    const storage = new MemoryAutomationStorage();
    const control = new FlowControl({ store: storage, clock: new ManualClock(0), newId: () => 'run-1', flows: [{ name: 'f', actions: [flowAction('a', () => undefined)] }] });
    const run = await control.createRun('f');
    await expect(
      storage.transaction(async (tx) => {
        await tx.insertInstance(record({ id: 'i1' }));
        await tx.putRun({ ...run!, status: 'done' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await storage.transaction(async (tx) => [await tx.getInstance('i1'), (await tx.getRun('run-1'))?.status])).toEqual([null, 'pending']);
    expect((await control.execute('run-1')).status).toBe('done');
    expect(await storage.transaction((tx) => tx.dueInstances(0, 10))).toEqual([]);
  });
});
