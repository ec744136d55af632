import { describe, expect, it } from 'vitest';
import {
  flowAction,
  days,
  delay,
  delayUntil,
  type FlowAction,
  FlowActionConfigError,
  FlowActionStateError,
  forLoop,
  hours,
  ifCondition,
  leaveBranch,
  returnToParent,
  setState,
  startFlow,
  stopFlow,
  updateState,
  whileLoop,
} from '../../src/automations/index.ts';
import { manualFlowControl, mark } from './flowcontrol-scenarios.ts';
import { T0 } from './harness.ts';

async function run(actions: FlowAction[], state: Record<string, unknown> = {}) {
  const { control } = manualFlowControl([{ name: 'f', actions }]);
  return control.startRun('f', { state });
}

describe('built-in actions (django-flowcontrol "Concepts": the built-in actions)', () => {
  it('If Condition runs its sub-actions when the condition holds, then goes on after itself', async () => {
    const flow = [ifCondition('pro?', (ctx) => ctx.state.plan === 'pro', [mark('gift'), mark('thanks')]), mark('after')];
    expect((await run(flow, { plan: 'pro' }))?.state.trail).toEqual(['gift', 'thanks', 'after']);
    expect((await run(flow, { plan: 'free' }))?.state.trail).toEqual(['after']);
  });

  it('If Condition with an else branch runs exactly one branch and leaves no internal key behind', async () => {
    const flow = [ifCondition('pro?', (ctx) => ctx.state.plan === 'pro', [mark('gift')], [mark('coupon')]), mark('after')];
    const pro = await run(flow, { plan: 'pro' });
    expect(pro?.state).toEqual({ plan: 'pro', trail: ['gift', 'after'] });
    const free = await run(flow, { plan: 'free' });
    expect(free?.state).toEqual({ plan: 'free', trail: ['coupon', 'after'] });
  });

  it('If Condition evaluates its condition once: a branch that changes what it tests does not run the other branch', async () => {
    const flip = flowAction('flip', (ctx) => {
      ctx.state.plan = 'free';
    });
    const flow = [ifCondition('pro?', (ctx) => ctx.state.plan === 'pro', [flip, mark('gift')], [mark('coupon')])];
    expect((await run(flow, { plan: 'pro' }))?.state.trail).toEqual(['gift']);
  });

  it('While Loop runs its sub-actions while its condition is true, checking before each round', async () => {
    const count = flowAction('count', (ctx) => {
      ctx.state.n = ((ctx.state.n as number) ?? 0) + 1;
    });
    const loop = whileLoop('below 3', (ctx) => ((ctx.state.n as number) ?? 0) < 3, [count]);
    expect((await run([loop, mark('after')]))?.state).toEqual({ n: 3, trail: ['after'] });
    expect((await run([loop, mark('after')], { n: 5 }))?.state).toEqual({ n: 5, trail: ['after'] });
  });

  it('For Loop runs its sub-actions from start to end (exclusive) by step, with the counter in the state, and removes it at the end', async () => {
    const loop = forLoop('rounds', { start: 1, end: 6, step: 2, varName: 'i' }, [mark('round')]);
    const done = await run([loop, mark('after')]);
    expect(done?.state).toEqual({ trail: ['round1', 'round3', 'round5', 'after'] });
  });

  it('For Loop without a variable name keeps its counter under an internal key; an empty range runs nothing', async () => {
    const seen: number[] = [];
    const body = flowAction('body', (ctx) => {
      seen.push(ctx.state._for_loop_twice as number);
    });
    expect((await run([forLoop('twice', { end: 2 }, [body])]))?.state).toEqual({});
    expect(seen).toEqual([0, 1]);
    expect((await run([forLoop('never', { start: 3, end: 3 }, [mark('body')])]))?.state).toEqual({});
  });

  it('For Loop left by Leave branch keeps its counter, as the seed does: running the loop again goes on from it', async () => {
    const loop = forLoop('loop', { end: 4, varName: 'i' }, [mark('round'), leaveBranch('stop at 1', (ctx) => ctx.state.i === 1)]);
    const done = await run([loop, loop]);
    expect(done?.state).toEqual({ i: 1, trail: ['round0', 'round1', 'round1'] });
  });

  it('For Loop fails the run with a typed error when its counter disappeared from the state', async () => {
    const clear = flowAction('clear', (ctx) => {
      delete ctx.state.i;
    });
    const done = await run([forLoop('loop', { end: 3, varName: 'i' }, [clear])]);
    expect(done?.status).toBe('failed');
    expect(done?.error).toContain('FlowActionStateError: Action "loop", run run1: the loop counter "i" is undefined');
  });

  it('refuses a For Loop step, start or end that is not a whole number, naming the action and field', () => {
    expect(() => forLoop('bad', { end: 3, step: 0 }, [])).toThrow(FlowActionConfigError);
    expect(() => forLoop('bad', { end: 3, step: 0 }, [])).toThrow('Action "bad": step is 0 (number), not a whole number >= 1');
    expect(() => forLoop('bad', { end: 1.5 }, [])).toThrow(/end is 1.5/);
    expect(() => forLoop('bad', { start: -1, end: 2 }, [])).toThrow(/start is -1/);
  });

  it('Return to parent action goes back to the parent: in a loop the next round starts, skipping the rest', async () => {
    const loop = forLoop('loop', { end: 3, varName: 'i' }, [mark('a'), returnToParent('skip odd', (ctx) => (ctx.state.i as number) % 2 === 1), mark('b')]);
    expect((await run([loop]))?.state.trail).toEqual(['a0', 'b0', 'a1', 'a2', 'b2']);
  });

  it('Return to parent action and Leave branch at the top level stop the flow', async () => {
    expect(await run([mark('a'), returnToParent('back'), mark('never')])).toMatchObject({ status: 'done', state: { trail: ['a'] } });
    expect(await run([mark('a'), leaveBranch('out'), mark('never')])).toMatchObject({ status: 'done', state: { trail: ['a'] } });
  });

  it('Leave branch runs the parent action’s next sibling: it breaks out of a loop', async () => {
    const loop = whileLoop('forever', () => true, [mark('work'), leaveBranch('enough', (ctx) => (ctx.state.trail as string[]).length >= 2)]);
    expect((await run([loop, mark('after')]))?.state.trail).toEqual(['work', 'work', 'after']);
  });

  it('Stop Flow stops the run', async () => {
    expect(await run([mark('a'), stopFlow('stop'), mark('never')])).toMatchObject({ status: 'aborted', state: { trail: ['a'] } });
  });

  it('Set state replaces the state with the given JSON, keeping internal keys (those starting with "_")', async () => {
    const loop = forLoop('loop', { end: 1 }, [setState('reset', { stage: 'fresh' }), updateState('peek', (ctx) => ({ copy: { ...ctx.state } }))]);
    const done = await run([loop], { plan: 'pro', stage: 'old' });
    expect(done?.state).toEqual({ stage: 'fresh', copy: { stage: 'fresh', _for_loop_loop: 0 } });
  });

  it('Update state sets the given keys and leaves the others; values may be computed from the run (evaluated)', async () => {
    const done = await run([updateState('stamp', { stage: 'paid' }), updateState('total', (ctx) => ({ total: (ctx.state.items as number) * 10 }))], { items: 3, stage: 'new' });
    expect(done?.state).toEqual({ items: 3, stage: 'paid', total: 30 });
  });

  it('Set state and Update state copy their JSON: one run cannot change what the next one gets', async () => {
    const values = { tags: ['a'] };
    const grow = flowAction('grow', (ctx) => {
      (ctx.state.tags as string[]).push('b');
    });
    await run([setState('set', values), grow]);
    expect((await run([updateState('update', values)]))?.state.tags).toEqual(['a']);
  });

  it('Start new flow starts a run of the configured flow as a child, passing the object, and the state when asked', async () => {
    const { control } = manualFlowControl([
      { name: 'parent', actions: [startFlow('plain', 'child'), startFlow('with state', 'child', { passState: true, passObject: false })] },
      { name: 'child', actions: [mark('child')] },
    ]);
    const parent = await control.startRun('parent', { objectId: 'order:1', state: { items: 2 } });
    const children = await control.children(parent?.id as string);
    expect(children.map((c) => [c.flow, c.objectId, c.state, c.status])).toEqual([
      ['child', 'order:1', {}, 'pending'],
      ['child', null, { items: 2 }, 'pending'],
    ]);
  });

  it('Delay suspends the run for a configured time, then goes on with the next action', async () => {
    const { control, clock } = manualFlowControl([{ name: 'f', actions: [delay('two days', { ms: days(2) }), mark('after')] }]);
    const waiting = await control.startRun('f');
    expect(waiting).toMatchObject({ status: 'waiting', continueAfter: T0 + days(2) });
    clock.advance(days(2));
    const [done] = await control.continueFlowRuns();
    expect(done).toMatchObject({ status: 'done', state: { trail: ['after'] } });
  });

  it('Delay computes months, then the duration, then the weekday, then the time of day, from a base date (UTC)', () => {
    const base = Date.UTC(2026, 0, 31, 15, 30); // a Saturday
    expect(new Date(delayUntil(base, { months: 1 })).toISOString()).toBe('2026-02-28T15:30:00.000Z');
    expect(new Date(delayUntil(base, { ms: hours(12) })).toISOString()).toBe('2026-02-01T03:30:00.000Z');
    expect(new Date(delayUntil(base, { weekday: 0, time: { hour: 9 } })).toISOString()).toBe('2026-02-02T09:00:00.000Z');
    expect(new Date(delayUntil(base, { weekday: 5 })).toISOString()).toBe('2026-01-31T15:30:00.000Z');
  });

  it('Delay counts from a base date read from the run, and goes on at once when that time has passed (the default)', async () => {
    const flow = [delay('a week after signup', { from: (ctx) => ctx.state.signedUpAt as string, ms: days(7) }), mark('after')];
    const future = await run(flow, { signedUpAt: new Date(T0 - days(1)).toISOString() });
    expect(future).toMatchObject({ status: 'waiting', continueAfter: T0 + days(6) });
    const past = await run(flow, { signedUpAt: new Date(T0 - days(8)).toISOString() });
    expect(past).toMatchObject({ status: 'done', state: { trail: ['after'] } });
  });

  it('Delay does what it is told when its time has passed: continue from now, leave, break or abort', async () => {
    const past = (ifPast: 'suspend' | 'abort') => [delay('late', { from: () => T0 - days(1), ms: hours(1), ifPast }), mark('after')];
    expect(await run(past('suspend'))).toMatchObject({ status: 'waiting', continueAfter: T0 - days(1) + hours(1) });
    expect(await run(past('abort'))).toMatchObject({ status: 'aborted' });
    const inLoop = whileLoop('loop', () => true, [delay('late', { from: () => T0 - days(1), ifPast: 'break' }), mark('never')]);
    expect(await run([inLoop, mark('after')])).toMatchObject({ status: 'done', state: { trail: ['after'] } });
  });

  it('Delay fails the run, naming the action, when its base date is not a time', async () => {
    const done = await run([delay('bad', { from: () => 'not a date' })]);
    expect(done?.status).toBe('failed');
    expect(done?.error).toContain(new FlowActionStateError('bad', 'run1', 'the delay\'s base time is "not a date" (string), not a time (epoch ms, Date or ISO string)').message);
  });

  it('refuses a Delay weekday or time of day out of range', () => {
    expect(() => delay('d', { weekday: 7 })).toThrow('Action "d": weekday is 7 (number), not 0 (Monday) to 6 (Sunday)');
    expect(() => delay('d', { time: { hour: 24 } })).toThrow(FlowActionConfigError);
  });
});
