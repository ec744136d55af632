import { describe, expect, it } from 'vitest';
import {
  flowAction,
  FlowActionNameError,
  type FlowDefinition,
  FlowInactiveError,
  FlowNotFoundError,
  hours,
  suspend,
} from '../../src/automations/index.ts';
import { manualFlowControl, mark } from './flowcontrol-scenarios.ts';
import { T0 } from './harness.ts';

describe('flow activation (active_at)', () => {
  it('an inactive flow starts no run: createRun refuses it with a typed error naming the flow', async () => {
    const { control } = manualFlowControl([{ name: 'draft', activeAt: null, actions: [mark('a')] }]);
    await expect(control.createRun('draft')).rejects.toBeInstanceOf(FlowInactiveError);
    await expect(control.startRun('draft')).rejects.toThrow('Flow "draft" is not active (activeAt is null); it starts no runs.');
  });

  it('a flow becomes active at its activeAt time', async () => {
    const { control, clock } = manualFlowControl([{ name: 'launch', activeAt: T0 + hours(1), actions: [mark('a')] }]);
    await expect(control.createRun('launch')).rejects.toMatchObject({ code: 'flowcontrol-inactive' });
    clock.advance(hours(1));
    expect(await control.startRun('launch')).toMatchObject({ status: 'done' });
  });

  it('a trigger skips inactive flows and starts the active ones', async () => {
    const { control } = manualFlowControl([
      { name: 'old', activeAt: null, triggers: ['signed_up'], actions: [mark('a')] },
      { name: 'new', triggers: ['signed_up'], actions: [mark('a')] },
    ]);
    expect((await control.triggerFlows('signed_up')).map((r) => r.flow)).toEqual(['new']);
  });

  it('an action starting a run of an inactive flow fails its run with the typed error', async () => {
    const { control } = manualFlowControl([
      { name: 'parent', actions: [flowAction('spawn', async (ctx) => void (await ctx.startChild('draft')))] },
      { name: 'draft', activeAt: null, actions: [mark('a')] },
    ]);
    const run = await control.startRun('parent');
    expect(run).toMatchObject({ status: 'failed' });
    expect(run?.error).toMatch(/^FlowInactiveError: Flow "draft" is not active/);
  });

  it('runs that exist go on after their flow is deactivated', async () => {
    const flow = (activeAt: number | null): FlowDefinition => ({ name: 'f', activeAt, actions: [flowAction('wait', (ctx) => suspend(ctx.now + hours(1))), mark('after')] });
    const { control, clock } = manualFlowControl([flow(T0)]);
    const run = await control.startRun('f');
    control.registerFlow(flow(null));
    clock.advance(hours(1));
    expect((await control.continueFlowRuns()).map((r) => [r.id, r.status])).toEqual([[run?.id, 'done']]);
  });
});

describe('flow conditions', () => {
  const stillOpen: FlowDefinition = {
    name: 'dunning',
    condition: (ctx) => ctx.state.paid !== true,
    actions: [mark('remind'), flowAction('wait', (ctx) => suspend(ctx.now + hours(24))), mark('remind again')],
  };

  it('a run whose flow condition does not hold is discarded (obsolete) before any action runs', async () => {
    const { control } = manualFlowControl([stillOpen]);
    const run = await control.startRun('dunning', { state: { paid: true } });
    expect(run).toMatchObject({ status: 'obsolete', finishedAt: T0, log: [] });
    expect(run?.state.trail).toBeUndefined();
  });

  it('the condition is checked again each time the run continues: a run that became moot is discarded', async () => {
    const { control, clock } = manualFlowControl([stillOpen]);
    const run = await control.startRun('dunning');
    expect(run).toMatchObject({ status: 'waiting', state: { trail: ['remind'] } });
    await control.reset(run?.id as string, { to: 'wait', state: { trail: ['remind'], paid: true } });
    clock.advance(hours(1));
    const [continued] = await control.continueFlowRuns();
    expect(continued).toMatchObject({ status: 'obsolete', state: { trail: ['remind'], paid: true } });
  });

  it('a condition that throws fails the run with its error', async () => {
    const { control } = manualFlowControl([
      {
        name: 'f',
        condition: () => {
          throw new TypeError('no customer');
        },
        actions: [mark('a')],
      },
    ]);
    expect(await control.startRun('f')).toMatchObject({ status: 'failed', error: 'TypeError: no customer' });
  });
});

describe('resetting a run (reset_flowrun)', () => {
  const flow: FlowDefinition = { name: 'f', actions: [mark('a'), mark('b'), flowAction('wait', (ctx) => suspend(ctx.now + hours(1))), mark('c')] };

  it('resets a run to an action: it waits, due now, and runs that action on the next continue pass', async () => {
    const { control, clock } = manualFlowControl([flow]);
    const run = await control.startRun('f');
    const reset = await control.reset(run?.id as string, { to: 'b' });
    expect(reset).toMatchObject({ status: 'waiting', continueAfter: T0, position: [1], resume: 'repeat' });
    clock.advance(1);
    const [continued] = await control.continueFlowRuns();
    expect(continued).toMatchObject({ status: 'waiting', state: { trail: ['a', 'b', 'b'] } });
  });

  it('resets a finished run without an action to pending at its first action, with a new state', async () => {
    const { control, clock } = manualFlowControl([flow]);
    const run = await control.startRun('f');
    clock.advance(hours(1));
    await control.continueFlowRuns();
    expect(await control.get(run?.id as string)).toMatchObject({ status: 'done' });
    const reset = await control.reset(run?.id as string, { state: { again: true } });
    expect(reset).toMatchObject({ status: 'pending', position: [], finishedAt: null, continueAfter: null, state: { again: true } });
    const [rerun] = await control.continueFlowRuns();
    expect(rerun).toMatchObject({ status: 'waiting', state: { again: true, trail: ['a', 'b'] } });
    expect(rerun?.log.map((l) => l.action)).toEqual(['a', 'b', 'wait', 'c', 'a', 'b', 'wait']);
  });

  it('refuses to reset to an action the flow has not, or a run that does not exist', async () => {
    const { control } = manualFlowControl([flow]);
    const run = await control.startRun('f');
    await expect(control.reset(run?.id as string, { to: 'z' })).rejects.toBeInstanceOf(FlowActionNameError);
    await expect(control.reset('nope')).rejects.toBeInstanceOf(FlowNotFoundError);
  });
});
