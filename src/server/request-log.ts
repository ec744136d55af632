import type { MiddlewareHandler } from 'hono';
import type { Logger } from './log.ts';

/** `/tasks/<id>` with the id masked: task ids are capabilities and stay out of logs (instance and form ids alike). */
export const loggedPath = (path: string) =>
  path.replace(/\/tasks\/[^/]+/, '/tasks/:id').replace(/\/automations\/(instances|forms|dashboard\/instances)\/[^/]+/, '/automations/$1/:id');

/**
 * The first middleware of the app: gives each request an id (`requestId`, answered as
 * `X-Request-Id`), marks the answer `Cache-Control: no-store` unless a layer set `cacheControl`,
 * and logs one `request` line per answer (method, masked path, status, milliseconds).
 */
export function requestLog(logger: Logger): MiddlewareHandler<{ Variables: { requestId: string; cacheControl?: string } }> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set('requestId', requestId);
    await next();
    // On the answer's own headers, as secureHeaders does: `c.header` now would copy the answer into a new web Response.
    const headers = c.res.headers;
    headers.set('X-Request-Id', requestId);
    // Task records are private to their session: no shared cache may keep them. Static files say otherwise.
    headers.set('Cache-Control', c.get('cacheControl') ?? 'no-store');
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
  };
}
