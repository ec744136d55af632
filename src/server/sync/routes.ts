import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { type AutomationDefinition, nodeOf } from '../../automations/definition.ts';
import { type Actor, formPermissionProblem, openForms, toJson } from '../../automations/engine.ts';
import { FormPermissionError, FormValidationError, InstanceFinishedError, MissingMessageDataError, NoOpenFormError } from '../../automations/errors.ts';
import type { AutomationData } from '../../automations/nodes.ts';
import type { AutomationEffect, HistoryRow } from '../../automations/state.ts';
import type { InstanceRecord } from '../../automations/storage.ts';
import { validateInput } from '../../core/schema.ts';
import type { DashboardView, InstanceStatus, OpenFormDetail, OpenFormSummary, StreamEnd, StreamIdle } from '../../sync/protocol.ts';
import { automationTransaction } from '../automations/transaction.ts';
import { HttpError } from '../errors.ts';
import type { ServerLimits } from '../limits.ts';
import type { Logger } from '../log.ts';
import type { RequestPeer } from '../proxy.ts';
import { checkedBody, requireJsonContentType } from '../schemas.ts';
import type { ServerAutomations } from '../server-automations.ts';
import type { Caller } from '../session.ts';
import { type LongTimeout, setLongTimeout, timerMs } from '../timers.ts';
import {
  SyncDashboardForbiddenError,
  SyncFormClosedError,
  SyncFormForbiddenError,
  SyncFormNotFoundError,
  SyncIdempotencyKeyError,
  SyncIdempotencyKeyReusedError,
  SyncInstanceFinishedError,
  SyncInstanceNotFoundError,
  SyncInvalidInputError,
  SyncNotStartableError,
  SyncTooManyInstancesError,
  SyncUnknownMessageError,
} from './errors.ts';
import { formNodesFor } from './forms.ts';
import { SyncHub } from './hub.ts';
import { type SentMessage, type StartRecord, type SyncLinks, syncLinks } from './links.ts';
import { type SyncOptions, syncDefaults, VIEW_PERMISSION } from './options.ts';
import { unfinishedStarts } from './quota.ts';
import { exposedData, historyView, hoursSince, instanceStatus } from './status.ts';
import { StreamSlots } from './stream-slots.ts';

/** Variables the app's middleware chain sets on each request. */
type SyncEnv = { Variables: { caller: Caller; requestId: string; peer: RequestPeer } };

/** What `syncRoutes` needs. */
export interface SyncRoutesOptions {
  /** The automations running in this process. */
  automations: ServerAutomations;
  sync?: SyncOptions | undefined;
  /** Middleware run before every route: the app's session binder, origin check, write rate limit and body limit. */
  middleware: readonly (MiddlewareHandler<{ Variables: { caller: Caller } }> | MiddlewareHandler)[];
  /** Default of `sync.streamIdleMs`. */
  idleTimeoutMs: number;
  /** The bounds on event streams and on instances started per caller. */
  limits: Pick<ServerLimits, 'streams' | 'streamsPerClient' | 'streamsPerCaller' | 'instancesPerCaller'>;
  clock: () => number;
  logger: Logger;
  /** Aborting it ends every open event stream (server shutdown) and stops the pollers. */
  signal?: AbortSignal | undefined;
}

const INSTANCE_ID = /^[\w.:-]{1,128}$/;
const TASK_ID = /^[1-9]\d{0,9}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

const inputBody = z.object({ input: z.unknown() });
const messageBody = z.object({ payload: z.record(z.string(), z.unknown()).optional() });

/**
 * Thrown inside a start's or a send's transaction when an earlier request with the same
 * `Idempotency-Key` committed: it rolls this one back, and the route answers with `earlier`.
 */
class AnsweredBefore extends Error {
  override readonly name: string = 'AnsweredBefore';
  constructor(readonly earlier: StartRecord | SentMessage) {
    super('An earlier request with this Idempotency-Key was answered.');
  }
}

/** Reads a JSON body and checks it with `schema`: 415 not JSON, 400 malformed or of the wrong shape. */
async function readBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  requireJsonContentType(c.req.header('content-type'));
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'malformed-json', 'The request body is not valid JSON.');
  }
  return checkedBody(schema, value);
}

const isViewer = (actor: Actor) => actor.superuser === true || (actor.permissions?.includes(VIEW_PERMISSION) ?? false);

/** The instances an effect concerns (for a message: the sender and the target). */
function instancesOf(effect: AutomationEffect): string[] {
  if (effect.type === 'send-message') return 'instanceId' in effect.to ? [effect.from.instanceId, effect.to.instanceId] : [effect.from.instanceId];
  return [effect.instanceId];
}

