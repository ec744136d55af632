import { expect } from 'vitest';
import {
  flowAction,
  FlowControl,
  type FlowDefinition,
  FlowDirective,
  type FlowRun,
  FlowRunStateError,
  type AutomationStorage,
  hours,
  ManualClock,
  minutes,
  suspend,
  startFlow,
  suspendAndRepeat,
  waitForTrigger,
} from '../../src/automations/index.ts';
import { T0 } from './harness.ts';

/** An action that appends its name (and the loop counter `i`, when set) to `state.trail`. */
export const mark = (name: string) =>
  flowAction(name, (ctx) => {
    const entry = ctx.state.i === undefined ? name : `${name}${ctx.state.i as number}`;
    ctx.state.trail = [...((ctx.state.trail as string[]) ?? []), entry];
  });

/** A FlowControl over in-memory runs with a manual clock at T0 and readable run ids (`run1`, `run2`, …). */
export function manualFlowControl(flows: FlowDefinition[], maxHotLoop?: number) {
  const clock = new ManualClock(T0);
  let n = 0;
  const control = new FlowControl({ flows, clock, newId: () => `run${++n}`, maxHotLoop });
  return { control, clock };
}

/** A store whose commits fail while `crash.armed` is set: the transaction rolls back, as if the process died before COMMIT. */
export function crashingStore(inner: AutomationStorage, crash: { armed: boolean }): AutomationStorage {
  return {
    transaction: (work) =>
      inner.transaction(async (tx) => {
        const result = await work(tx);
        if (crash.armed) {
          crash.armed = false;
          throw new Error('simulated crash before COMMIT');
        }
        return result;
      }),
  };
}

/**
 * A triggered run bound to an object suspends; a new FlowControl on the same store (a
 * restarted process) continues it when its durable time comes.
 */
export async function suspendAcrossRestart(open: () => Promise<AutomationStorage>): Promise<void> {
  const clock = new ManualClock(T0);
  const flows = () => [
    {
      name: 'onboarding',
      triggers: ['user_created'],
      maxConcurrentPerObject: 1,
      actions: [
        flowAction('welcome', (ctx) => {
          ctx.state.welcomed = ctx.objectId;
        }),
        flowAction('wait a day', () => suspend(T0 + hours(24))),
        flowAction('follow up', (ctx) => {
          ctx.state.followedUp = true;
        }),
      ],
    },
  ];
  const first = new FlowControl({ flows: flows(), store: await open(), clock });
  const userCreated = first.registerTrigger('user_created');
  const [run] = await userCreated({ objectId: 'user:1', immediate: true });
  expect(run).toMatchObject({ status: 'waiting', continueAfter: T0 + hours(24), state: { welcomed: 'user:1' }, trigger: 'user_created' });
  expect(await userCreated({ objectId: 'user:1' })).toEqual([]);

  const restarted = new FlowControl({ flows: flows(), store: await open(), clock });
  clock.advance(hours(23));
  expect(await restarted.continueFlowRuns()).toEqual([]);
  clock.advance(hours(1));
  const [done] = await restarted.continueFlowRuns();
  expect(done).toMatchObject({ id: run?.id, status: 'done', state: { welcomed: 'user:1', followedUp: true }, finishedAt: T0 + hours(24) });
  expect(done?.log.map((l) => `${l.action}:${l.directive}`)).toEqual(['welcome:continue', 'wait a day:suspend', 'follow up:continue']);
}

