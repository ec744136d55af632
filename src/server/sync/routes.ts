import { Hono, type MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { streamSSE } from 'hono/streaming';
import { validator } from 'hono/validator';
import { z } from 'zod';
import { type AutomationData, type AutomationDefinition, type AutomationEffect, automationGraph, type AutomationRunner, type AutomationStorageTx, FormPermissionError, formPermissionProblem, FormValidationError, InstanceFinishedError, instanceNodeCounts, MissingMessageDataError, nodeOf, NoOpenFormError, openForms, toJson } from '../../automations/index.ts';
import { validateInput } from '../../core/index.ts';
import type { DashboardView, InstanceInspection, InstanceStatus, OpenFormDetail, OpenFormSummary } from '../../sync/index.ts';
import { type SqlAutomationStorage, sqlTransactionOf } from '../automations/pg-storage.ts';
import { jsonAnswer } from '../answer-headers.ts';
import type { AppEnv } from '../env.ts';
import type { HttpError } from '../errors.ts';
import type { ServerLimits } from '../limits.ts';
import type { Logger } from '../log.ts';
import type { ServerAutomations } from '../server-automations.ts';
import type { Caller } from '../session.ts';
import { timerMs } from '../timers.ts';
import { validated } from '../validated.ts';
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
import { jsonBody } from './body.ts';
import { formNodesFor } from './forms.ts';
import { SyncHub } from './hub.ts';
import { INSTANCE_ID, type InstanceReader, instanceReader } from './instances.ts';
import { type SentMessage, type StartRecord, type SyncLinks, syncLinks } from './links.ts';
import { mapRoutes } from './map-routes.ts';
import { syncDefaults, type SyncOptions } from './options.ts';
import { exposedData, historyView, hoursSince } from './status.ts';
import { StartBatches } from './start-batches.ts';
import { StreamSlots } from './stream-slots.ts';
import { InstanceStreams } from './streams.ts';
import { instanceVisibility, isViewer, type Visibility } from './visibility.ts';

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

const TASK_ID = /^[1-9]\d{0,9}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The instance id of `/instances/:id` and `/dashboard/instances/:id`: 404 when it cannot be one, like a missing instance. */
const instanceParam = validator('param', (value: Record<string, string>) => {
  const id = String(value.id);
  if (!INSTANCE_ID.test(id)) throw new SyncInstanceNotFoundError(id);
  return { id };
});

/** The (instance, task) of a form: 404 when it cannot be one, like a missing form. */
const formParam = validator('param', (value: Record<string, string>) => {
  const instanceId = String(value.instanceId);
  const task = String(value.taskId);
  if (!INSTANCE_ID.test(instanceId) || !TASK_ID.test(task)) throw new SyncFormNotFoundError(instanceId, task);
  return { instanceId, taskId: Number(task) };
});

/** The optional `Idempotency-Key` of a message: 400 when it is not 1 to 200 printable ASCII characters. */
const messageKeyHeader = validated((c): { header: { 'idempotency-key'?: string } } => {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return { header: {} };
  if (!IDEMPOTENCY_KEY.test(key)) throw new SyncIdempotencyKeyError(`Sending message "${c.req.param('message')}" to instance ${c.req.param('id')}`);
  return { header: { 'idempotency-key': key } };
});

/** The dashboard's guard: 403 unless the caller may view every instance. */
const viewersOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!isViewer(c.get('caller').actor)) throw new SyncDashboardForbiddenError();
  await next();
});

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

/** The instances an effect concerns (for a message: the sender and the target). */
function instancesOf(effect: AutomationEffect): string[] {
  if (effect.type === 'send-message') return 'instanceId' in effect.to ? [effect.from.instanceId, effect.to.instanceId] : [effect.from.instanceId];
  if (effect.type === 'start-instance') return [effect.parent.instanceId];
  return [effect.instanceId];
}

/** The sync API with its hub: `routes` to mount at `/automations`. */
export interface SyncApi {
  routes: ReturnType<typeof composeRoutes>;
  hub: SyncHub;
  /** Open event streams of an owner (tests, metrics). */
  openStreams(owner: string): number;
  links(): Promise<SyncLinks>;
}


/** The sync links, opened on first use (and again after a failed open). */
type LinksSource = () => Promise<SyncLinks>;

/**
 * The automations sync API (`src/sync/protocol.ts`): a Hono app to mount at `/automations`
 * behind the app's middleware. `createApp({ automations: { running, sync } })` does it.
 */
