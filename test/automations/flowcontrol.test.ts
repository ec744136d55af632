import { describe, expect, it } from 'vitest';
import {
  type ActionContext,
  flowAction,
  type FlowAction,
  FlowDirective,
  FlowNotFoundError,
  hours,
  suspend,
  suspendAndRepeat,
} from '../../src/automations/index.ts';
import { manualFlowControl } from './flowcontrol-scenarios.ts';
import { T0 } from './harness.ts';

/** An action that records its name in `state.trail` and returns `result`. */
const step = (name: string, result?: ReturnType<FlowAction['run']>, children?: FlowAction[]) =>
  flowAction(
    name,
    (ctx) => {
      ctx.state.trail = [...((ctx.state.trail as string[]) ?? []), name];
      return result as never;
    },
    children ? { children } : {},
  );

async function trailOf(actions: FlowAction[]) {
  const { control } = manualFlowControl([{ name: 'f', actions }]);
  const run = await control.startRun('f');
  return { run, trail: run?.state.trail };
}

describe('flowcontrol directives', () => {
  it('CONTINUE runs the next action; a run that passes its last action is done', async () => {
    const { run, trail } = await trailOf([step('a'), step('b', FlowDirective.CONTINUE), step('c')]);
    expect(trail).toEqual(['a', 'b', 'c']);
    expect(run?.status).toBe('done');
  });

  it('ENTER runs the children, then continues after the parent', async () => {
    const { trail } = await trailOf([step('parent', FlowDirective.ENTER, [step('child1'), step('child2')]), step('after')]);
    expect(trail).toEqual(['parent', 'child1', 'child2', 'after']);
  });

  it('does not ENTER an action without children: the run fails with a clear error', async () => {
    const { run } = await trailOf([step('lonely', FlowDirective.ENTER)]);
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/"lonely" returned ENTER but has no children/);
  });

  it('LEAVE returns to the parent, whose returnFromChildren decides: a while loop enters its children again', async () => {
    const rounds = (ctx: ActionContext) => {
      ctx.state.rounds = ((ctx.state.rounds as number) ?? 0) + 1;
      return (ctx.state.rounds as number) <= 3 ? FlowDirective.ENTER : FlowDirective.CONTINUE;
    };
    const loop = flowAction('while', rounds, { children: [step('body', FlowDirective.LEAVE), step('skipped by leave')], returnFromChildren: rounds });
    const { trail, run } = await trailOf([loop, step('after')]);
    expect(trail).toEqual(['body', 'body', 'body', 'after']);
    expect(run?.state.rounds).toBe(4);
  });

  it('LEAVE inside an if-like action goes on after it, without running the action again', async () => {
    let entered = 0;
    const when = flowAction(
      'if',
      () => {
        entered++;
        return FlowDirective.ENTER;
      },
      { children: [step('inside', FlowDirective.LEAVE), step('skipped by leave')] },
    );
    const { trail, run } = await trailOf([when, step('after')]);
    expect(run?.status).toBe('done');
    expect(trail).toEqual(['inside', 'after']);
    expect(entered).toBe(1);
    expect(run?.log.map((l) => `${l.action}:${l.directive}`)).toEqual(['if:enter', 'inside:leave', 'if:continue', 'after:continue']);
  });

  it('BREAK goes on after the parent without calling its returnFromChildren', async () => {
    const returned: string[] = [];
    const parent = flowAction('parent', () => FlowDirective.ENTER, {
      children: [step('stop', FlowDirective.BREAK)],
      returnFromChildren: () => {
        returned.push('parent');
      },
    });
    const { trail } = await trailOf([parent, step('after')]);
    expect(trail).toEqual(['stop', 'after']);
    expect(returned).toEqual([]);
  });

  it('LEAVE and BREAK at the top level end the run as done', async () => {
    expect(await trailOf([step('a', FlowDirective.LEAVE), step('b')])).toMatchObject({ run: { status: 'done' }, trail: ['a'] });
    expect(await trailOf([step('a', FlowDirective.BREAK), step('b')])).toMatchObject({ run: { status: 'done' }, trail: ['a'] });
  });

  it('BREAK runs the parent’s next sibling, like break in a loop', async () => {
    const { trail } = await trailOf([step('loop', FlowDirective.ENTER, [step('first'), step('stop', FlowDirective.BREAK), step('never')]), step('after')]);
    expect(trail).toEqual(['loop', 'first', 'stop', 'after']);
  });

  it('returnFromChildren decides what the parent does when its children are done', async () => {
    const parent = flowAction('repeat-twice', () => FlowDirective.ENTER, {
      children: [step('work')],
      returnFromChildren: (ctx) => {
        ctx.state.returns = ((ctx.state.returns as number) ?? 0) + 1;
        return (ctx.state.returns as number) < 2 ? FlowDirective.ENTER : FlowDirective.CONTINUE;
      },
    });
    const { trail } = await trailOf([parent, step('after')]);
    expect(trail).toEqual(['work', 'work', 'after']);
  });

  it('ABORT stops the run', async () => {
    const { run, trail } = await trailOf([step('a'), step('stop', FlowDirective.ABORT), step('never')]);
    expect(trail).toEqual(['a', 'stop']);
    expect(run?.status).toBe('aborted');
  });

  it('SUSPEND pauses until continueAfter, then continues with the next sibling', async () => {
    const { control, clock } = manualFlowControl([{ name: 'f', actions: [step('wait', suspend(T0 + hours(1))), step('after')] }]);
    const run = await control.startRun('f');
    expect(run).toMatchObject({ status: 'waiting', continueAfter: T0 + hours(1), state: { trail: ['wait'] } });
    clock.advance(hours(1) - 1);
    await control.continueFlowRuns();
    expect((await control.get(run?.id as string)).status).toBe('waiting');
    clock.advance(1);
    await control.continueFlowRuns();
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'done', state: { trail: ['wait', 'after'] } });
  });

  it('SUSPEND_AND_REPEAT pauses, then runs the same action again', async () => {
    const poll = flowAction('poll', (ctx) => {
      ctx.state.polls = ((ctx.state.polls as number) ?? 0) + 1;
      return (ctx.state.polls as number) < 3 ? suspendAndRepeat(ctx.now + hours(1)) : FlowDirective.CONTINUE;
    });
    const { control, clock } = manualFlowControl([{ name: 'f', actions: [poll, step('after')] }]);
    const run = await control.startRun('f');
    for (let i = 0; i < 3; i++) {
      clock.advance(hours(1));
      await control.continueFlowRuns();
    }
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'done', state: { polls: 3, trail: ['after'] } });
  });

  it('a bare SUSPEND pauses until the next continue pass, as django-flowcontrol sets continue_after to now', async () => {
    const { control, clock } = manualFlowControl([{ name: 'f', actions: [step('yield', FlowDirective.SUSPEND), step('after')] }]);
    const run = await control.startRun('f');
    expect(run).toMatchObject({ status: 'waiting', continueAfter: T0, state: { trail: ['yield'] } });
    clock.advance(1);
    await control.continueFlowRuns();
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'done', continueAfter: null, state: { trail: ['yield', 'after'] } });
  });

  it('a bare SUSPEND_AND_REPEAT runs the action again on the next continue pass', async () => {
    const poll = flowAction('poll', (ctx) => {
      ctx.state.polls = ((ctx.state.polls as number) ?? 0) + 1;
      return (ctx.state.polls as number) < 2 ? FlowDirective.SUSPEND_AND_REPEAT : FlowDirective.CONTINUE;
    });
    const { control } = manualFlowControl([{ name: 'f', actions: [poll] }]);
    const run = await control.startRun('f');
    expect(run).toMatchObject({ status: 'waiting', continueAfter: T0, state: { polls: 1 } });
    await control.continueFlowRuns();
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'done', state: { polls: 2 } });
  });

  it('fails the run, naming the action and the value, when a suspension carries no time', async () => {
    const { run } = await trailOf([step('broken', { directive: FlowDirective.SUSPEND, continueAfter: 'tomorrow' } as never)]);
    expect(run).toMatchObject({ status: 'failed' });
    expect(run?.error).toMatch(/FlowDirectiveError: Flow "f", run run1: action "broken" returned suspend with continueAfter "tomorrow" \(string\), not a time/);
  });

  it('fails the run with the error when an action throws', async () => {
    const { run } = await trailOf([
      step('a'),
      flowAction('broken', () => {
        throw new RangeError('out of stock');
      }),
      step('never'),
    ]);
    expect(run).toMatchObject({ status: 'failed', error: 'RangeError: out of stock', state: { trail: ['a'] } });
  });

  it('stops a hot loop after maxHotLoop runs of one action', async () => {
    const spin = flowAction('spin', () => FlowDirective.ENTER, { children: [step('again', FlowDirective.LEAVE)], returnFromChildren: () => FlowDirective.ENTER });
    const { control } = manualFlowControl([{ name: 'f', actions: [spin] }], 5);
    const run = await control.startRun('f');
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/"again" ran more than 5 times/);
    expect(run?.state.trail).toEqual(['again', 'again', 'again', 'again', 'again']);
  });
});

