import { WayflowError } from '../../core/index.ts';

/**
 * A step tried to write an instance whose stored version is not the one it read: some
 * other process changed it in between. The step's transaction was rolled back; run it again.
 */
export class AutomationVersionConflictError extends WayflowError {
  override readonly name: string = 'AutomationVersionConflictError';
  constructor(
    readonly automation: string,
    readonly instance: string,
    readonly expected: number,
  ) {
    super(
      'automation-version-conflict',
      `Automation "${automation}", instance ${instance}: the stored instance is no longer at version ${expected}, so this step was rolled back. Read instances with getInstance (which locks the row) before writing them, and run the step again.`,
    );
  }
}

/** Creating a unique instance kept colliding with holders that finished or vanished at that moment. */
export class AutomationUniqueKeyRaceError extends WayflowError {
  override readonly name: string = 'AutomationUniqueKeyRaceError';
  constructor(
    readonly automation: string,
    readonly uniqueKey: string,
  ) {
    super(
      'automation-unique-race',
      `Automation "${automation}": creating an instance with unique key ${uniqueKey} collided three times with instances that released the key meanwhile; nothing was created. Create it again.`,
    );
  }
}

/** A step wrote an instance that is not stored (it was killed, or its history deleted, meanwhile). */
export class AutomationInstanceGoneError extends WayflowError {
  override readonly name: string = 'AutomationInstanceGoneError';
  constructor(
    readonly automation: string,
    readonly instance: string,
  ) {
    super(
      'automation-instance-gone',
      `Automation "${automation}", instance ${instance}: the instance is not stored any more (killed, or removed by delete-history), so the step was rolled back. Create a new instance if the work is still needed.`,
    );
  }
}

/** `automationTransaction()` was called outside a step of the SQL automation storage, or `sqlTransactionOf` given a transaction of another storage. */
export class NoAutomationTransactionError extends WayflowError {
  override readonly name: string = 'NoAutomationTransactionError';
  constructor(
    message = 'automationTransaction() was called outside an automation step. Call it inside a node function (flow.execute, a receiver) run by a runner on the SQL automation storage.',
  ) {
    super('automation-no-transaction', message);
  }
}

/** The automations module given on the command line cannot be loaded, or defines neither an automation nor a flowcontrol flow. */
export class AutomationsModuleError extends WayflowError {
  override readonly name: string = 'AutomationsModuleError';
  constructor(
    readonly modulePath: string,
    reason: string,
    cause?: unknown,
  ) {
    super(
      'automations-module',
      `Cannot use the automations module "${modulePath}": ${reason}. Export the definitions made with defineAutomation (as named exports, an "automations" array, or the default export) and/or flowcontrol flows ({ name, actions }: named exports, a "flows" array, or the default export) from a JavaScript module node can import.`,
      { cause },
    );
  }
}

/** `startAutomationScheduler` was given an unusable combination of options. */
export class AutomationSchedulerOptionsError extends WayflowError {
  override readonly name: string = 'AutomationSchedulerOptionsError';
  constructor(reason: string) {
    super('automation-scheduler-options', `Cannot start the automation scheduler: ${reason}.`);
  }
}
