import type { PGlite } from '@electric-sql/pglite';
import type { AutomationDefinition, AutomationEffect, AutomationRunner, FlowControl, FlowDefinition } from '../automations/index.ts';
import { openAutomationDatabase } from './automations/database.ts';
import type { TriggerDeclaration } from './automations/definitions.ts';
import type { SqlAutomationStorage } from './automations/pg-storage.ts';
import { assembleRuntime, openAutomationSide, openFlowSide, startRuntimeScheduler } from './automations/runtime.ts';
import type { AutomationScheduler } from './automations/scheduler.ts';
import type { Logger } from './log.ts';
import type { OutageMonitor } from './outage.ts';
import type { PostgresTimeouts } from './postgres.ts';
import { pgliteDatabase } from './pglite.ts';
import type { SqlDatabase } from './sql.ts';

/** Automations and flowcontrol flows running inside the server process: their runner, flow control, stores and scheduler. */
export interface ServerAutomations {
  runner: AutomationRunner;
  storage: SqlAutomationStorage;
  /** The flow control of the module's flowcontrol flows (fire triggers, start runs), or null when there are none. */
  flowControl: FlowControl | null;
  scheduler: AutomationScheduler;
  /** The automation definitions the runner has. */
  definitions: readonly AutomationDefinition[];
  /** The database the automation tables live in (the sync API keeps its instance links there too). */
  db: SqlDatabase;
  /**
   * Calls `listener` with every effect the runner of this process commits (forms opened,
   * messages sent, browser messages, instances finished). Returns the unsubscribe function.
   */
  onEffect(listener: (effect: AutomationEffect) => void): () => void;
  /** Stops the scheduler (finishing the passes in progress) and closes what it opened. */
  stop(): Promise<void>;
}

/** Where the automations keep their tables: the server's own PGlite instance, or PostgreSQL. */
export type ServerAutomationsDatabase = { kind: 'pglite'; pg: PGlite } | ({ kind: 'postgresql'; connectionString: string; schema?: string } & PostgresTimeouts);

/**
 * Runs `definitions` and flowcontrol `flows` beside the tasks API, on the server's database:
 * on PGlite the same instance the task storage uses (PGlite runs one statement or
 * transaction at a time, so a task write never lands inside an automation step), on
 * PostgreSQL its own pool plus a LISTEN connection so due times set by other processes wake
 * it at once. The scheduler advances due instances and continues runnable flow runs,
 * resuming suspended runs when their `continueAfter` comes (`loadAutomationModule` reads
 * all three from an automations module).
 * @example
 * const automations = await startServerAutomations({ definitions: [orderFulfilment], flows: [onboarding], database: { kind: 'pglite', pg } });
 * await automations.runner.create('OrderFulfilment', { orderId });
 * await automations.flowControl?.triggerFlows('user_created', { objectId: 'user:1' });
 */
export async function startServerAutomations(options: {
  definitions: readonly AutomationDefinition[];
  flows?: readonly FlowDefinition[];
  triggers?: readonly TriggerDeclaration[];
  database: ServerAutomationsDatabase;
  logger?: Logger;
  /** PostgreSQL only: told about lost and regained connections of the pool and the LISTEN connection, to log each outage once. */
  outage?: OutageMonitor;
  /** Called with every effect the runner commits (see `ServerAutomations.onEffect`). */
  onEffect?: (effect: AutomationEffect) => void;
}): Promise<ServerAutomations> {
  const { definitions, database, logger, outage } = options;
  const listeners = new Set<(effect: AutomationEffect) => void>();
  if (options.onEffect) listeners.add(options.onEffect);
  const onEffect = (effect: AutomationEffect) => {
    for (const listener of listeners) {
      try {
        listener(effect);
      } catch (error) {
        logger?.({ level: 'warn', msg: 'automation effect listener failed', error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  const db =
    database.kind === 'pglite'
      ? // The task storage owns the PGlite instance and closes it.
        { ...pgliteDatabase(database.pg), close: async () => undefined }
      : (
          await openAutomationDatabase({
            databaseUrl: database.connectionString,
            ...(database.schema ? { schema: database.schema } : {}),
            ...(database.connectTimeoutMs !== undefined ? { connectTimeoutMs: database.connectTimeoutMs } : {}),
            ...(database.queryTimeoutMs !== undefined ? { queryTimeoutMs: database.queryTimeoutMs } : {}),
            ...(outage ? { outage } : {}),
          })
        ).db;
  // The server always has an automation side: its sync API reads the storage even without automations.
  // Flow runs live in the same storage, so one scheduler loop serves both.
  const runtime = await assembleRuntime(db, database.kind, async () => {
    const side = await openAutomationSide(db, { kind: database.kind, automations: definitions, onEffect, flows: options.flows ?? [] });
    const flows = options.flows?.length ? openFlowSide(side.runner, options.triggers) : null;
    return { automations: side, flows };
  });
  const { automations } = runtime;
  let running: Awaited<ReturnType<typeof startRuntimeScheduler>>;
  try {
    running = await startRuntimeScheduler(runtime, {
      ...(logger ? { logger } : {}),
      ...(outage ? { outage } : {}),
      ...(database.kind === 'postgresql' ? { connectionString: database.connectionString } : {}),
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return {
    runner: automations.runner,
    storage: automations.storage,
    flowControl: runtime.flows?.control ?? null,
    scheduler: running.scheduler,
    definitions: [...definitions],
    db,
    onEffect(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async stop() {
      await running.stop();
      await runtime.close();
    },
  };
}
