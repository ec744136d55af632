import { z } from 'zod';
import { WayflowError, validateInput } from '../../core/index.ts';
import type { AutomationDefinition } from '../definition.ts';
import { copyState, StepDraft, toJson } from '../draft.ts';
import { type AutomationEngine, type AutomationEvent, emptyInstanceState, formPermissionProblem, type StartOptions } from '../engine.ts';
import { describeError, FormPermissionError, FormValidationError, InstanceFinishedError, NoOpenFormError } from '../errors.ts';
import { type AnyNode, ExecuteNode, FormNode } from '../nodes/nodes.ts';
import type { InstanceState, PathState, StepResult } from '../state.ts';
import {
  loadWsWorkflow,
  WS_MAX_ACTIVATIONS,
  type WsCondition,
  type WsNode,
  type WsTask,
  type WsWorkflow,
  wsNextNodes,
  wsNodeNamed,
  wsPassiveArrivals,
  wsParents,
} from './workflow.ts';

/** A django-ws workflow activated more than `WS_MAX_ACTIVATIONS` nodes in a row without human input. */
export class WsLoopError extends WayflowError {
  override readonly name: string = 'WsLoopError';
  constructor(workflow: string, instance: string, node: string) {
    super(
      'ws-hot-loop',
      `Workflow "${workflow}", instance ${instance}: node "${node}" was reached after more than ${WS_MAX_ACTIVATIONS} activations without human input; the path stopped. Break the loop with a node that requires input, or a condition.`,
    );
  }
}

/** What a human task's input must be: an object of task parameters. */
const taskInputSchema = z.record(z.string(), z.unknown(), { error: 'expected an object of task parameters' });

const compiled = new WeakMap<AutomationDefinition, WsWorkflow>();

/**
 * Compiles a loaded django-ws workflow into an automation definition, so that
 * `createAutomationRunner` and every `AutomationStorage` (memory, PGlite, PostgreSQL) run it:
 * one transaction per node activation, human tasks as forms, history rows as ws tasks.
 *
 * - Each pending activation is an engine path: `active` until processed, `form` while it waits
 *   for a user of the node's role (a role is checked as a group: `actor.groups`), `joined`
 *   while it waits at an AND join for the other parent nodes.
 * - A node with `requires` compiles to a form node, so `runner.openForms(actor)` lists its open
 *   tasks and `runner.submitForm(id, { taskId }, actor, params)` completes them.
 * - The history row of a task closes with `OK` and the task's result, `stopped` (a XOR join or
 *   an end node stopped it), or the task's error.
 * @example
 * const conference = compileWsWorkflow(loadWsWorkflow(json, { tasks, conditions }));
 * const runner = createAutomationRunner({ storage, automations: [conference] });
 * const instance = await runner.create(conference);
 */
export function compileWsWorkflow(workflow: WsWorkflow, options: { verboseName?: string; verboseNamePlural?: string } = {}): AutomationDefinition {
  const nodes: Record<string, AnyNode> = {};
  for (const node of workflow.json.nodes) {
    if (node.requires.length > 0) {
      const form = new FormNode(taskInputSchema).describe(`${node.name} (requires ${node.requires.join(', ')})`);
      const params = { ...workflow.json.params, ...node.params };
      form.missingFields = (data) => node.requires.filter((p) => params[p] === undefined && data[p] === undefined);
      nodes[node.name] = node.role === undefined ? form : form.group(node.role);
    } else {
      nodes[node.name] = new ExecuteNode().describe(node.name);
    }
  }
  const name = workflow.json.name;
  const fields: Omit<AutomationDefinition, 'engine'> = {
    name,
    verboseName: options.verboseName ?? `Workflow ${name}`,
    verboseNamePlural: options.verboseNamePlural ?? `Workflows ${name}`,
    order: workflow.json.nodes.map((n) => n.name),
    nodes,
    unique: false,
    // A sub-process's end is delivered as a message (durably, through the outbox) and kept until the parent's next step applies it.
    receivers: {
      [SUBPROCESS_ENDED]: {
        requires: { taskId: 'number', instanceId: 'string', failed: 'boolean' },
        handler: (ctx, _token, payload) => {
          ctx.data[ENDED_KEY] = { ...endedSubprocesses(ctx.data), [String(payload.taskId)]: payload };
        },
      },
      [SUBPROCESS_REVOKED]: {
        requires: {},
        handler: (ctx) => {
          ctx.data[REVOKED_KEY] = true;
        },
      },
    },
    publishReceivers: false,
  };
  const definition: AutomationDefinition = { ...fields, engine: wsEngine(workflow, fields) };
  compiled.set(definition, workflow);
  return definition;
}

