import { describe, expect, it } from 'vitest';
import {
  flowAction,
  FlowActionNameError,
  type FlowDefinition,
  FlowDirective,
  FlowTriggerNameError,
  hours,
  MAX_TRIGGER_NAME_LENGTH,
  MemoryAutomationStorage,
  suspend,
  updateState,
  waitForTrigger,
} from '../../src/automations/index.ts';
import { manualFlowControl, mark, waitForTriggerAcrossRestart } from './flowcontrol-scenarios.ts';
import { T0 } from './harness.ts';

const checkout: FlowDefinition = {
  name: 'checkout',
  actions: [mark('order'), waitForTrigger('wait for payment', 'order_paid'), mark('ship')],
};

describe('Wait for trigger', () => {
  it('suspends the run with no time: continuing runs does not run it, however late', async () => {
    const { control, clock } = manualFlowControl([checkout]);
    const run = await control.startRun('checkout', { objectId: 'order:1' });
    expect(run).toMatchObject({ status: 'waiting', continueAfter: null, waitingTrigger: 'order_paid', state: { trail: ['order'] } });
    clock.advance(hours(24 * 365));
    expect(await control.continueFlowRuns()).toEqual([]);
  });

  it('firing the trigger for the run’s object makes it continue with the next action on the next continue pass', async () => {
    const { control } = manualFlowControl([checkout]);
    const run = await control.startRun('checkout', { objectId: 'order:1' });
    const resumed = await control.triggerFlows('order_paid', { objectId: 'order:1' });
    expect(resumed.map((r) => [r.id, r.status, r.waitingTrigger])).toEqual([[run?.id, 'waiting', null]]);
    const [done] = await control.continueFlowRuns();
    expect(done).toMatchObject({ id: run?.id, status: 'done', state: { trail: ['order', 'ship'] } });
  });

  it('an immediate firing runs the resumed runs at once', async () => {
    const { control } = manualFlowControl([checkout]);
    await control.startRun('checkout', { objectId: 'order:1' });
    const [done] = await control.triggerFlows('order_paid', { objectId: 'order:1', immediate: true });
    expect(done).toMatchObject({ status: 'done', state: { trail: ['order', 'ship'] } });
  });

  it('requires the object by default: a firing for another object, or without object, leaves the run waiting', async () => {
    const { control } = manualFlowControl([checkout]);
    const run = await control.startRun('checkout', { objectId: 'order:1' });
    expect(await control.triggerFlows('order_paid', { objectId: 'order:2' })).toEqual([]);
    expect(await control.triggerFlows('order_paid')).toEqual([]);
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'waiting', waitingTrigger: 'order_paid' });
  });

  it('a run without object is resumed by a firing without object', async () => {
    const { control } = manualFlowControl([checkout]);
    const run = await control.startRun('checkout');
    expect(await control.triggerFlows('order_paid', { objectId: 'order:1' })).toEqual([]);
    expect((await control.triggerFlows('order_paid')).map((r) => r.id)).toEqual([run?.id]);
  });

  it('with requireObject: false any firing of the trigger resumes the run', async () => {
    const flow = { name: 'digest', actions: [waitForTrigger('wait for the newsletter', 'newsletter_sent', { requireObject: false }), mark('read')] };
    const { control } = manualFlowControl([flow]);
    const a = await control.startRun('digest', { objectId: 'user:1' });
    const b = await control.startRun('digest', { objectId: 'user:2' });
    const resumed = await control.triggerFlows('newsletter_sent', { immediate: true });
    expect(resumed.map((r) => [r.id, r.status])).toEqual([
      [a?.id, 'done'],
      [b?.id, 'done'],
    ]);
  });

  it('a trigger both starts the flows declaring it and resumes the runs waiting for it', async () => {
    const { control } = manualFlowControl([checkout, { name: 'receipt', actions: [mark('send receipt')], triggers: ['order_paid'] }]);
    const waiting = await control.startRun('checkout', { objectId: 'order:1' });
    const touched = await control.triggerFlows('order_paid', { objectId: 'order:1' });
    expect(touched.map((r) => [r.flow, r.id === waiting?.id])).toEqual([
      ['checkout', true],
      ['receipt', false],
    ]);
  });

  it('a parent waiting for a trigger keeps waiting when its child finishes', async () => {
    const parent = { name: 'parent', actions: [flowAction('spawn', async (ctx) => void (await ctx.startChild('child'))), waitForTrigger('wait', 'go'), mark('after')] };
    const { control } = manualFlowControl([parent, { name: 'child', actions: [mark('child')] }]);
    const run = await control.startRun('parent');
    await control.continueFlowRuns();
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'waiting', continueAfter: null, waitingTrigger: 'go' });
  });

  it('keeps the wait across a restart on the store', async () => {
    const store = new MemoryAutomationStorage();
    await waitForTriggerAcrossRestart(async () => store);
  });
});