export function syncApi(options: SyncRoutesOptions): SyncApi {
  const { automations, logger, limits } = options;
  const sync = options.sync ?? {};
  let opened: Promise<SyncLinks> | undefined;
  const links: LinksSource = () => {
    opened ??= syncLinks(automations.db).catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  const reader = instanceReader(automations, sync);
  const visibility = instanceVisibility(reader, links);
  const hub = new SyncHub(reader.readStatus, timerMs(sync.pollMs ?? syncDefaults.pollMs), logger);
  const streams = new InstanceStreams(hub, reader.readStatus, {
    streamIdleMs: sync.streamIdleMs ?? options.idleTimeoutMs,
    heartbeatMs: timerMs(sync.heartbeatMs ?? syncDefaults.heartbeatMs),
  });
  const slots = new StreamSlots(limits);
  const unsubscribe = automations.onEffect((effect) => {
    for (const id of instancesOf(effect)) hub.notify(id);
  });
  options.signal?.addEventListener(
    'abort',
    () => {
      unsubscribe();
      streams.closeAll();
      hub.close();
    },
    { once: true },
  );
  const { runner } = automations;
  const { clock } = options;
  const routes = composeRoutes(options.middleware, {
    forms: formRoutes({ reader, visibility, runner, storage: automations.storage, hub, sync, clock }),
    start: startRoutes({ reader, links, runner, sync, maxInstances: limits.instancesPerCaller, clock }),
    instances: instanceRoutes({ reader, visibility, links, runner, hub, streams, slots, sync, clock }),
    dashboard: dashboardRoutes({ reader, storage: automations.storage, recentCount: sync.dashboardRecent ?? syncDefaults.dashboardRecent }),
    map: mapRoutes({ automations, reader, viewersOnly, slots, sync, idleTimeoutMs: options.idleTimeoutMs, logger, signal: options.signal }),
  });
  return { routes, hub, openStreams: (owner) => slots.of(owner), links };
}

/** Mounts the route groups behind `middleware`. */
function composeRoutes(
  middleware: SyncRoutesOptions['middleware'],
  groups: {
    forms: ReturnType<typeof formRoutes>;
    start: ReturnType<typeof startRoutes>;
    instances: ReturnType<typeof instanceRoutes>;
    dashboard: ReturnType<typeof dashboardRoutes>;
    map: ReturnType<typeof mapRoutes>;
  },
) {
  const app = new Hono<AppEnv>();
  for (const handler of middleware) app.use(handler as MiddlewareHandler);
  return app.route('/forms', groups.forms).route('/start', groups.start).route('/instances', groups.instances).route('/dashboard', groups.dashboard).route('/map', groups.map);
}

/** The summary of an open form as the form list and the form detail show it. */
function formSummary(definition: AutomationDefinition, form: { instanceId: string; taskId: number; node: string; description: string; since: number }, now: number): OpenFormSummary {
  return {
    instanceId: form.instanceId,
    taskId: form.taskId,
    node: form.node,
    description: form.description,
    since: form.since,
    automation: definition.name,
    verboseName: definition.verboseName,
    hoursWaiting: hoursSince(form.since, now),
  };
}

/** Why a form task is not open: 409 when it was a form that has been processed or skipped (and the caller could know it), else 404. */
async function closedOrMissing(reader: InstanceReader, visibility: Visibility, caller: Caller, instanceId: string, taskId: number): Promise<HttpError> {
  const loaded = await reader.load(instanceId);
  const row = loaded?.history.find((r) => r.taskId === taskId);
  const definition = loaded && reader.definition(loaded.record.automation);
  const node = definition && row ? nodeOf(definition, row.status) : undefined;
  if (loaded && row && row.finished !== null && node?.kind === 'form') {
    const mayKnow = formPermissionProblem(node.assignment, caller.actor) === null || (await visibility.maySee(caller, loaded.record));
    if (mayKnow) return new SyncFormClosedError(loaded.record.automation, instanceId, row.status, taskId);
  }
  return new SyncFormNotFoundError(instanceId, String(taskId));
}

/** `/forms`: the open forms the caller may process, one form's detail, and its submission. */
function formRoutes(deps: {
  reader: InstanceReader;
  visibility: Visibility;
  runner: AutomationRunner;
  storage: Pick<SqlAutomationStorage, 'openFormsAt'>;
  hub: SyncHub;
  sync: SyncOptions;
  clock: () => number;
}) {
  const { reader, visibility, runner, storage, hub, sync, clock } = deps;
  /**
   * The open form (instance, task) and its node, checked: 404 missing (and, when reading, closed),
   * 409 closed (when submitting), 403 when the caller may not process it.
   */
  const openFormFor = async (caller: Caller, instanceId: string, taskId: number, submitting: boolean) => {
    const loaded = await reader.load(instanceId);
    const definition = loaded && reader.definition(loaded.record.automation);
    const form = definition && !loaded.record.finished ? openForms(definition, loaded.record).find((f) => f.taskId === taskId) : undefined;
    if (!loaded || !definition || !form) throw submitting ? await closedOrMissing(reader, visibility, caller, instanceId, taskId) : new SyncFormNotFoundError(instanceId, String(taskId));
    const problem = formPermissionProblem(form.assignment, caller.actor);
    if (problem) throw new SyncFormForbiddenError(definition.name, instanceId, form.node, problem);
    return { loaded, definition, form };
  };
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      const now = clock();
      const rows = await storage.openFormsAt(formNodesFor(reader.definitions(), c.get('caller').actor));
      const forms = rows.map((row) => {
        const definition = reader.definition(row.automation)!;
        const node = nodeOf(definition, row.node);
        return formSummary(definition, { ...row, description: node?.kind === 'form' ? node.description : '' }, now);
      });
      return c.json({ forms }, 200);
    })
    .get('/:instanceId/:taskId', formParam, async (c) => {
      const { instanceId, taskId } = c.req.valid('param');
      const { loaded, definition, form } = await openFormFor(c.get('caller'), instanceId, taskId, false);
      const detail: OpenFormDetail = { ...formSummary(definition, form, clock()), data: exposedData(sync, definition.name, loaded.record.data), missing: form.missing };
      return c.json({ form: detail }, 200);
    })
    // The body is read after the checks of the form: a closed or foreign form answers 409/404/403 whatever was sent.
    .post('/:instanceId/:taskId', formParam, jsonBody(inputBody), async (c) => {
      const caller = c.get('caller');
      const { instanceId, taskId } = c.req.valid('param');
      const { definition, form } = await openFormFor(caller, instanceId, taskId, true);
      const { input } = await c.req.valid('json').check();
      // The runner answers with the instance it wrote: its status is the answer and the watchers' push, without a read.
      const { instance } = await hub.answering(instanceId, async () => {
        try {
          return { instance: await reader.statusOfRecord(await runner.submitForm(instanceId, { taskId: form.taskId }, caller.actor, input)) };
        } catch (error) {
          if (error instanceof FormValidationError) throw new SyncInvalidInputError(`Automation "${definition.name}", instance ${instanceId}, form "${form.node}"`, error.fields);
          if (error instanceof FormPermissionError) {
            throw new SyncFormForbiddenError(definition.name, instanceId, form.node, formPermissionProblem(form.assignment, caller.actor) ?? 'not assigned to you');
          }
          if (error instanceof NoOpenFormError || error instanceof InstanceFinishedError) throw await closedOrMissing(reader, visibility, caller, instanceId, form.taskId);
          throw error;
        }
      });
      return c.json({ instance }, 200);
    });
}

