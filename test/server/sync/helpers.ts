import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { z } from 'zod';
import { type AutomationDefinition, defineAutomation, flow, type FlowDefinition, requireDataParameters } from '../../../src/automations/index.ts';
import { type AppOptions, createApp } from '../../../src/server/app.ts';
import { silentLogger } from '../../../src/server/log.ts';
import { pgliteStorage } from '../../../src/server/pglite.ts';
import { type ServerAutomations, startServerAutomations } from '../../../src/server/server-automations.ts';
import type { Authenticate } from '../../../src/server/session.ts';
import type { SyncOptions } from '../../../src/server/sync/index.ts';
import { syncLinks } from '../../../src/server/sync/links.ts';
import type { TaskStorage } from '../../../src/server/storage.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';
import { ORIGIN, TEST_LIMITS } from '../harness.ts';

/** An OrderFulfilment-like automation: execute → form `approve` (group backoffice) → browser message `approved` → end. */
export const syncOrder = defineAutomation('SyncOrder', {
  verboseName: 'Order approval',
  nodes: {
    received: flow.execute((ctx) => {
      ctx.data.receivedAt = ctx.now;
      ctx.data.secret = 'internal';
    }),
    approve: flow
      .form(z.object({ decision: z.enum(['approve', 'reject']), note: z.string().min(1, 'Write a note') }))
      .group('backoffice')
      .describe('Approve the order'),
    approved: flow.sendMessage({ browser: true }, 'approved', undefined, (ctx) => ({ note: (ctx.data.approve as { note: string }).note })),
    end: flow.end(),
  },
  receivers: {
    note: requireDataParameters({ note: 'string' }, (ctx, _token, payload) => {
      ctx.data.note = payload.note;
      return 'noted';
    }),
    internal: (ctx) => {
      ctx.data.internal = true;
    },
  },
});

/** Not startable from browsers; its form is assigned to user ada only. */
export const syncHidden = defineAutomation('SyncHidden', {
  nodes: {
    review: flow.form(z.object({ ok: z.boolean() })).user('ada').permission('orders.review'),
    end: flow.end(),
  },
});

export const definitions = [syncOrder, syncHidden];

/** What browsers may do: start SyncOrder with an item and quantity, read the order and note, send `note`. */
export const syncOptions: SyncOptions = {
  automations: {
    SyncOrder: {
      start: { schema: z.object({ item: z.string().min(1), qty: z.number().int().min(1) }), data: (input, caller) => ({ order: input as Record<string, unknown>, by: caller.owner }) },
      expose: (data) => ({ order: data.order, note: data.note ?? null }),
      messages: ['note'],
    },
  },
};

/** Users by bearer token: `Authorization: Bearer <id>`. */
export const users: Record<string, { groups?: string[]; permissions?: string[]; superuser?: boolean }> = {
  bo: { groups: ['backoffice'] },
  bo2: { groups: ['backoffice'] },
  ada: { permissions: ['orders.review'] },
  viewer: { permissions: ['automations.view'] },
  root: { superuser: true },
  nobody: {},
  accountant: { groups: ['Accounting'] },
  organiser: { groups: ['Organization'] },
};

export const authenticate: Authenticate = (request) => {
  const id = request.headers.get('authorization')?.replace(/^Bearer /, '');
  const user = id ? users[id] : undefined;
  return id && user ? { id, credentials: 'header', ...user } : null;
};

/** `createApp` with the test defaults and automations. */
export function syncApp(storage: TaskStorage, running: ServerAutomations, sync: SyncOptions, extra: Partial<AppOptions> = {}) {
  return createApp({
    storage,
    logger: silentLogger,
    allowedOrigins: [ORIGIN],
    authenticate,
    automations: { running, sync },
    ...extra,
    limits: { ...TEST_LIMITS, ...extra.limits },
  });
}

/** One in-memory PGlite with the task storage, the automations (scheduler running) and the sync links table. */
async function pgliteSyncEnv(automations: AutomationDefinition[], flows: readonly FlowDefinition[]) {
  const pg = await PGlite.create();
  const storage = await pgliteStorage({ db: pg });
  const running = await startServerAutomations({ definitions: automations, flows, database: { kind: 'pglite', pg }, logger: silentLogger });
  await syncLinks(running.db);
  return { pg, storage, running };
}

/**
 * The sync server of one test file, in process on one PGlite database: created before its tests,
 * emptied before each, closed after them. `apps` names the apps to serve on it (overrides of `syncOptions`);
 * the automations are `definitions` unless `automations` says otherwise, beside flowcontrol `flows`.
 */
