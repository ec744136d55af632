import type { MiddlewareHandler } from 'hono';

/**
 * `middleware` run in order as one middleware: one step of Hono's chain instead of one each.
 * Every step costs Hono's dispatch (an async function, its try/catch, a promise and the awaits
 * on the way back) on every request, on top of the middleware's own; the app's checks that work
 * before the route and none after it (`return next()`, an early answer, or a throw) run through
 * this. A middleware that answers without calling `next` ends the chain with its answer, and one
 * that throws fails the chain (the app's `onError` answers, with `c.error` set, as before). For
 * middleware that only work before `next`: one that works after it would find `c.res` not yet set
 * when an inner one of the chain answered early.
 * @example
 * app.use(chained([clientRateLimit(rate, clock), originCheck(origins)]));
 */
export function chained(middleware: readonly MiddlewareHandler[]): MiddlewareHandler {
  return (c, next) => {
    const step = (index: number): ReturnType<MiddlewareHandler> => (index === middleware.length ? next() : middleware[index]!(c, () => step(index + 1) as Promise<void>));
    return step(0);
  };
}
