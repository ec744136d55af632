import { validateInput } from '../core/schema.ts';
import { StepDraft, toJson } from './draft.ts';
import { type AutomationDefinition, missingDataParameters, nodeAfter, nodeOf } from './definition.ts';
import {
  describeError,
  FormPermissionError,
  FormValidationError,
  InstanceFinishedError,
  InvalidWaitError,
  MissingMessageDataError,
  NodeFailedError,
  NodeRemovedError,
  NoOpenFormError,
  UnknownReceiverError,
} from './errors.ts';
import type { AnyNode, AutomationData, Condition, FormAssignment, NodeContext } from './nodes.ts';
import type { AutomationEffect, InstanceState, PathState, StepResult } from './state.ts';
import { nextSlot, timeOf, timeOfDay } from './time.ts';

export { toJson } from './draft.ts';

/** A user as form permission checks see it. */
export interface Actor {
  id: string;
  groups?: readonly string[];
  permissions?: readonly string[];
  superuser?: boolean;
}

/** What a new instance starts with. */
export interface StartOptions {
  id: string;
  key: string;
  data: AutomationData;
  now: number;
}

/** A step of an automation in progress. */
class Draft extends StepDraft {
  constructor(
    readonly definition: AutomationDefinition,
    state: InstanceState,
    now: number,
  ) {
    super(state, now);
  }

  context(path: PathState): NodeContext {
    const s = this.state;
    return {
      automation: s.automation,
      instanceId: s.id,
      key: s.key,
      node: path.node,
      taskId: path.taskId,
      now: this.now,
      idempotencyKey: `${s.id}:${path.taskId}`,
      data: s.data,
    };
  }

  newPath(forks: PathState['forks']): PathState {
    const id = `p${this.state.nextPathId++}`;
    return { id, node: '', taskId: 0, enteredAt: this.now, waitUntil: null, status: 'active', forks };
  }

  /** Moves `path` to `target`: opens a history row and arms the node's durable timer. */
  async enter(path: PathState, target: string | undefined): Promise<void> {
    const s = this.state;
    if (target === undefined) {
      this.stop(path, `node "${path.node}" has no next node; add .next(node) or an end node`);
      return;
    }
    path.node = target;
    path.taskId = s.nextTaskId++;
    path.enteredAt = this.now;
    path.status = 'active';
    path.waitUntil = null;
    delete path.error;
    this.history.push({
      type: 'open',
      row: { instanceId: s.id, taskId: path.taskId, path: path.id, status: target, created: this.now, finished: null, message: null, result: null },
    });
    const node = nodeOf(this.definition, target);
    if (!node) return;
    try {
      path.waitUntil = await this.dueTime(node, path);
    } catch (error) {
      this.close(path, describeError(error), { error: errorDetail(error) });
      this.stop(path, error instanceof InvalidWaitError ? error.message : new NodeFailedError(s.automation, s.id, target, error).message);
    }
  }

  /** When a node entered now may first be processed: its waits, or a Repeat node's next slot. */
  private async dueTime(node: AnyNode, path: PathState): Promise<number | null> {
    let due: number | null = null;
    if (node.kind === 'repeat' && node.schedule) {
      const schedule = node.schedule;
      const anchors = this.state.repeatAnchors;
      anchors[path.node] ??= schedule.type === 'at' ? timeOfDay(this.now, schedule.hour, schedule.minute) : this.now;
      const interval = schedule.type === 'at' ? 86_400_000 : schedule.ms;
      due = nextSlot(anchors[path.node] as number, interval, this.now);
    }
    const ctx = this.context(path);
    const refuse = (modifier: InvalidWaitError['modifier'], value: unknown) => new InvalidWaitError(this.state.automation, this.state.id, path.node, modifier, value);
    if (node.waitUntil !== undefined) {
      const value: unknown = typeof node.waitUntil === 'function' ? await node.waitUntil(ctx) : node.waitUntil;
      const at = timeOf(value);
      if (at === null) throw refuse('afterWaitingUntil', value);
      due = Math.max(due ?? -Infinity, at);
    }
    if (node.waitFor !== undefined) {
      const ms: unknown = typeof node.waitFor === 'function' ? await node.waitFor(ctx) : node.waitFor;
      if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) throw refuse('afterWaitingFor', ms);
      due = Math.max(due ?? -Infinity, this.now + ms);
    }
    return due;
  }

  stop(path: PathState, error: string): void {
    path.status = 'error';
    path.error = error;
  }
}