/** `loadWsWorkflow` (zod validation, every problem reported at once) and then `compileWsWorkflow`. */
export function loadWsAutomation(
  json: unknown,
  code: { tasks?: Record<string, WsTask>; conditions?: Record<string, WsCondition> } = {},
  options: { verboseName?: string; verboseNamePlural?: string } = {},
): AutomationDefinition {
  return compileWsWorkflow(loadWsWorkflow(json, code), options);
}

/** The workflow a definition was compiled from, or undefined for other definitions. */
export function wsWorkflowOf(definition: AutomationDefinition): WsWorkflow | undefined {
  return compiled.get(definition);
}

/** A step of a django-ws process in progress. */
class WsDraft extends StepDraft {
  constructor(
    readonly workflow: WsWorkflow,
    state: InstanceState,
    now: number,
  ) {
    super(state, now);
  }

  /** Queues an activation of `node` (from `from`) at the end of the paths, like the pure engine's queue. */
  queue(node: string, from: string | null, hops: number): void {
    this.state.paths.push({ id: `p${this.state.nextPathId++}`, node, taskId: 0, enteredAt: this.now, waitUntil: null, status: 'active', forks: [], from, hops });
  }

  remove(path: PathState): void {
    this.state.paths = this.state.paths.filter((p) => p !== path);
  }

  /**
   * Finishes the process: pending human tasks close as `stopped`; failed paths stay for the
   * record. A sub-process tells its parent task how it ended (`subprocess_ended`), with the end
   * task's result (null when it failed).
   */
  end(result: unknown): void {
    const state = this.state;
    this.revoke();
    if (state.parent) {
      const failed = state.paths.some((p) => p.failedEnd === true);
      const ended: SubprocessEnded = { taskId: state.parent.taskId, instanceId: state.id, workflow: this.workflow.json.name, failed, result: failed ? null : toJson(result) };
      this.effects.push({
        type: 'send-message',
        from: { instanceId: state.id, node: '', taskId: 0 },
        to: { instanceId: state.parent.instanceId },
        message: SUBPROCESS_ENDED,
        payload: { ...ended },
      });
    }
  }

  /** Closes a waiting task as `stopped`; a task waiting for its sub-process revokes it (the reference's `task_revoked`). */
  stop(path: PathState): void {
    this.close(path, 'stopped');
    if (path.status !== 'subprocess' || path.subprocess === undefined) return;
    this.effects.push({
      type: 'send-message',
      from: { instanceId: this.state.id, node: path.node, taskId: path.taskId },
      to: { instanceId: path.subprocess },
      message: SUBPROCESS_REVOKED,
      payload: {},
    });
  }

  /** Ends a revoked sub-process: its waiting tasks close as `stopped` (revoking their own sub-processes); its parent is not told. */
  revoke(): void {
    const state = this.state;
    for (const other of state.paths) if (other.status === 'form' || other.status === 'subprocess') this.stop(other);
    state.paths = state.paths.filter((p) => p.status === 'error');
    state.finished = true;
    state.finishedAt = this.now;
    this.effects.push({ type: 'finished', instanceId: state.id });
  }

  /** Completes a path waiting for its sub-process, once the `subprocess_ended` message recorded how it ended. */
  subprocessEnded(path: PathState, ended: SubprocessEnded): void {
    const node = wsNodeNamed(this.workflow, path.node);
    if (ended.failed) {
      this.close(path, `sub-process ${ended.instanceId} failed`, { error: `sub-process ${ended.instanceId} of workflow "${ended.workflow}" failed` });
      this.fail(path, node, `sub-process ${ended.instanceId} of workflow "${ended.workflow}" failed`);
      return;
    }
    this.close(path, 'OK', ended.result);
    this.advance(path, node, ended.result, path.hops ?? 0);
  }

  /**
   * Runs the node's task with the merged parameters; moves on along the transitions, finishes at an end node.
   * A sub-process node instead starts its workflow's process (with the task's parameters as its data) and waits for it.
   */
  async runTask(path: PathState, node: WsNode, params: Record<string, unknown>, hops: number, completedBy?: string): Promise<void> {
    const { state, workflow } = this;
    if (node.subprocess !== undefined) {
      path.status = 'subprocess';
      path.hops = hops;
      // The id is the parent's and the task's, so the parent can revoke the sub-process it started.
      path.subprocess = `${state.id}.${path.taskId}`;
      this.effects.push({
        type: 'start-instance',
        id: path.subprocess,
        automation: node.subprocess,
        data: structuredClone(withoutEndedSubprocesses({ ...state.data, ...params })),
        parent: { instanceId: state.id, taskId: path.taskId },
      });
      if (completedBy !== undefined) this.history.push({ type: 'close', instanceId: state.id, taskId: path.taskId, finished: this.now, message: 'started', result: null, completedBy });
      return;
    }
    const dataBefore = copyState(state.data);
    let result: unknown;
    try {
      const fn = node.task === undefined ? undefined : workflow.tasks[node.task];
      result = fn ? ((await fn({ ...state.data, ...params }, state.data)) ?? null) : null;
    } catch (error) {
      state.data = dataBefore;
      this.close(path, describeError(error), { error: error instanceof Error ? (error.stack ?? describeError(error)) : String(error) }, completedBy);
      this.fail(path, node, describeError(error));
      return;
    }
    this.close(path, 'OK', result, completedBy);
    this.advance(path, node, result, hops);
  }

