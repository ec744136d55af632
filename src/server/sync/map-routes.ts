import { createHash } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import { validator } from 'hono/validator';
import { automationGraph, flowcontrolGraph } from '../../automations/index.ts';
import type { NodeCountsView, ProcessMapView } from '../../sync/index.ts';
import { flowNodeCounts, flowRunsAtNode, type InstanceAtNode, instancesAtNode, type NodeFigures, nodeCounts } from '../automations/node-counts.ts';
import type { AppEnv } from '../env.ts';
import type { Logger } from '../log.ts';
import type { ServerAutomations } from '../server-automations.ts';
import { timerMs } from '../timers.ts';
import { SyncAutomationNotFoundError, SyncNodeNotFoundError } from './errors.ts';
import { SyncHub } from './hub.ts';
import type { InstanceReader } from './instances.ts';
import { syncDefaults, type SyncOptions } from './options.ts';
import type { StreamSlots } from './stream-slots.ts';
import { InstanceStreams } from './streams.ts';

/** The most instances `GET /map/:automation/nodes/:node` lists. */
export const MAP_INSTANCES_LIMIT = 100;
/**
 * How long runner effects are gathered before the watched maps are counted again: a busy
 * server's effects cost at most a few counts a second (a count reads the automation's whole
 * history: about 150 ms for 100,000 visits on PostgreSQL), not one per effect.
 */
export const MAP_EFFECT_DELAY_MS = 250;

/** What `mapRoutes` needs: most of it is the sync API's own (its reader, stream slots and options). */
export interface MapRoutesDeps {
  automations: Pick<ServerAutomations, 'db' | 'onEffect' | 'runner'>;
  reader: InstanceReader;
  /** The dashboard's guard: 403 unless the caller may view every instance. */
  viewersOnly: MiddlewareHandler<AppEnv>;
  slots: StreamSlots;
  sync: SyncOptions;
  idleTimeoutMs: number;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

/**
 * `/map`: the live process map of each automation, for dashboard viewers only. `GET /:automation`
 * answers its graph with the counts of each node; `GET /:automation/nodes/:node` the running
 * instances at a node; `GET /:automation/events` streams the map whenever a count changes.
 *
 * The stream is the instances' event stream machinery with a map in place of an instance status:
 * one `SyncHub` keyed by automation name shares one counting query per watched automation among
 * all its viewers, re-counts every `pollMs` (steps made by other processes) and
 * `MAP_EFFECT_DELAY_MS` after runner effects in this process (a form opened, an instance
 * finished, a message sent), and hands a map on only when its version (a digest of its counts) changed.
 */
export function mapRoutes(deps: MapRoutesDeps) {
  const { automations, reader, viewersOnly, slots, sync } = deps;
  /** What a map needs of a process: an automation (nodes or django-ws) or a flowcontrol flow (its actions by index path). */
  interface Process {
    verboseName: string;
    graph: ProcessMapView['graph'];
    counts(): Promise<Map<string, NodeFigures>>;
    at(node: string): Promise<InstanceAtNode[]>;
  }
  const processes = new Map<string, Process>();
  const processOf = (name: string): Process | null => {
    const known = processes.get(name);
    if (known) return known;
    const definition = reader.definition(name);
    const flows = automations.runner.flows;
    let process: Process | null = null;
    if (definition) {
      process = {
        verboseName: definition.verboseName,
        graph: automationGraph(definition),
        counts: () => nodeCounts(automations.db, name),
        at: (node) => instancesAtNode(automations.db, name, node, MAP_INSTANCES_LIMIT),
      };
    } else if (flows.has(name)) {
      process = {
        verboseName: name,
        graph: flowcontrolGraph(flows.flow(name)),
        counts: () => flowNodeCounts(automations.db, name),
        at: (node) => flowRunsAtNode(automations.db, name, node, MAP_INSTANCES_LIMIT),
      };
    }
    if (process) processes.set(name, process);
    return process;
  };
  const existing = (name: string): Process => {
    const process = processOf(name);
    if (!process) throw new SyncAutomationNotFoundError(name);
    return process;
  };
  const readMap = async (name: string): Promise<ProcessMapView | null> => {
    const process = processOf(name);
    if (!process) return null;
    const counts: Record<string, NodeCountsView> = {};
    for (const [node, figures] of [...(await process.counts())].sort(([a], [b]) => (a < b ? -1 : 1))) counts[node] = figures;
    const version = createHash('sha256').update(JSON.stringify(counts)).digest('base64url').slice(0, 22);
    return { name, verboseName: process.verboseName, graph: process.graph, counts, version };
  };
  const hub = new SyncHub<ProcessMapView>(readMap, timerMs(sync.pollMs ?? syncDefaults.pollMs), deps.logger);
  const streams = new InstanceStreams<ProcessMapView>(hub, readMap, {
    streamIdleMs: sync.streamIdleMs ?? deps.idleTimeoutMs,
    heartbeatMs: timerMs(sync.heartbeatMs ?? syncDefaults.heartbeatMs),
  });
  // Effects name instances, not automations: every watched map is counted again (unwatched names cost nothing).
  let gathering: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = automations.onEffect(() => {
    gathering ??= setTimeout(() => {
      gathering = undefined;
      for (const definition of reader.definitions()) hub.notify(definition.name);
      for (const flow of automations.runner.flows.names()) hub.notify(flow);
    }, MAP_EFFECT_DELAY_MS);
    gathering.unref?.();
  });
  deps.signal?.addEventListener(
    'abort',
    () => {
      clearTimeout(gathering);
      unsubscribe();
      streams.closeAll();
      hub.close();
    },
    { once: true },
  );
  const automationParam = validator('param', (value: Record<string, string>) => {
    const automation = String(value.automation);
    existing(automation);
    return { automation };
  });
  const nodeParam = validator('param', (value: Record<string, string>) => {
    const automation = String(value.automation);
    const node = String(value.node);
    if (!existing(automation).graph.nodes.some((known) => known.id === node)) throw new SyncNodeNotFoundError(automation, node);
    return { automation, node };
  });
  return new Hono<AppEnv>()
    .get('/:automation', viewersOnly, automationParam, async (c) => {
      const map = await readMap(c.req.valid('param').automation);
      if (!map) throw new SyncAutomationNotFoundError(c.req.valid('param').automation);
      return c.json({ map }, 200);
    })
    .get('/:automation/nodes/:node', viewersOnly, nodeParam, async (c) => {
      const { automation, node } = c.req.valid('param');
      const instances = await existing(automation).at(node);
      return c.json({ instances }, 200);
    })
    .get('/:automation/events', viewersOnly, automationParam, async (c) => {
      const { automation } = c.req.valid('param');
      const free = slots.take(c.get('caller').owner, c.get('peer').address);
      const lastEventId = c.req.header('last-event-id');
      return streamSSE(c, (stream) => streams.watch(stream, automation, lastEventId, free));
    });
}
