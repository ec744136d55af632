import type { MiddlewareHandler } from 'hono';

/** Paths the API answers itself: their requests get the session from the API's own chain. */
const API_PATH = /^\/(?:tasks|automations|health)(?:\/|$)/;

/**
 * Issues the session cookie with every HTML page the server sends (a single-page app's
 * `index.html` and its deep links), so tabs opened at once on a first visit share one session.
 * Without it their first API requests race without a cookie, each gets its own session, and the
 * browser keeps only the last cookie: the other tab's task is then "not found". A page whose
 * cookie cannot be issued (e.g. too many new sessions from its address) is still served; its
 * API requests then get the refusal.
 */
export function sessionWithPages(binder: MiddlewareHandler): MiddlewareHandler {
  return async (c, next) => {
    const page = (c.req.method === 'GET' || c.req.method === 'HEAD') && !API_PATH.test(c.req.path) && c.req.header('accept')?.includes('text/html');
    if (page) await binder(c, async () => {}).catch(() => undefined);
    await next();
  };
}
