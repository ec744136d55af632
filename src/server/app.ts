import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { validator } from 'hono/validator';
import type { z } from 'zod';
import { WayflowError } from '../core/errors.ts';
import type { TaskRecord } from '../core/store.ts';
import { ConflictError, DatabaseUnavailableError, HttpError, TaskNotFoundError } from './errors.ts';
import type { Logger } from './log.ts';
import { jsonLogger } from './log.ts';
import { isDatabaseUnavailable } from './outage.ts';
import { binderSchema, checkedBody, ifMatchSchema, nowQuerySchema, requireJsonContentType, sweepBodySchema, taskIdSchema, taskRecordSchema } from './schemas.ts';
import { corsForOrigins } from './cors.ts';
import { healthRoutes } from './health.ts';
import { callerRateLimit, clientRateLimit, resolveLimits, retryAfterHeader, type ServerLimits, sessionRateLimit, TooManyRequestsError } from './limits.ts';
import { hostCheck, type RequestPeer, requestPeer } from './proxy.ts';
import { jsonDepthLimit, originCheck, requestBodyLimit } from './security.ts';
import { type Authenticate, type Caller, type SessionOptions, sessionBinder } from './session.ts';
import type { ReadInstant, TaskStorage } from './storage.ts';
import { DEFAULT_IDLE_MS } from '../core/task.ts';
import type { ServerAutomations } from './server-automations.ts';
import type { SyncOptions } from './sync/options.ts';
import { syncApi } from './sync/routes.ts';

/** Everything `createApp` needs; only `storage` is required. */
export interface AppOptions {
  storage: TaskStorage;
  /** Recognises signed-in users; tasks of a recognised user are bound to the user, not the session. */
  authenticate?: Authenticate;
  /**
   * Origins besides the server's own whose pages may use the API with the session cookie
   * (e.g. `http://localhost:5173`): their writes pass the CSRF check and they get CORS with credentials.
   */
  allowedOrigins?: readonly string[];
  /**
   * Host names the server answers (DNS-rebinding defence): exact names, `.example.com` for a
   * domain and its subdomains, `*` for any. Default: every host (`serveTasks` on loopback
   * defaults to the loopback names).
   */
  allowedHosts?: readonly string[] | null;
  /**
   * How many proxies stand in front of the server (default 0). With n > 0 the client address,
   * scheme and host come from their `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`.
   */
  trustProxy?: number;
  /** A task not written for this long is expired: 404, then swept (default 20 minutes). */
  idleTimeoutMs?: number;
  /** Bounds on bodies, rates, stored tasks, started instances and event streams (see `ServerLimits`; defaults `limitDefaults`). */
  limits?: Partial<ServerLimits>;
  /** Structured log sink (default JSON lines on stdout). */
  logger?: Logger;
  /** Session cookie settings. */
  session?: SessionOptions;
  /** The server clock (default `Date.now`); tests move it to expire tasks. */
  clock?: () => number;
  /**
   * Server automations running in this process: with them the app also serves the
   * automations sync API under `/automations` (see `SyncOptions`), behind the same session
   * binder, origin check, write rate limit and body limit as `/tasks`.
   */
  automations?: AppAutomations;
  /** Aborting it ends the open automation event streams and their pollers (e.g. on shutdown; `serveTasks` does it on `close`). */
  signal?: AbortSignal;
}

/** The automations `createApp` serves to browsers: the running automations and what browsers may do with them. */
export interface AppAutomations {
  running: ServerAutomations;
  /** What browsers may start, read and send (default: nothing started, no data exposed). */
  sync?: SyncOptions;
}

/** Variables the middleware chain sets on each request. */
type Env = { Variables: { caller: Caller; requestId: string; peer: RequestPeer; cacheControl?: string } };

/** The defaults of `AppOptions` (the limits' defaults are `limitDefaults`). */
export const appDefaults = {
  idleTimeoutMs: DEFAULT_IDLE_MS,
  trustProxy: 0,
} as const;

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

/** The JSON 404 of every unknown route, also for the static-file server beside the API. */
export const notFoundJson = (c: Context) =>
  c.json({ error: { code: 'not-found', message: `No route ${c.req.method} ${loggedPath(c.req.path)}. The tasks API lives under /tasks.` } }, 404);

/** Validates a JSON body with `schema`; the handler gets the body exactly as sent (zod only checks it), typed `Body`. */
function jsonBody<Body>(schema: z.ZodType) {
  return validator('json', (value, c): Body => {
    requireJsonContentType(c.req.header('content-type'));
    checkedBody(schema, value);
    return value as Body;
  });
}

