import { z } from 'zod';
import { WayflowError } from '../../core/index.ts';
import { AutomationDefinitionError, type AutomationProblem, describeError } from '../errors.ts';
import type { Actor } from '../engine.ts';

const nodeSchema = z.object({
  name: z.string().min(1, 'a node needs a name'),
  start: z.boolean().default(false),
  end: z.boolean().default(false),
  split: z.enum(['AND', 'XOR']).default('AND'),
  join: z.enum(['AND', 'XOR']).default('XOR'),
  role: z.string().min(1).optional(),
  task: z.string().min(1).optional(),
  /** The workflow (automation name) whose process this node's task starts and waits for: a sub-process. */
  subprocess: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  requires: z.array(z.string().min(1)).default([]),
});

const transitionSchema = z.object({
  from: z.string().min(1),
  to: z.string().min(1),
  condition: z.union([z.string().min(1), z.object({ resultEquals: z.unknown() })]).optional(),
});

/** The JSON shape of a django-ws workflow: nodes, transitions with optional conditions, roles. */
export const wsWorkflowSchema = z.object({
  name: z.string().min(1, 'the workflow needs a name'),
  roles: z.array(z.string().min(1)).default([]),
  params: z.record(z.string(), z.unknown()).default({}),
  nodes: z.array(nodeSchema).min(1, 'a workflow needs at least one node'),
  transitions: z.array(transitionSchema).default([]),
});

/** A parsed django-ws workflow. */
export type WsWorkflowJson = z.output<typeof wsWorkflowSchema>;
/** One node of a django-ws workflow. */
export type WsNode = WsWorkflowJson['nodes'][number];

/** A task a node runs: gets the merged parameters and the process data; its result feeds the transitions' conditions. */
export type WsTask = (params: Record<string, unknown>, data: Record<string, unknown>) => unknown;
/** A named transition condition over the finished node's result and the process data. */
export type WsCondition = (result: unknown, data: Record<string, unknown>) => boolean;

/** A loaded, validated workflow with the code its JSON names. */
export interface WsWorkflow {
  readonly json: WsWorkflowJson;
  readonly tasks: Readonly<Record<string, WsTask>>;
  readonly conditions: Readonly<Record<string, WsCondition>>;
}

/**
 * Loads a JSON workflow: validates its shape with zod and its references (transitions to
 * declared nodes, declared roles, registered tasks and conditions, at least one start node),
 * reporting every problem at once as an `AutomationDefinitionError`.
 */
export function loadWsWorkflow(
  json: unknown,
  code: { tasks?: Record<string, WsTask>; conditions?: Record<string, WsCondition> } = {},
): WsWorkflow {
  const name = typeof json === 'object' && json !== null && typeof (json as { name?: unknown }).name === 'string' ? (json as { name: string }).name : '(unnamed workflow)';
  const parsed = wsWorkflowSchema.safeParse(json);
  if (!parsed.success) {
    throw new AutomationDefinitionError(
      name,
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(workflow)', message: issue.message })),
    );
  }
  const wf = parsed.data;
  const tasks = code.tasks ?? {};
  const conditions = code.conditions ?? {};
  const problems: AutomationProblem[] = [];
  const names = new Set<string>();
  wf.nodes.forEach((node, i) => {
    if (names.has(node.name)) problems.push({ path: `nodes.${i}.name`, message: `duplicate node name "${node.name}"` });
    names.add(node.name);
    if (node.role !== undefined && !wf.roles.includes(node.role)) problems.push({ path: `nodes.${i}.role`, message: `role "${node.role}" is not declared in roles` });
    if (node.task !== undefined && !Object.hasOwn(tasks, node.task)) problems.push({ path: `nodes.${i}.task`, message: `task "${node.task}" is not registered` });
    if (node.subprocess !== undefined && node.task !== undefined)
      problems.push({ path: `nodes.${i}.subprocess`, message: 'a node runs a task or starts a sub-process, not both; move one to its own node' });
    if (node.requires.length > 0 && node.role === undefined) problems.push({ path: `nodes.${i}.requires`, message: 'a node that may need human input needs a role' });
  });
  if (!wf.nodes.some((n) => n.start)) problems.push({ path: 'nodes', message: 'at least one node must be a start node' });
  wf.transitions.forEach((t, i) => {
    if (!names.has(t.from)) problems.push({ path: `transitions.${i}.from`, message: `unknown node "${t.from}"` });
    if (!names.has(t.to)) problems.push({ path: `transitions.${i}.to`, message: `unknown node "${t.to}"` });
    if (typeof t.condition === 'string' && !Object.hasOwn(conditions, t.condition))
      problems.push({ path: `transitions.${i}.condition`, message: `condition "${t.condition}" is not registered` });
  });
  if (problems.length > 0) throw new AutomationDefinitionError(wf.name, problems);
  return { json: wf, tasks, conditions };
}