/** Each action is its own transaction: a crash during an action rolls back only that action, which runs again; earlier ones never do. */
export async function crashBetweenActions(open: () => Promise<AutomationStorage>): Promise<void> {
  const calls: string[] = [];
  const counted = (name: string) =>
    flowAction(name, (ctx) => {
      calls.push(name);
      ctx.state[name] = ((ctx.state[name] as number) ?? 0) + 1;
    });
  const crash = { armed: false };
  const clock = new ManualClock(T0);
  const store = await open();
  const arm = flowAction('arm', () => {
    crash.armed = true;
  });
  const flows = [{ name: 'pipeline', actions: [counted('a'), arm, counted('b'), counted('c')] }];
  const control = new FlowControl({ flows, store: crashingStore(store, crash), clock });
  const run = await control.createRun('pipeline');
  await expect(control.execute(run?.id as string)).rejects.toThrow(/simulated crash/);
  // a committed; the step of "arm" rolled back.
  expect(await control.get(run?.id as string)).toMatchObject({ status: 'pending', position: [1], resume: 'repeat', state: { a: 1 } });
  const restarted = new FlowControl({ flows, store: await open(), clock });
  const [done] = await restarted.continueFlowRuns();
  expect(done).toMatchObject({ status: 'done', state: { a: 1, b: 1, c: 1 } });
  expect(calls).toEqual(['a', 'b', 'c']);
}

/**
 * parent_run: a child run started by an action is created in the parent's step and runs on
 * its own; the parent runs on meanwhile. A parent that wants the child's result suspends and
 * repeats; the child finishing makes it due at once.
 */
export async function parentAndChild(open: () => Promise<AutomationStorage>): Promise<void> {
  const clock = new ManualClock(T0);
  const flows = [
    {
      name: 'invoice',
      maxConcurrent: 1,
      actions: [
        flowAction('bill', (ctx) => {
          ctx.state.total = (ctx.state.items as number) * 10;
        }),
      ],
    },
    {
      name: 'order',
      actions: [
        flowAction('start invoice', async (ctx) => {
          const child = await ctx.startChild('invoice', { objectId: ctx.objectId ?? undefined, state: { items: 3 } });
          ctx.state.invoice = child?.id ?? null;
        }),
        flowAction('pack', (ctx) => {
          // The parent is not blocked: it runs while the child is still pending.
          ctx.state.childWhilePacking = ctx.children.map((c) => c.status);
        }),
        flowAction('await invoice', (ctx) => {
          const child = ctx.children.find((c) => c.id === ctx.state.invoice);
          if (child?.status !== 'done') return suspendAndRepeat(ctx.now + hours(1));
          ctx.state.total = child.state.total;
          return FlowDirective.CONTINUE;
        }),
      ],
    },
  ];
  const control = new FlowControl({ flows, store: await open(), clock });
  const parent = await control.startRun('order', { objectId: 'order:7' });
  expect(parent).toMatchObject({ status: 'waiting', continueAfter: T0 + hours(1), state: { childWhilePacking: ['pending'] } });
  const [child] = await control.children(parent?.id as string);
  expect(child).toMatchObject({ id: parent?.state.invoice, flow: 'invoice', parentId: parent?.id, objectId: 'order:7', status: 'pending' });

  clock.advance(minutes(5));
  const continued = await control.continueFlowRuns();
  // The child ran and finished; that made the waiting parent due at once (not after the hour).
  expect(continued.map((r) => [r.flow, r.status])).toEqual([['invoice', 'done']]);
  expect((await control.get(parent?.id as string)).continueAfter).toBe(T0 + minutes(5));
  const [finished] = await control.continueFlowRuns();
  expect(finished).toMatchObject({ id: parent?.id, status: 'done', state: { total: 30 } });

  // A child is subject to its flow's limits: while one invoice is unfinished, startChild gets null.
  const blocker = await control.createRun('invoice', { state: { items: 1 } });
  const second = await control.startRun('order');
  expect(second?.state.invoice).toBeNull();
  expect(await control.children(second?.id as string)).toEqual([]);
  await control.cancel(blocker?.id as string);
}

/**
 * Wait for trigger: a run waits with no time (never picked by continueFlowRuns); a restarted
 * process fires the trigger for the run's object and the run goes on with its next action.
 */
