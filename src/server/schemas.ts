import { z } from 'zod';
import { isTaskId } from '../core/shared.ts';
import type { TaskRecord } from '../core/index.ts';
import { taskRecordProblems } from '../persist/index.ts';
import { HttpError } from './errors.ts';

/** Largest version PostgreSQL's `integer` column holds. */
export const MAX_VERSION = 2_147_483_647;

/** A task id as made by `newTaskId`. */
export const taskIdSchema = z.string().refine(isTaskId, 'not a task id (22 URL-safe base64 characters)');

const BINDER = /^[\x21-\x7e]{1,256}$/;

/** The `Wayflow-Binder` header: the client-side binder (browser secret), printable ASCII. */
export const binderSchema = z.string().regex(BINDER, 'must be 1 to 256 printable ASCII characters');

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
  if (!BINDER.test(record.binder)) problems.push('binder: expected 1 to 256 printable ASCII characters');
  return problems;
}

/** The body of `POST /tasks/sweep`. */
export const sweepBodySchema = z.strictObject({ now: time.optional() });

/** The `now` query parameter: the caller's clock, which can only hide more tasks. */
export const nowQuerySchema = z.object({ now: z.string().regex(/^\d{1,16}$/).optional() });

/** An `If-Match` value: a version in optional quotes. */
export const ifMatchSchema = z
  .string()
  .regex(/^(W\/)?"?\d{1,10}"?$/)
  .transform((value) => Number(value.replace(/\D/g, '')))
  .pipe(z.number().int().min(0).max(MAX_VERSION));

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