/** Creates the state of a new instance, positioned at the first node (nothing executed yet). */
export async function startInstance(definition: AutomationDefinition, options: StartOptions): Promise<StepResult> {
  if (definition.engine) return definition.engine.start(definition, options);
  const state: InstanceState = {
    id: options.id,
    automation: definition.name,
    key: options.key,
    data: options.data,
    paths: [],
    finished: false,
    createdAt: options.now,
    finishedAt: null,
    nextTaskId: 1,
    nextPathId: 1,
    repeatAnchors: {},
  };
  const draft = new Draft(definition, state, options.now);
  const path = draft.newPath([]);
  draft.state.paths.push(path);
  await draft.enter(path, definition.order[0]);
  return draft.result(true);
}

/**
 * Advances the instance by processing one node on its first path that can move at `now`.
 * Pure apart from calling the definition's own functions: the input state is not touched;
 * the caller persists `state` and `history` and performs `effects` in one transaction.
 * `changed: false` means every path waits (for time, a condition, a form, or a join).
 */
export async function step(definition: AutomationDefinition, state: InstanceState, now: number): Promise<StepResult> {
  if (definition.engine) return definition.engine.step(definition, state, now);
  const draft = new Draft(definition, state, now);
  if (state.finished) return draft.result(false);
  for (const path of draft.state.paths) {
    if (await advancePath(draft, path)) return draft.result(true);
  }
  return draft.result(false);
}

async function advancePath(draft: Draft, path: PathState): Promise<boolean> {
  const { definition, now, state } = draft;
  if (path.status === 'error' || path.status === 'joined') return false;
  const node = nodeOf(definition, path.node);
  if (!node) {
    const error = new NodeRemovedError(definition.name, state.id, path.node);
    draft.close(path, error.message, { error: error.message });
    draft.stop(path, error.message);
    return true;
  }
  const ctx = draft.context(path);
  const dataBefore = structuredClone(state.data);
  try {
    // SkipIf / SkipAfter take precedence over every kind of waiting.
    const skipDue = node.skipAfterMs !== undefined && now >= path.enteredAt + node.skipAfterMs;
    if (skipDue || (await holds(node.skipIfCondition, ctx))) {
      draft.close(path, 'skipped');
      await draft.enter(path, defaultNext(definition, path.node, node));
      return true;
    }
    // A node changed since the path entered it is processed as it is declared now.
    if (path.status === 'form' && node.kind === 'form') return false;
    if (hasWait(node) && path.waitUntil !== null && now < path.waitUntil) return false;
    if (node.asSoonAsCondition !== undefined && !(await holds(node.asSoonAsCondition, ctx))) return false;
  } catch (error) {
    state.data = dataBefore;
    draft.close(path, describeError(error), { error: errorDetail(error) });
    draft.stop(path, new NodeFailedError(definition.name, state.id, path.node, error).message);
    return true;
  }
  await processNode(draft, path, node, ctx, dataBefore);
  return true;
}

