import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../env.ts';
import { HttpError } from '../errors.ts';
import { checkedBody, requireJsonContentType } from '../schemas.ts';

/** A JSON body read but not judged yet: `check()` resolves to it checked, or throws 415, 400 `malformed-json` or 400 `invalid-body`. */
export interface DeferredBody<T> {
  check(): Promise<T>;
}

/**
 * The JSON body of a sync route as a Hono validator (`c.req.valid('json')`, and the request
 * type of `hc<SyncRoutesType>()`), checked with `schema` only when the route calls `check()`:
 * the sync routes first rule out the answers that do not depend on the body (a retried
 * `Idempotency-Key`, a closed or foreign form), and those win whatever was sent.
 */
export function jsonBody<T>(schema: z.ZodType<T>): MiddlewareHandler<AppEnv, string, { in: { json: T }; out: { json: DeferredBody<T> } }> {
  return async (c, next) => {
    let checked: Promise<T> | undefined;
    const body: DeferredBody<T> = { check: () => (checked ??= read(c, schema)) };
    c.req.addValidatedData('json', body as never);
    await next();
  };
}

async function read<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  requireJsonContentType(c.req.header('content-type'));
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw new HttpError(400, 'malformed-json', 'The request body is not valid JSON.');
  }
  return checkedBody(schema, value);
}
