import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { TaskRecord } from '../../core/index.ts';
import { isTaskId } from '../../core/shared.ts';
import type { AppEnv } from '../env.ts';
import { HttpError } from '../errors.ts';
import { isBinder, parseVersionTag, refuseBody, requireJsonContentType, taskBodyProblems } from '../schemas.ts';
import { validated } from '../validated.ts';

/** The headers of a task request, named as sent so a typed client sends them. */
export interface TaskHeaders {
  'wayflow-binder': string;
  'if-match'?: string;
}

function taskIdOf(c: Context<AppEnv>): { id: string } {
  const id = c.req.param('id');
  if (!isTaskId(id)) throw new HttpError(400, 'invalid-task-id', `"${String(id).slice(0, 40)}" is not a task id (22 URL-safe base64 characters). Check the link.`);
  return { id };
}

function headersOf(c: Context<AppEnv>): TaskHeaders {
  const binder = c.req.header('wayflow-binder');
  if (!isBinder(binder)) throw new HttpError(400, 'invalid-binder', 'Send the task binder in the "Wayflow-Binder" header (1 to 256 printable ASCII characters).');
  const ifMatch = c.req.header('if-match');
  return ifMatch === undefined ? { 'wayflow-binder': binder } : { 'wayflow-binder': binder, 'if-match': ifMatch };
}

const NOW = /^\d{1,16}$/;

/** The `now` query parameter: the caller's clock, which can only hide more tasks. */
function nowOf(c: Context<AppEnv>): { now?: string } {
  const values = c.req.queries('now');
  if (values === undefined) return {};
  if (values.length !== 1 || !NOW.test(values[0]!)) throw new HttpError(400, 'invalid-query', 'The "now" query parameter must be epoch milliseconds.');
  return { now: values[0]! };
}

/** A task record body, checked with `taskBodyProblems`: the handler gets it exactly as sent. */
async function recordOf(c: Context<AppEnv>): Promise<TaskRecord> {
  requireJsonContentType(c.req.header('content-type'));
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
  refuseBody(taskBodyProblems(value));
  return value as TaskRecord;
}

/** `GET /tasks`: the binder header and the `now` query. */
export const listRequest = validated((c) => ({ header: headersOf(c), query: nowOf(c) }));

/** `GET /tasks/:id`: the task id, the binder header and the `now` query. */
export const readRequest = validated((c) => ({ param: taskIdOf(c), header: headersOf(c), query: nowOf(c) }));

/** `PUT /tasks/:id`: the task id, the binder header (and `If-Match`), and the task record body. */
export const writeRequest = validated(async (c) => {
  const param = taskIdOf(c);
  const header = headersOf(c);
  return { param, header, json: await recordOf(c) };
});

/** `DELETE /tasks/:id`: the task id and the binder header (and `If-Match`). */
export const removeRequest = validated((c) => ({ param: taskIdOf(c), header: headersOf(c) }));

/** The version an `If-Match` header names; 428 when `required` and it is missing, 400 when it is not a version. */
export function expectedVersion(header: string | undefined, required: boolean): number | undefined {
  if (header === undefined) {
    if (required) throw new HttpError(428, 'if-match-required', 'Send "If-Match: <version>" with the version the change is based on (0 to create the task).');
    return undefined;
  }
  const version = parseVersionTag(header.trim());
  if (version === null) throw new HttpError(400, 'invalid-if-match', `"If-Match: ${header.slice(0, 20)}" is not a version; send the task version, e.g. If-Match: "3".`);
  return version;
}