/** The sync API with its hub: `routes` to mount at `/automations`. */
export interface SyncApi {
  routes: ReturnType<typeof buildRoutes>;
  hub: SyncHub;
  /** Open event streams of an owner (tests, metrics). */
  openStreams(owner: string): number;
  links(): Promise<SyncLinks>;
}

/**
 * The automations sync API (`src/sync/protocol.ts`): a Hono app to mount at `/automations`
 * behind the app's middleware. `createApp({ automations: { running, sync } })` does it.
 */
export function syncApi(options: SyncRoutesOptions): SyncApi {
  const state = setup(options);
  return { routes: buildRoutes(state), hub: state.hub, openStreams: (owner) => state.slots.of(owner), links: state.getLinks };
}

function setup(options: SyncRoutesOptions) {
  const { automations, logger } = options;
  const sync = options.sync ?? {};
  const definitions = new Map<string, AutomationDefinition>(automations.definitions.map((d) => [d.name, d]));

  let links: Promise<SyncLinks> | undefined;
  const getLinks = () => {
    links ??= syncLinks(automations.db).catch((error: unknown) => {
      links = undefined;
      throw error;
    });
    return links;
  };

  /** The instance and its history, read in one transaction; null when missing. */
  const load = (id: string) =>
    automations.storage.transaction(async (tx) => {
      const record = await tx.getInstance(id);
      return record ? { record, history: await tx.history(id) } : null;
    });
  const statusOf = (record: InstanceRecord, history: readonly HistoryRow[]) => instanceStatus(definitions.get(record.automation), record, history, sync);
  const readStatus = async (id: string): Promise<InstanceStatus | null> => {
    const loaded = await load(id);
    return loaded && statusOf(loaded.record, loaded.history);
  };

  const hub = new SyncHub(readStatus, timerMs(sync.pollMs ?? syncDefaults.pollMs), logger);
  const unsubscribe = automations.onEffect((effect) => {
    for (const id of instancesOf(effect)) hub.notify(id);
  });
  const closers = new Set<() => void>();
  options.signal?.addEventListener(
    'abort',
    () => {
      unsubscribe();
      for (const close of [...closers]) close();
      hub.close();
    },
    { once: true },
  );

  /** Whether the caller may see the instance: its owner, one who may process one of its open forms, or a dashboard viewer. */
  const maySee = async (caller: Caller, record: InstanceRecord) => {
    if (isViewer(caller.actor)) return true;
    const definition = definitions.get(record.automation);
    if (definition && !record.finished && openForms(definition, record, caller.actor).length > 0) return true;
    return (await getLinks()).owns(caller.owner, record.id);
  };
  /** The instance and its history if the caller may see it; else 404, alike for missing and foreign. */
  const visible = async (caller: Caller, id: string) => {
    if (!INSTANCE_ID.test(id)) throw new SyncInstanceNotFoundError(id);
    const loaded = await load(id);
    if (!loaded || !(await maySee(caller, loaded.record))) throw new SyncInstanceNotFoundError(id);
    return loaded;
  };

  return {
    options,
    sync,
    automations,
    definitions,
    getLinks,
    load,
    statusOf,
    readStatus,
    hub,
    closers,
    maySee,
    visible,
    slots: new StreamSlots(options.limits),
    streamIdleMs: sync.streamIdleMs ?? options.idleTimeoutMs,
    heartbeatMs: timerMs(sync.heartbeatMs ?? syncDefaults.heartbeatMs),
    recentCount: sync.dashboardRecent ?? syncDefaults.dashboardRecent,
  };
}

type SyncState = ReturnType<typeof setup>;

/** Why a form task is not open: 409 when it was a form that has been processed or skipped (and the caller could know it), else 404. */
async function closedOrMissing(s: SyncState, caller: Caller, instanceId: string, taskId: number): Promise<HttpError> {
  const loaded = await s.load(instanceId);
  const row = loaded?.history.find((r) => r.taskId === taskId);
  const definition = loaded && s.definitions.get(loaded.record.automation);
  const node = definition && row ? nodeOf(definition, row.status) : undefined;
  if (loaded && row && row.finished !== null && node?.kind === 'form') {
    const mayKnow = formPermissionProblem(node.assignment, caller.actor) === null || (await s.maySee(caller, loaded.record));
    if (mayKnow) return new SyncFormClosedError(loaded.record.automation, instanceId, row.status, taskId);
  }
  return new SyncFormNotFoundError(instanceId, String(taskId));
}

