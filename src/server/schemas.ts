import { z } from 'zod';
import type { TaskRecord } from '../core/index.ts';
import { taskRecordProblems } from '../persist/index.ts';
import { HttpError } from './errors.ts';

/** Largest version PostgreSQL's `integer` column holds. */
export const MAX_VERSION = 2_147_483_647;

const BINDER = /^[\x21-\x7e]{1,256}$/;

/** Whether `value` is a binder as the `Wayflow-Binder` header carries it (the browser secret): 1 to 256 printable ASCII characters. */
export const isBinder = (value: unknown): value is string => typeof value === 'string' && BINDER.test(value);

const time = z.number().min(0);

const RECORD_FIELDS = new Set(['id', 'flowId', 'flowVersion', 'version', 'data', 'snapshot', 'history', 'binder', 'createdAt', 'lastActiveAt', 'expiresAt']);

/**
 * What is wrong with a task record sent to the API (at most a few problems, `path: what was
 * expected`, never the values): the checks every store makes on read (`taskRecordProblems` of
 * `wayflow/persist`, no schema library), no unknown top-level field, a version that fits the
 * database and a binder that fits a header. Empty when the record is accepted.
 */
export function taskBodyProblems(value: unknown): string[] {
  const problems = taskRecordProblems(value);
  if (problems.length > 0) return problems;
  const record = value as TaskRecord;
  const unknown = Object.keys(record).filter((key) => !RECORD_FIELDS.has(key));
  if (unknown.length > 0) problems.push(`${unknown.slice(0, 3).join(', ')}: not a field of a task record`);
  if (record.version > MAX_VERSION) problems.push(`version: expected at most ${MAX_VERSION}`);
  if (!isBinder(record.binder)) problems.push('binder: expected 1 to 256 printable ASCII characters');
  return problems;
}

/** The body of `POST /tasks/sweep`. */
export const sweepBodySchema = z.strictObject({ now: time.optional() });

const VERSION_TAG = /^(?:W\/)?"?(\d{1,10})"?$/;

/** The version an `If-Match` value names (a version in optional quotes, e.g. `"3"`), or null when it names none a task can have. */
export function parseVersionTag(value: string): number | null {
  const digits = VERSION_TAG.exec(value)?.[1];
  if (digits === undefined) return null;
  const version = Number(digits);
  return version <= MAX_VERSION ? version : null;
}

/** Formats the first few problems zod found as `path: message`, without echoing values. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/** Whether a `Content-Type` declares JSON (`application/json`, `application/<x>+json`). */
export const isJsonContentType = (contentType: string | undefined) => JSON_TYPE.test((contentType ?? '').split(';')[0]!.trim());

/** Refuses a request body that is not declared as JSON (415), for every JSON route of the server. */
export function requireJsonContentType(contentType: string | undefined): void {
  if (!isJsonContentType(contentType)) {
    throw new HttpError(415, 'unsupported-media-type', 'Send the body as JSON with "Content-Type: application/json".');
  }
}

/** A 400 `invalid-body` listing `problems` (as `taskBodyProblems` gives them), or nothing when there are none. */
export function refuseBody(problems: readonly string[]): void {
  if (problems.length > 0) throw new HttpError(400, 'invalid-body', `The request body is invalid: ${problems.join('; ')}.`);
}

/** `value` checked by `schema`, or a 400 `invalid-body` that says what is wrong. */
export function checkedBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid-body', `The request body is invalid: ${describeIssues(parsed.error)}.`);
  return parsed.data;
}
