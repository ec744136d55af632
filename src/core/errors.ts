/**
 * Every error wayflow throws is a `WayflowError` with a stable `code` that
 * programs can switch on, and a message that names the culprit and the cure.
 * Each subclass declares its `name` explicitly, so it survives minification
 * (a subclass of your own should too).
 */
export class WayflowError extends Error {
  override readonly name: string = 'WayflowError';
  /** Stable, machine-readable identifier of the kind of failure. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** One problem found in a flow definition, located by its path of ids. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

/** A flow definition is malformed; `problems` lists every problem found, not just the first. */
export class DefinitionError extends WayflowError {
  override readonly name: string = 'DefinitionError';
  readonly problems: DefinitionProblem[];
  constructor(flowId: string, problems: DefinitionProblem[]) {
    super(
      'definition',
      `Flow "${flowId}" has ${problems.length} definition problem(s):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

/** A step was entered whose precondition fails and which declares no fallback. */
export class PreconditionError extends WayflowError {
  override readonly name: string = 'PreconditionError';
  constructor(
    readonly flowId: string,
    readonly step: string,
    readonly condition: string,
  ) {
    super(
      'precondition-failed',
      `Flow "${flowId}": step "${step}" cannot be shown: precondition "${condition}" fails. Satisfy it first, or give the precondition a fallback.`,
    );
  }
}

/**
 * An action's code threw or rejected (or an automatic step returned `fail`). A form step
 * stays for the user to submit again; an automatic step stays for `retry()`, or, when the
 * action names an `onError` target, the task has moved there.
 */
export class ActionFailedError extends WayflowError {
  override readonly name: string = 'ActionFailedError';
  constructor(
    readonly flowId: string,
    readonly step: string,
    readonly taskId: string,
    cause: unknown,
    automatic?: boolean,
    onError?: string,
  ) {
    super(
      'action-failed',
      `Flow "${flowId}", task ${taskId}: step "${step}" failed (${cause instanceof Error ? cause.message : String(cause)}). ${
        onError ? `The task moved to its onError target "${onError}"` : `The task did not move; ${automatic ? 'call retry(), or give the action an onError target' : 'submit again'}`
      }.`,
      { cause },
    );
  }
}

/** An action returned an outcome its definition does not allow (an undeclared target, ENTER without children). */
export class InvalidOutcomeError extends WayflowError {
  override readonly name: string = 'InvalidOutcomeError';
  constructor(flowId: string, step: string, detail: string) {
    super('invalid-outcome', `Flow "${flowId}": step "${step}" returned an invalid outcome: ${detail}.`);
  }
}

/** Automatic steps kept running without user input for longer than the hot-loop limit. */
export class HotLoopError extends WayflowError {
  override readonly name: string = 'HotLoopError';
  constructor(
    readonly flowId: string,
    readonly step: string,
    readonly limit: number,
  ) {
    super(
      'hot-loop',
      `Flow "${flowId}": step "${step}" ran ${limit} times without user input; the task was aborted. Make the loop wait for input, or raise maxHotLoop.`,
    );
  }
}

/** The operation does not fit the task's current state (finished task, nothing to go back to, unvisited step). */
export class TaskStateError extends WayflowError {
  override readonly name: string = 'TaskStateError';
}

/** A stored task record cannot be used with this flow (another flow, another version, an unknown position, a malformed record). */
export class TaskRecordError extends WayflowError {
  override readonly name: string = 'TaskRecordError';
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { cause });
  }
}

/** A write carried a stale version: somebody else wrote the task first. Reload and retry. */
export class VersionConflictError extends WayflowError {
  override readonly name: string = 'VersionConflictError';
  constructor(
    readonly taskId: string,
    readonly expected: number,
    readonly actual: number | null,
  ) {
    super(
      'version-conflict',
      `Task ${taskId} was changed elsewhere: expected version ${expected}, found ${actual ?? 'no record'}. Reload the task and apply the change again.`,
    );
  }
}
