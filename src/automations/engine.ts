import { InstanceFinishedError, MissingMessageDataError, UnknownReceiverError } from './errors.ts';
import { type AutomationDefinition, missingDataParameters, nodeOf } from './definition.ts';
import type { AutomationData, FormAssignment } from './nodes/nodes.ts';
import type { AutomationEffect, InstanceState, StepResult } from './state.ts';

export { toJson } from './draft.ts';

/**
 * The one engine contract every workflow model compiles to (the django-automations nodes,
 * django-ws workflows, django-flowcontrol flows): a pure transition from a state and an event
 * to the next state and the effects to perform, and the durable timer of a state. Pure apart
 * from calling the definition's own functions: `next` never touches its input state.
 */
export interface Engine<State, Event, Effect> {
  /** The next state after `event`, with the effects the runner performs in (or after) the step's transaction (unchanged: possibly `state` itself). */
  next(state: State, event: Event): Promise<Transition<State, Effect>>;
  /** The earliest time a `tick` could move `state` (null: only an outside event can move it). */
  nextDueAt(state: State): number | null;
}

/** What one engine transition produced. */
export interface Transition<State, Effect> {
  state: State;
  effects: Effect[];
  /** Whether anything changed; false means the state waits at the event's time. */
  changed: boolean;
}

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
  /** The instance data; an engine starts from its own copy and never changes or keeps this object. */
  data: AutomationData;
  now: number;
}

/** What a form submission names: the form task's id or the form node's name. */
export type FormSelector = { taskId: number } | { node: string };

/** What moves an automation instance: time passing (process what can move at `now`), or a human's form input. */
export type AutomationEvent =
  | { type: 'tick'; now: number }
  | { type: 'submit'; form: FormSelector; actor: Actor; input: unknown; now: number };

/**
 * The engine of one automation definition (ordered nodes, a compiled django-ws workflow): the
 * `Engine` contract over instance states, plus the state of a new instance. A `tick` processes
 * one unit of work; a `submit` applies a human task's input after the permission check and
 * validation, or throws changing nothing.
 */
export interface AutomationEngine extends Engine<InstanceState, AutomationEvent, AutomationEffect> {
  /** The state of a new instance (nothing executed yet). */
  start(options: StartOptions): Promise<StepResult>;
  next(state: InstanceState, event: AutomationEvent): Promise<StepResult>;
}

/** The state of a new instance of `automation` before its engine placed anything: no paths, no history, the given data. */
export function emptyInstanceState(automation: string, options: StartOptions): InstanceState {
  return {
    id: options.id,
    automation,
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
}

/** Creates the state of a new instance of `definition` (nothing executed yet). */
export function startInstance(definition: AutomationDefinition, options: StartOptions): Promise<StepResult> {
  return definition.engine.start(options);
}

/**
 * Advances the instance by one unit of work that can happen at `now` (for ordered nodes: one
 * node on the first path that can move). The input state is not touched; the caller persists
 * `state` and `history` and performs `effects` in one transaction. `changed: false` means
 * every path waits (for time, a condition, a form, or a join).
 */
export function step(definition: AutomationDefinition, state: InstanceState, now: number): Promise<StepResult> {
  return definition.engine.next(state, { type: 'tick', now });
}

/**
 * Applies a form submission: checks that the form is open and the actor may process it,
 * validates `input` with the node's schema, stores the parsed value (in `data[node]` for
 * ordered nodes) and in the history row, and moves the path on. Throws (changing nothing)
 * when any check fails.
 */
export function submitForm(
  definition: AutomationDefinition,
  state: InstanceState,
  form: FormSelector,
  actor: Actor,
  input: unknown,
  now: number,
): Promise<StepResult> {
  return definition.engine.next(state, { type: 'submit', form, actor, input, now });
}

/**
 * The earliest time the instance could progress, for the storage's due index: null when it
 * only waits for something external (a form, a message-driven join) or cannot move at all.
 */
export function nextDueAt(definition: AutomationDefinition, state: InstanceState): number | null {
  return definition.engine.nextDueAt(state);
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

/** The open forms of an instance that `actor` may process (all open forms without an actor), each with the fields it still needs (`missing`). */
export function openForms(
  definition: AutomationDefinition,
  state: InstanceState,
  actor?: Actor,
): { instanceId: string; taskId: number; node: string; description: string; assignment: FormAssignment; since: number; missing: string[] }[] {
  return state.paths.flatMap((path) => {
    const node = nodeOf(definition, path.node);
    if (path.status !== 'form' || node?.kind !== 'form') return [];
    if (actor && formPermissionProblem(node.assignment, actor)) return [];
    const missing = node.missingFields?.(state.data) ?? [];
    return [{ instanceId: state.id, taskId: path.taskId, node: path.node, description: node.description, assignment: node.assignment, since: path.enteredAt, missing }];
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
