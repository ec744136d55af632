import { z } from 'zod';
import { isTaskId } from '../core/ids.ts';
import { HttpError } from './errors.ts';

/** Largest version PostgreSQL's `integer` column holds. */
export const MAX_VERSION = 2_147_483_647;

/** A task id as made by `newTaskId`. */
export const taskIdSchema = z.string().refine(isTaskId, 'not a task id (22 URL-safe base64 characters)');

/** The `Wayflow-Binder` header: the client-side binder (browser secret), printable ASCII. */
export const binderSchema = z.string().regex(/^[\x21-\x7e]{1,256}$/, 'must be 1 to 256 printable ASCII characters');

const time = z.number().min(0);

/** A plain object; its values are the app's own data and are not walked (keeps reads of large tasks fast). */
const json = z.custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), 'expected an object');
const finite = z.number().finite();

/**
 * The shape of a stored `TaskRecord`, as `taskRecordProblems` of `wayflow/persist` checks it in
 * the browser (a test keeps the two in agreement); the server reads and accepts records with it.
 */
export const recordShape = z.object({
  id: taskIdSchema,
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
        until: finite.nullable(),
        reason: z.string().nullable(),
      })
      .refine((context) => context.at < context.trail.length, { path: ['at'], message: 'points past the end of the trail' }),
  }),
  history: z.array(
    z.object({
      at: finite,
      event: z.string(),
      from: z.string().nullable(),
      to: z.string(),
      actor: z.string().nullable(),
      outcome: z.string().optional(),
      fields: z.array(z.string()).optional(),
    }),
  ),
  binder: z.string(),
  createdAt: finite,
  lastActiveAt: finite,
  expiresAt: finite,
});

/**
 * A task record as the API accepts it: `recordShape`
 * (what every store checks on read), with no unknown top-level fields, a version
 * that fits the database, and a binder that fits a header.
 */
export const taskRecordSchema = recordShape.extend({ version: z.number().int().min(1).max(MAX_VERSION), binder: binderSchema }).strict();

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

/** `value` checked by `schema`, or a 400 `invalid-body` that says what is wrong. */
export function checkedBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid-body', `The request body is invalid: ${describeIssues(parsed.error)}.`);
  return parsed.data;
}