/** `/start/:automation`: starts an instance of a startable automation, once per `Idempotency-Key`. */
function startRoutes(deps: { reader: InstanceReader; links: LinksSource; runner: AutomationRunner; sync: SyncOptions; maxInstances: number; clock: () => number }) {
  const { reader, runner, sync, maxInstances, clock } = deps;
  // wayflow_record_start writes nothing when it answers `earlier` or `full`: such a start leaves its group, which goes on.
  const batches = new StartBatches(runner, (error) => error instanceof AnsweredBefore || error instanceof SyncTooManyInstancesError);
  /** How browsers may start the automation, and its definition; 404 unless they may. */
  const startable = (automation: string) => {
    const start = sync.automations?.[automation]?.start;
    const definition = reader.definition(automation);
    if (!start || !definition) throw new SyncNotStartableError(automation);
    return { start, definition };
  };
  const startableParam = validator('param', (value: Record<string, string>) => {
    const automation = String(value.automation);
    startable(automation);
    return { automation };
  });
  /** The required `Idempotency-Key` of a start: 400 when missing or not 1 to 200 printable ASCII characters (`link:` is reserved). */
  const startKeyHeader = validated((c): { header: { 'idempotency-key': string } } => {
    const key = c.req.header('idempotency-key');
    if (key === undefined || !IDEMPOTENCY_KEY.test(key) || key.startsWith('link:')) throw new SyncIdempotencyKeyError(`Starting automation "${c.req.param('automation')}"`);
    return { header: { 'idempotency-key': key } };
  });
  // A retry gets the first answer whatever its body: the key is looked up when the body fails, and recorded with the instance.
  return new Hono<AppEnv>().post('/:automation', startableParam, startKeyHeader, jsonBody(inputBody), async (c) => {
    const caller = c.get('caller');
    const name = c.req.valid('param').automation;
    const { start, definition } = startable(name);
    const key = c.req.valid('header')['idempotency-key'];
    const links = await deps.links();
    /** A retry gets the instance of the first request, whatever its body. */
    const respondEarlier = async (earlier: StartRecord) => {
      if (earlier.automation !== name) throw new SyncIdempotencyKeyReusedError(`start automation "${earlier.automation}"`);
      const instance = await reader.readStatus(earlier.instanceId);
      if (!instance) throw new SyncInstanceNotFoundError(earlier.instanceId);
      return c.json({ instance }, 200);
    };
    /** The instance data from the body; a retry of an answered start gets the first answer instead of this one's errors. */
    const dataOf = async (): Promise<AutomationData> => {
      const { input } = await c.req.valid('json').check();
      const parsed = await validateInput(start.schema, input);
      if (!parsed.ok) throw new SyncInvalidInputError(`Starting automation "${name}"`, parsed.errors);
      const value = start.data ? await start.data(parsed.value, caller) : parsed.value;
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? (toJson(value) as AutomationData) : { input: toJson(value) };
    };
    let data: AutomationData;
    try {
      data = await dataOf();
    } catch (error) {
      const seen = await links.find(caller.owner, key);
      if (seen) return respondEarlier(seen);
      throw error;
    }
    try {
      // The key, the instance, its link and its first steps commit together: a retry finds the one instance, whenever this process or the database dies.
      // The cap is counted in the same transaction, after the caller's other starts committed: concurrent starts cannot pass it.
      // Starts arriving together share the transaction (`StartBatches`); a failing one runs again alone.
      const created = await batches.create(
        {
          automation: definition,
          data,
          options: {
            inTransaction: async (instance, tx) => {
              const earlier = await links.recordStart(sqlTransactionOf(tx), caller.owner, key, name, instance.id, clock(), maxInstances);
              if (earlier === 'full') throw new SyncTooManyInstancesError(name, maxInstances);
              if (earlier) throw new AnsweredBefore(earlier);
            },
          },
        },
        caller.owner,
      );
      // Nobody can watch an instance before this answer names it: its status goes to no one else.
      // Built with the gathered headers in (`jsonAnswer`): no web `Headers` is made on the way to the socket.
      return jsonAnswer<{ instance: InstanceStatus }, 201>(c, JSON.stringify({ instance: await reader.statusOfRecord(created) }), 201);
    } catch (error) {
      if (error instanceof AnsweredBefore) return respondEarlier(error.earlier as StartRecord);
      throw error;
    }
  });
}

