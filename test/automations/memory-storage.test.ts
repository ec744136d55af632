import { describe, expect, it } from 'vitest';
import { MemoryAutomationStorage } from '../../src/automations/index.ts';
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
});
