import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpError } from './errors.ts';
import type { Caller } from './session.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF defence for cookie-authenticated writes: the `Origin` header must be the
 * server's own origin or one of `allowedOrigins`. A write without `Origin` is
 * refused too (browsers always send it on writes; other clients can set it).
 */
export function originCheck(allowedOrigins: readonly string[]): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  const allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, '')));
  return async (c, next) => {
    if (!WRITES.has(c.req.method) || !c.get('caller').cookieAuthenticated) return next();
    const origin = c.req.header('origin');
    if (!origin || (origin !== new URL(c.req.url).origin && !allowed.has(origin))) {
      throw new HttpError(
        403,
        'bad-origin',
        `Writes need an Origin header naming this server or one of its allowed origins; got ${origin ? `"${origin.slice(0, 100)}"` : 'none'}. Add the page's origin to allowedOrigins.`,
      );
    }
    return next();
  };
}

/** Request bodies larger than `maxBytes` are refused with 413 before they are read in full. */
export function requestBodyLimit(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError(413, 'body-too-large', `The request body is larger than ${maxBytes} bytes. Keep task data smaller, or raise bodyLimit.`);
    },
  });
}

/** How many writes one caller may make: `perSecond` on average, bursts of up to `burst`. */
export interface WriteRate {
  perSecond: number;
  burst: number;
}

/**
 * Bounds the rate of writes per caller (session or user) with a token bucket.
 * Buckets live in this process's memory: with several processes each enforces
 * its own bound. At most `maxCallers` buckets are kept; full ones are forgotten first.
 */
export function writeRateLimit(rate: WriteRate, clock: () => number, maxCallers = 100_000): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    if (!WRITES.has(c.req.method)) return next();
    const now = clock();
    const owner = c.get('caller').owner;
    const bucket = buckets.get(owner) ?? { tokens: rate.burst, at: now };
    bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * rate.perSecond);
    bucket.at = now;
    buckets.delete(owner);
    buckets.set(owner, bucket);
    if (buckets.size > maxCallers) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    if (bucket.tokens < 1) {
      const waitSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / rate.perSecond));
      c.header('Retry-After', String(waitSeconds));
      throw new HttpError(429, 'rate-limited', `Too many writes from this session: at most ${rate.perSecond} per second. Retry after ${waitSeconds} s.`);
    }
    bucket.tokens -= 1;
    return next();
  };
}
