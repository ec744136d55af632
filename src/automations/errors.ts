import { WayflowError, type FieldErrors } from '../core/index.ts';
import type { MissingParameter } from './definition.ts';

/** One problem found in an automation definition, located by a dotted path such as `nodes.start.next`. */
export interface AutomationProblem {
  path: string;
  message: string;
}

/** An automation definition is malformed; `problems` lists every problem found, not just the first. */
export class AutomationDefinitionError extends WayflowError {
  override readonly name: string = 'AutomationDefinitionError';
  readonly problems: AutomationProblem[];
  constructor(
    readonly automation: string,
    problems: AutomationProblem[],
  ) {
    super(
      'automation-definition',
      `Automation "${automation}" has ${problems.length} definition problem(s):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}\nFix the definition before registering it.`,
    );
    this.problems = problems;
  }
}

/** No automation of that name is registered with the runner. */
export class UnknownAutomationError extends WayflowError {
  override readonly name: string = 'UnknownAutomationError';
  constructor(readonly automation: string) {
    super(
      'automation-unknown',
      `Automation "${automation}" is not registered. Pass its definition to createAutomationRunner({ automations }) or runner.register().`,
    );
  }
}

/** No automation instance has that id (or key); it may have been killed or its history deleted. */
export class InstanceNotFoundError extends WayflowError {
  override readonly name: string = 'InstanceNotFoundError';
  constructor(readonly instance: string) {
    super(
      'automation-instance-not-found',
      `Automation instance "${instance}" does not exist. It may have been killed or removed by deleteHistory; create a new instance.`,
    );
  }
}

/** The operation needs a running instance but this one has finished. */
export class InstanceFinishedError extends WayflowError {
  override readonly name: string = 'InstanceFinishedError';
  constructor(
    readonly automation: string,
    readonly instance: string,
    operation: string,
  ) {
    super(
      'automation-instance-finished',
      `Automation "${automation}", instance ${instance}: cannot ${operation} because the instance has finished. Create a new instance instead.`,
    );
  }
}

/** A message names no receiver declared by the automation. */
export class UnknownReceiverError extends WayflowError {
  override readonly name: string = 'UnknownReceiverError';
  constructor(
    readonly automation: string,
    readonly messageName: string,
    readonly instance?: string,
  ) {
    super(
      'automation-unknown-receiver',
      `Automation "${automation}"${instance ? `, instance ${instance}` : ''}: no receiver for message "${messageName}". Declare receivers.${messageName} in the definition or send another message.`,
    );
  }
}

/** The data sent with a message lacks a parameter (or has the wrong type) its receiver requires. */
export class MissingMessageDataError extends WayflowError {
  override readonly name: string = 'MissingMessageDataError';
  constructor(
    readonly automation: string,
    readonly messageName: string,
    readonly missing: MissingParameter[],
  ) {
    super(
      'automation-message-data',
      `Automation "${automation}": message "${messageName}" was not delivered because its data lacks or mistypes ${missing
        .map((m) => `"${m.type ? `${m.param}: ${m.type}` : m.param}"`)
        .join(', ')}. Send these parameters with the message.`,
    );
  }
}

/** An automation unique by data keys was given data without a value for some of them (the reference requires them). */
export class MissingUniqueDataError extends WayflowError {
  override readonly name: string = 'MissingUniqueDataError';
  constructor(
    readonly automation: string,
    readonly keys: readonly string[],
    readonly missing: readonly string[],
  ) {
    super(
      'automation-unique-data',
      `Automation "${automation}" is unique by ${keys.map((k) => `"${k}"`).join(', ')}, but the data lacks ${missing
        .map((k) => `"${k}"`)
        .join(', ')}. Nothing was created; pass a value for every unique key.`,
    );
  }
}

/** The instance has no open form task with that id or node name. */
export class NoOpenFormError extends WayflowError {
  override readonly name: string = 'NoOpenFormError';
  constructor(automation: string, instance: string, form: string) {
    super(
      'automation-no-open-form',
      `Automation "${automation}", instance ${instance}: there is no open form "${form}". It may have been submitted or skipped already; reload the task list.`,
    );
  }
}