export async function waitForTriggerAcrossRestart(open: () => Promise<AutomationStorage>): Promise<void> {
  const clock = new ManualClock(T0);
  const flows = () => [
    {
      name: 'checkout',
      actions: [
        flowAction('order', (ctx) => {
          ctx.state.ordered = true;
        }),
        waitForTrigger('wait for payment', 'order_paid'),
        flowAction('ship', (ctx) => {
          ctx.state.shipped = true;
        }),
      ],
    },
  ];
  const first = new FlowControl({ flows: flows(), store: await open(), clock });
  const run = await first.startRun('checkout', { objectId: 'order:1' });
  const other = await first.startRun('checkout', { objectId: 'order:2' });
  expect(run).toMatchObject({ status: 'waiting', continueAfter: null, waitingTrigger: 'order_paid' });
  clock.advance(hours(48));
  const restarted = new FlowControl({ flows: flows(), store: await open(), clock });
  expect(await restarted.continueFlowRuns()).toEqual([]);
  const [done] = await restarted.triggerFlows('order_paid', { objectId: 'order:1', immediate: true });
  expect(done).toMatchObject({ id: run?.id, status: 'done', state: { ordered: true, shipped: true }, waitingTrigger: null });
  expect(await restarted.get(other?.id as string)).toMatchObject({ status: 'waiting', waitingTrigger: 'order_paid' });
  expect(await restarted.triggerFlows('order_paid', { objectId: 'order:1' })).toEqual([]);
}

/**
 * Flows bound to an object type and object: a run for another type is not created; the
 * per-object limits (concurrent, by default 1, and in all) count runs of the same object;
 * cancelRunsForObject cancels the object's unfinished runs of every flow and no other.
 */
export async function objectBoundRuns(open: () => Promise<AutomationStorage>): Promise<void> {
  const clock = new ManualClock(T0);
  const wait = flowAction('wait a day', (ctx) => suspend(ctx.now + hours(24)));
  const flows = [
    { name: 'onboarding', objectType: 'user', maxPerObject: 2, actions: [wait] },
    { name: 'audit', maxConcurrentPerObject: 0, actions: [wait] },
  ];
  const control = new FlowControl({ flows, store: await open(), clock });
  const first = await control.createRun('onboarding', { objectId: 'user:1' });
  expect(first).toMatchObject({ objectId: 'user:1', objectType: 'user' });
  // The seed's default: one unfinished run per object.
  expect(await control.createRun('onboarding', { objectId: 'user:1' })).toBeNull();
  expect(await control.createRun('onboarding', { objectId: 'order:1', objectType: 'order' })).toBeNull();
  expect(await control.createRun('onboarding', { objectId: 'user:2' })).toMatchObject({ objectType: 'user' });
  // maxConcurrentPerObject: 0 lifts the limit.
  const audits = [await control.createRun('audit', { objectId: 'user:1', objectType: 'user' }), await control.createRun('audit', { objectId: 'user:1', objectType: 'user' })];
  expect(audits.every((run) => run !== null)).toBe(true);
  await control.createRun('audit', { objectId: 'user:1', objectType: 'account' });

  const cancelled = await control.cancelRunsForObject('user:1', 'user');
  expect(cancelled.map((run) => [run.flow, run.status]).sort()).toEqual([
    ['audit', 'cancelled'],
    ['audit', 'cancelled'],
    ['onboarding', 'cancelled'],
  ]);
  const left = await control.continueFlowRuns();
  expect(left.map((run) => [run.flow, run.objectId, run.objectType])).toEqual([
    ['onboarding', 'user:2', 'user'],
    ['audit', 'user:1', 'account'],
  ]);
  // The second run of user:1 is allowed (the first was cancelled); a third is not (maxPerObject: 2, finished runs count).
  const second = await control.startRun('onboarding', { objectId: 'user:1' });
  expect(second).toMatchObject({ status: 'waiting' });
  await control.cancel(second?.id as string);
  expect(await control.createRun('onboarding', { objectId: 'user:1' })).toBeNull();
  // Without a type, every run with that id is cancelled.
  expect((await control.cancelRunsForObject('user:1')).map((run) => [run.flow, run.objectType])).toEqual([['audit', 'account']]);
}

/**
 * Start new flow with `immediate`: the child run executes as soon as the parent's step that
 * created it commits, before the parent's next action, which sees the child finished.
 */
