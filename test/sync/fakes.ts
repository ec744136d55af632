import { vi } from 'vitest';
import type { AutomationClient } from '../../src/sync/index.ts';
import type { InstanceStatus } from '../../src/sync/protocol.ts';

/** An instance status with the given version (and anything else overridden). */
export function statusOf(version: string, extra: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    id: 'i1',
    automation: 'OrderFulfilment',
    verboseName: 'Order fulfilment',
    status: 'running',
    nodes: ['approve'],
    forms: [],
    data: {},
    messages: [],
    createdAt: 1_700_000_000_000,
    finishedAt: null,
    version,
    ...extra,
  };
}

type Listener = (event: MessageEvent) => void;

/** A controllable EventSource: tests emit named events and check `closed`. */
export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readonly listeners = new Map<string, Set<Listener>>();
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, listener: Listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: Listener) {
    this.listeners.get(type)?.delete(listener);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data?: unknown) {
    const event = { type, data: data === undefined ? '' : typeof data === 'string' ? data : JSON.stringify(data) } as MessageEvent;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
  static get last(): FakeEventSource {
    return FakeEventSource.instances.at(-1)!;
  }
  static reset() {
    FakeEventSource.instances = [];
  }
}

export const fakeEventSource = FakeEventSource as unknown as typeof EventSource;

export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
  body: unknown;
}

/** An answer of `fakeFetch`: status, body, and headers besides `Content-Type`. */
type FakeAnswer = [number, unknown] | [number, unknown, Record<string, string>];

/** A fetch answering from `answer(url, init)`: `[status, body, headers?]`, or throwing for a network failure. */
export function fakeFetch(answer: (url: string, request: Recorded) => FakeAnswer | Promise<FakeAnswer>) {
  const requests: Recorded[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request: Recorded = {
      url: String(input),
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      credentials: init.credentials,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    const [status, body, headers = {}] = await answer(request.url, request);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, requests, calls: () => requests.length };
}

/**
 * An in-memory client: `server` holds what `status()` answers; `push(status)` plays a status
 * arriving over every open watch of its instance.
 */
export function fakeClient(initial: InstanceStatus = statusOf('v1')) {
  const watchers = new Set<{ id: string; onStatus: (s: InstanceStatus) => void }>();
  const state = { server: initial };
  const client = {
    status: vi.fn(async (_id: string) => state.server),
    start: vi.fn(async (_automation: string, _input: unknown, _key: string) => state.server),
    watch: vi.fn((id: string, onStatus: (s: InstanceStatus) => void) => {
      const watcher = { id, onStatus };
      watchers.add(watcher);
      return () => {
        watchers.delete(watcher);
      };
    }),
  };
  return {
    client: client as typeof client & Pick<AutomationClient, 'status' | 'start' | 'watch'>,
    state,
    watching: () => [...watchers].map((w) => w.id),
    push(status: InstanceStatus) {
      state.server = status;
      for (const w of [...watchers]) if (w.id === status.id) w.onStatus(status);
    },
  };
}