/**
 * The open form (instance, task) and its node, checked: 404 missing (and, when reading, closed),
 * 409 closed (when submitting), 403 when the caller may not process it.
 */
async function openFormFor(s: SyncState, caller: Caller, instanceId: string, task: string, submitting: boolean) {
  if (!INSTANCE_ID.test(instanceId) || !TASK_ID.test(task)) throw new SyncFormNotFoundError(instanceId, task);
  const taskId = Number(task);
  const loaded = await s.load(instanceId);
  const definition = loaded && s.definitions.get(loaded.record.automation);
  const form = definition && !loaded.record.finished ? openForms(definition, loaded.record).find((f) => f.taskId === taskId) : undefined;
  if (!loaded || !definition || !form) throw submitting ? await closedOrMissing(s, caller, instanceId, taskId) : new SyncFormNotFoundError(instanceId, task);
  const problem = formPermissionProblem(form.assignment, caller.actor);
  if (problem) throw new SyncFormForbiddenError(definition.name, instanceId, form.node, problem);
  return { loaded, definition, form };
}

function buildRoutes(s: SyncState) {
  const { sync } = s;
  const { clock } = s.options;
  const { runner } = s.automations;

  const summary = (definition: AutomationDefinition, form: { instanceId: string; taskId: number; node: string; description: string; since: number }, now: number): OpenFormSummary => ({
    instanceId: form.instanceId,
    taskId: form.taskId,
    node: form.node,
    description: form.description,
    since: form.since,
    automation: definition.name,
    verboseName: definition.verboseName,
    hoursWaiting: hoursSince(form.since, now),
  });

  const app = new Hono<SyncEnv>();
  for (const middleware of s.options.middleware) app.use(middleware as MiddlewareHandler);

  return app
    .get('/forms', async (c) => {
      const now = clock();
      const rows = await s.automations.storage.openFormsAt(formNodesFor(s.definitions.values(), c.get('caller').actor));
      const forms = rows.map((row) => {
        const definition = s.definitions.get(row.automation)!;
        const node = nodeOf(definition, row.node);
        return summary(definition, { ...row, description: node?.kind === 'form' ? node.description : '' }, now);
      });
      return c.json({ forms }, 200);
    })
    .get('/forms/:instanceId/:taskId', async (c) => {
      const { loaded, definition, form } = await openFormFor(s, c.get('caller'), c.req.param('instanceId'), c.req.param('taskId'), false);
      const detail: OpenFormDetail = { ...summary(definition, form, clock()), data: exposedData(sync, definition.name, loaded.record.data) };
      return c.json({ form: detail }, 200);
    })
    .post('/forms/:instanceId/:taskId', async (c) => {
      const caller = c.get('caller');
      const instanceId = c.req.param('instanceId');
      const { definition, form } = await openFormFor(s, caller, instanceId, c.req.param('taskId'), true);
      const { input } = await readBody(c, inputBody);
      try {
        await runner.submitForm(instanceId, { taskId: form.taskId }, caller.actor, input);
      } catch (error) {
        if (error instanceof FormValidationError) throw new SyncInvalidInputError(`Automation "${definition.name}", instance ${instanceId}, form "${form.node}"`, error.fields);
        if (error instanceof FormPermissionError) {
          throw new SyncFormForbiddenError(definition.name, instanceId, form.node, formPermissionProblem(form.assignment, caller.actor) ?? 'not assigned to you');
        }
        if (error instanceof NoOpenFormError || error instanceof InstanceFinishedError) throw await closedOrMissing(s, caller, instanceId, form.taskId);
        throw error;
      }
      s.hub.notify(instanceId);
      const instance = await s.readStatus(instanceId);
      if (!instance) throw new SyncInstanceNotFoundError(instanceId);
      return c.json({ instance }, 200);
    })
    .post('/start/:automation', async (c) => {
      const caller = c.get('caller');
      const name = c.req.param('automation');
      const start = sync.automations?.[name]?.start;
      const definition = s.definitions.get(name);
      if (!start || !definition) throw new SyncNotStartableError(name);
      const key = c.req.header('idempotency-key');
      if (key === undefined || !IDEMPOTENCY_KEY.test(key) || key.startsWith('link:')) throw new SyncIdempotencyKeyError(`Starting automation "${name}"`);
      const links = await s.getLinks();
      const respond = async (instanceId: string, status: 200 | 201) => {
        const instance = await s.readStatus(instanceId);
        if (!instance) throw new SyncInstanceNotFoundError(instanceId);
        return c.json({ instance }, status);
      };
      /** A retry gets the instance of the first request, whatever its body. */
      const respondEarlier = (earlier: StartRecord) => {
        if (earlier.automation !== name) throw new SyncIdempotencyKeyReusedError(`start automation "${earlier.automation}"`);
        return respond(earlier.instanceId, 200);
      };
      const seen = await links.find(caller.owner, key);
      if (seen) return respondEarlier(seen);
      const { input } = await readBody(c, inputBody);
      const parsed = await validateInput(start.schema, input);
      if (!parsed.ok) throw new SyncInvalidInputError(`Starting automation "${name}"`, parsed.errors);
      const value = start.data ? await start.data(parsed.value, caller) : parsed.value;
      const data: AutomationData = value !== null && typeof value === 'object' && !Array.isArray(value) ? (toJson(value) as AutomationData) : { input: toJson(value) };
      const { instancesPerCaller } = s.options.limits;
      if ((await unfinishedStarts(s.automations.db, caller.owner)) >= instancesPerCaller) throw new SyncTooManyInstancesError(name, instancesPerCaller);
      let instanceId: string;
      try {
        // The key, the instance and its link commit together: a retry finds the one instance, whenever this process or the database dies.
        const created = await runner.create(definition, data, {
          autorun: false,
          inTransaction: async (instance) => {
            const earlier = await links.recordStart(automationTransaction(), caller.owner, key, name, instance.id, clock());
            if (earlier) throw new AnsweredBefore(earlier);
          },
        });
        instanceId = created.id;
      } catch (error) {
        if (error instanceof AnsweredBefore) return respondEarlier(error.earlier as StartRecord);
        throw error;
      }
      await runner.run(instanceId);
      s.hub.notify(instanceId);
      return respond(instanceId, 201);
    })
    .get('/instances/:id', async (c) => {
      const { record, history } = await s.visible(c.get('caller'), c.req.param('id'));
      return c.json({ instance: s.statusOf(record, history) }, 200);
    })
    .get('/instances/:id/events', async (c) => {
      const caller = c.get('caller');
      const id = c.req.param('id');
      await s.visible(caller, id);
      const free = s.slots.take(caller.owner, c.get('peer').address);
      const lastEventId = c.req.header('last-event-id');
      return streamSSE(c, (stream) => watchInstance(s, stream, id, lastEventId, free));
    })
    .post('/instances/:id/messages/:message', async (c) => {
      const caller = c.get('caller');
      const id = c.req.param('id');
      const message = c.req.param('message');
      const key = c.req.header('idempotency-key');
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new SyncIdempotencyKeyError(`Sending message "${message}" to instance ${id}`);
      const { record } = await s.visible(caller, id);
      const definition = s.definitions.get(record.automation);
      if (!definition || !sync.automations?.[record.automation]?.messages?.includes(message) || !definition.receivers[message]) {
        throw new SyncUnknownMessageError(record.automation, message);
      }
      const respond = async (result: unknown) => {
        s.hub.notify(id);
        const instance = await s.readStatus(id);
        if (!instance) throw new SyncInstanceNotFoundError(id);
        return c.json({ result, instance }, 200);
      };
      /** A retry gets the result of the delivery the first request made; nothing is delivered again. */
      const respondEarlier = (earlier: SentMessage) => {
        if (earlier.instanceId !== id || earlier.message !== message) {
          throw new SyncIdempotencyKeyReusedError(`send message "${earlier.message}" to instance ${earlier.instanceId}`);
        }
        return respond(earlier.result);
      };
      const links = key === undefined ? null : await s.getLinks();
      const seen = links && key !== undefined ? await links.findMessage(caller.owner, key) : null;
      if (seen) return respondEarlier(seen);
      const { payload } = await readBody(c, messageBody);
      // The key and its result commit with the delivery: a retry after a lost answer finds them.
      const keyed =
        links && key !== undefined
          ? {
              inTransaction: async (value: unknown) => {
                const earlier = await links.recordMessage(automationTransaction(), caller.owner, key, { instanceId: id, message, result: toJson(value) ?? null }, clock());
                if (earlier) throw new AnsweredBefore(earlier);
              },
            }
          : {};
      let result: unknown;
      try {
        result = await runner.sendMessage(id, message, undefined, payload ?? {}, keyed);
      } catch (error) {
        if (error instanceof AnsweredBefore) return respondEarlier(error.earlier as SentMessage);
        if (error instanceof InstanceFinishedError) throw new SyncInstanceFinishedError(record.automation, id, message);
        if (error instanceof MissingMessageDataError) {
          throw new SyncInvalidInputError(
            `Automation "${record.automation}", instance ${id}, message "${message}"`,
            Object.fromEntries(
              error.missing.map((entry) => {
                const [field, type] = entry.split(':').map((part) => part.trim());
                return [`payload.${field}`, [`required by the receiver${type ? ` (a ${type})` : ''}: missing or of the wrong type`]];
              }),
            ),
          );
        }
        throw error;
      }
      return respond(toJson(result) ?? null);
    })
    .get('/dashboard', async (c) => {
      if (!isViewer(c.get('caller').actor)) throw new SyncDashboardForbiddenError();
      const dashboard: DashboardView = { automations: [] };
      for (const definition of s.definitions.values()) {
        const instances = await runner.list({ automation: definition.name });
        const running = instances.filter((i) => !i.finished);
        const counts = new Map<string, number>();
        for (const instance of running) for (const node of new Set(instance.paths.map((p) => p.node))) counts.set(node, (counts.get(node) ?? 0) + 1);
        const recent: InstanceStatus[] = [];
        for (const instance of [...instances].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).slice(0, s.recentCount)) {
          recent.push(s.statusOf(instance, await runner.history(instance.id)));
        }
        dashboard.automations.push({
          name: definition.name,
          verboseName: definition.verboseName,
          running: running.length,
          finished: instances.length - running.length,
          nodes: definition.order.map((node) => ({ node, count: counts.get(node) ?? 0 })),
          recent,
        });
      }
      return c.json({ dashboard }, 200);
    })
    .get('/dashboard/instances/:id', async (c) => {
      if (!isViewer(c.get('caller').actor)) throw new SyncDashboardForbiddenError();
      const id = c.req.param('id');
      const loaded = INSTANCE_ID.test(id) ? await s.load(id) : null;
      if (!loaded) throw new SyncInstanceNotFoundError(id);
      return c.json({ instance: s.statusOf(loaded.record, loaded.history), history: historyView(loaded.history) }, 200);
    });
}

