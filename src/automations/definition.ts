import type { Actor, FormSelector, StartOptions } from './engine.ts';
import { AutomationDefinitionError } from './errors.ts';
import type { AnyNode, AutomationData, NodeKind } from './nodes.ts';
import type { InstanceState, StepResult } from './state.ts';
import { validateAutomation } from './validate.ts';

/** The type a receiver requires of a data parameter. */
export type ParamType = 'string' | 'number' | 'boolean' | 'object' | 'array';

/** What a receiver gets: the instance's data (a working copy saved with the delivery) and identity. */
export interface ReceiverContext {
  readonly automation: string;
  readonly instanceId: string;
  readonly key: string;
  readonly now: number;
  data: AutomationData;
}

/** A message handler, django's `receive_<name>`; returning `"received"` stops a broadcast. */
export type ReceiverFn = (ctx: ReceiverContext, token: string | undefined, payload: AutomationData) => unknown;

/** A receiver with the data parameters it requires; a message lacking them is not delivered. */
export interface Receiver {
  readonly handler: ReceiverFn;
  readonly requires: Readonly<Record<string, ParamType>>;
}

/**
 * Declares the data parameters a receiver needs (django's `@require_data_parameters`).
 * @example
 * receivers: { subscribe: requireDataParameters({ email: 'string' }, (ctx, _t, p) => { ctx.data.email = p.email; }) }
 */
export function requireDataParameters(requires: Record<string, ParamType>, handler: ReceiverFn): Receiver {
  return { handler, requires };
}

/** A node that refers only to node names in `N` (checked through the phantom `refs`). */
export interface NodeReferring<N extends string> {
  readonly kind: NodeKind;
  readonly refs?: N;
}

/** What `defineAutomation` accepts. Node order is the declaration order of `nodes`. */
export interface AutomationOptions<N extends string> {
  /** The nodes in execution order; every `.next()`/`.thenDo()`/… must name one of them. */
  nodes: { [K in N]: NodeReferring<NoInfer<N>> };
  /** Human-readable name; default `Automation <name>`. */
  verboseName?: string;
  /** Human-readable plural; default `Automations <name>`. */
  verboseNamePlural?: string;
  /** `true`: a singleton (one running instance); a list of data keys: one instance per combination of their values. */
  unique?: boolean | readonly string[];
  /** Message receivers by message name. */
  receivers?: Record<string, ReceiverFn | Receiver>;
  /** Whether the receivers are offered to user interfaces (messages may be sent either way). */
  publishReceivers?: boolean;
}

/** A validated automation definition, ready to register with a runner. */
export interface AutomationDefinition<N extends string = string> {
  readonly name: string;
  readonly verboseName: string;
  readonly verboseNamePlural: string;
  /** Node names in declaration (execution) order. */
  readonly order: readonly N[];
  readonly nodes: Readonly<Record<N, AnyNode>>;
  readonly unique: boolean | readonly string[];
  readonly receivers: Readonly<Record<string, Receiver>>;
  readonly publishReceivers: boolean;
  /**
   * A second kind of definition: when set, the engine functions (`startInstance`, `step`,
   * `submitForm`, `nextDueAt`) delegate to it instead of interpreting `nodes` in order.
   * Compiled django-ws workflows (`compileWsWorkflow`) use it; the runner and every
   * storage treat such instances like any other.
   */
  readonly engine?: AutomationEngine;
}

/** The step functions of a definition kind other than ordered nodes; pure, like the default engine. */
export interface AutomationEngine {
  /** The state of a new instance (nothing executed yet). */
  start(definition: AutomationDefinition, options: StartOptions): Promise<StepResult>;
  /** Processes one unit of work; `changed: false` when the instance waits. */
  step(definition: AutomationDefinition, state: InstanceState, now: number): Promise<StepResult>;
  /** Applies a human task's input after the permission check and validation, or throws changing nothing. */
  submitForm(definition: AutomationDefinition, state: InstanceState, form: FormSelector, actor: Actor, input: unknown, now: number): Promise<StepResult>;
  /** The durable timer: when the instance could next progress (null: only outside input moves it). */
  nextDueAt(definition: AutomationDefinition, state: InstanceState): number | null;
}

/**
 * Defines an automation: ordered, named nodes with modifiers. A reference to an undeclared
 * node is a type error; in plain JavaScript it is reported by the `AutomationDefinitionError`
 * this throws, together with every other problem found.
 * @example
 * const webinar = defineAutomation('WebinarWorkflow', {
 *   nodes: {
 *     start: flow.execute(init),
 *     send_reminder: flow.execute(remind).afterWaitingUntil((ctx) => ctx.data.reminderAt as number),
 *     end: flow.end(),
 *   },
 * });
 */
export function defineAutomation<N extends string>(name: string, options: AutomationOptions<N>): AutomationDefinition<N> {
  const receivers: Record<string, Receiver> = {};
  for (const [message, receiver] of Object.entries(options.receivers ?? {})) {
    receivers[message] = typeof receiver === 'function' ? { handler: receiver, requires: {} } : receiver;
  }
  const definition: AutomationDefinition<N> = {
    name,
    verboseName: options.verboseName ?? `Automation ${name}`,
    verboseNamePlural: options.verboseNamePlural ?? `Automations ${name}`,
    order: Object.keys(options.nodes) as N[],
    nodes: options.nodes as unknown as Record<N, AnyNode>,
    unique: options.unique ?? false,
    receivers,
    publishReceivers: options.publishReceivers ?? false,
  };
  const problems = validateAutomation(definition);
  if (problems.length > 0) throw new AutomationDefinitionError(name, problems);
  return definition;
}

/** The node named `name`, or undefined when the definition does not (or no longer) declare it. */
export function nodeOf(definition: AutomationDefinition, name: string): AnyNode | undefined {
  return Object.hasOwn(definition.nodes, name) ? (definition.nodes as Record<string, AnyNode>)[name] : undefined;
}

/** The node after `name` in declaration order, or undefined for the last node. */
export function nodeAfter(definition: AutomationDefinition, name: string): string | undefined {
  const index = definition.order.indexOf(name);
  return index < 0 ? undefined : definition.order[index + 1];
}

/** A data parameter a message lacks or mistypes: its name and, when the receiver requires one, its type. */
export interface MissingParameter {
  param: string;
  type?: ParamType;
}

/** The receiver's required parameters that `payload` lacks or mistypes (empty when the message may be delivered). */
export function missingDataParameters(receiver: Receiver, payload: AutomationData): MissingParameter[] {
  return Object.entries(receiver.requires)
    .filter(([param, type]) => !hasType(payload[param], type))
    .map(([param, type]) => ({ param, type }));
}

/** Whether `payload` satisfies the requirements of the receiver of `message` (true when it requires nothing). */
export function satisfiesDataRequirements(definition: AutomationDefinition, message: string, payload: AutomationData): boolean {
  const receiver = definition.receivers[message];
  return receiver !== undefined && missingDataParameters(receiver, payload).length === 0;
}

function hasType(value: unknown, type: ParamType): boolean {
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}