describe('flowcontrol runs', () => {
  it('runs the loop example of docs/automations.md', async () => {
    const below3 = (ctx: ActionContext) => (((ctx.state.n as number) ?? 0) < 3 ? FlowDirective.ENTER : FlowDirective.CONTINUE);
    const loop = flowAction('loop', below3, {
      returnFromChildren: below3,
      children: [
        flowAction('work', (ctx) => {
          ctx.state.n = ((ctx.state.n as number) ?? 0) + 1;
          return FlowDirective.LEAVE;
        }),
      ],
    });
    const { control } = manualFlowControl([{ name: 'onboarding', actions: [loop], triggers: ['user_created'], maxConcurrentPerObject: 1 }]);
    const userCreated = control.registerTrigger('user_created', { label: 'User created' });
    const [run] = await userCreated({ objectId: 'user:1', immediate: true });
    expect(run).toMatchObject({ status: 'done', state: { n: 3 } });
    expect(run?.log.map((l) => `${l.action}:${l.directive}`)).toEqual([
      'loop:enter',
      'work:leave',
      'loop:enter',
      'work:leave',
      'loop:enter',
      'work:leave',
      'loop:continue',
    ]);
  });

  it('a trigger starts every flow registered for it, bound to an object, within per-flow limits', async () => {
    const { control } = manualFlowControl([
      { name: 'welcome', actions: [step('greet')], triggers: ['user_created'], maxConcurrentPerObject: 1 },
      { name: 'audit', actions: [step('log', suspend(T0 + hours(1)))], triggers: ['user_created'], maxConcurrent: 1 },
      { name: 'other', actions: [step('x')], triggers: ['order_paid'] },
    ]);
    const userCreated = control.registerTrigger('user_created', { label: 'User created' });
    expect(control.listTriggers()).toEqual([{ name: 'user_created', label: 'User created', description: '' }]);

    const first = await userCreated({ objectId: 'user:1', state: { plan: 'pro' } });
    expect(first.map((r) => [r.flow, r.objectId, r.status, r.trigger])).toEqual([
      ['welcome', 'user:1', 'pending', 'user_created'],
      ['audit', 'user:1', 'pending', 'user_created'],
    ]);
    // welcome allows one unfinished run per object; audit one unfinished run in all.
    expect((await userCreated({ objectId: 'user:1' })).map((r) => r.flow)).toEqual([]);
    expect((await userCreated({ objectId: 'user:2' })).map((r) => r.flow)).toEqual(['welcome']);
    const continued = await control.continueFlowRuns();
    expect(continued.map((r) => [r.flow, r.status])).toEqual([
      ['welcome', 'done'],
      ['audit', 'waiting'],
      ['welcome', 'done'],
    ]);
    expect((await userCreated({ objectId: 'user:1', immediate: true })).map((r) => [r.flow, r.status])).toEqual([['welcome', 'done']]);
  });

  it('holds the concurrency limit when runs are created at the same time', async () => {
    const { control } = manualFlowControl([{ name: 'nightly', actions: [step('work', suspend(T0 + hours(1)))], maxConcurrent: 2 }]);
    const created = await Promise.all(Array.from({ length: 5 }, () => control.createRun('nightly')));
    expect(created.filter((r) => r !== null)).toHaveLength(2);
  });

  it('cancel stops a waiting run for good', async () => {
    const { control, clock } = manualFlowControl([{ name: 'f', actions: [step('wait', suspend(T0 + hours(1))), step('never')] }]);
    const run = await control.startRun('f');
    const cancelled = await control.cancel(run?.id as string);
    expect(cancelled.status).toBe('cancelled');
    clock.advance(hours(2));
    expect(await control.continueFlowRuns()).toEqual([]);
    expect((await control.get(run?.id as string)).state.trail).toEqual(['wait']);
  });

  it('reports unknown flows and runs', async () => {
    const { control } = manualFlowControl([]);
    await expect(control.startRun('nope')).rejects.toBeInstanceOf(FlowNotFoundError);
    await expect(control.get('run9')).rejects.toBeInstanceOf(FlowNotFoundError);
  });
});
