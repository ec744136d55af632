import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { action as browserAction, defineFlow, HotLoopError, startTask } from '../../src/core/index.ts';
import {
  flowAction,
  type AutomationDefinition,
  type AutomationEngine,
  defineAutomation,
  type FlowRun,
  FlowDirective,
  flow,
  flowEngine,
  MAX_HOT_LOOPS,
  stepFlowRun,
  suspend,
} from '../../src/automations/index.ts';
import { conferenceAutomation } from './ws-scenarios.ts';

const T0 = Date.UTC(2026, 0, 5, 9);

const approval = defineAutomation('Approval', {
  nodes: {
    start: flow.execute((ctx) => {
      ctx.data.started = true;
    }),
    wait: flow.execute(() => 'waited').afterWaitingFor(60_000),
    approve: flow.form(z.record(z.string(), z.unknown())).group('managers'),
    end: flow.end(),
  },
});

/** Drives an automation engine with ticks (and a manager's approval when a form is open) until it finishes or `ticks` run out. */
async function drive(definition: AutomationDefinition, engine: AutomationEngine, ticks: number, check: (before: unknown, after: unknown) => void) {
  let { state } = await engine.start({ id: 'i1', key: 'k1', data: {}, now: T0 });
  let now = T0;
  for (let i = 0; i < ticks && !state.finished; i++) {
    const before = structuredClone(state);
    const open = state.paths.find((p) => p.status === 'form');
    const result = open
      ? await engine.next(state, { type: 'submit', form: { taskId: open.taskId }, actor: { id: 'm', groups: ['managers', 'Organization', 'Accounting'] }, input: { location: 'Lyon', papers: 3, subscriptions: 5, startingDay: true }, now })
      : await engine.next(state, { type: 'tick', now });
    check(before, state);
    const due = engine.nextDueAt(result.state);
    if (!result.changed && due !== null) now = Math.max(now, due);
    state = result.state;
    expect(definition.engine).toBe(engine);
  }
  return state;
}

describe('the engine contract', () => {
  it('is what every automation definition is compiled to, ordered nodes and django-ws workflows alike', async () => {
    const ws = conferenceAutomation([]);
    for (const definition of [approval, ws]) {
      const finished = await drive(definition, definition.engine, 200, (before, after) => expect(after).toEqual(before));
      expect(finished.finished).toBe(true);
      expect(definition.engine.nextDueAt(finished)).toBeNull();
    }
  });

  it('never touches the state it is given (property: random tick times, nodes, ws and flowcontrol engines)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 12 }), async (gaps) => {
        const ws = conferenceAutomation([]);
        for (const definition of [approval, ws]) {
          let { state } = await definition.engine.start({ id: 'p', key: 'k', data: {}, now: T0 });
          let now = T0;
          for (const gap of gaps) {
            now += gap;
            const before = structuredClone(state);
            const result = await definition.engine.next(state, { type: 'tick', now });
            expect(state).toEqual(before);
            state = result.state;
          }
        }
        let n = 0;
        const count = flowAction('count', (ctx) => {
          n += 1;
          ctx.state.n = n;
          return n < 3 ? suspend(ctx.now + 1000) : FlowDirective.CONTINUE;
        });
        const engine = flowEngine({ name: 'count', actions: [count] });
        let run = pendingRun('count');
        let now = T0;
        for (const gap of gaps) {
          now += gap;
          const before = structuredClone(run);
          const result = await engine.next(run, { type: 'tick', now });
          expect(run).toEqual(before);
          expect(result.changed).toBe(before.status === 'pending' || (before.status === 'waiting' && (before.continueAfter ?? 0) <= now));
          run = result.state;
        }
      }),
      { numRuns: 25 },
    );
  });
});

function pendingRun(flowName: string, parentId: string | null = null): FlowRun {
  return { id: 'r1', flow: flowName, status: 'pending', position: [], resume: 'next', continueAfter: null, state: {}, objectId: null, trigger: null, createdAt: T0, finishedAt: null, error: null, log: [], parentId, loops: {} };
}