async function processNode(draft: Draft, path: PathState, node: AnyNode, ctx: NodeContext, dataBefore: AutomationData): Promise<void> {
  const { definition, state, now } = draft;
  const name = path.node;
  const fail = (error: unknown, onError: string | undefined) => {
    state.data = dataBefore;
    draft.close(path, describeError(error), { error: errorDetail(error) });
    if (onError !== undefined) return draft.enter(path, onError);
    draft.stop(path, new NodeFailedError(definition.name, state.id, name, error).message);
  };
  switch (node.kind) {
    case 'execute': {
      let result: unknown;
      try {
        result = await node.method(ctx);
      } catch (error) {
        return fail(error, node.onErrorTarget);
      }
      draft.close(path, 'OK', result);
      return draft.enter(path, defaultNext(definition, name, node));
    }
    case 'end': {
      draft.close(path, 'OK');
      for (const other of state.paths) {
        if (other !== path && other.status !== 'error') draft.close(other, 'ended');
      }
      state.paths = [];
      state.finished = true;
      state.finishedAt = now;
      draft.effects.push({ type: 'finished', instanceId: state.id });
      return;
    }
    case 'repeat': {
      draft.close(path, 'OK');
      return draft.enter(path, node.start ?? definition.order[0]);
    }
    case 'if': {
      let outcome: boolean;
      try {
        outcome = await holds(node.condition, ctx);
      } catch (error) {
        return fail(error, undefined);
      }
      const branch = outcome ? node.thenBranch : node.elseBranch;
      if (branch && 'node' in branch) {
        draft.close(path, 'OK', outcome);
        return draft.enter(path, branch.node);
      }
      let result: unknown = outcome;
      if (branch) {
        try {
          result = await branch.fn(ctx);
        } catch (error) {
          return fail(error, undefined);
        }
      }
      draft.close(path, 'OK', result);
      return draft.enter(path, defaultNext(definition, name, node));
    }
    case 'split': {
      draft.close(path, 'OK');
      const forks = [...path.forks, { split: path.taskId, count: node.nextTargets.length }];
      const children = node.nextTargets.map(() => draft.newPath(forks));
      state.paths.splice(state.paths.indexOf(path), 1, ...children);
      for (const [i, child] of children.entries()) await draft.enter(child, node.nextTargets[i]);
      return;
    }
    case 'join': {
      const fork = path.forks.at(-1);
      if (!fork) {
        draft.close(path, 'OK');
        return draft.enter(path, defaultNext(definition, name, node));
      }
      path.status = 'joined';
      const arrived = state.paths.filter((p) => p.status === 'joined' && p.node === name && p.forks.at(-1)?.split === fork.split);
      if (arrived.length < fork.count) return;
      for (const p of arrived) draft.close(p, 'OK');
      const merged = draft.newPath(path.forks.slice(0, -1));
      const first = state.paths.indexOf(arrived[0] as PathState);
      state.paths = state.paths.filter((p) => !arrived.includes(p));
      state.paths.splice(first, 0, merged);
      merged.node = name;
      return draft.enter(merged, defaultNext(definition, name, node));
    }
    case 'form': {
      path.status = 'form';
      draft.effects.push({ type: 'form-opened', instanceId: state.id, taskId: path.taskId, node: name, assignment: node.assignment });
      return;
    }
    case 'send-message': {
      if (typeof node.target === 'object' && 'browser' in node.target) {
        let payload: AutomationData;
        try {
          payload = toJson(typeof node.payload === 'function' ? node.payload(ctx) : (node.payload ?? {})) as AutomationData;
        } catch (error) {
          return fail(error, undefined);
        }
        draft.effects.push({ type: 'browser-message', instanceId: state.id, taskId: path.taskId, message: node.message, payload });
        draft.close(path, 'OK', { browser: { message: node.message, payload } });
        return draft.enter(path, defaultNext(definition, name, node));
      }
      try {
        const payload = typeof node.payload === 'function' ? node.payload(ctx) : (node.payload ?? {});
        const to =
          typeof node.target === 'object' ? node.target : { instanceId: typeof node.target === 'function' ? node.target(ctx) : node.target };
        const effect: AutomationEffect = {
          type: 'send-message',
          from: { instanceId: state.id, node: name, taskId: path.taskId },
          to,
          message: node.message,
          payload: structuredClone(payload),
        };
        if (node.token !== undefined) effect.token = node.token;
        draft.effects.push(effect);
      } catch (error) {
        return fail(error, undefined);
      }
      draft.close(path, 'OK');
      return draft.enter(path, defaultNext(definition, name, node));
    }
  }
}

/** Where a node continues when it completes or is skipped: its `.next()`, else the next declared node. */
function defaultNext(definition: AutomationDefinition, name: string, node: AnyNode): string | undefined {
  return node.kind === 'split' ? nodeAfter(definition, name) : (node.nextTargets[0] ?? nodeAfter(definition, name));
}

function hasWait(node: AnyNode): boolean {
  return node.waitUntil !== undefined || node.waitFor !== undefined || node.kind === 'repeat';
}

async function holds(condition: Condition | undefined, ctx: NodeContext): Promise<boolean> {
  if (condition === undefined) return false;
  return Boolean(typeof condition === 'function' ? await condition(ctx) : condition);
}

/** Whether `actor` may process a form with this assignment: User, Group and every Permission must hold; superusers always may. */
export function formPermissionProblem(assignment: FormAssignment, actor: Actor): string | null {
  if (actor.superuser) return null;
  if (assignment.user !== undefined && assignment.user !== actor.id) return `assigned to user "${assignment.user}"`;
  if (assignment.group !== undefined && !actor.groups?.includes(assignment.group)) return `requires group "${assignment.group}"`;
  const missing = assignment.permissions.filter((p) => !actor.permissions?.includes(p));
  if (missing.length > 0) return `requires permission ${missing.map((p) => `"${p}"`).join(', ')}`;
  return null;
}

/** What a form submission names: the form task's id or the form node's name. */
export type FormSelector = { taskId: number } | { node: string };

/**
 * Applies a form submission: checks that the form is open and the actor may process it,
 * validates `input` with the node's schema, stores the parsed value in `data[node]` and
 * in the history row, and moves the path on. Throws (changing nothing) when any check fails.
 */
