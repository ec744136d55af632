import type { FlowContext } from './compile.ts';
import type { TaskData } from './definition.ts';

/** The machine position and context of a task, minus `data` (kept beside it in the record). */
export interface PersistedSnapshot {
  /** XState state value, e.g. `{ checkout: { identify: { login: '$ready' } } }` or `'$completed'`. */
  value: unknown;
  context: Omit<FlowContext, 'data'>;
}

/** One line of a task's audit history: every transition, who made it and when. */
export interface HistoryEntry {
  at: number;
  /** What caused it: start, submit, auto, back, goto, abort, resume, draft, error (an automatic step failed and the task moved to its `onError` target), or refused (a submission that did not move: invalid input, a failed outcome, a throwing action). */
  event: string;
  /** The step the task was at, or null at start. */
  from: string | null;
  /** The step the task is at now, or `$completed` / `$aborted`. */
  to: string;
  /** The signed-in user's id, or null. */
  actor: string | null;
  /** The outcome type that moved the task, when it was a submission. */
  outcome?: string;
  /** Of a refused submission: the names of the fields that were refused (never their values); empty when the refusal named none. */
  fields?: string[];
}

/** What a store keeps for one task. `version` increments on every write. */
export interface TaskRecord {
  id: string;
  flowId: string;
  flowVersion: number;
  version: number;
  data: TaskData;
  snapshot: PersistedSnapshot;
  history: HistoryEntry[];
  /** The value the task is bound to (browser secret, session, user); readers with another binder see nothing. */
  binder: string;
  createdAt: number;
  lastActiveAt: number;
  /** `lastActiveAt` plus the flow's idle timeout: after it the task is expired, never returned, and swept. */
  expiresAt: number;
}

/** A short description of a task for "tasks in progress" lists. */
export interface TaskSummary {
  id: string;
  flowId: string;
  step: string | null;
  lastActiveAt: number;
  expiresAt: number;
}

/**
 * Where task records live. Every implementation passes the shared contract
 * suite in `test/persist/contract.ts`.
 */
export interface StateStore {
  /** The record bound to `binder`, or `null` when missing, expired at `now`, or bound to another binder. */
  get(id: string, binder: string, now?: number): Promise<TaskRecord | null>;
  /**
   * Writes `record` (whose `version` must be `expectedVersion + 1`) only if the
   * stored version is `expectedVersion` (0: the task must not exist yet).
   * Otherwise throws `VersionConflictError` and changes nothing.
   */
  put(record: TaskRecord, expectedVersion: number): Promise<void>;
  /** Removes a task bound to `binder`; removing a missing task is not an error. */
  delete(id: string, binder: string): Promise<void>;
  /** The unexpired tasks bound to `binder`, most recently active first. */
  list(binder: string, now?: number): Promise<TaskSummary[]>;
  /** Deletes every record expired at `now`; resolves to how many were deleted. */
  sweep(now?: number): Promise<number>;
}