export function syncTestEnv<Name extends string>(apps: Record<Name, Partial<SyncOptions>>, automations: AutomationDefinition[] = definitions, flows: readonly FlowDefinition[] = []) {
  const shutdown = new AbortController();
  let live: Awaited<ReturnType<typeof pgliteSyncEnv>> | undefined;
  const served = new Map<Name, ReturnType<typeof syncApp>>();
  beforeAll(async () => {
    live = await pgliteSyncEnv(automations, flows);
    for (const name of Object.keys(apps) as Name[]) {
      served.set(name, syncApp(live.storage, live.running, { ...syncOptions, ...apps[name] }, { signal: shutdown.signal }));
    }
  });
  beforeEach(() => live?.pg.query('TRUNCATE wayflow_automation_instances, wayflow_automation_history, wayflow_automation_messages, wayflow_automation_open_forms, wayflow_sync_links, wayflow_sync_messages'));
  afterAll(async () => {
    shutdown.abort();
    await live?.running.stop();
    await live?.storage.close();
  });
  const ready = () => {
    if (!live) throw new Error('syncTestEnv: the environment is set up in beforeAll; use it inside hooks and tests.');
    return live;
  };
  return {
    get storage() {
      return ready().storage;
    },
    get running() {
      return ready().running;
    },
    sql: async <Row>(text: string, params?: unknown[]) => (await ready().pg.query<Row>(text, params)).rows,
    /** The app served as `name`, as a fetch function. */
    fetcher: (name: Name) => (request: Request) => served.get(name)!.fetch(request),
  };
}

/** A response's JSON body, typed as `T`. */
export const body = async <T>(response: Response) => (await response.json()) as T;
/** The `error` of a refused request's JSON body. */
export const errorOf = (response: Response) => body<{ error: { code: string; message: string; fields?: Record<string, string[]> } }>(response);

/** Request helpers for a user (bearer token) against `fetcher`. */
export function asUser(fetcher: (request: Request) => Response | Promise<Response>, user: string) {
  const call = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${user}`);
    if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetcher(new Request(`http://app.test${path}`, { ...init, headers }));
  };
  return {
    get: (path: string, headers: Record<string, string> = {}) => call(path, { headers }),
    post: (path: string, body: unknown, headers: Record<string, string> = {}) => call(path, { method: 'POST', body: JSON.stringify(body), headers }),
  };
}

/** Request helpers for a browser session (cookie, Origin) against `fetcher`. */
export function asSession(fetcher: (request: Request) => Response | Promise<Response>) {
  let cookie: string | null = null;
  const call = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    if (init.method === 'POST') {
      headers.set('origin', ORIGIN);
      headers.set('content-type', 'application/json');
    }
    const response = await fetcher(new Request(`http://app.test${path}`, { ...init, headers }));
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return response;
  };
  return {
    get: (path: string, headers: Record<string, string> = {}) => call(path, { headers }),
    post: (path: string, body: unknown, headers: Record<string, string> = {}) => call(path, { method: 'POST', body: JSON.stringify(body), headers }),
  };
}

/** Starts a SyncOrder as `client` and returns its status. */
export async function startOrder(client: ReturnType<typeof asSession>, key: string = crypto.randomUUID()): Promise<InstanceStatus> {
  const response = await client.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 2 } }, { 'idempotency-key': key });
  if (response.status !== 201) throw new Error(`start answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { instance: InstanceStatus }).instance;
}

/** One server-sent event, or a comment line (`comment`). */
export interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads server-sent events from a response body: `next()` resolves to the next event (or comment), null at the end. */
export function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseEvent[] = [];
  let ended = false;
  const pull = async () => {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      return;
    }
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event' || field === 'id') event[field] = value;
          if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
        }
      }
      queue.push(event);
      cut = buffer.indexOf('\n\n');
    }
  };
  return {
    /** The next event, skipping heartbeats unless `comments`; rejects after `timeoutMs`. */
    async next(options: { timeoutMs?: number; comments?: boolean } = {}): Promise<SseEvent | null> {
      const deadline = Date.now() + (options.timeoutMs ?? 3000);
      for (;;) {
        while (queue.length > 0) {
          const event = queue.shift()!;
          if (event.comment !== undefined && !options.comments) continue;
          return event;
        }
        if (ended) return null;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no server-sent event in time');
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([pull(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no server-sent event in time')), left)))]).finally(() => clearTimeout(timer));
      }
    },
    /** The next event's status (asserting it is a `status` event). */
    async status(timeoutMs?: number): Promise<InstanceStatus> {
      const event = await this.next(timeoutMs === undefined ? {} : { timeoutMs });
      if (event?.event !== 'status') throw new Error(`expected a status event, got ${JSON.stringify(event)}`);
      return JSON.parse(event.data!) as InstanceStatus;
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}