describe('flowcontrol compiled to the engine contract', () => {
  it('is due while pending or waiting and asks to wake the parent when the run finishes', async () => {
    const engine = flowEngine({ name: 'child', actions: [flowAction('wait', () => suspend(T0 + 5000)), flowAction('done', () => undefined)] });
    const run = pendingRun('child', 'parent-1');
    expect(engine.nextDueAt(run)).toBe(T0);
    const waiting = await engine.next(run, { type: 'tick', now: T0 });
    expect(waiting).toMatchObject({ state: { status: 'waiting', continueAfter: T0 + 5000 }, effects: [], changed: true });
    expect(engine.nextDueAt(waiting.state)).toBe(T0 + 5000);
    expect(await engine.next(waiting.state, { type: 'tick', now: T0 + 1 })).toMatchObject({ changed: false, effects: [] });
    const done = await engine.next(waiting.state, { type: 'tick', now: T0 + 5000 });
    expect(done).toMatchObject({ state: { status: 'done' }, effects: [{ type: 'finished', runId: 'r1', parentId: 'parent-1' }] });
    expect(engine.nextDueAt(done.state)).toBeNull();
  });

  it('lands a bad directive, an abort and a suspension as run states (no exception escapes stepFlowRun)', async () => {
    const bad = await stepFlowRun({ name: 'bad', actions: [flowAction('leaf', () => FlowDirective.ENTER)] }, pendingRun('bad'), T0);
    expect(bad).toMatchObject({ status: 'failed', error: expect.stringMatching(/^FlowDirectiveError: Flow "bad", run r1: action "leaf" returned ENTER but has no children/) });
    const nan = await stepFlowRun({ name: 'nan', actions: [flowAction('late', () => ({ directive: FlowDirective.SUSPEND, continueAfter: Number.NaN }))] }, pendingRun('nan'), T0);
    expect(nan).toMatchObject({ status: 'failed', error: expect.stringMatching(/continueAfter NaN \(number\), not a time/) });
    const aborted = await stepFlowRun({ name: 'stop', actions: [flowAction('stop', () => FlowDirective.ABORT)] }, pendingRun('stop'), T0);
    expect(aborted).toMatchObject({ status: 'aborted', finishedAt: T0, log: [{ action: 'stop', directive: 'abort', at: T0 }] });
    const thrown = await stepFlowRun({ name: 'boom', actions: [flowAction('boom', () => { throw new TypeError('no'); })] }, pendingRun('boom'), T0);
    expect(thrown).toMatchObject({ status: 'failed', error: 'TypeError: no' });
  });
});

describe('the hot-loop limit', () => {
  it('is one constant: a browser task and a flowcontrol run both stop a step on its run number MAX_HOT_LOOPS + 1', async () => {
    let browserRuns = 0;
    const spin = browserAction({ id: 'spin', title: 'Spin', auto: true, targets: ['spin'], submit: (_d, _i, { goTo }) => {
        browserRuns += 1;
        return goTo('spin');
      },
    });
    const start = browserAction({ id: 'start', title: 'Start' });
    const task = await startTask(defineFlow({ id: 'spinning', title: 'Spinning', children: [start, spin] }));
    const result = await task.submit();
    expect(result).toMatchObject({ ok: false, error: expect.any(HotLoopError) });
    expect(browserRuns).toBe(MAX_HOT_LOOPS);

    let serverRuns = 0;
    const loop = flowAction('loop', () => FlowDirective.ENTER, {
      children: [
        flowAction('spin', () => {
          serverRuns += 1;
          return FlowDirective.LEAVE;
        }),
      ],
      returnFromChildren: () => FlowDirective.ENTER,
    });
    const engine = flowEngine({ name: 'spin', actions: [loop] });
    let run = pendingRun('spin');
    for (let i = 0; i < 10 * MAX_HOT_LOOPS && (run.status === 'pending'); i++) run = (await engine.next(run, { type: 'tick', now: T0, fresh: i === 0 })).state;
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(`ran more than ${MAX_HOT_LOOPS} times`) });
    expect(serverRuns).toBe(MAX_HOT_LOOPS);
  });
});