const taskParam = validator('param', (value: Record<string, string>) => {
  const parsed = taskIdSchema.safeParse(value.id);
  if (!parsed.success) throw new HttpError(400, 'invalid-task-id', `"${String(value.id).slice(0, 40)}" is not a task id (22 URL-safe base64 characters). Check the link.`);
  return { id: parsed.data };
});

/** The headers of a task request, named as sent so a typed client sends them. */
interface TaskHeaders {
  'wayflow-binder': string;
  'if-match'?: string;
}

const binderHeader = validator('header', (value: Record<string, string>): TaskHeaders => {
  const parsed = binderSchema.safeParse(value['wayflow-binder']);
  if (!parsed.success) throw new HttpError(400, 'invalid-binder', 'Send the task binder in the "Wayflow-Binder" header (1 to 256 printable ASCII characters).');
  const ifMatch = value['if-match'];
  return ifMatch === undefined ? { 'wayflow-binder': parsed.data } : { 'wayflow-binder': parsed.data, 'if-match': ifMatch };
});

const nowQuery = validator('query', (value: Record<string, string | string[]>): { now?: string } => {
  const parsed = nowQuerySchema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid-query', 'The "now" query parameter must be epoch milliseconds.');
  return parsed.data.now === undefined ? {} : { now: parsed.data.now };
});

function parseIfMatch(header: string | undefined, required: boolean): number | undefined {
  if (header === undefined) {
    if (required) throw new HttpError(428, 'if-match-required', 'Send "If-Match: <version>" with the version the change is based on (0 to create the task).');
    return undefined;
  }
  const parsed = ifMatchSchema.safeParse(header.trim());
  if (!parsed.success) throw new HttpError(400, 'invalid-if-match', `"If-Match: ${header.slice(0, 20)}" is not a version; send the task version, e.g. If-Match: "3".`);
  return parsed.data;
}

/** `/tasks/<id>` with the id masked: task ids are capabilities and stay out of logs. */
const loggedPath = (path: string) => path.replace(/\/tasks\/[^/]+/, '/tasks/:id').replace(/\/automations\/(instances|forms|dashboard\/instances)\/[^/]+/, '/automations/$1/:id');

/**
 * The wayflow tasks API as a Hono app: create, read, update (`If-Match`),
 * delete and list the caller's tasks, bound to a session cookie or an
 * authenticated user. Errors are `{ error: { code, message } }`, never stack traces.
 * @example
 * const app = createApp({ storage: await pgliteStorage({ dataDir: '.wayflow' }) });
 * serve({ fetch: app.fetch, port: 8787 });
 */
