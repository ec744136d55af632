import type { ABORTED, COMPLETED } from './model.ts';

/**
 * Where a node's state stands, the leaf of a machine state value: passing its preconditions
 * (`$gate`, a moment only), refused by them (`$blocked`), waiting for input (`$ready`, or
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
 * The path of an XState state value (as a snapshot holds it and a task record stores it)
 * down its single active branch: the state keys, then the leaf (a string in any value
 * XState produced). `{ checkout: { pay: '$ready' } }` gives `['checkout', 'pay', '$ready']`.
 */
export function statePath(value: unknown, path: unknown[] = []): unknown[] {
  const entry = value && typeof value === 'object' ? Object.entries(value)[0] : undefined;
  return entry ? statePath(entry[1], [...path, entry[0]]) : [...path, value];
}

/**
 * Decodes a state value, the one place that does: `{ checkout: { pay: '$ready' } }` is
 * step `pay` at `$ready`, `'$completed'` no step at `$completed`. The leaf of every value
 * the compiled machine produces is a phase.
 */
export function positionOf(value: unknown): Position {
  const path = statePath(value) as string[];
  return { step: path.at(-2) ?? null, phase: path.at(-1) as Phase };
}
