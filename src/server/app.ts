import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { DEFAULT_IDLE_MS } from '../core/shared.ts';
import { answerHeaders } from './answer-headers.ts';
import { chained } from './chained.ts';
import { corsForOrigins } from './cors.ts';
import type { AppEnv } from './env.ts';
import { errorResponse } from './error-response.ts';
import { funnelRoutes } from './funnel/routes.ts';
import { healthRoutes } from './health.ts';
import { callerRateLimit, clientRateLimit, resolveLimits, type ServerLimits, sessionRateLimit } from './limits.ts';
import { jsonLogger, type Logger } from './log.ts';
import { sessionWithPages } from './page-session.ts';
import { hostCheck, requestPeer } from './proxy.ts';
import { requestLog } from './request-log.ts';
import { RouteNotFoundError } from './errors.ts';
import { jsonDepthLimit, originCheck, requestBodyLimit } from './security.ts';
import { type Authenticate, sessionBinder, type SessionOptions } from './session.ts';
import type { TaskStorage } from './storage.ts';
import type { ServerAutomations } from './server-automations.ts';
import type { SyncOptions } from './sync/options.ts';
import { syncApi } from './sync/routes.ts';
import { tasksRoutes } from './tasks/index.ts';

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
  /**
   * Issue the session cookie with HTML pages too (GET requests outside the API that accept
   * `text/html`), when this app's static files or a wrapper serve the app's pages: tabs opened at
   * once on a first visit then share one session. `serveTasks` sets it when given `staticDir`.
   */
  sessionOnPages?: boolean;
}

/** The automations `createApp` serves to browsers: the running automations and what browsers may do with them. */
export interface AppAutomations {
  running: ServerAutomations;
  /** What browsers may start, read and send (default: nothing started, no data exposed). */
  sync?: SyncOptions;
}

/** The defaults of `AppOptions` (the limits' defaults are `limitDefaults`). */
export const appDefaults = {
  idleTimeoutMs: DEFAULT_IDLE_MS,
  trustProxy: 0,
} as const;

/** The JSON 404 of every unknown route, also for the static-file server beside the API. */
export const notFoundJson = (c: Context) => {
  const error = new RouteNotFoundError(c.req.method, c.req.path);
  return c.json({ error: { code: error.code, message: error.message } }, error.status);
};

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
  // One chain for /tasks and /automations: one rate-limit bucket per client and per caller across both.
  const limits = resolveLimits(options.limits);
  const client = clientRateLimit(limits.clientRate, clock);
  const binder = sessionBinder(sessionSecret, { ...options.session, authenticate: options.authenticate, admitNewSession: sessionRateLimit(limits.sessionRate, clock) });
  const origins = originCheck(options.allowedOrigins ?? []);
  const rate = callerRateLimit({ read: limits.readRate, write: limits.writeRate }, clock);
  const size = requestBodyLimit(limits.bodyBytes);
  const depth = jsonDepthLimit(limits.jsonDepth);
  // One step of the chain for the six checks (`chained`), run before every route of the sub-apps.
  const middleware: MiddlewareHandler[] = [chained([client, binder, origins, rate, size, depth])];
  const tasks = tasksRoutes({ storage, middleware, idleTimeoutMs, tasksPerCaller: limits.tasksPerCaller, clock });

  const app = new Hono<AppEnv>();
  app.use(answerHeaders());
  app.use(requestLog(logger));
  const peer: MiddlewareHandler = requestPeer({ trustProxy: options.trustProxy ?? appDefaults.trustProxy, logger });
  const host: MiddlewareHandler = hostCheck(options.allowedHosts ?? null);
  const cors: MiddlewareHandler = corsForOrigins(options.allowedOrigins ?? []);
  app.use(chained([peer, host, cors]));
  if (options.sessionOnPages) app.use(sessionWithPages(binder));
  app.onError(errorResponse(logger));
  app.notFound(notFoundJson);
  const health = healthRoutes({ storage, automations: options.automations?.running.db, logger }, [client]);
  const funnels = funnelRoutes({ storage, middleware, clock });
  const routes = app.route('/health', health).route('/tasks', tasks).route('/funnels', funnels);
  if (options.automations) {
    const sync = syncApi({
      automations: options.automations.running,
      sync: options.automations.sync,
      middleware,
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