/**
 * One event stream: the current status at once (skipped when `Last-Event-ID` is its version),
 * a status on every change, `end` after the final status, `idle` after `streamIdleMs` without
 * change, a comment heartbeat every `heartbeatMs`. Resolves when the stream ends; `free` releases the slot.
 */
async function watchInstance(s: SyncState, stream: SSEStreamingApi, id: string, lastEventId: string | undefined, free: () => void): Promise<void> {
  let lastSent: string | undefined = lastEventId;
  let done = false;
  let resolveDone!: () => void;
  const finished = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    chain = chain.then(() => (done ? undefined : work())).catch(() => close());
  };
  let idleTimer: LongTimeout | undefined;
  const heartbeat = setInterval(() => enqueue(() => stream.write(': heartbeat\n\n').then(() => undefined)), s.heartbeatMs);
  let unwatch: () => void = () => undefined;
  const close = () => {
    if (done) return;
    done = true;
    clearInterval(heartbeat);
    idleTimer?.clear();
    unwatch();
    free();
    s.closers.delete(close);
    resolveDone();
  };
  const armIdle = () => {
    idleTimer?.clear();
    idleTimer = setLongTimeout(
      () =>
        enqueue(async () => {
          await stream.writeSSE({ event: 'idle', data: JSON.stringify({ idleMs: s.streamIdleMs } satisfies StreamIdle) });
          close();
        }),
      s.streamIdleMs,
    );
  };
  const send = async (status: InstanceStatus | null) => {
    if (!status) {
      await stream.writeSSE({ event: 'end', data: JSON.stringify({ id, status: 'gone' } satisfies StreamEnd) });
      close();
      return;
    }
    if (status.version !== lastSent) {
      await stream.writeSSE({ event: 'status', id: status.version, data: JSON.stringify(status) });
      lastSent = status.version;
      armIdle();
    }
    if (status.status === 'finished') {
      await stream.writeSSE({ event: 'end', data: JSON.stringify({ id, status: 'finished' } satisfies StreamEnd) });
      close();
    }
  };
  s.closers.add(close);
  stream.onAbort(close);
  // Subscribe first, then read: a change between the two is not lost (it queues behind the first status).
  unwatch = s.hub.watch(id, (status) => enqueue(() => send(status)));
  armIdle();
  enqueue(async () => send(await s.readStatus(id)));
  await finished;
}