export async function submitForm(
  definition: AutomationDefinition,
  state: InstanceState,
  form: FormSelector,
  actor: Actor,
  input: unknown,
  now: number,
): Promise<StepResult> {
  if (definition.engine) return definition.engine.submitForm(definition, state, form, actor, input, now);
  const draft = new Draft(definition, state, now);
  const label = 'taskId' in form ? `task ${form.taskId}` : form.node;
  if (state.finished) throw new InstanceFinishedError(definition.name, state.id, `submit form ${label}`);
  const path = draft.state.paths.find((p) => p.status === 'form' && ('taskId' in form ? p.taskId === form.taskId : p.node === form.node));
  const node = path && nodeOf(definition, path.node);
  if (!path || node?.kind !== 'form') throw new NoOpenFormError(definition.name, state.id, label);
  const problem = formPermissionProblem(node.assignment, actor);
  if (problem) throw new FormPermissionError(definition.name, state.id, path.node, actor.id, problem);
  const parsed = await validateInput(node.schema, input);
  if (!parsed.ok) throw new FormValidationError(definition.name, state.id, path.node, parsed.errors);
  draft.state.data[path.node] = toJson(parsed.value);
  draft.close(path, 'OK', parsed.value, actor.id);
  await draft.enter(path, defaultNext(definition, path.node, node));
  return draft.result(true);
}

/** The open forms of an instance that `actor` may process (all open forms without an actor). */
export function openForms(
  definition: AutomationDefinition,
  state: InstanceState,
  actor?: Actor,
): { instanceId: string; taskId: number; node: string; description: string; assignment: FormAssignment; since: number }[] {
  return state.paths.flatMap((path) => {
    const node = nodeOf(definition, path.node);
    if (path.status !== 'form' || node?.kind !== 'form') return [];
    if (actor && formPermissionProblem(node.assignment, actor)) return [];
    return [{ instanceId: state.id, taskId: path.taskId, node: path.node, description: node.description, assignment: node.assignment, since: path.enteredAt }];
  });
}

/** A message to deliver to one instance. */
export interface IncomingMessage {
  message: string;
  token?: string;
  payload?: AutomationData;
}

/**
 * Delivers a message to an instance's receiver (`receivers[message]`) after checking its
 * required data parameters; the receiver's changes to `data` are part of the returned state.
 */
export async function deliverMessage(
  definition: AutomationDefinition,
  state: InstanceState,
  incoming: IncomingMessage,
  now: number,
): Promise<{ state: InstanceState; result: unknown }> {
  const receiver = definition.receivers[incoming.message];
  if (!receiver) throw new UnknownReceiverError(definition.name, incoming.message, state.id);
  if (state.finished) throw new InstanceFinishedError(definition.name, state.id, `receive message "${incoming.message}"`);
  const payload = structuredClone(incoming.payload ?? {});
  const missing = missingDataParameters(receiver, payload);
  if (missing.length > 0) throw new MissingMessageDataError(definition.name, incoming.message, missing);
  const next = structuredClone(state);
  const result = await receiver.handler(
    { automation: next.automation, instanceId: next.id, key: next.key, now, data: next.data },
    incoming.token,
    payload,
  );
  return { state: next, result };
}

/**
 * The earliest time the instance could progress, for the storage's due index: null when it
 * only waits for something external (a form, a message-driven join) or cannot move at all.
 * Paths waiting on an AsSoonAs or SkipIf condition are due at once, so every scheduler pass polls them.
 */
export function nextDueAt(definition: AutomationDefinition, state: InstanceState): number | null {
  if (definition.engine) return definition.engine.nextDueAt(definition, state);
  if (state.finished) return null;
  let due: number | null = null;
  const consider = (t: number) => {
    due = due === null ? t : Math.min(due, t);
  };
  for (const path of state.paths) {
    if (path.status === 'error' || path.status === 'joined') continue;
    const node = nodeOf(definition, path.node);
    if (!node) {
      consider(path.enteredAt);
      continue;
    }
    if (node.skipAfterMs !== undefined) consider(path.enteredAt + node.skipAfterMs);
    if (node.skipIfCondition !== undefined) consider(path.enteredAt);
    if (path.status === 'form' && node.kind === 'form') continue;
    consider(hasWait(node) ? (path.waitUntil ?? path.enteredAt) : path.enteredAt);
  }
  return due;
}

function errorDetail(error: unknown): string {
  return error instanceof Error ? (error.stack ?? describeError(error)) : String(error);
}