describe('triggers that reset a run to an action', () => {
  const reminders: FlowDefinition = {
    name: 'reminders',
    triggers: ['signed_up', { name: 'profile_changed', resetTo: 'remind' }],
    actions: [mark('welcome'), flowAction('remind', (ctx) => {
      ctx.state.reminded = ((ctx.state.reminded as number) ?? 0) + 1;
      return suspend(ctx.now + hours(24));
    }), mark('done')],
  };

  it('resets the newest unfinished run of the flow for the object to the action, with the trigger’s state', async () => {
    const { control, clock } = manualFlowControl([reminders]);
    const [run] = await control.triggerFlows('signed_up', { objectId: 'user:1', immediate: true });
    expect(run).toMatchObject({ status: 'waiting', continueAfter: T0 + hours(24), state: { reminded: 1 } });
    clock.advance(hours(1));
    const [reset] = await control.triggerFlows('profile_changed', { objectId: 'user:1', state: { reminded: 10 } });
    expect(reset).toMatchObject({ id: run?.id, status: 'waiting', continueAfter: T0 + hours(1), position: [1], resume: 'repeat', trigger: 'profile_changed' });
    const [again] = await control.continueFlowRuns();
    expect(again).toMatchObject({ id: run?.id, status: 'waiting', continueAfter: T0 + hours(25), state: { reminded: 11 } });
    expect(again?.state.trail).toBeUndefined();
  });

  it('creates no run when the flow has no unfinished run for the object', async () => {
    const { control } = manualFlowControl([reminders]);
    await control.triggerFlows('signed_up', { objectId: 'user:1', immediate: true });
    expect(await control.triggerFlows('profile_changed', { objectId: 'user:2' })).toEqual([]);
  });

  it('lists a run once when the trigger both resumes it and resets it', async () => {
    const flow: FlowDefinition = {
      name: 'f',
      triggers: [{ name: 'changed', resetTo: 'start' }],
      actions: [mark('start'), waitForTrigger('wait', 'changed'), mark('end')],
    };
    const { control } = manualFlowControl([flow]);
    const run = await control.startRun('f', { objectId: 'a' });
    const touched = await control.triggerFlows('changed', { objectId: 'a', immediate: true });
    expect(touched.map((r) => [r.id, r.status, r.state.trail])).toEqual([[run?.id, 'waiting', ['start', 'start']]]);
  });

  it('refuses a resetTo that names no action, or an action the flow has twice', () => {
    const flow = (resetTo: string): FlowDefinition => ({ name: 'f', triggers: [{ name: 't', resetTo }], actions: [mark('a'), mark('b'), mark('b')] });
    expect(() => manualFlowControl([flow('missing')])).toThrow(FlowActionNameError);
    expect(() => manualFlowControl([flow('missing')])).toThrow('Flow "f": trigger "t" (resetTo) names action "missing", which the flow has not.');
    expect(() => manualFlowControl([flow('b')])).toThrow(/has 2 times/);
  });
});

