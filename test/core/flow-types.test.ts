import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, type Flow, type FlowData, outcome, restoreTask, scaffold, type StepId, startTask, type TaskData } from '../../src/core/index.ts';
import { memoryLocation, memoryStore, openTask } from '../../src/persist/index.ts';

// Types are checked by `npm run typecheck`; the runtime assertions show the types say what the task holds.
const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email() }) });
const free = action({ id: 'free', title: 'Free plan' });
const pro = action({
  id: 'pro',
  title: 'Pro plan',
  schema: z.object({ seats: z.coerce.number().int().min(1) }),
  submit: (_data, { seats }) => outcome.complete({ price: seats * 10 }),
});
const plan = scaffold({ id: 'plan', title: 'Pick a plan', transitions: 'choice', children: [free, pro] });
const company = action({ id: 'company', title: 'Your company', schema: z.object({ name: z.string().min(1) }) });
const business = action({ id: 'business', title: 'Business', children: [company], submit: () => outcome.enter() });
const extra = scaffold({ id: 'extra', title: 'Extra', children: [business] });
const review = action({ id: 'review', title: 'Review' });
const signup = defineFlow({ id: 'signup', title: 'Sign up', children: [email, plan, extra, review] });

type Data = FlowData<typeof signup>;

describe('types inferred from a flow definition', () => {
  it('types a form action’s parsed input under its id, nested steps included', () => {
    expectTypeOf<Data['email']>().toEqualTypeOf<{ email: string } | undefined>();
    expectTypeOf<Data['company']>().toEqualTypeOf<{ name: string } | undefined>();
  });

  it('types the option picked in a choice under the choice id', () => {
    expectTypeOf<Data['plan']>().toEqualTypeOf<'free' | 'pro' | undefined>();
  });

  it('types what the outcomes of a submit merge in; an action with a submit stores nothing by itself', () => {
    expectTypeOf<Data['price']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Data['pro']>().toEqualTypeOf<unknown>();
    expectTypeOf<Data>().toExtend<TaskData>();
  });

  it('gives a key written by several outcomes or actions any of their types, and an untyped patch nothing', () => {
    const quote = action({
      id: 'quote',
      title: 'Quote',
      schema: z.object({ amount: z.number() }),
      targets: ['manual'],
      submit: (_data, { amount }, ctx) => (amount > 100 ? ctx.goTo('manual', { total: String(amount) }) : outcome.complete({ total: amount, fast: true })),
    });
    const manual = action({ id: 'manual', title: 'Manual', submit: () => outcome.complete({ total: 0n }) });
    const patch: Record<string, unknown> = { anything: 1 };
    const loose = action({ id: 'loose', title: 'Loose', submit: () => outcome.complete(patch) });
    const quoting = defineFlow({ id: 'quoting', title: 'Quoting', transitions: 'explicit', children: [quote, manual, loose] });
    type Q = FlowData<typeof quoting>;
    expectTypeOf<Q['total']>().toEqualTypeOf<string | number | bigint | undefined>();
    expectTypeOf<Q['fast']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<Q['anything']>().toEqualTypeOf<unknown>();
  });

  it('lists every action and scaffold of the flow as a step id', () => {
    expectTypeOf<StepId<typeof signup>>().toEqualTypeOf<'email' | 'plan' | 'free' | 'pro' | 'extra' | 'business' | 'company' | 'review'>();
  });

  it('falls back to plain data and string ids for a flow whose type is not known', () => {
    expectTypeOf<FlowData<Flow>>().toEqualTypeOf<TaskData>();
    expectTypeOf<StepId<Flow>>().toEqualTypeOf<string>();
  });

  it('types task.state.data of startTask and restoreTask, and refuses a misspelt step id', async () => {
    const store = memoryStore();
    const task = await startTask(signup, { store, data: { email: { email: 'ada@example.com' } } });
    await task.submit({ email: 'ada@example.com' });
    await task.submit({ choice: 'pro' });
    await task.submit({ seats: '3' });
    const { data } = task.state;
    expectTypeOf(data.email).toEqualTypeOf<{ email: string } | undefined>();
    expect(data.email?.email).toBe('ada@example.com');
    expectTypeOf(data.plan).toEqualTypeOf<'free' | 'pro' | undefined>();
    expect(data.plan).toBe('pro');
    expect(data.price).toBe(30);
    expectTypeOf(task.goTo).parameter(0).toEqualTypeOf<StepId<typeof signup>>();
    // @ts-expect-error a misspelt step id
    const misspelt = () => task.goTo('emial');
    expect(misspelt).toBeTypeOf('function');
    const restored = await restoreTask(signup, task.toRecord(), { store });
    expectTypeOf(restored.state.data).toEqualTypeOf<Data>();
    expect(restored.state.data.plan).toBe('pro');
  });

  it('refuses initial data of the wrong shape', async () => {
    // @ts-expect-error `email` holds the email step's parsed input
    const wrong = () => startTask(signup, { data: { email: 'ada@example.com' } });
    expect(wrong).toBeTypeOf('function');
  });

  it('types the task of openTask', async () => {
    const opened = await openTask(signup, { store: memoryStore(), location: memoryLocation('https://shop.test/signup'), tabs: false });
    if (opened.status !== 'ready') throw new Error(opened.status);
    expectTypeOf(opened.task.state.data).toEqualTypeOf<Data>();
    expectTypeOf(opened.task.flow).toEqualTypeOf(signup);
    opened.close();
  });
});