/** `/instances/:id`: an instance's status, its event stream, and the messages browsers may send it. */
function instanceRoutes(deps: {
  reader: InstanceReader;
  visibility: Visibility;
  links: LinksSource;
  runner: AutomationRunner;
  hub: SyncHub;
  streams: InstanceStreams;
  slots: StreamSlots;
  sync: SyncOptions;
  clock: () => number;
}) {
  const { reader, visibility, runner, hub, streams, slots, sync, clock } = deps;
  return new Hono<AppEnv>()
    .get('/:id', instanceParam, async (c) => {
      const { record, history } = await visibility.visible(c.get('caller'), c.req.valid('param').id);
      return c.json({ instance: reader.statusOf(record, history) }, 200);
    })
    .get('/:id/events', instanceParam, async (c) => {
      const caller = c.get('caller');
      const { id } = c.req.valid('param');
      await visibility.visible(caller, id);
      const free = slots.take(caller.owner, c.get('peer').address);
      const lastEventId = c.req.header('last-event-id');
      return streamSSE(c, (stream) => streams.watch(stream, id, lastEventId, free));
    })
    // The body is read after the key is looked up: a retry gets the first answer whatever its body.
    .post('/:id/messages/:message', messageKeyHeader, instanceParam, jsonBody(messageBody), async (c) => {
      const caller = c.get('caller');
      const { id } = c.req.valid('param');
      const message = c.req.param('message');
      const key = c.req.valid('header')['idempotency-key'];
      const { record } = await visibility.visible(caller, id);
      const definition = reader.definition(record.automation);
      if (!definition || !sync.automations?.[record.automation]?.messages?.includes(message) || !definition.receivers[message]) {
        throw new SyncUnknownMessageError(record.automation, message);
      }
      /** A retry gets the result of the delivery the first request made; nothing is delivered again. */
      const respondEarlier = async (earlier: SentMessage) => {
        if (earlier.instanceId !== id || earlier.message !== message) {
          throw new SyncIdempotencyKeyReusedError(`send message "${earlier.message}" to instance ${earlier.instanceId}`);
        }
        const instance = await reader.readStatus(id);
        if (!instance) throw new SyncInstanceNotFoundError(id);
        return c.json({ result: earlier.result, instance }, 200);
      };
      const links = key === undefined ? null : await deps.links();
      const seen = links && key !== undefined ? await links.findMessage(caller.owner, key) : null;
      if (seen) return respondEarlier(seen);
      const { payload } = await c.req.valid('json').check();
      // The key and its result commit with the delivery: a retry after a lost answer finds them.
      const keyed =
        links && key !== undefined
          ? {
              inTransaction: async (value: unknown, tx: AutomationStorageTx) => {
                const earlier = await links.recordMessage(sqlTransactionOf(tx), caller.owner, key, { instanceId: id, message, result: toJson(value) ?? null }, clock());
                if (earlier) throw new AnsweredBefore(earlier);
              },
            }
          : {};
      let answer: { result: unknown; instance: InstanceStatus | null };
      try {
        answer = await hub.answering(id, async () => {
          const result = toJson(await runner.sendMessage(id, message, undefined, payload ?? {}, keyed)) ?? null;
          return { result, instance: await reader.readStatus(id) };
        });
      } catch (error) {
        if (error instanceof AnsweredBefore) return respondEarlier(error.earlier as SentMessage);
        if (error instanceof InstanceFinishedError) throw new SyncInstanceFinishedError(record.automation, id, message);
        if (error instanceof MissingMessageDataError) {
          throw new SyncInvalidInputError(
            `Automation "${record.automation}", instance ${id}, message "${message}"`,
            Object.fromEntries(
              error.missing.map(({ param, type }) => [`payload.${param}`, [`required by the receiver${type ? ` (a ${type})` : ''}: missing or of the wrong type`]]),
            ),
          );
        }
        throw error;
      }
      if (!answer.instance) throw new SyncInstanceNotFoundError(id);
      return c.json({ result: answer.result, instance: answer.instance }, 200);
    });
}

