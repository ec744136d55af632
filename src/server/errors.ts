import { WayflowError } from '../core/index.ts';
import { loggedPath } from './request-log.ts';

/** HTTP status codes the tasks API answers errors with. */
export type ErrorStatus = 400 | 403 | 404 | 409 | 413 | 415 | 422 | 428 | 429 | 500 | 503;

/**
 * An error the server turns into an HTTP response `{ error: { code, message } }`.
 * `details` are extra, safe-to-share fields of the error body (e.g. `current` on a conflict).
 */
export class HttpError extends WayflowError {
  override readonly name: string = 'HttpError';
  /** The HTTP status of the response. */
  readonly status: ErrorStatus;
  /** Extra fields of the error body. */
  readonly details: Record<string, unknown>;
  constructor(status: ErrorStatus, code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message);
    this.status = status;
    this.details = details;
  }
}

/** No route answers the request: the 404 of every unknown route, and of a route that hides itself from a caller. */
export class RouteNotFoundError extends HttpError {
  override readonly name: string = 'RouteNotFoundError';
  constructor(method: string, path: string) {
    super(404, 'not-found', `No route ${method} ${loggedPath(path)}. The tasks API lives under /tasks.`);
  }
}

/** The task does not exist, is expired, or belongs to someone else: the three are indistinguishable on purpose. */
export class TaskNotFoundError extends HttpError {
  override readonly name: string = 'TaskNotFoundError';
  constructor(taskId: string) {
    super(404, 'task-not-found', `Task ${taskId} was not found: it never existed, it expired, or it belongs to another session. Start a new task.`);
  }
}

/** A write carried a stale `If-Match` version; `current` is the version the caller can see (null: none). */
export class ConflictError extends HttpError {
  override readonly name: string = 'ConflictError';
  constructor(taskId: string, expected: number, current: number | null) {
    super(
      409,
      'version-conflict',
      `Task ${taskId} was changed elsewhere: If-Match was ${expected}, the current version is ${current ?? 'none'}. Reload the task and apply the change again.`,
      { current },
    );
  }
}

/** A stored task record is damaged (not JSON, or not a task record): edited outside the server. It is left in place for inspection. */
export class CorruptTaskError extends HttpError {
  override readonly name: string = 'CorruptTaskError';
  constructor(taskId: string, problem: string) {
    super(
      500,
      'corrupt-record',
      `Task ${taskId} has a damaged stored record (${problem}); it was left in the database for inspection. Start a new task.`,
    );
  }
}

/**
 * The database cannot be reached right now (down, restarting, refusing connections): the
 * request changed nothing it acknowledged; retry after `retryAfterSeconds` (sent as
 * `Retry-After`), with the same `Idempotency-Key` where the request has one.
 */
export class DatabaseUnavailableError extends HttpError {
  override readonly name: string = 'DatabaseUnavailableError';
  readonly retryAfterSeconds = 1;
  constructor() {
    super(
      503,
      'database-unavailable',
      'The database is unavailable for a moment (restarting or unreachable). Retry after the Retry-After seconds, with the same Idempotency-Key if the request had one.',
    );
  }
}

/** The storage failed to open or to migrate; the server cannot start. */
export class StorageError extends WayflowError {
  override readonly name: string = 'StorageError';
  constructor(message: string, cause?: unknown) {
    super('storage', message, { cause });
  }
}
