import { WayflowError } from '../core/index.ts';
import type { TaskRecord } from '../core/index.ts';

/** The server answered with an error the store cannot turn into a contract result. */
export class RemoteStoreError extends WayflowError {
  override readonly name: string = 'RemoteStoreError';
  /** The HTTP status of the answer. */
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** The server could not be reached (network failure, or a gateway said the server is down). */
export class Unreachable extends Error {
  override readonly name: string = 'Unreachable';
}
const GATEWAY_DOWN = new Set([502, 503, 504]);

/** The wait a `Retry-After` header asks for (seconds, or an HTTP date), in ms; null when absent or unreadable. */
function retryAfterOf(header: string | null): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

interface ErrorBody {
  error?: { code?: string; message?: string; current?: number | null };
}

/** One answer of the tasks API: its status and its JSON body (null when empty or not JSON). */
export interface TasksAnswer {
  status: number;
  body: unknown;
}

/** Options of `tasksClient`. */
export interface TasksClientOptions {
  /** Where the API is; requests go to `${baseUrl}/tasks`. */
  baseUrl: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** Called on every answer (`online`) and every failure to get one (`offline`, with why). */
  onConnection(connection: 'online' | 'offline', reason: string | null): void;
}

/** The HTTP client of the tasks API that `remoteStore` uses. */
export interface TasksClient {
  /** Sends a request; throws `Unreachable` when no answer comes or a gateway says the server is down. */
  request(method: string, path: string, init?: { binder?: string; ifMatch?: number; body?: unknown; query?: Record<string, string> }): Promise<TasksAnswer>;
  /** Sends one write; resolves to `ok` when acknowledged, else to the version the server has (null: none visible). */
  write(record: TaskRecord, expected: number): Promise<number | null | 'ok'>;
  /** The wait the last 502/503/504 asked for in `Retry-After` (ms), once; null when none. */
  takeRetryAfter(): number | null;
}

/** A client of the tasks API at `options.baseUrl`, sending cookies (`credentials: 'include'`). */
export function tasksClient(options: TasksClientOptions): TasksClient {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const base = `${options.baseUrl.replace(/\/+$/, '')}/tasks`;
  let retryAfterMs: number | null = null;

  const request: TasksClient['request'] = async (method, path, init = {}) => {
    const url = `${base}${path}${init.query ? `?${new URLSearchParams(init.query)}` : ''}`;
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (init.binder !== undefined) headers['Wayflow-Binder'] = init.binder;
    if (init.ifMatch !== undefined) headers['If-Match'] = `"${init.ifMatch}"`;
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        credentials: 'include',
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      options.onConnection('offline', reason);
      throw new Unreachable(reason);
    }
    if (GATEWAY_DOWN.has(response.status)) {
      retryAfterMs = retryAfterOf(response.headers.get('retry-after'));
      await response.body?.cancel();
      options.onConnection('offline', `HTTP ${response.status}`);
      throw new Unreachable(`HTTP ${response.status}`);
    }
    options.onConnection('online', null);
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { status: response.status, body };
  };

  return {
    request,
    async write(record, expected) {
      const { status, body } = await request('PUT', `/${record.id}`, { binder: record.binder, ifMatch: expected, body: record });
      if (status === 200 || status === 201) return 'ok';
      if (status === 409) return currentOf(body);
      if (status === 404) return null;
      throw failure(status, body, `Writing task ${record.id}`);
    },
    takeRetryAfter() {
      const wait = retryAfterMs;
      retryAfterMs = null;
      return wait;
    },
  };
}

/** The error for an answer the caller cannot use: `what` failed on the server, with its code and message. */
export function failure(status: number, body: unknown, what: string): RemoteStoreError {
  const error = (body as ErrorBody | null)?.error;
  return new RemoteStoreError(status, error?.code ?? 'remote-error', `${what} failed on the server (HTTP ${status}): ${error?.message ?? 'no explanation given'}`);
}

/** The version the server has, from a 409 answer; null when it has none. */
export function currentOf(body: unknown): number | null {
  const current = (body as ErrorBody | null)?.error?.current;
  return typeof current === 'number' ? current : null;
}
