import { Hono, type MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { validator } from 'hono/validator';
import type { FunnelView } from '../../sync/index.ts';
import type { AppEnv } from '../env.ts';
import { HttpError, RouteNotFoundError } from '../errors.ts';
import type { TaskStorage } from '../storage.ts';
import { VIEW_PERMISSION } from '../sync/options.ts';
import { isViewer } from '../sync/visibility.ts';
import type { FunnelWindow } from './model.ts';
import { funnelWindow } from './window.ts';

/** A signed-in user without the permission the funnels need. */
export class FunnelForbiddenError extends HttpError {
  override readonly name: string = 'FunnelForbiddenError';
  constructor(flowId: string) {
    super(403, 'funnel-forbidden', `The funnel of flow "${flowId}" needs the "${VIEW_PERMISSION}" permission (or a superuser), as the automations dashboard. Sign in as a user who holds it.`);
  }
}

/** What `funnelRoutes` needs. */
export interface FunnelRoutesOptions {
  storage: TaskStorage;
  /** Middleware run before every route (the app's rate limits, session binder, origin check). */
  middleware: readonly MiddlewareHandler[];
  /** The server clock: the default window ends now, and live tasks idle at it count as abandoned. */
  clock: () => number;
}

/**
 * Who may read funnels: a signed-in user with the dashboard's permission. A caller known only by a session cookie
 * (a shopper) gets the 404 of an unknown route, so the route does not tell strangers it exists; a signed-in user
 * without the permission gets 403 `funnel-forbidden`.
 */
const viewersOnly = createMiddleware<AppEnv>(async (c, next) => {
  const { owner, actor } = c.get('caller');
  if (!owner.startsWith('user:')) throw new RouteNotFoundError(c.req.method, c.req.path);
  if (!isViewer(actor)) throw new FunnelForbiddenError(c.req.param('flow') ?? '');
  await next();
});

const windowQuery = (clock: () => number) =>
  validator('query', (value: { since?: string | string[]; until?: string | string[] }): FunnelWindow => {
    const one = (given: string | string[] | undefined) => (Array.isArray(given) ? given[0] : given);
    const window = funnelWindow(one(value.since), one(value.until), clock());
    if ('invalid' in window) {
      throw new HttpError(400, 'invalid-query', `"${window.invalid.slice(0, 40)}" is not a time: give "since" and "until" as epoch milliseconds, an ISO date (2026-12-01) or, for "since", a duration back from now (30m, 24h, 7d, 2w).`);
    }
    return window;
  });

/**
 * `/funnels`: `GET /:flow?since&until` answers `{ funnels: FunnelView[] }`, the funnel of each version of the flow
 * over the tasks created in the window (default: the last 7 days), newest version first, for dashboard viewers only.
 */
export function funnelRoutes(options: FunnelRoutesOptions) {
  const { storage, clock } = options;
  const app = new Hono<AppEnv>();
  for (const middleware of options.middleware) app.use(middleware);
  return app.get('/:flow', viewersOnly, windowQuery(clock), async (c) => {
    const funnels: FunnelView[] = await storage.funnels(c.req.param('flow'), c.req.valid('query'), clock());
    return c.json({ funnels }, 200);
  });
}

/** The type of the funnels sub-app, for `hc<FunnelsType>()`. */
export type FunnelsType = ReturnType<typeof funnelRoutes>;
