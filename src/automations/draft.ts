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
    this.state = structuredClone(state);
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
