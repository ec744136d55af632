import { describe, expect, it } from 'vitest';
import { createCheckoutFlow, demoServices } from '../../flows/checkout/index.ts';
import { progressOf } from '../../src/core/graph.ts';
import { action, defineFlow, outcome, scaffold, startTask } from '../../src/core/index.ts';

describe('progress along the current branch', () => {
  it('counts the checkout steps of the branch ahead, and follows the branch the user picks', async () => {
    const flow = createCheckoutFlow(demoServices());
    const task = await startTask(flow);
    const at = () => progressOf(flow, task.state);
    expect(at()).toMatchObject({ current: 1, total: 7 });
    expect(at().steps.map((s) => `${s.id}:${s.state}`)).toEqual([
      'product:current',
      'identify:upcoming',
      'login:upcoming',
      'pay:upcoming',
      'newMethod:upcoming',
      'card:upcoming',
      'confirm:upcoming',
    ]);
    await task.submit({ quantity: 1 });
    await task.submit({ choice: 'forgotPassword' });
    expect(at()).toMatchObject({ current: 3, total: 9 });
    expect(at().steps.slice(0, 5).map((s) => s.id)).toEqual(['product', 'identify', 'resetEmail', 'resetCode', 'resetPassword']);
  });

  it('counts nested scaffolds and the children an action returns from', async () => {
    const step = (id: string) => action({ id, title: id.toUpperCase() });
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [
        action({ id: 'p', title: 'P', children: [step('c1'), step('c2')], submit: () => outcome.enter() }),
        scaffold({ id: 's', title: 'S', children: [step('s1'), scaffold({ id: 't', title: 'T', children: [step('t1')] })] }),
      ],
    });
    const task = await startTask(flow);
    expect(progressOf(flow, task.state).steps.map((s) => s.id)).toEqual(['p', 's1', 't1']);
    await task.submit();
    expect(progressOf(flow, task.state)).toMatchObject({ current: 2, total: 5 });
    expect(progressOf(flow, task.state).steps.map((s) => s.id)).toEqual(['p', 'c1', 'c2', 's1', 't1']);
  });

  it('is complete when the task is', async () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [action({ id: 'a', title: 'A' }), action({ id: 'b', title: 'B' })] });
    const task = await startTask(flow);
    await task.submit();
    await task.submit();
    expect(progressOf(flow, task.state)).toMatchObject({ current: 2, total: 2 });
  });
});