  /** Stops a path whose task failed; as in the reference, a failed end task fails the process. */
  fail(path: PathState, node: WsNode, reason: string): void {
    const { state, workflow } = this;
    path.status = 'error';
    if (!node.end) {
      path.error = `Workflow "${workflow.json.name}", instance ${state.id}: task of node "${node.name}" failed (${reason}). The path stopped.`;
      return;
    }
    path.error = `Workflow "${workflow.json.name}", instance ${state.id}: end task of node "${node.name}" failed (${reason}), so the process failed.`;
    path.failedEnd = true;
    this.end(null);
  }

  /** Moves on from a task that succeeded with `result`: along the transitions, or finishes at an end node. */
  advance(path: PathState, node: WsNode, result: unknown, hops: number): void {
    const { state, workflow } = this;
    this.remove(path);
    if (node.end) {
      this.end(result);
      return;
    }
    for (const to of wsPassiveArrivals(workflow, node, result)) {
      // Counts as arrived at the AND join without activating it (see wsPassiveArrivals).
      this.queue(to, node.name, hops + 1);
      (state.paths.at(-1) as PathState).status = 'joined';
    }
    for (const to of wsNextNodes(workflow, node, result, state.data)) this.queue(to, node.name, hops + 1);
  }
}

/** The message a sub-process sends its parent instance when it ends, and the data key where the parent keeps it until its step. */
export const SUBPROCESS_ENDED = 'subprocess_ended';
const ENDED_KEY = '_subprocesses';
/** The message a parent sends the sub-process of a task it stopped, and the data key that marks the sub-process revoked. */
export const SUBPROCESS_REVOKED = 'subprocess_revoked';
const REVOKED_KEY = '_revoked';

/** Whether a sub-process ended because its parent task was stopped (the reference's REVOKED process state). */
export function wsProcessRevoked(state: Pick<InstanceState, 'finished' | 'data'>): boolean {
  return state.finished && state.data[REVOKED_KEY] === true;
}

/** How a sub-process ended, as its parent task learns it. */
export interface SubprocessEnded {
  taskId: number;
  instanceId: string;
  workflow: string;
  failed: boolean;
  result: unknown;
}

function withoutEndedSubprocesses(data: Record<string, unknown>): Record<string, unknown> {
  const { [ENDED_KEY]: _ended, ...rest } = data;
  return rest;
}

/** The sub-process endings delivered to an instance and not yet applied to their tasks, by task id. */
function endedSubprocesses(data: Record<string, unknown>): Record<string, SubprocessEnded> {
  const ended = data[ENDED_KEY];
  return typeof ended === 'object' && ended !== null ? (ended as Record<string, SubprocessEnded>) : {};
}

/** Whether a finished process ended because its end task failed (the reference's FAILED process state). */
export function wsProcessFailed(state: Pick<InstanceState, 'finished' | 'paths'>): boolean {
  return state.finished && state.paths.some((p) => p.failedEnd === true);
}

/** Whether an activation from `from` fires the node; may park the path (AND join) or stop parents (XOR join). */
function joinFires(draft: WsDraft, path: PathState, node: WsNode): boolean {
  const from = path.from ?? null;
  if (from === null) return true;
  const state = draft.state;
  const parents = wsParents(draft.workflow, node.name);
  if (node.join === 'AND') {
    const waiting = state.paths.filter((p) => p !== path && p.status === 'joined' && p.node === node.name);
    const arrived = new Set([...waiting.map((p) => p.from), from]);
    if (parents.some((p) => !arrived.has(p))) {
      path.status = 'joined';
      return false;
    }
    state.paths = state.paths.filter((p) => !waiting.includes(p));
    return true;
  }
  if (state.paths.some((p) => p.node === node.name && p.status === 'form')) {
    draft.remove(path);
    return false;
  }
  for (const other of [...state.paths]) {
    if ((other.status === 'form' || other.status === 'subprocess') && other.node !== from && parents.includes(other.node)) {
      draft.stop(other);
      draft.remove(other);
    }
  }
  return true;
}