describe('trigger conditions', () => {
  it('starts a flow only when its trigger condition holds for the object and state fired with', async () => {
    const flow: FlowDefinition = {
      name: 'vip welcome',
      triggers: [{ name: 'signed_up', condition: ({ state }) => state.plan === 'pro' }],
      actions: [updateState('greet', { greeted: true })],
    };
    const { control } = manualFlowControl([flow]);
    expect(await control.triggerFlows('signed_up', { objectId: 'user:1', state: { plan: 'free' } })).toEqual([]);
    expect((await control.triggerFlows('signed_up', { objectId: 'user:2', state: { plan: 'pro' } })).map((r) => r.objectId)).toEqual(['user:2']);
  });
});

describe('trigger activation', () => {
  it('an inactive trigger of a flow starts nothing until its activeAt time', async () => {
    const flow: FlowDefinition = { name: 'f', triggers: [{ name: 'go', activeAt: T0 + hours(1) }, { name: 'never', activeAt: null }], actions: [updateState('s', { ran: true })] };
    const { control, clock } = manualFlowControl([flow]);
    expect(await control.triggerFlows('go')).toEqual([]);
    expect(await control.triggerFlows('never')).toEqual([]);
    clock.advance(hours(1));
    expect((await control.triggerFlows('go')).map((r) => r.flow)).toEqual(['f']);
  });
});

describe('registered triggers', () => {
  it('a trigger registered with an object type (the seed’s model) fires for objects of that type', async () => {
    const { control } = manualFlowControl([{ name: 'f', actions: [waitForTrigger('wait', 'paid'), mark('after')] }]);
    const paid = control.registerTrigger('paid', { label: 'Order paid', objectType: 'order' });
    expect(control.listTriggers()).toEqual([{ name: 'paid', label: 'Order paid', description: '', objectType: 'order' }]);
    const order = await control.startRun('f', { objectId: '7', objectType: 'order' });
    const invoice = await control.startRun('f', { objectId: '7', objectType: 'invoice' });
    expect((await paid({ objectId: '7', immediate: true })).map((r) => [r.id, r.status])).toEqual([[order?.id, 'done']]);
    expect(await control.get(invoice?.id as string)).toMatchObject({ status: 'waiting' });
  });
});

describe('trigger names', () => {
  it('refuses an empty, an over-long or a duplicate trigger name with a typed error', () => {
    const { control } = manualFlowControl([]);
    expect(() => control.registerTrigger('')).toThrow(FlowTriggerNameError);
    const long = 'x'.repeat(MAX_TRIGGER_NAME_LENGTH + 1);
    expect(() => control.registerTrigger(long)).toThrow(/is 101 characters long, more than 100/);
    control.registerTrigger('x'.repeat(MAX_TRIGGER_NAME_LENGTH));
    control.registerTrigger('user_created');
    try {
      control.registerTrigger('user_created');
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: 'FlowTriggerNameError', code: 'flowcontrol-trigger-name', trigger: 'user_created' });
      expect((error as Error).message).toBe(
        'registerTrigger: trigger name "user_created" is registered twice. Give each trigger one non-empty name of at most 100 characters.',
      );
    }
  });

  it('refuses bad trigger names in a flow definition and in Wait for trigger', () => {
    expect(() => manualFlowControl([{ name: 'f', triggers: ['a', { name: 'a' }], actions: [] }])).toThrow('Flow "f": trigger name "a" is registered twice');
    expect(() => manualFlowControl([{ name: 'f', triggers: [''], actions: [] }])).toThrow(FlowTriggerNameError);
    expect(() => waitForTrigger('wait', '')).toThrow('Action "wait": trigger name is empty');
  });

  it('fails a run whose action waits for a trigger name that is not one', async () => {
    const { control } = manualFlowControl([{ name: 'f', actions: [flowAction('bad', () => ({ directive: FlowDirective.SUSPEND, trigger: '' }))] }]);
    const run = await control.startRun('f');
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/action "bad" returned a wait for trigger "" \(string\), not a trigger name of 1 to 100 characters/);
  });
});
