import type { FieldErrors } from '../../core/index.ts';
import { HttpError } from '../errors.ts';
import { TooManyRequestsError } from '../limits.ts';

/**
 * An automation instance the caller may not see, or that does not exist: the two are answered
 * alike on purpose (`404 instance-not-found`).
 */
export class SyncInstanceNotFoundError extends HttpError {
  override readonly name: string = 'SyncInstanceNotFoundError';
  constructor(instanceId: string) {
    super(
      404,
      'instance-not-found',
      `Automation instance ${instanceId.slice(0, 64)} was not found: it does not exist, or it was not started by this session or user and has no form for it. Check the link, or sign in as its owner.`,
    );
  }
}

/** No open form with this task id on the instance (or the instance is not visible). */
export class SyncFormNotFoundError extends HttpError {
  override readonly name: string = 'SyncFormNotFoundError';
  constructor(instanceId: string, taskId: string) {
    super(
      404,
      'form-not-found',
      `Automation instance ${instanceId.slice(0, 64)} has no open form with task id ${taskId.slice(0, 20)}. Reload the task list (GET /automations/forms).`,
    );
  }
}

/** The caller may not process this form (its User, Group and Permissions must all hold). */
export class SyncFormForbiddenError extends HttpError {
  override readonly name: string = 'SyncFormForbiddenError';
  constructor(automation: string, instanceId: string, node: string, requirement: string) {
    super(
      403,
      'form-forbidden',
      `Automation "${automation}", instance ${instanceId}: you may not process form "${node}" (${requirement}). Ask a user it is assigned to, or a superuser, to process it.`,
    );
  }
}

/** The form was processed (or skipped) meanwhile; nothing was changed by this request. */
export class SyncFormClosedError extends HttpError {
  override readonly name: string = 'SyncFormClosedError';
  constructor(automation: string, instanceId: string, node: string, taskId: number) {
    super(
      409,
      'form-closed',
      `Automation "${automation}", instance ${instanceId}: form "${node}" (task ${taskId}) was already processed or skipped. Nothing was changed; reload the instance to see where it is now.`,
    );
  }
}

/** The input failed the server-side schema; `fields` holds the messages per field. Nothing was changed. */
export class SyncInvalidInputError extends HttpError {
  override readonly name: string = 'SyncInvalidInputError';
  constructor(what: string, fields: FieldErrors) {
    super(
      422,
      'invalid-input',
      `${what}: the input is invalid (${Object.entries(fields)
        .map(([k, v]) => `${k || '(input)'}: ${v.join('; ')}`)
        .join(', ')}). Nothing was changed; correct the fields and send again.`,
      { fields },
    );
  }
}

/** The automation is not listed as startable from browsers (`SyncOptions.automations[name].start`). */
export class SyncNotStartableError extends HttpError {
  override readonly name: string = 'SyncNotStartableError';
  constructor(automation: string) {
    super(
      404,
      'automation-not-startable',
      `Automation "${automation.slice(0, 100)}" cannot be started from a browser. Give it a "start" entry in the sync options of the server.`,
    );
  }
}

/** The message names no receiver browsers may send to (`SyncOptions.automations[name].messages`). */
export class SyncUnknownMessageError extends HttpError {
  override readonly name: string = 'SyncUnknownMessageError';
  constructor(automation: string, message: string) {
    super(
      404,
      'unknown-message',
      `Automation "${automation}" accepts no browser message "${message.slice(0, 100)}". List the receiver in the "messages" sync option of the automation.`,
    );
  }
}

/** A start without a usable `Idempotency-Key` header, or a message send with a malformed one. */
export class SyncIdempotencyKeyError extends HttpError {
  override readonly name: string = 'SyncIdempotencyKeyError';
  /** `what`: the request, e.g. `Starting automation "SyncOrder"`. */
  constructor(what: string) {
    super(
      400,
      'invalid-idempotency-key',
      `${what.slice(0, 200)}: send an "Idempotency-Key" header of 1 to 200 printable ASCII characters (e.g. a random UUID), the same on every retry of one request.`,
    );
  }
}

/** The idempotency key was used before for another request (another automation, message or instance). */
export class SyncIdempotencyKeyReusedError extends HttpError {
  override readonly name: string = 'SyncIdempotencyKeyReusedError';
  /** `earlier`: what the key did, e.g. `start automation "SyncOrder"`. */
  constructor(earlier: string) {
    super(
      409,
      'idempotency-key-reused',
      `This Idempotency-Key was used before to ${earlier.slice(0, 200)}. Use a new key for each start and each message; repeat a key only to retry the same request.`,
    );
  }
}

/** The instance has finished, so it cannot receive the message. */
export class SyncInstanceFinishedError extends HttpError {
  override readonly name: string = 'SyncInstanceFinishedError';
  constructor(automation: string, instanceId: string, message: string) {
    super(409, 'instance-finished', `Automation "${automation}", instance ${instanceId} has finished and cannot receive message "${message}". Start a new instance.`);
  }
}

/** The caller lacks the `automations.view` permission the dashboard needs. */
export class SyncDashboardForbiddenError extends HttpError {
  override readonly name: string = 'SyncDashboardForbiddenError';
  constructor() {
    super(403, 'dashboard-forbidden', 'The automations dashboard needs the "automations.view" permission (or a superuser). Sign in as a user who holds it.');
  }
}

/** An event stream would pass a bound: per session or user, per client address, or in total. */
export class SyncTooManyStreamsError extends TooManyRequestsError {
  override readonly name: string = 'SyncTooManyStreamsError';
  constructor(bound: string) {
    super(
      'too-many-streams',
      `Too many open event streams ${bound}. Close another stream (e.g. a tab watching another instance) and retry.`,
      10,
    );
  }
}

/** The caller has as many unfinished instances started from the browser as `instancesPerCaller` allows. */
export class SyncTooManyInstancesError extends TooManyRequestsError {
  override readonly name: string = 'SyncTooManyInstancesError';
  constructor(automation: string, max: number) {
    super(
      'too-many-instances',
      `Starting automation "${automation.slice(0, 100)}": this session or user already has ${max} unfinished instances started from the browser, the most allowed. Finish one (e.g. submit its form) and retry.`,
      60,
    );
  }
}

/** A process map asked for an automation this server does not run. */
export class SyncAutomationNotFoundError extends HttpError {
  override readonly name: string = 'SyncAutomationNotFoundError';
  constructor(automation: string) {
    super(404, 'automation-not-found', `Automation "${automation.slice(0, 100)}" is not run by this server. Check the name (the dashboard lists the automations).`);
  }
}

/** A process map's node list asked for a node its automation does not have. */
export class SyncNodeNotFoundError extends HttpError {
  override readonly name: string = 'SyncNodeNotFoundError';
  constructor(automation: string, node: string) {
    super(404, 'node-not-found', `Automation "${automation.slice(0, 100)}" has no node "${node.slice(0, 100)}". Take the node ids from its map's graph.`);
  }
}
