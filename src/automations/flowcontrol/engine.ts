import type { Engine } from '../engine.ts';
import { type ActionContext, type FlowDefinition, type FlowRun, isFlowRunRunnable, MAX_HOT_LOOPS, stepFlowRun } from './flow.ts';
import { assertFlowRunConsistent } from './run-state.ts';

/**
 * What moves a flow run: a `tick` at `now` runs one action (plus the `returnFromChildren` of
 * the parents it completes). `fresh` marks the first step of an execution (the hot-loop counts
 * start again); `children` and `startChild` are the run's child runs and how to create one in
 * the step's transaction.
 */
export interface FlowEvent {
  type: 'tick';
  now: number;
  fresh?: boolean;
  children?: readonly FlowRun[];
  startChild?: ActionContext['startChild'];
}

/** What a flow run step asks of its runner: a run that finished wakes its waiting parent. */
export type FlowEffect = { type: 'finished'; runId: string; parentId: string | null };

/**
 * Compiles a flow to the engine contract: `next` is `stepFlowRun` (one action per tick, the
 * input run untouched), `nextDueAt` is when the run can be continued (null once finished).
 * `FlowControl` runs flows through it.
 * @example
 * const { state: run } = await flowEngine(flow).next(pending, { type: 'tick', now: Date.now() });
 */
export function flowEngine(flow: FlowDefinition, options: { maxHotLoop?: number } = {}): Engine<FlowRun, FlowEvent, FlowEffect> {
  const maxHotLoop = options.maxHotLoop ?? MAX_HOT_LOOPS;
  return {
    async next(run, event) {
      assertFlowRunConsistent(run);
      if (!isFlowRunRunnable(run, event.now)) return { state: structuredClone(run), effects: [], changed: false };
      const next = await stepFlowRun(flow, run, event.now, {
        maxHotLoop,
        ...(event.fresh !== undefined ? { fresh: event.fresh } : {}),
        ...(event.children ? { children: event.children } : {}),
        ...(event.startChild ? { startChild: event.startChild } : {}),
      });
      const finished = next.status !== 'pending' && next.status !== 'waiting';
      return { state: next, effects: finished ? [{ type: 'finished', runId: next.id, parentId: next.parentId ?? null }] : [], changed: true };
    },
    nextDueAt: flowRunDueAt,
  };
}

/**
 * When a run can be continued: at once while pending (its creation time), its `continueAfter`
 * while waiting (none while it waits for a trigger), never once finished.
 */
export function flowRunDueAt(run: Pick<FlowRun, 'status' | 'continueAfter' | 'createdAt'>): number | null {
  if (run.status === 'pending') return run.createdAt;
  if (run.status === 'waiting') return run.continueAfter;
  return null;
}
