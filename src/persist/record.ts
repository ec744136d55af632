import { TaskRecordError, WayflowError } from '../core/index.ts';
import { isTaskId } from '../core/shared.ts';
import type { StateStore, TaskRecord } from '../core/index.ts';
import { UNBOUND } from '../core/shared.ts';

/**
 * Checks the value at `path` (the keys from the record down to it: one array the checks of a record share, a key pushed
 * on the way down and popped on the way up), adding `path: what was expected` to `problems` for each fault. The path
 * is joined into a string only for a fault: a valid record's check builds none.
 */
type Check = (value: unknown, path: (string | number)[], problems: string[]) => void;

/** Problems reported per record; enough to find the fault, short enough for a message. */
const MAX_PROBLEMS = 3;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);
/** Notes "<path>: expected <expected>, got <kind>" (values are never echoed; the record itself is `record`). */
const fault = (value: unknown, path: (string | number)[], problems: string[], expected: string) =>
  void problems.push(`${path.join('.') || 'record'}: expected ${expected}, got ${kindOf(value)}`);

/** A leaf check: `test` passes or the problem is "expected <expected>, got <kind>". */
const is =
  (test: (value: unknown) => boolean, expected: string): Check =>
  (value, path, problems) =>
    test(value) || fault(value, path, problems, expected);
const nullable =
  (check: Check): Check =>
  (value, path, problems) =>
    value === null || check(value, path, problems);
/** An object with these fields; other fields are allowed. Its values are the app's own data and are not walked. */
const shape =
  (fields: Record<string, Check>): Check =>
  (value, path, problems) => {
    if (!isObject(value)) return fault(value, path, problems, 'an object');
    for (const key in fields) {
      if (problems.length < MAX_PROBLEMS) {
        path.push(key);
        fields[key]!(value[key], path, problems);
        path.pop();
      }
    }
  };
/** Absent, or passing `check` (records written before a field existed lack it). */
const optional =
  (check: Check): Check =>
  (value, path, problems) =>
    value === undefined || check(value, path, problems);
const list =
  (item: Check): Check =>
  (value, path, problems) => {
    if (!Array.isArray(value)) return fault(value, path, problems, 'an array');
    for (let i = 0; i < value.length && problems.length < MAX_PROBLEMS; i++) {
      path.push(i);
      item(value[i], path, problems);
      path.pop();
    }
  };

const object = is(isObject, 'an object');
const string = is((value) => typeof value === 'string', 'a string');
const integer = is(Number.isSafeInteger, 'an integer');
const positive = is((value) => Number.isSafeInteger(value) && (value as number) > 0, 'a positive integer');
const time = is(Number.isFinite, 'a finite number');
const integers = is((value) => isObject(value) && Object.values(value).every(Number.isSafeInteger), 'an object of integers');

/** The fields a store relies on to key, bind, version and expire a record: checked in O(1) on every write. */
const envelope = {
  id: is(isTaskId, 'a task id (22 URL-safe base64 characters)'),
  flowId: is((value) => typeof value === 'string' && value !== '', 'a non-empty string'),
  flowVersion: positive,
  version: positive,
  data: object,
  snapshot: object,
  history: is(Array.isArray, 'an array'),
  binder: string,
  createdAt: time,
  lastActiveAt: time,
  expiresAt: time,
};

const whole = shape({
  ...envelope,
  snapshot: shape({
    value: is((value) => typeof value === 'string' || isObject(value), 'a string or an object'),
    context: shape({
      user: nullable(shape({ id: string })),
      trail: list(shape({ step: string, visit: integer, data: object })),
      /** Index of the current step in `trail` (-1 before the first step). */
      at: is((value) => Number.isSafeInteger(value) && (value as number) >= -1, 'an integer from -1'),
      inputs: object,
      visits: integers,
      until: nullable(time),
      reason: nullable(string),
    }),
  }),
  history: list(
    shape({
      at: time,
      event: string,
      from: nullable(string),
      to: string,
      actor: nullable(string),
      outcome: optional(string),
      fields: optional(list(string)),
    }),
  ),
});
const outside = shape(envelope);

/**
 * What is wrong with `raw` as a stored `TaskRecord` (at most three problems, each
 * `path: expected …, got …`); empty when it is one. Checks the record's own fields, not the
 * app's data inside it. No schema library is needed, so `wayflow/persist` ships without one.
 * @example
 * taskRecordProblems({ id: 'x' }); // ['id: expected a task id (22 URL-safe base64 characters), got string']
 */
export function taskRecordProblems(raw: unknown): string[] {
  const problems: string[] = [];
  whole(raw, [], problems);
  const context = (raw as Partial<TaskRecord> | null)?.snapshot?.context;
  if (problems.length === 0 && context!.at >= context!.trail.length) problems.push('snapshot.context.at: points past the end of the trail');
  return problems;
}

/** A stored task record that failed validation; it has been moved to quarantine, not deleted. */
export class CorruptRecordError extends TaskRecordError {
  override readonly name: string = 'CorruptRecordError';
  constructor(
    readonly taskId: string,
    readonly flowId: string | null,
    readonly problems: string,
  ) {
    super(
      'corrupt-record',
      `Task ${taskId}${flowId ? ` of flow "${flowId}"` : ''} has a corrupted stored record (${problems}). It was moved to quarantine and kept for inspection; start a new task to go on.`,
    );
  }
}

