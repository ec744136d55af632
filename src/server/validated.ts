import type { Context, MiddlewareHandler } from 'hono';
import type { ValidationTargets } from 'hono/types';
import type { AppEnv } from './env.ts';

/** What a request validator hands its route, by target (`param`, `header`, `query`, `json`). */
export type ValidatedTargets = Partial<Record<keyof ValidationTargets, object>>;

/**
 * A validator of several targets at once, typed like Hono's `validator` (so the typed client
 * sends each target), that reads only what `check` asks for. Hono's `header` validator reads
 * every header of the request first, which turns @hono/node-server's lightweight headers into a
 * web `Headers` (every name validated and sorted) that every later lookup then goes through.
 * `check` throws an `HttpError` to refuse the request.
 */
export function validated<V extends ValidatedTargets>(check: (c: Context<AppEnv>) => V | Promise<V>): MiddlewareHandler<AppEnv, string, { in: V; out: V }> {
  return async (c, next) => {
    const data = await check(c);
    for (const target in data) c.req.addValidatedData(target as keyof ValidationTargets, data[target as keyof V] as object);
    await next();
  };
}
