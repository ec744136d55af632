import { describe, expect, it } from 'vitest';
import { flowAction, executeFlowRun, FlowActionMissingError, FlowChildRunError, FlowControl, FlowRunStateError, flowEngine, MemoryAutomationStorage, stepFlowRun } from '../../src/automations/index.ts';
import { crashBetweenActions, immediateChild, inconsistentRunsRefused, parentAndChild, storedRun, suspendAcrossRestart } from './flowcontrol-scenarios.ts';
import { T0 } from './harness.ts';

describe('flowcontrol runs on a AutomationStorage (memory)', () => {
  it('keeps a suspension across a restart and continues it when its time comes', async () => {
    const store = new MemoryAutomationStorage();
    await suspendAcrossRestart(async () => store);
  });

  it('commits one action per transaction: a crash repeats only the action in flight', async () => {
    const store = new MemoryAutomationStorage();
    await crashBetweenActions(async () => store);
  });

  it('starts child runs (parent_run) that run on their own and wake their waiting parent', async () => {
    const store = new MemoryAutomationStorage();
    await parentAndChild(async () => store);
  });

  it('runs a child run started with immediate at once, before the parent’s next action (Start new flow: immediate)', async () => {
    const store = new MemoryAutomationStorage();
    await immediateChild(async () => store);
  });

  it('steps one action at a time; the pure executeFlowRun cannot start child runs', async () => {
    const flow = {
      name: 'f',
      actions: [flowAction('a', () => undefined), flowAction('spawn', (ctx) => ctx.startChild('f').then(() => undefined))],
    };
    const control = new FlowControl({ flows: [flow] });
    const created = await control.createRun('f');
    const run = { ...(created as NonNullable<typeof created>) };
    const one = await stepFlowRun(flow, run, T0);
    expect(one).toMatchObject({ status: 'pending', position: [1], resume: 'repeat', log: [{ action: 'a', directive: 'continue' }] });
    const failed = await executeFlowRun(flow, run, T0);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(new FlowChildRunError('f', run.id).message);
  });
});

describe('flowcontrol definitions changed under a waiting run', () => {
  it('fails a run whose position no longer exists, naming the flow, run and action', async () => {
    const run = storedRun('r1', { flow: 'f', status: 'waiting', position: [2], resume: 'repeat', continueAfter: T0 });
    const next = await stepFlowRun({ name: 'f', actions: [flowAction('only', () => undefined)] }, run, T0);
    expect(next).toMatchObject({ status: 'failed', finishedAt: T0 });
    expect(next.error).toBe(new FlowActionMissingError('f', 'r1', [2]).message);
  });
});

describe('flowcontrol runs stored in an inconsistent state', () => {
  it('refuses a run waiting without a time or trigger, or at no action, with FlowRunStateError and leaves it as it is (memory)', async () => {
    const store = new MemoryAutomationStorage();
    await inconsistentRunsRefused(async () => store);
  });

  it('the pure stepFlowRun, executeFlowRun and flowEngine refuse them too', async () => {
    const flow = { name: 'pipeline', actions: [flowAction('a', () => undefined)] };
    const broken = storedRun('r1', { status: 'waiting', position: [0], continueAfter: null });
    await expect(stepFlowRun(flow, broken, T0)).rejects.toBeInstanceOf(FlowRunStateError);
    await expect(executeFlowRun(flow, broken, T0)).rejects.toBeInstanceOf(FlowRunStateError);
    await expect(flowEngine(flow).next(broken, { type: 'tick', now: T0 })).rejects.toBeInstanceOf(FlowRunStateError);
    const malformed = storedRun('r2', { position: 'start' as never });
    await expect(stepFlowRun(flow, malformed, T0)).rejects.toThrow('Flow "pipeline", run r2: has the position "start" (string), not a path of action indexes');
  });

  it('a run waiting for a trigger, with no time, is consistent: not refused, just not runnable', async () => {
    const flow = { name: 'pipeline', actions: [flowAction('a', () => undefined)] };
    const waiting = storedRun('r1', { status: 'waiting', position: [0], continueAfter: null, waitingTrigger: 'paid' });
    expect(await stepFlowRun(flow, waiting, T0)).toEqual(waiting);
  });
});