export function createApp(options: AppOptions) {
  const { storage } = options;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? jsonLogger();
  const idleTimeoutMs = options.idleTimeoutMs ?? appDefaults.idleTimeoutMs;
  let secret: Promise<string> | undefined;
  const sessionSecret = () => {
    secret ??= storage.secret('session').catch((error: unknown) => {
      secret = undefined;
      throw error;
    });
    return secret;
  };
  const instant = (clientNow: string | number | undefined): ReadInstant => {
    const server = clock();
    return { server, client: clientNow === undefined ? server : Number(clientNow) };
  };

  // One chain for /tasks and /automations: one rate-limit bucket per client and per caller across both.
  const limits = resolveLimits(options.limits);
  const client = clientRateLimit(limits.clientRate, clock);
  const binder = sessionBinder(sessionSecret, { ...options.session, authenticate: options.authenticate, admitNewSession: sessionRateLimit(limits.sessionRate, clock) });
  const origins = originCheck(options.allowedOrigins ?? []);
  const rate = callerRateLimit({ read: limits.readRate, write: limits.writeRate }, clock);
  const size = requestBodyLimit(limits.bodyBytes);
  const depth = jsonDepthLimit(limits.jsonDepth);
  const tasks = new Hono<Env>()
    .use(client)
    .use(binder)
    .use(origins)
    .use(rate)
    .use(size)
    .use(depth)
    .get('/', binderHeader, nowQuery, async (c) => {
      const binder = c.req.valid('header')['wayflow-binder'];
      const tasks = await storage.list(c.get('caller').owner, binder, instant(c.req.valid('query').now));
      return c.json({ tasks }, 200);
    })
    .post('/sweep', jsonBody<{ now?: number }>(sweepBodySchema), async (c) => {
      const swept = await storage.sweepOwner(c.get('caller').owner, instant(c.req.valid('json').now));
      return c.json({ swept }, 200);
    })
    .get('/:id', taskParam, binderHeader, nowQuery, async (c) => {
      const { id } = c.req.valid('param');
      const task = await storage.read(c.get('caller').owner, id, c.req.valid('header')['wayflow-binder'], instant(c.req.valid('query').now));
      if (!task) throw new TaskNotFoundError(id);
      c.header('ETag', `"${task.version}"`);
      return c.json({ task }, 200);
    })
    .put('/:id', taskParam, binderHeader, jsonBody<TaskRecord>(taskRecordSchema), async (c) => {
      const { id } = c.req.valid('param');
      const { 'wayflow-binder': binder, 'if-match': ifMatch } = c.req.valid('header');
      const expected = parseIfMatch(ifMatch, true)!;
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
          ? await storage.create(owner, record, now + idleTimeoutMs, now, limits.tasksPerCaller)
          : await storage.update(owner, record, expected, now + idleTimeoutMs, now);
      if (!result.ok && 'full' in result) throw new TooManyTasksError(id, limits.tasksPerCaller);
      if (!result.ok) {
        if (expected > 0 && result.current === null) throw new TaskNotFoundError(id);
        throw new ConflictError(id, expected, result.current);
      }
      c.header('ETag', `"${record.version}"`);
      return c.json({ version: record.version }, expected === 0 ? 201 : 200);
    })
    .delete('/:id', taskParam, binderHeader, async (c) => {
      const { id } = c.req.valid('param');
      const { 'wayflow-binder': binder, 'if-match': ifMatch } = c.req.valid('header');
      const expected = parseIfMatch(ifMatch, false);
      const owner = c.get('caller').owner;
      const removed = await storage.remove(owner, id, binder, expected);
      if (!removed && expected !== undefined) {
        const current = (await storage.read(owner, id, binder, instant(undefined)))?.version ?? null;
        if (current === null) throw new TaskNotFoundError(id);
        throw new ConflictError(id, expected, current);
      }
      return c.body(null, 204);
    });

  const app = new Hono<Env>();
  app.use(async (c, next) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set('requestId', requestId);
    await next();
    c.header('X-Request-Id', requestId);
    // Task records are private to their session: no shared cache may keep them. Static files say otherwise.
    c.header('Cache-Control', c.get('cacheControl') ?? 'no-store');
    const status = c.res.status;
    logger({
      level: status >= 500 && status !== 503 ? 'error' : status >= 400 ? 'warn' : 'info',
      msg: 'request',
      requestId,
      method: c.req.method,
      path: loggedPath(c.req.path),
      status,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
  });
  app.use(secureHeaders({ crossOriginResourcePolicy: 'same-site' }));
  app.use(requestPeer({ trustProxy: options.trustProxy ?? appDefaults.trustProxy, logger }));
  app.use(hostCheck(options.allowedHosts ?? null));
  app.use(corsForOrigins(options.allowedOrigins ?? []));
  app.use(retryAfterHeader());
  app.onError((error, c) => {
    const requestId = c.get('requestId');
    if (isDatabaseUnavailable(error)) {
      // Temporary: no stack logged per request (an OutageMonitor on the database logs the outage once).
      const unavailable = new DatabaseUnavailableError();
      c.header('Retry-After', String(unavailable.retryAfterSeconds));
      return c.json({ error: { code: unavailable.code, message: unavailable.message } }, unavailable.status);
    }
    if (error instanceof HttpError) return c.json({ error: { code: error.code, message: error.message, ...error.details } }, error.status);
    if (error instanceof HTTPException && error.status === 400) {
      return c.json({ error: { code: 'malformed-json', message: 'The request body is not valid JSON. Send the task record as JSON.' } }, 400);
    }
    logger({
      level: 'error',
      msg: 'unhandled error',
      requestId,
      code: error instanceof WayflowError ? error.code : 'internal',
      error: error.message,
      stack: error.stack,
    });
    return c.json({ error: { code: 'internal', message: `The server failed to handle the request (request id ${requestId}). Retry; if it persists, report the request id.` } }, 500);
  });
  app.notFound(notFoundJson);
  const health = healthRoutes({ storage, automations: options.automations?.running.db, logger }, [client]);
  const routes = app.route('/health', health).route('/tasks', tasks);
  if (options.automations) {
    const sync = syncApi({
      automations: options.automations.running,
      sync: options.automations.sync,
      middleware: [client, binder, origins, rate, size, depth],
      idleTimeoutMs,
      limits,
      clock,
      logger,
      signal: options.signal,
    });
    routes.route('/automations', sync.routes);
  }
  return routes;
}

/** The type of the app `createApp` builds: give it to `hc<AppType>()` from `hono/client` for a typed client. */
export type AppType = ReturnType<typeof createApp>;
