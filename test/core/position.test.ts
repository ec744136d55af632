import { describe, expect, it } from 'vitest';
import { action, defineFlow, scaffold, startTask } from '../../src/core/index.ts';
import { positionOf } from '../../src/core/position.ts';
import { memoryStore, migrateRecord, stepOfRecord } from '../../src/persist/index.ts';

const flow = defineFlow({
  id: 'order',
  title: 'Order',
  children: [
    action({ id: 'name', title: 'Name' }),
    scaffold({ id: 'method', title: 'How to pay', transitions: 'choice', children: [action({ id: 'card', title: 'Card' }), action({ id: 'bank', title: 'Bank' })] }),
  ],
});

describe('decoding a stored state value', () => {
  it('gives the step and its phase of a nested value, and no step at the flow’s end', () => {
    expect(positionOf({ order: { method: { card: '$ready' } } })).toEqual({ step: 'card', phase: '$ready' });
    expect(positionOf({ order: { method: '$choose' } })).toEqual({ step: 'method', phase: '$choose' });
    expect(positionOf('$completed')).toEqual({ step: null, phase: '$completed' });
    expect(positionOf('$aborted')).toEqual({ step: null, phase: '$aborted' });
  });

  it('stops at an empty object (a malformed stored value) instead of throwing, keeping the last key as the step', () => {
    expect(positionOf({ order: {} })).toEqual({ step: 'order', phase: {} });
    expect(positionOf({})).toEqual({ step: null, phase: {} });
  });

  it('is read the same by the task, the task list and a migration', async () => {
    const store = memoryStore();
    const task = await startTask(flow, { store, binder: 'me' });
    await task.submit();
    const record = task.toRecord();
    expect(task.state.step?.id).toBe('method');
    expect(stepOfRecord(record)).toBe('method');
    expect(await store.list('me')).toMatchObject([{ step: 'method' }]);
    expect(migrateRecord(flow, record).relocated).toBeNull();
    await task.abort();
    expect(stepOfRecord(task.toRecord())).toBeNull();
    expect(task.toRecord().history.at(-1)).toMatchObject({ from: 'method', to: '$aborted' });
  });
});
