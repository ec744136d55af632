import type { AutomationDefinition, Receiver, ReceiverFn } from '../definition.ts';
import type { AutomationEngine } from '../engine.ts';
import { AutomationDefinitionError } from '../errors.ts';
import { nodesEngine } from './engine.ts';
import type { AnyNode, NodeKind } from './nodes.ts';
import { validateAutomation } from './validate.ts';

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
  const fields: Omit<AutomationDefinition<N>, 'engine'> = {
    name,
    verboseName: options.verboseName ?? `Automation ${name}`,
    verboseNamePlural: options.verboseNamePlural ?? `Automations ${name}`,
    order: Object.keys(options.nodes) as N[],
    nodes: options.nodes as unknown as Record<N, AnyNode>,
    unique: options.unique ?? false,
    receivers,
    publishReceivers: options.publishReceivers ?? false,
  };
  const problems = validateAutomation(fields);
  if (problems.length > 0) throw new AutomationDefinitionError(name, problems);
  const definition = fields as AutomationDefinition<N> & { engine: AutomationEngine };
  definition.engine = nodesEngine(definition as AutomationDefinition);
  return definition;
}

