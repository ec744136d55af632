import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, type Flow, type FlowData, outcome, restoreTask, scaffold, type StepId, startTask, type TaskData } from '../../src/core/index.ts';
import { memoryLocation, memoryStore, openTask } from '../../src/persist/index.ts';

// Types are checked by `npm run typecheck`; the runtime assertions show the types say what the task holds.
const details = action({ id: 'details', title: 'About you', schema: z.object({ name: z.string().min(1), age: z.coerce.number().int() }) });
const business = action({
  id: 'business',
  title: 'Business',
  schema: z.object({ vat: z.string().min(1) }),
  submit: (_data, { vat }) => outcome.complete({ fee: vat.length }),
});
const kind = scaffold({ id: 'kind', title: 'What kind of account?', transitions: 'choice', children: [action({ id: 'personal', title: 'Personal' }), business] });
const company = action({ id: 'company', title: 'Your company', schema: z.object({ name: z.string().min(1) }) });
const checks = action({ id: 'checks', title: 'Checks', children: [company], submit: () => outcome.enter() });
const account = defineFlow({
  id: 'account',
  title: 'Open an account',
  children: [details, kind, scaffold({ id: 'extra', title: 'Extra', children: [checks] }), action({ id: 'review', title: 'Review' })],
});

type Data = FlowData<typeof account>;

describe('types inferred from a flow definition', () => {
  it('types a form action’s parsed input under its id, nested steps included', () => {
    expectTypeOf<Data['details']>().toEqualTypeOf<{ name: string; age: number } | undefined>();
    expectTypeOf<Data['company']>().toEqualTypeOf<{ name: string } | undefined>();
  });

  it('types the option picked in a choice under the choice id', () => {
    expectTypeOf<Data['kind']>().toEqualTypeOf<'personal' | 'business' | undefined>();
  });

  it('types what the outcomes of a submit merge in; an action with a submit stores nothing by itself', () => {
    expectTypeOf<Data['fee']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Data['business']>().toEqualTypeOf<unknown>();
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
    expectTypeOf<StepId<typeof account>>().toEqualTypeOf<'details' | 'kind' | 'personal' | 'business' | 'extra' | 'checks' | 'company' | 'review'>();
  });

  it('falls back to plain data and string ids for a flow whose type is not known', () => {
    expectTypeOf<FlowData<Flow>>().toEqualTypeOf<TaskData>();
    expectTypeOf<StepId<Flow>>().toEqualTypeOf<string>();
  });

  it('types task.state.data of startTask and restoreTask, and refuses a misspelt step id', async () => {
    const store = memoryStore();
    const task = await startTask(account, { store, data: { details: { name: 'Ada', age: 35 } } });
    await task.submit({ name: 'Ada', age: '36' });
    await task.submit({ choice: 'business' });
    await task.submit({ vat: 'DE123' });
    const { data } = task.state;
    expectTypeOf(data.details).toEqualTypeOf<{ name: string; age: number } | undefined>();
    expect(data.details?.age).toBe(36);
    expectTypeOf(data.kind).toEqualTypeOf<'personal' | 'business' | undefined>();
    expect(data.kind).toBe('business');
    expectTypeOf(data.fee).toEqualTypeOf<number | undefined>();
    expect(data.fee).toBe(5);
    expectTypeOf(task.goTo).parameter(0).toEqualTypeOf<StepId<typeof account>>();
    // @ts-expect-error a misspelt step id
    const misspelt = () => task.goTo('detials');
    expect(misspelt).toBeTypeOf('function');
    const restored = await restoreTask(account, task.toRecord(), { store });
    expectTypeOf(restored.state.data).toEqualTypeOf<Data>();
    expect(restored.state.data.kind).toBe('business');
  });

  it('refuses initial data of the wrong shape', async () => {
    // @ts-expect-error `details` holds the details step's parsed input
    const wrong = () => startTask(account, { data: { details: 'Ada' } });
    expect(wrong).toBeTypeOf('function');
  });

  it('types the task of openTask', async () => {
    const opened = await openTask(account, { store: memoryStore(), location: memoryLocation('https://bank.test/open'), tabs: false });
    if (opened.status !== 'ready') throw new Error(opened.status);
    expectTypeOf(opened.task.state.data).toEqualTypeOf<Data>();
    expectTypeOf(opened.task.flow).toEqualTypeOf(account);
    opened.close();
  });
});
