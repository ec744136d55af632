import { z } from 'zod';
import { TaskRecordError, WayflowError } from '../core/errors.ts';
import { isTaskId } from '../core/ids.ts';
import type { StateStore, TaskRecord } from '../core/store.ts';
import { UNBOUND } from '../core/task.ts';

/** A plain object; its values are the app's own data and are not walked (keeps reads of large tasks fast). */
const json = z.custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), 'expected an object');
const time = z.number().finite();

/** The shape of a stored `TaskRecord`; every read (and every write) is checked against it. */
export const taskRecordSchema = z.object({
  id: z.string().refine(isTaskId, 'not a task id'),
  flowId: z.string().min(1),
  flowVersion: z.number().int().positive(),
  version: z.number().int().positive(),
  data: json,
  snapshot: z.object({
    value: z.union([z.string(), json]),
    context: z
      .object({
        user: z.looseObject({ id: z.string() }).nullable(),
        trail: z.array(z.object({ step: z.string(), visit: z.number().int(), data: json })),
        /** Index of the current step in `trail` (-1 before the first step). */
        at: z.number().int().min(-1),
        inputs: json,
        visits: z.record(z.string(), z.number().int()),
        until: time.nullable(),
        reason: z.string().nullable(),
      })
      .refine((context) => context.at < context.trail.length, { path: ['at'], message: 'points past the end of the trail' }),
  }),
  history: z.array(
    z.object({
      at: time,
      event: z.string(),
      from: z.string().nullable(),
      to: z.string(),
      actor: z.string().nullable(),
      outcome: z.string().optional(),
    }),
  ),
  binder: z.string(),
  createdAt: time,
  lastActiveAt: time,
  expiresAt: time,
});

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
  const parsed = taskRecordSchema.safeParse(raw);
  if (parsed.success) return parsed.data.id === id ? null : `it is stored under ${id} but says it is ${parsed.data.id}`;
  return parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`)
    .join('; ');
}

/**
 * Checks `raw` against `taskRecordSchema` and returns it typed, or throws a
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

/** A store refused to write a record that does not match `taskRecordSchema`; nothing was written. */
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

/** Throws `InvalidRecordError` unless `record` is a valid task record, `EmptyBinderError` when it has no binder; stores call it before every write. */
export function assertWritable(record: TaskRecord): void {
  requireBinder(record?.binder, `Refused to store task ${String(record?.id)}`);
  const problems = problemsOf(record, String(record?.id));
  if (problems !== null) throw new InvalidRecordError(String(record?.id), flowIdOf(record), problems);
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
