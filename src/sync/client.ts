import { WayflowError } from '../core/index.ts';
import type { DashboardView, InstanceInspection, InstanceStatus, NodeInstanceView, OpenFormDetail, OpenFormSummary, ProcessMapView, SyncResponses } from './protocol.ts';
import { type StopWatching, type WatchOptions, watchInstance } from './watch.ts';

/** A failed sync request: `code` comes from the server's error body (`unreachable` when no response came), `status` is the HTTP status (0 when unreachable), `fields` the per-field errors of a 422. */
export class SyncError extends WayflowError {
  override readonly name: string = 'SyncError';
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly fields?: Record<string, string[]>,
    cause?: unknown,
  ) {
    super(code, message, { cause });
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a failed response's body (`{ error: { code, message, fields? } }`, or anything else a proxy may send) into a `SyncError`; never throws. */
export function syncErrorFrom(status: number, body: unknown): SyncError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const code = typeof error.code === 'string' && error.code ? error.code : `http-${status}`;
  const message = typeof error.message === 'string' && error.message ? error.message : `The automations server answered ${status}.`;
  let fields: Record<string, string[]> | undefined;
  if (isRecord(error.fields)) {
    fields = {};
    for (const [name, list] of Object.entries(error.fields)) {
      const texts = (Array.isArray(list) ? list : [list]).filter((t): t is string => typeof t === 'string');
      if (texts.length > 0) fields[name] = texts;
    }
  }
  return new SyncError(code, message, status, fields);
}

/** Options of `automationClient`. */
export interface AutomationClientOptions {
  /** Where the server is (default: this origin). */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** The EventSource class for live status; `null` polls only. Default: the global one, if any. */
  EventSource?: typeof EventSource | null;
  /** Polling interval of `watch` when no stream is available (default 5000 ms). */
  pollMs?: number;
  /**
   * How often a request that is safe to repeat (a read, a start, a message with an
   * idempotency key) is sent again after a 502, 503 or 504, each time after the wait its
   * `Retry-After` asks for (1 s without one, at most 10 s). Default 3.
   */
  retries?: number;
}

/** A typed client of the automations sync API (`/automations/*`). Every method rejects with a `SyncError`. */
export interface AutomationClient {
  /** Open forms the caller may process. */
  forms(): Promise<OpenFormSummary[]>;
  form(instanceId: string, taskId: number): Promise<OpenFormDetail>;
  /** Processes an open form; 422 carries `fields`, 409 means it was processed meanwhile. */
  submitForm(instanceId: string, taskId: number, input: unknown): Promise<InstanceStatus>;
  /** Starts an automation; the same `idempotencyKey` returns the same instance. */
  start(automation: string, input: unknown, idempotencyKey: string): Promise<InstanceStatus>;
  status(instanceId: string): Promise<InstanceStatus>;
  /** Sends a message; with an `idempotencyKey` (the same on every retry) the server delivers it once, however often it is sent. */
  send(instanceId: string, message: string, payload?: Record<string, unknown>, idempotencyKey?: string): Promise<{ result: unknown; instance: InstanceStatus }>;
  /** Needs the `automations.view` permission (403 otherwise). */
  dashboard(): Promise<DashboardView>;
  /** One instance with its history, its automation's graph and its counts per node. Needs `automations.view`. */
  inspect(instanceId: string): Promise<InstanceInspection>;
  /** The process map of an automation: its graph and the counts of each node. Needs `automations.view`, like the dashboard. */
  map(automation: string): Promise<ProcessMapView>;
  /** The running instances at a node of an automation, the longest there first (at most 100). Needs `automations.view`. */
  mapInstances(automation: string, node: string): Promise<NodeInstanceView[]>;
  /** Calls `onMap` with the process map each time a count changes (server-sent events, polling as the fallback) until `stop()` is called. */
  watchMap(automation: string, onMap: (map: ProcessMapView) => void, options?: WatchOptions): StopWatching;
  /** Calls `onStatus` with every new version of the instance (server-sent events, polling as the fallback) until it ends or `stop()` is called. */
  watch(instanceId: string, onStatus: (status: InstanceStatus) => void, options?: WatchOptions): StopWatching;
}

/**
 * A client of the automations sync API of `wayflow serve --automations`.
 * @example
 * const automations = automationClient();
 * const forms = await automations.forms();
 */
export function automationClient(options: AutomationClientOptions = {}): AutomationClient {
  const base = `${options.baseUrl ?? ''}/automations`;
  const ES = options.EventSource === undefined ? globalThis.EventSource : options.EventSource;
  const path = (...parts: (string | number)[]) => `${base}/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
  /** Sends one request; `repeatable` ones are sent again after a 502/503/504 (the server or its database restarting). */
  async function call<T>(url: string, body?: unknown, headers: Record<string, string> = {}, repeatable = body === undefined): Promise<T> {
    const fetcher = options.fetch ?? globalThis.fetch;
    const init: RequestInit = { credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
    if (body !== undefined) {
      init.method = 'POST';
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetcher(url, init);
      } catch (cause) {
        throw new SyncError('unreachable', 'The automations server cannot be reached; check the connection and try again.', 0, undefined, cause);
      }
      const parsed: unknown = await response.json().catch(() => null);
      if (response.ok) return parsed as T;
      if (!repeatable || attempt >= (options.retries ?? 3) || ![502, 503, 504].includes(response.status)) throw syncErrorFrom(response.status, parsed);
      const wait = Number(response.headers.get('retry-after') ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(Number.isFinite(wait) && wait >= 0 ? wait * 1000 : 1000, 10_000)));
    }
  }
  const client: AutomationClient = {
    forms: async () => (await call<SyncResponses['forms']>(path('forms'))).forms,
    form: async (instanceId, taskId) => (await call<SyncResponses['form']>(path('forms', instanceId, taskId))).form,
    submitForm: async (instanceId, taskId, input) => (await call<SyncResponses['submitForm']>(path('forms', instanceId, taskId), { input })).instance,
    start: async (automation, input, idempotencyKey) =>
      (await call<SyncResponses['start']>(path('start', automation), { input }, { 'Idempotency-Key': idempotencyKey }, true)).instance,
    status: async (instanceId) => (await call<SyncResponses['status']>(path('instances', instanceId))).instance,
    send: (instanceId, message, payload, idempotencyKey) =>
      call<SyncResponses['send']>(
        path('instances', instanceId, 'messages', message),
        payload === undefined ? {} : { payload },
        idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey },
        idempotencyKey !== undefined,
      ),
    dashboard: async () => (await call<SyncResponses['dashboard']>(path('dashboard'))).dashboard,
    inspect: (instanceId) => call<SyncResponses['inspect']>(path('dashboard', 'instances', instanceId)),
    map: async (automation) => (await call<SyncResponses['map']>(path('map', automation))).map,
    mapInstances: async (automation, node) => (await call<SyncResponses['mapInstances']>(path('map', automation, 'nodes', node))).instances,
    watchMap: (automation, onMap, watchOptions = {}) =>
      watchInstance({ url: path('map', automation, 'events'), status: () => client.map(automation), EventSource: ES ?? null }, onMap, { pollMs: options.pollMs, ...watchOptions }),
    watch: (instanceId, onStatus, watchOptions = {}) =>
      watchInstance(
        { url: path('instances', instanceId, 'events'), status: () => client.status(instanceId), EventSource: ES ?? null },
        onStatus,
        { pollMs: options.pollMs, ...watchOptions },
      ),
  };
  return client;
}
