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
import { type DueTimeListener, listenForDueTimes } from './listen.ts';
import { type SqlAutomationStorage, type SqlFlowRunStore, sqlAutomationStorage } from './pg-storage.ts';
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
  /** Called by the runner after each commit with its effects (forms opened, messages sent, browser messages, finished). */
  onEffect?: (effect: AutomationEffect) => void;
}

/** The automation side of a runtime: a runner for some automations on the SQL automation storage. */
export interface AutomationSide {
  runner: AutomationRunner;
  storage: SqlAutomationStorage;
  /** The automations the runner has (the storage claims only theirs). */
  names: readonly string[];
}

/** The flowcontrol side of a runtime: a `FlowControl` for some flows on the SQL storage (the automation side's, in a runtime). */
export interface FlowSide {
  control: FlowControl;
  store: SqlFlowRunStore;
}

/** Automations and flowcontrol flows of one process on one database; a side is null when the process has none of it. */
export interface AutomationRuntime {
  kind: 'pglite' | 'postgresql';
  automations: AutomationSide | null;
  flows: FlowSide | null;
  /** Closes the database (once). */
  close(): Promise<void>;
}

/**
 * Opens the SQL automation storage on `db` with a runner for `automations` (even none: a
 * server exposes the storage to its sync API). On PostgreSQL it sends NOTIFY for earlier due times.
 */
export async function openAutomationSide(
  db: SqlDatabase,
  options: Pick<AutomationRuntimeOptions, 'kind' | 'automations' | 'claimTimeoutMs' | 'onEffect'> & { flows?: readonly FlowDefinition[] },
): Promise<AutomationSide> {
  const names = options.automations.map((d) => d.name);
  const storage = await sqlAutomationStorage(db, {
    claimTimeoutMs: options.claimTimeoutMs ?? 10_000,
    notify: options.kind === 'postgresql',
    automations: names,
    flows: (options.flows ?? []).map((f) => f.name),
  });
  const runner = createAutomationRunner({
    storage,
    clock: systemClock,
    automations: [...options.automations],
    ...(options.onEffect ? { onEffect: options.onEffect } : {}),
  });
  return { storage, names, runner };
}

/**
 * A `FlowControl` for `flows` and its `triggers` on `store`, or, without one, on a SQL storage
 * opened on `db` for these flows only (on PostgreSQL it sends NOTIFY for earlier due times).
 */
export async function openFlowSide(
  db: SqlDatabase,
  options: Pick<AutomationRuntimeOptions, 'kind' | 'flows' | 'triggers' | 'claimTimeoutMs'> & { store?: SqlFlowRunStore },
): Promise<FlowSide> {
  const store =
    options.store ??
    (await sqlAutomationStorage(db, { claimTimeoutMs: options.claimTimeoutMs ?? 10_000, notify: options.kind === 'postgresql', automations: [], flows: options.flows.map((f) => f.name) }));
  const control = new FlowControl({ store, clock: systemClock, flows: [...options.flows] });
  for (const trigger of options.triggers ?? []) {
    control.registerTrigger(trigger.name, {
      ...(trigger.label !== undefined ? { label: trigger.label } : {}),
      ...(trigger.description !== undefined ? { description: trigger.description } : {}),
    });
  }
  return { control, store };
}

/**
 * Assembles a runtime on `db` from its sides, opened by `open`; closes `db` (once) when the
 * runtime closes or when opening a side fails.
 */
export async function assembleRuntime<Sides extends Pick<AutomationRuntime, 'automations' | 'flows'>>(
  db: SqlDatabase,
  kind: AutomationRuntime['kind'],
  open: () => Promise<Sides>,
): Promise<Sides & Pick<AutomationRuntime, 'kind' | 'close'>> {
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= db.close();
    return closed;
  };
  try {
    return { kind, ...(await open()), close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/**
 * Opens one SQL storage on `db` (on PostgreSQL sending NOTIFY for earlier due times) with a
 * runner for `automations` and a `FlowControl` for `flows`; a side is null when there is
 * nothing of it. The storage claims only work of the automations and flows given, so
 * processes running different modules can share a database.
 */
export function openAutomationRuntime(options: AutomationRuntimeOptions): Promise<AutomationRuntime> {
  return assembleRuntime(options.db, options.kind, async () => {
    const automations = options.automations.length > 0 ? await openAutomationSide(options.db, options) : null;
    const flows = options.flows.length > 0 ? await openFlowSide(options.db, { ...options, ...(automations ? { store: automations.storage } : {}) }) : null;
    return { automations, flows };
  });
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
 * the storage's channel and wakes the scheduler. When the LISTEN connection comes back after an
 * outage the scheduler is woken (due times passed meanwhile); the loss is reported to `outage`
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
    const channels = [...new Set([automations?.storage.channel, runtime.flows?.store.channel])].filter((c): c is string => c !== undefined);
    try {
      listener = await listenForDueTimes({
        connectionString: options.connectionString,
        channel: channels,
        onDue: (dueAt) => scheduler.wake(dueAt),
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
