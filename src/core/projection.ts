import type { FlowContext } from './compile.ts';
import type { AnyAction, Scaffold } from './definition.ts';
import { ABORTED, COMPLETED, type FlowModel } from './model.ts';
import { type Phase, positionOf } from './position.ts';
import { failingPrecondition } from './preconditions.ts';
import type { TaskRecord, TaskSummary } from './store.ts';
import type { StepView, TaskState, TaskStatus } from './task.ts';

/**
 * The pictures of a task, drawn from what it holds by pure functions: its state for views,
 * its current step's view, its summary for task lists. The `Task` runtime only keeps what
 * they are drawn from (the snapshot, the version, what is in flight).
 */

/** Where a task at `phase` stands. */
export function statusOf(phase: Phase): TaskStatus {
  return phase === COMPLETED ? 'completed' : phase === ABORTED ? 'aborted' : phase.startsWith('$suspended') ? 'suspended' : 'active';
}

/** What the runtime adds to a snapshot's picture: the last submission's feedback. */
export type Feedback = Pick<TaskState, 'errors' | 'message' | 'error'>;

/**
 * The picture of a task at `snapshot` (a machine snapshot: its state value and context), with
 * what the runtime adds: a move in flight (`pending`), the last submission's `feedback`, the
 * stored `version`. Frozen in development builds.
 */
export function describeTask(model: FlowModel, snapshot: { value: unknown; context: FlowContext }, pending: boolean, feedback: Feedback, version: number): TaskState {
  const context = snapshot.context;
  const { step, phase } = positionOf(snapshot.value);
  const status = statusOf(phase);
  // Only the flow's end has no step.
  const view = step ? stepView(model, step, phase, context) : null;
  const steps = context.trail.map((e) => e.step);
  const state: TaskState = {
    status,
    step: view,
    data: context.data,
    user: context.user,
    pending,
    ...feedback,
    canGoBack: !!view && context.at > 0,
    visited: steps.slice(0, context.at + 1),
    ahead: steps.slice(context.at + 1),
    until: status === 'suspended' ? context.until : null,
    reason: context.reason,
    version,
  };
  if (process.env.NODE_ENV !== 'production') freezeState(state);
  return state;
}

/** What a UI needs to render `step` at `phase`: a form, a choice (its options whose preconditions pass now) or a failed automatic step. */
export function stepView(model: FlowModel, step: string, phase: Phase, context: FlowContext): StepView {
  const info = model.nodes.get(step)!;
  const node = info.node;
  const options =
    node.kind === 'scaffold'
      ? (node as Scaffold).children.filter((c) => !failingPrecondition(c, context)).map((c) => ({ id: c.id, title: c.title }))
      : [];
  // A scaffold has neither `auto` nor `schema`, and is never at `$returned`.
  const action = node as AnyAction;
  return {
    id: step,
    title: node.title,
    kind: node.kind === 'scaffold' ? 'choice' : action.auto || phase === '$returned' ? 'auto' : 'form',
    url: info.url,
    draft: context.inputs[step],
    visit: context.visits[step] ?? 1,
    schema: action.schema,
    options,
    meta: node.meta,
  };
}

/** A record's line in a task list: the step it is at (null once it ended) and its times. */
export function summaryOf(record: TaskRecord): TaskSummary {
  return { id: record.id, flowId: record.flowId, step: positionOf(record.snapshot.value).step, lastActiveAt: record.lastActiveAt, expiresAt: record.expiresAt };
}

/**
 * Development builds freeze every `TaskState` they hand out, so writing to `task.state`
 * (or to its step, data, user, lists or draft) throws instead of sticking until the next
 * change. The step's schema and meta belong to the flow definition and are left alone.
 * Production builds skip it: it costs about 1 µs per state and bytes in the core entry (docs/core.md).
 */
function freezeState(state: TaskState): void {
  const step = state.step;
  if (step) {
    freezeDeep(step.options);
    freezeDeep(step.draft);
    Object.freeze(step);
  }
  for (const part of [state.data, state.user, state.errors, state.visited, state.ahead]) freezeDeep(part);
  Object.freeze(state);
}

function freezeDeep(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) freezeDeep((value as Record<string, unknown>)[key]);
}