/** A task of a process: one activation of a node. */
export interface WsTaskState {
  id: number;
  node: string;
  /** `pending`: waits for a user of the node's role to supply missing parameters. */
  status: 'pending' | 'done' | 'failed' | 'stopped';
  params: Record<string, unknown>;
  result: unknown;
  started: number;
  finished: number | null;
  completedBy?: string;
  error?: string;
}

/** A running (or finished) process of a workflow. */
export interface WsProcess {
  id: string;
  workflow: string;
  data: Record<string, unknown>;
  tasks: WsTaskState[];
  /** Fulfilled incoming transitions per AND-join node, as `from` node names. */
  arrivals: Record<string, string[]>;
  finished: boolean;
  /** Whether the process ended because its end task failed (the reference's FAILED process state). */
  failed: boolean;
  finishedAt: number | null;
}

/** The task does not exist, is not pending, or the user lacks the node's role. */
export class WsTaskError extends WayflowError {
  override readonly name: string = 'WsTaskError';
  constructor(workflow: string, processId: string, taskId: number, detail: string) {
    super('ws-task', `Workflow "${workflow}", process ${processId}, task ${taskId}: ${detail}.`);
  }
}

/** Starts a process: every start node fires, in parallel. */
export async function startWsProcess(workflow: WsWorkflow, options: { id: string; data?: Record<string, unknown>; now: number }): Promise<WsProcess> {
  const process: WsProcess = { id: options.id, workflow: workflow.json.name, data: structuredClone(options.data ?? {}), tasks: [], arrivals: {}, finished: false, failed: false, finishedAt: null };
  const queue = workflow.json.nodes.filter((n) => n.start).map((n) => ({ node: n.name, from: null as string | null }));
  await drain(workflow, process, queue, options.now);
  return process;
}

/**
 * Completes a pending (human) task: the actor must hold the node's role; `params`
 * supply the missing parameters; the node's task then runs and the process moves on.
 */
export async function completeWsTask(
  workflow: WsWorkflow,
  input: WsProcess,
  taskId: number,
  actor: Actor & { roles?: readonly string[] },
  params: Record<string, unknown>,
  now: number,
): Promise<WsProcess> {
  const process = structuredClone(input);
  const task = process.tasks.find((t) => t.id === taskId);
  const fail = (detail: string) => new WsTaskError(workflow.json.name, process.id, taskId, detail);
  if (!task) throw fail('no such task; reload the task list');
  if (task.status !== 'pending') throw fail(`the task is ${task.status}, not pending`);
  const node = wsNodeNamed(workflow, task.node);
  if (node.role !== undefined && !actor.superuser && !actor.roles?.includes(node.role)) throw fail(`user "${actor.id}" lacks role "${node.role}"`);
  task.params = { ...task.params, ...params };
  task.completedBy = actor.id;
  const queue: { node: string; from: string | null }[] = [];
  await runTask(workflow, process, task, node, queue, now);
  await drain(workflow, process, queue, now);
  return process;
}

/** At most this many node activations happen in one start or completion; more means an automatic loop. */
export const WS_MAX_ACTIVATIONS = 1000;

async function drain(workflow: WsWorkflow, process: WsProcess, queue: { node: string; from: string | null }[], now: number): Promise<void> {
  for (let activations = 0; queue.length > 0 && !process.finished; activations++) {
    if (activations >= WS_MAX_ACTIVATIONS) {
      throw new WayflowError(
        'ws-hot-loop',
        `Workflow "${workflow.json.name}", process ${process.id}: more than ${WS_MAX_ACTIVATIONS} activations without human input. Break the loop with a node that requires input, or a condition.`,
      );
    }
    const { node: name, from } = queue.shift() as { node: string; from: string | null };
    const node = wsNodeNamed(workflow, name);
    if (from !== null && !joinFires(workflow, process, node, from)) continue;
    const task: WsTaskState = {
      id: process.tasks.length + 1,
      node: name,
      status: 'pending',
      params: { ...workflow.json.params, ...node.params },
      result: null,
      started: now,
      finished: null,
    };
    process.tasks.push(task);
    if (node.requires.some((p) => task.params[p] === undefined && process.data[p] === undefined)) continue;
    await runTask(workflow, process, task, node, queue, now);
  }
}

