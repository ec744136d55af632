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
  /**
   * Reports a failed operation; returns whether it was an outage (the first failure of one logs it).
   * `startedAt` (`performance.now()` when the operation began): an operation begun before the last
   * outage ended, failing after it ended (a connection attempt the restarting database answered
   * late), belongs to that outage and begins no new one.
   */
  failed(error: unknown, startedAt?: number): boolean;
  /**
   * Reports an operation that began at `startedAt` (`performance.now()`) and succeeded: an
   * outage that began before it is over once no operation fails for `settleMs` after it.
   */
  succeeded(startedAt: number): void;
  /** Whether the database is unavailable now (false from the first operation that succeeded after an outage). */
  readonly down: boolean;
}

/** Options of `outageMonitor`. */
export interface OutageMonitorOptions {
  /**
   * How long operations must go on without failing after the first success before an outage is
   * called over (default 250 ms). A crashing database drops its connections one by one, so a
   * connection that still answers for a moment is not the database back.
   */
  settleMs?: number;
}

/**
 * An `OutageMonitor` logging to `logger`: `database unavailable` (warn, with the first error)
 * when an outage begins, `database available again` (info, with `downMs`, up to the first
 * operation that went through) once operations begun after it have gone on succeeding for
 * `settleMs`. Share one among the pools and connections of a process, so an outage is one pair
 * of lines, not a line per request.
 * @example
 * const outage = outageMonitor(logger);
 * const storage = await postgresStorage({ connectionString, outage });
 */
export function outageMonitor(logger: Logger, options: OutageMonitorOptions = {}): OutageMonitor {
  const settleMs = options.settleMs ?? 250;
  /** When the current outage began (`performance.now()`); null while the database is available. */
  let since: number | null = null;
  /** The first success after the outage began, waiting `settleMs` for no failure. */
  let back: { at: number; timer: ReturnType<typeof setTimeout> } | null = null;
  /** When the last outage ended: operations begun before, failing later, belong to it. */
  let endedAt = Number.NEGATIVE_INFINITY;
  return {
    get down() {
      return since !== null && back === null;
    },
    failed(error, startedAt) {
      if (!isDatabaseUnavailable(error)) return false;
      if (since === null && startedAt !== undefined && startedAt < endedAt) return true;
      if (back) {
        clearTimeout(back.timer);
        back = null;
      }
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
      if (since === null || back !== null || startedAt < since) return;
      const began = since;
      const at = performance.now();
      const timer = setTimeout(() => {
        back = null;
        since = null;
        endedAt = at;
        logger({ level: 'info', msg: 'database available again', downMs: Math.round(at - began) });
      }, settleMs);
      // A process may end while an outage settles: the line is then not worth keeping it alive.
      (timer as { unref?: () => void }).unref?.();
      back = { at, timer };
    },
  };
}