/** `/dashboard`: counts and recent instances per automation, and one instance with its history, for viewers only. */
function dashboardRoutes(deps: { reader: InstanceReader; storage: Pick<SqlAutomationStorage, 'summary'>; recentCount: number }) {
  const { reader, storage, recentCount } = deps;
  return new Hono<AppEnv>()
    .get('/', viewersOnly, async (c) => {
      const definitions = [...reader.definitions()];
      const summaries = await storage.summary(
        definitions.map((definition) => definition.name),
        recentCount,
      );
      const dashboard: DashboardView = { automations: [] };
      for (const definition of definitions) {
        const summary = summaries.get(definition.name);
        const recent: InstanceStatus[] = [];
        for (const instance of summary?.recent ?? []) recent.push(await reader.statusOfRecord(instance));
        dashboard.automations.push({
          name: definition.name,
          verboseName: definition.verboseName,
          running: summary?.running ?? 0,
          finished: summary?.finished ?? 0,
          nodes: definition.order.map((node) => ({ node, count: summary?.nodes.get(node) ?? 0 })),
          graph: automationGraph(definition),
          recent,
        });
      }
      return c.json({ dashboard }, 200);
    })
    .get('/instances/:id', viewersOnly, instanceParam, async (c) => {
      const { id } = c.req.valid('param');
      const loaded = await reader.load(id);
      if (!loaded) throw new SyncInstanceNotFoundError(id);
      const definition = reader.definition(loaded.record.automation);
      const graph = definition ? automationGraph(definition) : { nodes: [], edges: [] };
      const inspection: InstanceInspection = {
        instance: reader.statusOf(loaded.record, loaded.history),
        history: historyView(loaded.history),
        graph,
        counts: instanceNodeCounts(loaded.record, loaded.history),
      };
      return c.json(inspection, 200);
    });
}

/** The type of the sync routes (mounted at `/automations`): give it to `hc<SyncRoutesType>()` from `hono/client` for typed requests. */
export type SyncRoutesType = SyncApi['routes'];