/** Whether an arrival from `from` fires the node: AND waits for every incoming transition; XOR fires once, stopping the other parents. */
function joinFires(workflow: WsWorkflow, process: WsProcess, node: WsNode, from: string): boolean {
  const parents = wsParents(workflow, node.name);
  if (node.join === 'AND') {
    const arrived = new Set([...(process.arrivals[node.name] ?? []), from]);
    if (parents.some((p) => !arrived.has(p))) {
      process.arrivals[node.name] = [...arrived];
      return false;
    }
    delete process.arrivals[node.name];
    return true;
  }
  if (process.tasks.some((t) => t.node === node.name && t.status === 'pending')) return false;
  for (const task of process.tasks) {
    if (task.status === 'pending' && parents.includes(task.node) && task.node !== from) task.status = 'stopped';
  }
  return true;
}

async function runTask(workflow: WsWorkflow, process: WsProcess, task: WsTaskState, node: WsNode, queue: { node: string; from: string | null }[], now: number) {
  try {
    if (node.subprocess !== undefined) throw new Error(`node "${node.name}" starts a sub-process, which needs the automation runner: compile the workflow with compileWsWorkflow`);
    const fn = node.task === undefined ? undefined : workflow.tasks[node.task];
    task.result = fn ? ((await fn({ ...process.data, ...task.params }, process.data)) ?? null) : null;
  } catch (error) {
    task.status = 'failed';
    task.error = describeError(error);
    task.finished = now;
    // As the reference: an end task that fails fails the process.
    if (node.end) endProcess(process, now, true);
    return;
  }
  task.status = 'done';
  task.finished = now;
  if (node.end) {
    endProcess(process, now, false);
    return;
  }
  for (const to of wsPassiveArrivals(workflow, node, task.result)) process.arrivals[to] = [...new Set([...(process.arrivals[to] ?? []), node.name])];
  for (const to of wsNextNodes(workflow, node, task.result, process.data)) queue.push({ node: to, from: node.name });
}

function endProcess(process: WsProcess, now: number, failed: boolean): void {
  for (const other of process.tasks) if (other.status === 'pending') other.status = 'stopped';
  process.finished = true;
  process.failed = failed;
  process.finishedAt = now;
}

/**
 * The nodes a finished node activates: every transition whose condition holds (AND split), or
 * the first one (XOR split). As in the reference, a task with an empty result (null, undefined
 * or `''`) follows only its unconditional transitions.
 */
export function wsNextNodes(workflow: WsWorkflow, node: WsNode, result: unknown, data: Record<string, unknown>): string[] {
  const empty = wsEmptyResult(result);
  const matching = workflow.json.transitions.filter(
    (t) => t.from === node.name && (t.condition === undefined || (!empty && conditionHolds(workflow, t.condition, result, data))),
  );
  return (node.split === 'XOR' ? matching.slice(0, 1) : matching).map((t) => t.to);
}

/** Whether a task result is empty (the reference's `''` result): null, undefined or the empty string. */
export function wsEmptyResult(result: unknown): boolean {
  return result === null || result === undefined || result === '';
}

/**
 * The AND-join nodes a finished node counts as arrived at without activating them: as in the
 * reference, a parent whose result is empty fulfils its conditional transitions into a join
 * (the join fires when another parent's transition activates it and all parents are in).
 */
export function wsPassiveArrivals(workflow: WsWorkflow, node: WsNode, result: unknown): string[] {
  if (!wsEmptyResult(result)) return [];
  const targets = workflow.json.transitions.filter((t) => t.from === node.name && t.condition !== undefined).map((t) => t.to);
  return [...new Set(targets)].filter((to) => wsNodeNamed(workflow, to).join === 'AND');
}

/** The distinct nodes with a transition into `node` (what an AND join waits for). */
export function wsParents(workflow: WsWorkflow, node: string): string[] {
  return [...new Set(workflow.json.transitions.filter((t) => t.to === node).map((t) => t.from))];
}

function conditionHolds(workflow: WsWorkflow, condition: WsWorkflowJson['transitions'][number]['condition'], result: unknown, data: Record<string, unknown>): boolean {
  if (condition === undefined) return true;
  if (typeof condition === 'string') return (workflow.conditions[condition] as WsCondition)(result, data);
  return JSON.stringify(condition.resultEquals) === JSON.stringify(result);
}

/** The node of that name (the loader checked every reference). */
export function wsNodeNamed(workflow: WsWorkflow, name: string): WsNode {
  return workflow.json.nodes.find((n) => n.name === name) as WsNode;
}