export async function immediateChild(open: () => Promise<AutomationStorage>): Promise<void> {
  const clock = new ManualClock(T0);
  const flows = [
    {
      name: 'invoice',
      actions: [
        flowAction('total', (ctx) => {
          ctx.state.total = (ctx.state.items as number) * 10;
        }),
      ],
    },
    {
      name: 'order',
      actions: [
        startFlow('start invoice', 'invoice', { passState: true, immediate: true }),
        flowAction('read invoice', (ctx) => {
          ctx.state.invoice = ctx.children.map((child) => [child.status, child.state.total]);
        }),
      ],
    },
  ];
  const control = new FlowControl({ flows, store: await open(), clock });
  const parent = await control.startRun('order', { state: { items: 3 } });
  expect(parent).toMatchObject({ status: 'done', state: { items: 3, invoice: [['done', 30]] } });
  const [child] = await control.children(parent?.id as string);
  expect(child).toMatchObject({ status: 'done', parentId: parent?.id });
  // Through continueFlowRuns too: the child's actions count in the batch, and nothing is left for the next pass.
  await control.createRun('order', { state: { items: 1 } });
  const batch = await control.continueFlowRunBatch();
  expect(batch.runs.map((run) => [run.flow, run.status, run.state.invoice])).toEqual([['order', 'done', [['done', 10]]]]);
  expect(batch.actions).toBe(3);
  expect(await control.continueFlowRuns()).toEqual([]);
}

/** A run record as a store might hold it, for tests that plant broken ones. */
export function storedRun(id: string, fields: Partial<FlowRun>): FlowRun {
  return {
    id,
    flow: 'pipeline',
    status: 'pending',
    position: [],
    resume: 'next',
    continueAfter: null,
    state: {},
    objectId: null,
    trigger: null,
    createdAt: T0,
    finishedAt: null,
    error: null,
    log: [],
    parentId: null,
    loops: {},
    ...fields,
  };
}

/**
 * Runs a store holds in an inconsistent state (waiting with neither time nor trigger, waiting at
 * no action) are refused with FlowRunStateError and left as they are; continueFlowRuns runs the
 * others and reports the refused ones.
 */
export async function inconsistentRunsRefused(open: () => Promise<AutomationStorage>): Promise<void> {
  const clock = new ManualClock(T0 + minutes(1));
  const store = await open();
  const flows = [{ name: 'pipeline', actions: [flowAction('a', () => undefined), flowAction('b', () => undefined)] }];
  const control = new FlowControl({ flows, store, clock });
  const noTime = storedRun('no-time', { status: 'waiting', position: [0], continueAfter: null });
  const noAction = storedRun('no-action', { status: 'waiting', position: [], continueAfter: T0 });
  const fine = storedRun('fine', { createdAt: T0 + 1 });
  await store.transaction(async (tx) => {
    for (const run of [noTime, noAction, fine]) await tx.putRun(run);
  });
  await expect(control.execute('no-time')).rejects.toBeInstanceOf(FlowRunStateError);
  await expect(control.execute('no-time')).rejects.toThrow(
    'Flow "pipeline", run no-time: is waiting but has neither a continueAfter time nor a trigger it waits for; it was not run. Reset it (control.reset) or cancel it (control.cancel).',
  );
  await expect(control.execute('no-action')).rejects.toMatchObject({ code: 'flowcontrol-run-state', runId: 'no-action', message: expect.stringContaining('is waiting but stands at no action') });

  const batch = await control.continueFlowRunBatch();
  expect(batch.runs.map((run) => [run.id, run.status])).toEqual([['fine', 'done']]);
  expect(batch.refused.map((error) => error.runId)).toEqual(['no-action']);
  expect(await control.get('no-time')).toEqual(noTime);
  expect(await control.get('no-action')).toEqual(noAction);
  // A reset makes a refused run consistent again.
  await control.reset('no-action', { to: 'b' });
  expect(await control.execute('no-action')).toMatchObject({ status: 'done', log: [{ action: 'b' }] });
}
