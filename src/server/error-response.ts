import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { WayflowError } from '../core/index.ts';
import type { AppEnv } from './env.ts';
import { DatabaseUnavailableError, HttpError } from './errors.ts';
import { TooManyRequestsError } from './limits.ts';
import type { Logger } from './log.ts';
import { isDatabaseUnavailable } from './outage.ts';

/**
 * The app's error handler: `{ error: { code, message } }` for every failure, never a stack
 * trace. 503 with `Retry-After` while the database is unavailable, the status of an
 * `HttpError` (429 with `Retry-After` for a `TooManyRequestsError`, whichever middleware or route
 * threw it), 400 for malformed JSON, else 500 naming the request id (the error is logged).
 */
export function errorResponse(logger: Logger): ErrorHandler<AppEnv> {
  return (error, c) => {
    const requestId = c.get('requestId');
    if (isDatabaseUnavailable(error)) {
      // Temporary: no stack logged per request (an OutageMonitor on the database logs the outage once).
      const unavailable = new DatabaseUnavailableError();
      c.header('Retry-After', String(unavailable.retryAfterSeconds));
      return c.json({ error: { code: unavailable.code, message: unavailable.message } }, unavailable.status);
    }
    if (error instanceof TooManyRequestsError) c.header('Retry-After', String(error.retryAfterSeconds));
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
  };
}
