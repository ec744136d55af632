import type { AutomationEffect, HistoryChange, InstanceState, PathState, StepResult } from './state.ts';

/** A step in progress, for the engines: a private copy of the instance state plus the history and effects the step records. */
export class StepDraft {
  readonly history: HistoryChange[] = [];
  readonly effects: AutomationEffect[] = [];
  readonly state: InstanceState;
  constructor(
    state: InstanceState,
    readonly now: number,
  ) {
    this.state = copyState(state);
  }

  /** What the step produced; `changed` says whether it moved the instance. */
  result(changed: boolean): StepResult {
    return { state: this.state, history: this.history, effects: this.effects, changed };
  }

  /** Records that `path`'s task finished with `message` (and `result`, by `completedBy`). */
  close(path: PathState, message: string, result: unknown = null, completedBy?: string): void {
    const change: HistoryChange = { type: 'close', instanceId: this.state.id, taskId: path.taskId, finished: this.now, message, result: toJson(result) };
    if (completedBy !== undefined) change.completedBy = completedBy;
    this.history.push(change);
  }
}

/** JSON form of a value for the history: undefined and non-serialisable values become null. */
export function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

/** How deep `copyState` copies by hand before it leaves the rest to `structuredClone` (which also keeps cycles). */
const HAND_COPY_DEPTH = 32;

/**
 * A deep copy of instance state or data: plain objects and arrays are copied by hand (a few
 * times cheaper than `structuredClone` for the small JSON-like states engines copy on every
 * step), anything else (a Date, a Map, a class instance, a function) and whatever lies deeper
 * than `HAND_COPY_DEPTH` by `structuredClone`, which also throws for what it cannot copy.
 */
export function copyState<T>(value: T, depth = 0): T {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return value;
  if (depth >= HAND_COPY_DEPTH || typeof value !== 'object') return structuredClone(value);
  if (Array.isArray(value)) {
    const copy = new Array(value.length);
    for (let i = 0; i < value.length; i++) if (i in value) copy[i] = copyState(value[i], depth + 1);
    return copy as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyState((value as Record<string, unknown>)[key], depth + 1);
  return copy as T;
}
