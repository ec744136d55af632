import { validateInput } from '../../core/index.ts';
import { type AutomationDefinition, nodeAfter, nodeOf } from '../definition.ts';
import { copyState, StepDraft, toJson } from '../draft.ts';
import { type AutomationEngine, type AutomationEvent, emptyInstanceState, formPermissionProblem, type StartOptions } from '../engine.ts';
import {
  describeError,
  FormPermissionError,
  FormValidationError,
  InstanceFinishedError,
  InvalidWaitError,
  JoinWithoutSplitError,
  MissingUniqueDataError,
  NodeFailedError,
  NodeRemovedError,
  NoOpenFormError,
} from '../errors.ts';
import type { AutomationEffect, InstanceState, PathState, StepResult } from '../state.ts';
import { nextSlot, timeOf, timeOfDay } from '../time.ts';
import type { AnyNode, AutomationData, Condition, NodeContext } from './nodes.ts';

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

/**
 * The engine of ordered named nodes (django-automations): a `tick` processes one node on the
 * first path that can move; a `submit` completes an open form node. Every definition made by
 * `defineAutomation` carries one.
 */
export function nodesEngine(definition: AutomationDefinition): AutomationEngine {
  return {
    start: (options) => start(definition, options),
    next: (state, event) => (event.type === 'tick' ? tick(definition, state, event.now) : submit(definition, state, event)),
    nextDueAt: (state) => dueAt(definition, state),
  };
}

async function start(definition: AutomationDefinition, options: StartOptions): Promise<StepResult> {
  if (Array.isArray(definition.unique)) {
    const missing = definition.unique.filter((key) => options.data[key] === undefined || options.data[key] === null);
    if (missing.length > 0) throw new MissingUniqueDataError(definition.name, definition.unique, missing);
  }
  const state = emptyInstanceState(definition.name, options);
  const draft = new Draft(definition, state, options.now);
  const path = draft.newPath([]);
  draft.state.paths.push(path);
  await draft.enter(path, definition.order[0]);
  return draft.result(true);
}

async function tick(definition: AutomationDefinition, state: InstanceState, now: number): Promise<StepResult> {
  // Nothing can move and no node code would run: the state as it is, without the draft's copy.
  if (state.finished || state.paths.every((path) => waitsWithoutWork(definition, path, now))) return { state, history: [], effects: [], changed: false };
  const draft = new Draft(definition, state, now);
  for (const path of draft.state.paths) {
    if (await advancePath(draft, path)) return draft.result(true);
  }
  return draft.result(false);
}

/**
 * Whether `path` stays where it is at `now` without running any node code: it failed or joined,
 * or it waits at its form or for its time with no SkipIf or due SkipAfter to look at
 * (`advancePath` answers false for it before anything else).
 */
function waitsWithoutWork(definition: AutomationDefinition, path: PathState, now: number): boolean {
  if (path.status === 'error' || path.status === 'joined') return true;
  const node = nodeOf(definition, path.node);
  if (!node || node.skipIfCondition !== undefined || (node.skipAfterMs !== undefined && now >= path.enteredAt + node.skipAfterMs)) return false;
  if (path.status === 'form' && node.kind === 'form') return true;
  return hasWait(node) && path.waitUntil !== null && now < path.waitUntil;
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
  const dataBefore = copyState(state.data);
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
        const error = new JoinWithoutSplitError(definition.name, state.id, name);
        draft.close(path, describeError(error), { error: error.message });
        draft.stop(path, error.message);
        return;
      }
      // As the reference: an early arrival's row closes as "Open Join"; the last arrival's as
      // "Joined" with the task ids of every arrival, and the early rows become "Joined" too.
      path.status = 'joined';
      path.joinedAt = now;
      const arrived = state.paths.filter((p) => p.status === 'joined' && p.node === name && p.forks.at(-1)?.split === fork.split);
      if (arrived.length < fork.count) {
        draft.close(path, 'Open Join', []);
        return;
      }
      const early = arrived.filter((p) => p !== path).sort((a, b) => a.taskId - b.taskId);
      for (const p of early) draft.history.push({ type: 'close', instanceId: state.id, taskId: p.taskId, finished: p.joinedAt ?? now, message: 'Joined', result: [] });
      draft.close(path, 'Joined', [...early.map((p) => p.taskId), path.taskId]);
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

async function submit(definition: AutomationDefinition, state: InstanceState, event: Extract<AutomationEvent, { type: 'submit' }>): Promise<StepResult> {
  const { form, actor, input, now } = event;
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

/**
 * The durable timer of ordered nodes: null when the instance only waits for something
 * external (a form, a message-driven join) or cannot move at all. Paths waiting on an AsSoonAs or SkipIf condition are due at once, so every scheduler pass polls them.
 */
function dueAt(definition: AutomationDefinition, state: InstanceState): number | null {
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
