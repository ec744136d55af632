import type { Logger } from './log.ts';

/** Socket errors of a database server that is down or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs of a server shutting down (57P01), crashed (57P02), starting up (57P03) or out of connections (53300); class 08 is "connection exception". */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What `pg` and `pg-pool` say when a connection ended, could not be had in time, or a statement's answer never came. */
const MESSAGES = [/^Connection terminated/, /is not queryable/, /^timeout exceeded when trying to connect/, /^timeout expired$/, /^Query read timeout$/];

/**
 * Whether `error` (or one of its causes) means the database cannot be reached right now: a
 * refused, reset or timed-out connection, a statement whose answer never came, a server that
 * is shutting down, crashed or still starting. Such
 * a failure is temporary: the server answers it with `503 database-unavailable`, the
 * schedulers retry it quietly.
 * @example
 * if (isDatabaseUnavailable(error)) retryLater();
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
    if (current instanceof AggregateError && current.errors.some(isDatabaseUnavailable)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Told about the outcome of database operations; logs one line when an outage begins and one when it ends. */
export interface OutageMonitor {
  /** Reports a failed operation; returns whether it was an outage (the first failure of one logs it). */
  failed(error: unknown): boolean;
  /** Reports an operation that began at `startedAt` (`performance.now()`) and succeeded: it ends an outage that began before it. */
  succeeded(startedAt: number): void;
  /** Whether the database is unavailable now. */
  readonly down: boolean;
}

/**
 * An `OutageMonitor` logging to `logger`: `database unavailable` (warn, with the first error)
 * when an outage begins, `database available again` (info, with `downMs`) when an operation
 * that began after it succeeds. Share one among the pools and connections of a process, so
 * an outage is one pair of lines, not a line per request.
 * @example
 * const outage = outageMonitor(logger);
 * const storage = await postgresStorage({ connectionString, outage });
 */
export function outageMonitor(logger: Logger): OutageMonitor {
  let since: number | null = null;
  return {
    get down() {
      return since !== null;
    },
    failed(error) {
      if (!isDatabaseUnavailable(error)) return false;
      if (since === null) {
        since = performance.now();
        const { code } = error as { code?: unknown };
        logger({
          level: 'warn',
          msg: 'database unavailable: retrying until it is back (requests answer 503 meanwhile)',
          error: error instanceof Error ? error.message : String(error),
          ...(typeof code === 'string' ? { code } : {}),
        });
      }
      return true;
    },
    succeeded(startedAt) {
      if (since === null || startedAt < since) return;
      logger({ level: 'info', msg: 'database available again', downMs: Math.round(performance.now() - since) });
      since = null;
    },
  };
}
