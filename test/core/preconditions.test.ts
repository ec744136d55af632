import { describe, expect, it } from 'vitest';
import {
  action,
  defineFlow,
  orGoTo,
  outcome,
  PreconditionError,
  precondition,
  requiredState,
  scaffold,
  signedIn,
  startTask,
} from '../../src/core/index.ts';

const step = (id: string, extra: Partial<Parameters<typeof action>[0]> = {}) => action({ id, title: id, ...extra });

describe('requiredState', () => {
  it('lets the step show once the keys are in the task data', async () => {
    const pick = step('pick', { submit: () => outcome.complete({ item: 'book' }) });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [pick, step('pay', { preconditions: [requiredState('item')] })] }));
    expect((await task.submit()).ok).toBe(true);
    expect(task.state.step?.id).toBe('pay');
  });

  it('refuses the move with an error naming the flow, the step and the condition when there is no fallback', async () => {
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('pick'), step('pay', { preconditions: [requiredState('item', 'price')] })] }));
    const result = await task.submit();
    expect(result).toMatchObject({ ok: false, error: expect.any(PreconditionError) });
    expect(result.ok === false && result.error).toMatchObject({
      code: 'precondition-failed',
      flowId: 'f',
      step: 'pay',
      condition: 'requiredState(item, price)',
    });
    expect(task.state.step?.id).toBe('pick');
  });

  it('treats null like a missing key', async () => {
    const test = requiredState('a').test;
    expect(test({ data: { a: null }, user: null })).toBe(false);
    expect(test({ data: { a: 0 }, user: null })).toBe(true);
  });

  it('goes to the declared fallback instead of showing the step', async () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [step('intro'), step('choose'), step('pay', { preconditions: [orGoTo(requiredState('choice'), 'choose')] })],
    });
    const task = await startTask(flow);
    await task.submit();
    await task.submit();
    expect(task.state.step).toMatchObject({ id: 'choose', visit: 2 });
    expect(task.state.visited).toEqual(['intro', 'choose']);
  });

  it('refuses to start a flow whose first step is blocked', async () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [step('pay', { preconditions: [requiredState('item')] })] });
    await expect(startTask(flow)).rejects.toMatchObject({ code: 'precondition-failed', step: 'pay' });
    expect((await startTask(flow, { data: { item: 1 } })).state.step?.id).toBe('pay');
  });
});

describe('signedIn', () => {
  const login = step('login', { submit: () => outcome.complete(undefined, { id: 'u1' }) });
  const flow = defineFlow({
    id: 'shop',
    title: 'Shop',
    transitions: 'explicit',
    children: [
      step('browse', { targets: ['account'], submit: (_d, _i, { goTo }) => goTo('account') }),
      step('account', { preconditions: [orGoTo(signedIn(), 'login')] }),
      login,
    ],
  });

  it('sends a signed-out user to the sign-in fallback', async () => {
    const task = await startTask(flow);
    await task.submit();
    expect(task.state.step?.id).toBe('login');
  });

  it('shows the step to a signed-in user', async () => {
    const task = await startTask(flow, { user: { id: 'u1' } });
    await task.submit();
    expect(task.state.step?.id).toBe('account');
  });

  it('sees a user signed in by an outcome, or through setUser', async () => {
    const task = await startTask(flow);
    expect(task.state.user).toBeNull();
    await task.setUser({ id: 'u2' });
    await task.submit();
    expect(task.state).toMatchObject({ user: { id: 'u2' }, step: { id: 'account' } });
  });
});

describe('custom preconditions', () => {
  const adult = precondition('adult', ({ data }) => Number(data.age) >= 18);

  it('names the custom condition when it fails', async () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [step('age'), step('drinks', { preconditions: [adult] })] });
    const task = await startTask(flow);
    const result = await task.submit({ years: 12 });
    expect(result.ok === false && result.error).toMatchObject({ condition: 'adult', step: 'drinks' });
    expect(result.ok === false && result.message).toMatch(/step "drinks" cannot be shown: precondition "adult" fails/);
  });

  it('hides the options of a choice whose preconditions fail', async () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [scaffold({ id: 'menu', title: 'Menu', transitions: 'choice', children: [step('juice'), step('wine', { preconditions: [adult] })] })],
    });
    const kid = await startTask(flow, { data: { age: 12 } });
    expect(kid.state.step?.options.map((o) => o.id)).toEqual(['juice']);
    expect(await kid.submit({ choice: 'wine' })).toMatchObject({ ok: false, errors: { choice: ['Choose one of: juice'] } });
    const grownup = await startTask(flow, { data: { age: 40 } });
    expect(grownup.state.step?.options.map((o) => o.id)).toEqual(['juice', 'wine']);
  });

  it('guards a whole scaffold', async () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [step('age', { submit: (_d, input) => outcome.complete({ age: input }) }), scaffold({ id: 'bar', title: 'Bar', preconditions: [adult], children: [step('order')] })],
    });
    const task = await startTask(flow);
    expect(await task.submit(15)).toMatchObject({ ok: false, error: { step: 'bar', condition: 'adult' } });
    expect(await task.submit(21)).toEqual({ ok: true });
    expect(task.state.step?.id).toBe('order');
  });
});

describe('fallbacks to an enclosing scaffold', () => {
  it('restart the scaffold from its first child', async () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [scaffold({ id: 's', title: 'S', children: [step('first'), step('second', { preconditions: [orGoTo(requiredState('ok'), 's')] })] })],
    });
    const task = await startTask(flow);
    await task.submit();
    expect(task.state.step).toMatchObject({ id: 'first', visit: 2 });
  });
});
