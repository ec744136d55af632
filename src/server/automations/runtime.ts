import {
  type AutomationDefinition,
  type AutomationEffect,
  type AutomationRunner,
  createAutomationRunner,
  FlowControl,
  type FlowDefinition,
  systemClock,
} from '../../automations/index.ts';
import type { Logger } from '../log.ts';
import type { OutageMonitor } from '../outage.ts';
import type { SqlDatabase } from '../sql.ts';
import type { TriggerDeclaration } from './definitions.ts';
import { type SqlFlowRunStore, sqlFlowRunStore } from './flow-run-store.ts';
import { type DueTimeListener, listenForDueTimes } from './listen.ts';
import { type SqlAutomationStorage, sqlAutomationStorage } from './pg-storage.ts';
import { type AutomationScheduler, startAutomationScheduler } from './scheduler.ts';

/** What `openAutomationRuntime` opens: automations and flowcontrol flows on one database. */
export interface AutomationRuntimeOptions {
  /** The database; `close()` of the runtime closes it. */
  db: SqlDatabase;
  kind: 'pglite' | 'postgresql';
  automations: readonly AutomationDefinition[];
  flows: readonly FlowDefinition[];
  /** Triggers registered on the `FlowControl` (`listTriggers`), with their labels. */
  triggers?: readonly TriggerDeclaration[];
  /** How long a claim on a due instance or a runnable run lasts (default 10 000 ms). */
  claimTimeoutMs?: number;
  /** Open the automation storage and runner even when there are no automations (the server exposes them). */
  alwaysAutomations?: boolean;
  /** Called by the runner after each commit with its effects (forms opened, messages sent, browser messages, finished). */
  onEffect?: (effect: AutomationEffect) => void;
}

/** Automations and flowcontrol flows of one process on one database; a side is null when the process has none of it. */
export interface AutomationRuntime {
  kind: 'pglite' | 'postgresql';
  /** `names`: the automations the runner has (empty when opened only because of `alwaysAutomations`). */
  automations: { runner: AutomationRunner; storage: SqlAutomationStorage; names: readonly string[] } | null;
  flows: { control: FlowControl; store: SqlFlowRunStore } | null;
  /** Closes the database (once). */
  close(): Promise<void>;
}

/**
 * Opens the SQL automation storage with a runner for `automations` and the SQL flow run store
 * with a `FlowControl` for `flows`, both on `db` (on PostgreSQL sending NOTIFY for earlier due
 * times). Each claims only work of the automations or flows given, so processes running
 * different modules can share a database.
 */
export async function openAutomationRuntime(options: AutomationRuntimeOptions): Promise<AutomationRuntime> {
  const { db, kind } = options;
  const notify = kind === 'postgresql';
  const claimTimeoutMs = options.claimTimeoutMs ?? 10_000;
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= db.close();
    return closed;
  };
  try {
    let automations: AutomationRuntime['automations'] = null;
    if (options.automations.length > 0 || options.alwaysAutomations) {
      const names = options.automations.map((d) => d.name);
      const storage = await sqlAutomationStorage(db, { claimTimeoutMs, notify, automations: names });
      const runner = createAutomationRunner({
        storage,
        clock: systemClock,
        automations: [...options.automations],
        ...(options.onEffect ? { onEffect: options.onEffect } : {}),
      });
      automations = { storage, names, runner };
    }
    let flows: AutomationRuntime['flows'] = null;
    if (options.flows.length > 0) {
      const store = await sqlFlowRunStore(db, { claimTimeoutMs, notify, flows: options.flows.map((f) => f.name) });
      const control = new FlowControl({ store, clock: systemClock, flows: [...options.flows] });
      for (const trigger of options.triggers ?? []) {
        control.registerTrigger(trigger.name, {
          ...(trigger.label !== undefined ? { label: trigger.label } : {}),
          ...(trigger.description !== undefined ? { description: trigger.description } : {}),
        });
      }
      flows = { control, store };
    }
    return { kind, automations, flows, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** A scheduler over a runtime, with its LISTEN connection on PostgreSQL. */
export interface RuntimeScheduler {
  scheduler: AutomationScheduler;
  /** Stops the listener and the scheduler (finishing the passes in progress); the runtime stays open. */
  stop(): Promise<void>;
}

/**
 * Starts the scheduler for the runtime's automations and flows; on PostgreSQL (with
 * `connectionString`) it also listens for the NOTIFY of other processes' earlier due times on
 * both channels and wakes the matching side. When the LISTEN connection comes back after an
 * outage both sides are woken (due times passed meanwhile); the loss is reported to `outage`
 * (one line per outage), or logged once per loss without it.
 */
export async function startRuntimeScheduler(
  runtime: AutomationRuntime,
  options: { connectionString?: string; batchSize?: number; maxSleepMs?: number; logger?: Logger; outage?: OutageMonitor } = {},
): Promise<RuntimeScheduler> {
  const { logger, outage } = options;
  // An automation side without automations has nothing to do, unless it is all there is.
  const automations = runtime.automations && (runtime.automations.names.length > 0 || !runtime.flows) ? runtime.automations : null;
  const scheduler = startAutomationScheduler({
    ...(automations ? { runner: automations.runner, storage: automations.storage } : {}),
    ...(runtime.flows ? { flows: runtime.flows } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maxSleepMs !== undefined ? { maxSleepMs: options.maxSleepMs } : {}),
    ...(logger ? { logger } : {}),
  });
  let listener: DueTimeListener | null = null;
  if (runtime.kind === 'postgresql' && options.connectionString) {
    const automationChannel = automations?.storage.channel;
    const channels = [automationChannel, runtime.flows?.store.channel].filter((c): c is string => c !== undefined);
    try {
      listener = await listenForDueTimes({
        connectionString: options.connectionString,
        channel: channels,
        onDue: (dueAt, channel) => scheduler.wake(dueAt, channel === automationChannel ? 'automations' : 'flows'),
        onError: (error) => {
          if (outage?.failed(error)) return;
          logger?.({ level: 'warn', msg: 'automation LISTEN connection lost: reconnecting', error: error instanceof Error ? error.message : String(error) });
        },
        onReconnect: () => {
          outage?.succeeded(performance.now());
          scheduler.wake();
        },
      });
    } catch (error) {
      await scheduler.stop();
      throw error;
    }
  }
  let stopped: Promise<void> | null = null;
  return {
    scheduler,
    stop() {
      stopped ??= (async () => {
        await listener?.close();
        await scheduler.stop();
      })();
      return stopped;
    },
  };
}
