import type { AutomationEngine } from './engine.ts';
import type { AnyNode, AutomationData } from './nodes/nodes.ts';

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
   * The engine the definition was compiled to: `defineAutomation` interprets `nodes` in
   * order, `compileWsWorkflow` runs a django-ws workflow. The runner and every storage treat
   * all instances alike through it.
   */
  readonly engine: AutomationEngine;
}

/** The node named `name`, or undefined when the definition does not (or no longer) declare it. */
export function nodeOf(definition: Pick<AutomationDefinition, 'nodes'>, name: string): AnyNode | undefined {
  return Object.hasOwn(definition.nodes, name) ? (definition.nodes as Record<string, AnyNode>)[name] : undefined;
}

/** The node after `name` in declaration order, or undefined for the last node. */
export function nodeAfter(definition: Pick<AutomationDefinition, 'order'>, name: string): string | undefined {
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
