import type { ABORTED, COMPLETED } from './model.ts';

/**
 * Where a node's state stands, the leaf of a machine state value: passing its preconditions
 * (`$gate`, a moment only), refused by them (`$blocked`; both only on nodes with preconditions), waiting for input (`$ready`, or
 * `$choose` for a choice), deciding after its children (`$returned`), suspended (`$suspended`,
 * `$suspendedRepeat` to run again on resume); or the flow's end (`$completed`, `$aborted`).
 */
export type Phase = '$gate' | '$blocked' | '$ready' | '$choose' | '$returned' | '$suspended' | '$suspendedRepeat' | typeof COMPLETED | typeof ABORTED;

/** A decoded state value: the node the task is at (null at the flow's end) and its phase. */
export interface Position {
  step: string | null;
  phase: Phase;
}

/**
 * Decodes a state value (as a snapshot holds it and a task record stores it), the one place
 * that does: down its single active branch, the last state key is the step and the leaf its
 * phase. `{ checkout: { pay: '$ready' } }` is step `pay` at `$ready`, `'$completed'` no step
 * at `$completed`. The leaf of every value the compiled machine produces is a phase.
 */
export function positionOf(value: unknown): Position {
  let step: string | null = null;
  while (value && typeof value === 'object') {
    const entry = Object.entries(value)[0];
    // An empty object is no XState value: a malformed record's, whose step is the last key found.
    if (!entry) break;
    [step, value] = entry;
  }
  return { step, phase: value as Phase };
}