/** Reads `raw.flowId` when `raw` has one, for error messages about records that may be malformed. */
export function flowIdOf(raw: unknown): string | null {
  const flowId = (raw as { flowId?: unknown } | null)?.flowId;
  return typeof flowId === 'string' ? flowId : null;
}

/** The problems of `raw` as a task record stored under `id`, or null when it is a valid one. */
function problemsOf(raw: unknown, id: string): string | null {
  const problems = taskRecordProblems(raw);
  if (problems.length > 0) return problems.join('; ');
  const said = (raw as TaskRecord).id;
  return said === id ? null : `it is stored under ${id} but says it is ${said}`;
}

/**
 * Checks `raw` with `taskRecordProblems` and returns it typed, or throws a
 * `CorruptRecordError` naming the first problems. `id` is the key it was stored under.
 * @example
 * const record = parseTaskRecord(await db.get('tasks', id), id);
 */
export function parseTaskRecord(raw: unknown, id: string): TaskRecord {
  const problems = problemsOf(raw, id);
  if (problems !== null) throw new CorruptRecordError(id, flowIdOf(raw), problems);
  return raw as TaskRecord;
}

/**
 * What a reader bound to `binder` may see of the value stored under `id`: null when there is
 * none or it belongs to another binder (a foreign record is not even parsed), else the
 * validated record. A damaged record throws `CorruptRecordError`, for the store to quarantine.
 */
export function ownedRecord(raw: unknown, id: string, binder: string): TaskRecord | null {
  if (raw === undefined) return null;
  const owner = binderOf(raw);
  if (owner !== null && owner !== binder) return null;
  return parseTaskRecord(raw, id);
}

/** A store refused to write a malformed record (see `taskRecordProblems`); nothing was written. */
export class InvalidRecordError extends TaskRecordError {
  override readonly name: string = 'InvalidRecordError';
  constructor(taskId: string, flowId: string | null, problems: string) {
    super(
      'invalid-record',
      `Refused to store task ${taskId}${flowId ? ` of flow "${flowId}"` : ''}: the record is malformed (${problems}). Nothing was written; build records with the Task runtime, or fix the migration that produced it.`,
    );
  }
}

/**
 * A binder was empty (`''`) or not a string, e.g. a binder function that returned nothing.
 * Tasks bound to it would be shared by every caller whose binder is empty too, so stores
 * refuse it instead of binding tasks to `''`.
 */
export class EmptyBinderError extends WayflowError {
  override readonly name: string = 'EmptyBinderError';
  constructor(
    readonly binder: unknown,
    where: string,
  ) {
    super(
      'empty-binder',
      `${where}: the binder is ${binder === '' ? "''" : String(binder)}, not a non-empty string, so the task would be shared by every caller with an empty binder. Return the user id, the session id or browserBinder() from the binder function; leave the binder out (tasks are then bound to "${UNBOUND}") only where nobody else can reach the store.`,
    );
  }
}

/** Throws `EmptyBinderError` unless `binder` is a non-empty string; every store checks the binder of every call. */
export function requireBinder(binder: unknown, where: string): asserts binder is string {
  if (typeof binder !== 'string' || binder === '') throw new EmptyBinderError(binder, where);
}

/**
 * Throws `EmptyBinderError` when `record` has no binder, `InvalidRecordError` when it is
 * malformed. Stores call it before every write with `deep` false: the fields they key, bind,
 * version and expire by are checked in O(1), the snapshot and history, which the `Task` that
 * built them got right, are checked when read back. Records from code the store cannot vouch
 * for (a migration's output) are checked `deep`, as on read.
 */
export function assertWritable(record: TaskRecord, deep = false): void {
  requireBinder(record?.binder, `Refused to store task ${String(record?.id)}`);
  const problems: string[] = [];
  (deep ? whole : outside)(record, [], problems);
  if (problems.length > 0) throw new InvalidRecordError(String(record?.id), flowIdOf(record), problems.join('; '));
}

/** One record set aside because no code can use it, with why and when. Quarantined records are never overwritten. */
export interface QuarantinedRecord {
  /** Position in the quarantine, unique for the life of the store. */
  key: number;
  taskId: string;
  /** The `code` of the error that sent it here, e.g. `corrupt-record`, `flow-version-ahead`. */
  code: string;
  reason: string;
  at: number;
  /** The record exactly as it was stored. */
  raw: unknown;
}

/** A `StateStore` that can set unusable records aside instead of crashing or overwriting them. */
export interface QuarantineStore extends StateStore {
  /** Moves the stored record of task `id` (bound to `binder`) to quarantine with the reason; a missing record is left alone. */
  quarantine(id: string, binder: string, error: TaskRecordError, now?: number): Promise<void>;
  /** Every quarantined record, oldest first. */
  quarantined(): Promise<QuarantinedRecord[]>;
}

/** True when `store` supports quarantine (memory and IndexedDB stores do). */
export function canQuarantine(store: StateStore): store is QuarantineStore {
  return typeof (store as Partial<QuarantineStore>).quarantine === 'function';
}

/** The binder of a stored value that may be malformed, or null. */
export function binderOf(raw: unknown): string | null {
  const binder = (raw as { binder?: unknown } | null)?.binder;
  return typeof binder === 'string' ? binder : null;
}
