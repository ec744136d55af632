import { describeValue } from '../errors.ts';
import { WayflowError } from '../../core/index.ts';
import type { FlowRun } from './flow.ts';

/**
 * A stored run is in a state no execution leaves it in (django-flowcontrol's `execute_flowrun`
 * refuses these too): waiting with neither a time nor a trigger, waiting at no action, or a
 * malformed record. It is not run.
 */
export class FlowRunStateError extends WayflowError {
  override readonly name: string = 'FlowRunStateError';
  constructor(
    readonly runId: string,
    flow: string,
    detail: string,
  ) {
    super(
      'flowcontrol-run-state',
      `Flow "${flow}", run ${runId}: ${detail}; it was not run. Reset it (control.reset) or cancel it (control.cancel).`,
    );
  }
}

const STATUSES = new Set<string>(['pending', 'waiting', 'done', 'aborted', 'cancelled', 'failed', 'obsolete']);

/** What is inconsistent about a stored run, or null when nothing is (see `FlowRunStateError`). */
export function flowRunInconsistency(run: FlowRun): string | null {
  if (!STATUSES.has(run.status)) return `has the unknown status ${describeValue(run.status)}`;
  if (!Array.isArray(run.position) || !run.position.every((i) => Number.isInteger(i) && i >= 0)) {
    return `has the position ${describeValue(run.position)}, not a path of action indexes`;
  }
  if (typeof run.state !== 'object' || run.state === null || Array.isArray(run.state)) return `has the state ${describeValue(run.state)}, not an object`;
  if (run.status !== 'waiting') return null;
  if (run.continueAfter === null && !run.waitingTrigger) return 'is waiting but has neither a continueAfter time nor a trigger it waits for';
  if (run.position.length === 0) return 'is waiting but stands at no action';
  return null;
}

/** Throws `FlowRunStateError` when the run is inconsistent (`flowRunInconsistency`). */
export function assertFlowRunConsistent(run: FlowRun): void {
  const detail = flowRunInconsistency(run);
  if (detail !== null) throw new FlowRunStateError(run.id, run.flow, detail);
}