/** The user may not process this form: the User, Group and every Permission must hold (superusers always may). */
export class FormPermissionError extends WayflowError {
  override readonly name: string = 'FormPermissionError';
  constructor(automation: string, instance: string, node: string, actor: string, reason: string) {
    super(
      'automation-form-forbidden',
      `Automation "${automation}", instance ${instance}: user "${actor}" may not process form "${node}" (${reason}). Ask an assigned user, or a superuser, to submit it.`,
    );
  }
}

/** Submitted form input did not pass the form's schema; nothing changed, fix the fields and submit again. */
export class FormValidationError extends WayflowError {
  override readonly name: string = 'FormValidationError';
  constructor(
    automation: string,
    instance: string,
    node: string,
    readonly fields: FieldErrors,
  ) {
    super(
      'automation-form-invalid',
      `Automation "${automation}", instance ${instance}: form "${node}" input is invalid (${Object.entries(fields)
        .map(([k, v]) => `${k || '(form)'}: ${v.join('; ')}`)
        .join(', ')}). Nothing was saved; correct the fields and submit again.`,
    );
  }
}

/** An instance points at a node the current definition no longer declares. */
export class NodeRemovedError extends WayflowError {
  override readonly name: string = 'NodeRemovedError';
  constructor(automation: string, instance: string, node: string) {
    super(
      'automation-node-removed',
      `Automation "${automation}", instance ${instance}: the instance waits at node "${node}", which the definition no longer declares. Put the node back as a no-op execute(), run a step so every instance moves past it, then remove it.`,
    );
  }
}

/** An Execute node (or an If branch function) threw and the node declares no OnError target. */
export class NodeFailedError extends WayflowError {
  override readonly name: string = 'NodeFailedError';
  constructor(automation: string, instance: string, node: string, cause: unknown) {
    super(
      'automation-node-failed',
      `Automation "${automation}", instance ${instance}: node "${node}" failed (${describeError(cause)}). The path stopped; add .onError(node) to continue elsewhere on failure.`,
      { cause },
    );
  }
}

/** A path reached a Join that no Split started (the reference's "Join() without Split()"); the path stopped. */
export class JoinWithoutSplitError extends WayflowError {
  override readonly name: string = 'JoinWithoutSplitError';
  constructor(
    readonly automation: string,
    readonly instance: string,
    readonly node: string,
  ) {
    super(
      'automation-join-without-split',
      `Automation "${automation}", instance ${instance}: node "${node}" is a join, but no split started this path, so nothing would ever join it. The path stopped; lead only the paths of a flow.split() to the join.`,
    );
  }
}

/** A wait modifier's function returned something that is not a time (afterWaitingUntil) or not a duration of zero or more (afterWaitingFor); the path stopped. */
export class InvalidWaitError extends WayflowError {
  override readonly name: string = 'InvalidWaitError';
  constructor(
    readonly automation: string,
    readonly instance: string,
    readonly node: string,
    readonly modifier: 'afterWaitingUntil' | 'afterWaitingFor',
    readonly value: unknown,
  ) {
    super(
      'automation-invalid-wait',
      `Automation "${automation}", instance ${instance}: the .${modifier}() function of node "${node}" returned ${describeValue(value)}, ${
        modifier === 'afterWaitingUntil' ? 'not a time; return epoch milliseconds or a valid Date' : 'not a duration; return zero or more milliseconds'
      }. The path stopped; fix the function so later instances wait as meant.`,
    );
  }
}

/** Renders a thrown value as `Name: message`, the form stored in the history's message column. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Renders a value an automation's code returned, for error messages: `undefined`, `"tomorrow" (string)`, `{"at":1} (object)`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  let shown: string;
  try {
    shown =
      typeof value === 'function'
        ? `function ${value.name || '(anonymous)'}`
        : typeof value === 'string' || typeof value === 'object'
          ? (JSON.stringify(value) ?? String(value))
          : String(value);
  } catch {
    shown = String(value);
  }
  return `${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown} (${Array.isArray(value) ? 'array' : typeof value})`;
}
