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
  /** Called by the runner after each commit with its effects (forms opened, messages sent, browser messages, finished). */
  onEffect?: (effect: AutomationEffect) => void;
}

/** The one runner of a runtime (its automations and flowcontrol flows) on the SQL storage. */
export interface AutomationSide {
  runner: AutomationRunner;
  storage: SqlAutomationStorage;
  /** The automations the runner has (the storage claims only theirs, and only the runs of its flows). */
  names: readonly string[];
}

/** The flowcontrol API of a runtime: a `FlowControl` over the runtime's runner (its runs live in the same storage). */
export interface FlowSide {
  control: FlowControl;
}

/** Automations and flowcontrol flows of one process on one database: one runner; `flows` is null when the process has no flow. */
export interface AutomationRuntime {
  kind: 'pglite' | 'postgresql';
  automations: AutomationSide;
  flows: FlowSide | null;
  /** Closes the database (once). */
  close(): Promise<void>;
}

/**
 * Opens the SQL automation storage on `db` with the one runner for `automations` and `flows`
 * (even none: a server exposes the storage to its sync API). On PostgreSQL it sends NOTIFY
 * for earlier due times.
 */
export async function openAutomationSide(
  db: SqlDatabase,
  options: Pick<AutomationRuntimeOptions, 'kind' | 'automations' | 'claimTimeoutMs' | 'onEffect'> & { flows?: readonly FlowDefinition[] },
): Promise<AutomationSide> {
  const names = options.automations.map((d) => d.name);
  const flows = options.flows ?? [];
  const storage = await sqlAutomationStorage(db, {
    claimTimeoutMs: options.claimTimeoutMs ?? 10_000,
    notify: options.kind === 'postgresql',
    automations: names,
    flows: flows.map((f) => f.name),
  });
  const runner = createAutomationRunner({
    storage,
    clock: systemClock,
    automations: [...options.automations],
    flows: [...flows],
    ...(options.onEffect ? { onEffect: options.onEffect } : {}),
  });
  return { storage, names, runner };
}

/** A `FlowControl` over `runner` (which has the flows) with the `triggers` registered. */
export function openFlowSide(runner: AutomationRunner, triggers: readonly TriggerDeclaration[] = []): FlowSide {
  const control = new FlowControl({ runner });
  for (const trigger of triggers) {
    control.registerTrigger(trigger.name, {
      ...(trigger.label !== undefined ? { label: trigger.label } : {}),
      ...(trigger.description !== undefined ? { description: trigger.description } : {}),
    });
  }
  return { control };
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
 * Opens one SQL storage on `db` (on PostgreSQL sending NOTIFY for earlier due times) with the
 * one runner for `automations` and `flows`, and a `FlowControl` over it when there are flows.
 * The storage claims only work of the automations and flows given, so processes running
 * different modules can share a database.
 */
export function openAutomationRuntime(options: AutomationRuntimeOptions): Promise<AutomationRuntime> {
  return assembleRuntime(options.db, options.kind, async () => {
    const automations = await openAutomationSide(options.db, options);
    const flows = options.flows.length > 0 ? openFlowSide(automations.runner, options.triggers) : null;
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
  const { runner, storage } = runtime.automations;
  const scheduler = startAutomationScheduler({
    runner,
    storage,
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maxSleepMs !== undefined ? { maxSleepMs: options.maxSleepMs } : {}),
    ...(logger ? { logger } : {}),
  });
  let listener: DueTimeListener | null = null;
  if (runtime.kind === 'postgresql' && options.connectionString) {
    try {
      listener = await listenForDueTimes({
        connectionString: options.connectionString,
        channel: storage.channel,
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
