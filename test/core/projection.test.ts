import { describe, expect, it } from 'vitest';
import { action, compile, defineFlow, scaffold, signedIn, startTask } from '../../src/core/index.ts';
import { describeTask, statusOf, stepView, summaryOf } from '../../src/core/projection.ts';

const flow = defineFlow({
  id: 'order',
  title: 'Order',
  children: [
    action({ id: 'name', title: 'Name' }),
    scaffold({
      id: 'method',
      title: 'How to pay',
      transitions: 'choice',
      children: [action({ id: 'card', title: 'Card' }), action({ id: 'invoice', title: 'Invoice', preconditions: [signedIn()] })],
    }),
  ],
});
const { model } = compile(flow);

describe('the pictures of a task, as pure functions', () => {
  it('tells the status from the phase', () => {
    expect((['$ready', '$choose', '$suspended', '$suspendedRepeat', '$completed', '$aborted'] as const).map(statusOf)).toEqual([
      'active',
      'active',
      'suspended',
      'suspended',
      'completed',
      'aborted',
    ]);
  });

  it('draws the same state the task hands out, from its snapshot and what is in flight', async () => {
    const task = await startTask(flow);
    await task.submit({ name: 'Ada' });
    const record = task.toRecord();
    const snapshot = { value: record.snapshot.value, context: { ...record.snapshot.context, data: record.data } };
    const feedback = { errors: {}, message: null, error: null };
    expect(describeTask(model, snapshot, false, feedback, record.version)).toEqual(task.state);
    expect(describeTask(model, snapshot, true, { ...feedback, message: 'wait' }, record.version)).toMatchObject({ pending: true, message: 'wait', step: { id: 'method' } });
  });

  it('offers a choice only the options whose preconditions pass now', async () => {
    const task = await startTask(flow);
    await task.submit({});
    const context = { ...task.toRecord().snapshot.context, data: {} };
    expect(stepView(model, 'method', '$choose', { ...context, user: null }).options.map((o) => o.id)).toEqual(['card']);
    expect(stepView(model, 'method', '$choose', { ...context, user: { id: 'u1' } }).options.map((o) => o.id)).toEqual(['card', 'invoice']);
    expect(stepView(model, 'method', '$choose', context)).toMatchObject({ kind: 'choice', url: '/method', title: 'How to pay' });
  });

  it('sums a record up for task lists, with no step once it ended', async () => {
    const task = await startTask(flow);
    expect(summaryOf(task.toRecord())).toEqual({ id: task.id, flowId: 'order', step: 'name', lastActiveAt: expect.any(Number), expiresAt: expect.any(Number) });
    await task.abort();
    expect(summaryOf(task.toRecord()).step).toBeNull();
  });
});
