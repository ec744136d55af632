import { Hono, type MiddlewareHandler } from 'hono';
import { validator } from 'hono/validator';
import type { z } from 'zod';
import type { TaskRecord } from '../../core/index.ts';
import { jsonAnswer } from '../answer-headers.ts';
import type { AppEnv } from '../env.ts';
import { ConflictError, HttpError, TaskNotFoundError } from '../errors.ts';
import { TooManyRequestsError } from '../limits.ts';
import { checkedBody, requireJsonContentType, sweepBodySchema } from '../schemas.ts';
import type { ReadInstant, TaskStorage } from '../storage.ts';
import { expectedVersion, listRequest, readRequest, removeRequest, writeRequest } from './requests.ts';

/** What `tasksRoutes` needs. */
export interface TasksRoutesOptions {
  storage: TaskStorage;
  /** Middleware run before every route (the app's rate limits, session binder, origin check, body limits). */
  middleware: readonly MiddlewareHandler[];
  /** A task not written for this long is expired. */
  idleTimeoutMs: number;
  /** The most live tasks one session or user may store (`ServerLimits.tasksPerCaller`). */
  tasksPerCaller: number;
  /** The server clock. */
  clock: () => number;
}

/** A create past `ServerLimits.tasksPerCaller`. */
class TooManyTasksError extends TooManyRequestsError {
  override readonly name: string = 'TooManyTasksError';
  constructor(taskId: string, max: number) {
    super(
      'too-many-tasks',
      `Task ${taskId} was not created: this session or user already stores ${max} live tasks, the most allowed. Finish or delete some (they also expire when idle), then retry.`,
      60,
    );
  }
}

/** Validates a JSON body with `schema`; the handler gets the body exactly as sent (zod only checks it), typed `Body`. */
function jsonBody<Body>(schema: z.ZodType) {
  return validator('json', (value, c): Body => {
    requireJsonContentType(c.req.header('content-type'));
    checkedBody(schema, value);
    return value as Body;
  });
}

/**
 * The tasks API as a Hono app to mount at `/tasks` behind the app's middleware: create, read,
 * update (`If-Match`), delete, list and sweep the caller's tasks. `createApp` mounts it.
 */
export function tasksRoutes(options: TasksRoutesOptions) {
  const { storage, clock, idleTimeoutMs, tasksPerCaller } = options;
  const instant = (clientNow: string | number | undefined): ReadInstant => {
    const server = clock();
    return { server, client: clientNow === undefined ? server : Number(clientNow) };
  };
  const app = new Hono<AppEnv>();
  for (const middleware of options.middleware) app.use(middleware);
  return app
    .get('/', listRequest, async (c) => {
      const binder = c.req.valid('header')['wayflow-binder'];
      const tasks = await storage.list(c.get('caller').owner, binder, instant(c.req.valid('query').now));
      return c.json({ tasks }, 200);
    })
    .post('/sweep', jsonBody<{ now?: number }>(sweepBodySchema), async (c) => {
      const swept = await storage.sweepOwner(c.get('caller').owner, instant(c.req.valid('json').now));
      return c.json({ swept }, 200);
    })
    .get('/:id', readRequest, async (c) => {
      const { id } = c.req.valid('param');
      const args = [c.get('caller').owner, id, c.req.valid('header')['wayflow-binder'], instant(c.req.valid('query').now)] as const;
      const task = storage.readJson ? await storage.readJson(...args) : await storage.read(...args).then((record) => record && { version: record.version, json: JSON.stringify(record) });
      if (!task) throw new TaskNotFoundError(id);
      return jsonAnswer<{ task: TaskRecord }, 200>(c, `{"task":${task.json}}`, 200, { etag: `"${task.version}"` });
    })
    .put('/:id', writeRequest, async (c) => {
      const { id } = c.req.valid('param');
      const { 'wayflow-binder': binder, 'if-match': ifMatch } = c.req.valid('header');
      const expected = expectedVersion(ifMatch, true)!;
      const record = c.req.valid('json');
      if (record.id !== id) throw new HttpError(400, 'invalid-body', `The body is task ${record.id}, but the URL names task ${id}.`);
      if (record.binder !== binder) throw new HttpError(400, 'invalid-body', `Task ${id}: the body's binder differs from the Wayflow-Binder header.`);
      if (record.version !== expected + 1) {
        throw new HttpError(400, 'invalid-version', `Task ${id}: a write based on version ${expected} must carry version ${expected + 1}, not ${record.version}.`);
      }
      const owner = c.get('caller').owner;
      const now = clock();
      const result =
        expected === 0
          ? await storage.create(owner, record, now + idleTimeoutMs, now, tasksPerCaller)
          : await storage.update(owner, record, expected, now + idleTimeoutMs, now);
      if (!result.ok && 'full' in result) throw new TooManyTasksError(id, tasksPerCaller);
      if (!result.ok) {
        if (expected > 0 && result.current === null) throw new TaskNotFoundError(id);
        throw new ConflictError(id, expected, result.current);
      }
      return jsonAnswer<{ version: number }, 200 | 201>(c, `{"version":${record.version}}`, expected === 0 ? 201 : 200, { etag: `"${record.version}"` });
    })
    .delete('/:id', removeRequest, async (c) => {
      const { id } = c.req.valid('param');
      const { 'wayflow-binder': binder, 'if-match': ifMatch } = c.req.valid('header');
      const expected = expectedVersion(ifMatch, false);
      const owner = c.get('caller').owner;
      const removed = await storage.remove(owner, id, binder, expected);
      if (!removed && expected !== undefined) {
        const current = (await storage.read(owner, id, binder, instant(undefined)))?.version ?? null;
        if (current === null) throw new TaskNotFoundError(id);
        throw new ConflictError(id, expected, current);
      }
      return c.body(null, 204);
    });
}

/** The type of the tasks sub-app: give it to `hc<TasksType>()` from `hono/client` for a client of `/tasks` alone. */
export type TasksType = ReturnType<typeof tasksRoutes>;