/** The engine of one compiled workflow: a `tick` activates one pending node, a `submit` completes a human task. */
function wsEngine(workflow: WsWorkflow, definition: Omit<AutomationDefinition, 'engine'>): AutomationEngine {
  return {
    start: (options) => start(workflow, definition, options),
    next: (state, event) => (event.type === 'tick' ? tick(workflow, definition, state, event.now) : submit(workflow, definition, state, event)),
    nextDueAt(state: InstanceState): number | null {
      if (state.finished) return null;
      if (state.data[REVOKED_KEY] === true) return state.createdAt;
      const ended = endedSubprocesses(state.data);
      const active = state.paths.filter((p) => p.status === 'active' || (p.status === 'subprocess' && ended[p.taskId] !== undefined)).map((p) => p.enteredAt);
      return active.length > 0 ? Math.min(...active) : null;
    },
  };
}

type WsDefinition = Omit<AutomationDefinition, 'engine'>;

async function start(workflow: WsWorkflow, definition: WsDefinition, options: StartOptions): Promise<StepResult> {
  const state = emptyInstanceState(definition.name, options);
  const draft = new WsDraft(workflow, state, options.now);
  for (const node of workflow.json.nodes) if (node.start) draft.queue(node.name, null, 0);
  return draft.result(true);
}

async function tick(workflow: WsWorkflow, definition: WsDefinition, state: InstanceState, now: number): Promise<StepResult> {
  const draft = new WsDraft(workflow, state, now);
  if (state.finished) return draft.result(false);
  if (draft.state.data[REVOKED_KEY] === true) {
    draft.revoke();
    return draft.result(true);
  }
  const ended = endedSubprocesses(draft.state.data);
  const waiting = draft.state.paths.find((p) => p.status === 'subprocess' && ended[p.taskId] !== undefined);
  if (waiting) {
    const { [waiting.taskId]: end, ...rest } = ended;
    if (Object.keys(rest).length > 0) draft.state.data[ENDED_KEY] = rest;
    else delete draft.state.data[ENDED_KEY];
    draft.subprocessEnded(waiting, end as SubprocessEnded);
    return draft.result(true);
  }
  const path = draft.state.paths.find((p) => p.status === 'active');
  if (!path) return draft.result(false);
  const hops = path.hops ?? 0;
  if (hops >= WS_MAX_ACTIVATIONS) {
    path.status = 'error';
    path.error = new WsLoopError(workflow.json.name, state.id, path.node).message;
    return draft.result(true);
  }
  const node = wsNodeNamed(workflow, path.node);
  if (!joinFires(draft, path, node)) return draft.result(true);
  path.taskId = draft.state.nextTaskId++;
  path.enteredAt = now;
  draft.history.push({
    type: 'open',
    row: { instanceId: state.id, taskId: path.taskId, path: path.id, status: node.name, created: now, finished: null, message: null, result: null },
  });
  const params = { ...workflow.json.params, ...node.params };
  if (node.requires.some((p) => params[p] === undefined && draft.state.data[p] === undefined)) {
    const assignment = (definition.nodes as Record<string, AnyNode>)[node.name] as FormNode;
    path.status = 'form';
    draft.effects.push({ type: 'form-opened', instanceId: state.id, taskId: path.taskId, node: node.name, assignment: assignment.assignment });
    return draft.result(true);
  }
  await draft.runTask(path, node, params, hops);
  return draft.result(true);
}

async function submit(workflow: WsWorkflow, definition: WsDefinition, state: InstanceState, event: Extract<AutomationEvent, { type: 'submit' }>): Promise<StepResult> {
  const { form, actor, input, now } = event;
  const draft = new WsDraft(workflow, state, now);
  const label = 'taskId' in form ? `task ${form.taskId}` : form.node;
  if (state.finished) throw new InstanceFinishedError(definition.name, state.id, `complete ${label}`);
  const path = draft.state.paths.find((p) => p.status === 'form' && ('taskId' in form ? p.taskId === form.taskId : p.node === form.node));
  const formNode = path && (definition.nodes as Record<string, AnyNode>)[path.node];
  if (!path || formNode?.kind !== 'form') throw new NoOpenFormError(definition.name, state.id, label);
  const problem = formPermissionProblem(formNode.assignment, actor);
  if (problem) throw new FormPermissionError(definition.name, state.id, path.node, actor.id, problem);
  const parsed = await validateInput(taskInputSchema, input);
  if (!parsed.ok) throw new FormValidationError(definition.name, state.id, path.node, parsed.errors);
  const node = wsNodeNamed(workflow, path.node);
  const params = { ...workflow.json.params, ...node.params, ...parsed.value };
  const missing = node.requires.filter((p) => params[p] === undefined && draft.state.data[p] === undefined);
  if (missing.length > 0) throw new FormValidationError(definition.name, state.id, path.node, Object.fromEntries(missing.map((p) => [p, ['required']])));
  // Human input resets the loop guard.
  await draft.runTask(path, node, params, -1, actor.id);
  return draft.result(true);
}
