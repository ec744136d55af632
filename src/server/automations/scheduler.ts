import type { AutomationRunner, FlowControl } from '../../automations/index.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type DueLoop, startDueLoop } from './due-loop.ts';
import { AutomationSchedulerOptionsError } from './errors.ts';
import type { SqlAutomationStorage, SqlFlowRunStore } from './pg-storage.ts';

/** The flowcontrol side of a scheduler: the `FlowControl` (its flows) and the SQL storage it was made with (usually the runner's). */
export interface SchedulerFlows {
  /** Must use `store` and the system clock. */
  control: FlowControl;
  store: SqlFlowRunStore;
}

/** Options of `startAutomationScheduler`: automations (`runner` with `storage`), flowcontrol runs (`flows`), or both. */
export interface AutomationSchedulerOptions {
  /** The runner (its definitions) the scheduler advances instances with; it must use `storage` and the system clock. */
  runner?: AutomationRunner;
  storage?: SqlAutomationStorage;
  /** Also continue flowcontrol runs: pending ones at once, suspended ones when their `continueAfter` comes. */
  flows?: SchedulerFlows;
  /** Instances claimed per pass, and flow runs claimed per pass (default 100): small batches share the work between schedulers and between the two kinds. */
  batchSize?: number;
  /** Longest sleep between looks at the database (default 5000 ms), a safety net for missed notifications. */
  maxSleepMs?: number;
  /** Pause after a failed pass (default 1000 ms). */
  errorBackoffMs?: number;
  /** Longest pause after a pass that failed because the database is unavailable (default 250 ms; see `DueLoopOptions.outageRetryMs`). */
  outageRetryMs?: number;
  logger?: Logger;
  /** The time to sleep against; defaults to `Date.now` (it must agree with the runner's and the flow control's clock). */
  now?: () => number;
}

/** Counters of a running scheduler. */
export interface SchedulerStats {
  /** Passes made (each pass looks at automations and flowcontrol runs). */
  passes: number;
  /** Automation steps run. */
  advanced: number;
  /** Automation messages delivered. */
  delivered: number;
  /** Flow runs continued. */
  flowRuns: number;
  /** Flow actions run (entries added to the runs' logs). */
  flowActions: number;
  errors: number;
}

/** A running scheduler. */
export interface AutomationScheduler {
  /** Wakes the scheduler at `at` (default: now) if it would sleep longer, e.g. on a NOTIFY from another process. */
  wake(at?: number): void;
  /** Finishes the passes in progress and stops; resolves when it has stopped. */
  stop(): Promise<void>;
  /** Resolves when the scheduler has stopped. */
  readonly done: Promise<void>;
  readonly stats: SchedulerStats;
}

/**
 * The long-running scheduler: one due loop over the one SQL storage. Each pass runs
 * `runner.stepAll(batchSize)` (automation instances due, messages waiting) and
 * `control.continueFlowRunBatch(batchSize)` (flowcontrol runs runnable), and passes repeat while
 * either finds work; both are bounded by `batchSize`, so a backlog of one delays the other's
 * timers by one batch at most. Then the loop sleeps until the next due time stored in the
 * database (not a poll interval), woken earlier when this process commits an earlier due time
 * or `wake` is called (a NOTIFY listener, see `listenForDueTimes`). Several schedulers on one
 * PostgreSQL database share the work through the claims; on PGlite run one.
 * @example
 * const storage = await sqlAutomationStorage(db);
 * const scheduler = startAutomationScheduler({ runner, storage, flows: { control, store: storage } });
 * process.once('SIGTERM', () => void scheduler.stop());
 */
export function startAutomationScheduler(options: AutomationSchedulerOptions): AutomationScheduler {
  const { runner, storage, flows } = options;
  if ((runner === undefined) !== (storage === undefined)) {
    throw new AutomationSchedulerOptionsError('pass both runner and storage (the runner must use that storage), or neither');
  }
  if (!runner && !flows) throw new AutomationSchedulerOptionsError('there is nothing to schedule: pass runner and storage, flows, or both');
  const batchSize = options.batchSize ?? 100;
  const logger = options.logger ?? silentLogger;
  const stats: SchedulerStats = { passes: 0, advanced: 0, delivered: 0, flowRuns: 0, flowActions: 0, errors: 0 };
  // One storage usually holds both kinds of work; each store is asked only for the kind this scheduler runs.
  const stores = new Map<SqlAutomationStorage, { automations: boolean; flows: boolean }>();
  if (storage) stores.set(storage, { automations: true, flows: false });
  if (flows) stores.set(flows.store, { automations: stores.get(flows.store)?.automations ?? false, flows: true });

  const loop: DueLoop = startDueLoop({
    name: 'automation',
    maxSleepMs: options.maxSleepMs ?? 5000,
    errorBackoffMs: options.errorBackoffMs ?? 1000,
    ...(options.outageRetryMs !== undefined ? { outageRetryMs: options.outageRetryMs } : {}),
    now: options.now ?? Date.now,
    logger,
    onError: () => {
      stats.errors += 1;
    },
    async pass() {
      let moved = 0;
      if (runner) {
        const { advanced, delivered } = await runner.stepAll(batchSize);
        stats.advanced += advanced;
        stats.delivered += delivered;
        if (advanced + delivered > 0) logger({ level: 'debug', msg: 'automation scheduler pass', advanced, delivered });
        moved += advanced + delivered;
      }
      if (flows) {
        const { runs, actions, refused } = await flows.control.continueFlowRunBatch(batchSize);
        stats.flowRuns += runs.length;
        stats.flowActions += actions;
        // Left as they are and looked at again after the claim timeout: one line per run each time.
        for (const error of refused) logger({ level: 'error', msg: 'flowcontrol run refused', run: error.runId, code: error.code, error: error.message });
        if (runs.length > 0) logger({ level: 'debug', msg: 'flowcontrol scheduler pass', runs: runs.length, actions });
        moved += runs.length;
      }
      stats.passes += 1;
      return moved;
    },
    async nextWakeAt(now) {
      const times = await Promise.all([...stores].map(([store, sides]) => store.nextWakeAt(now, sides)));
      const set = times.filter((t): t is number => t !== null);
      return set.length ? Math.min(...set) : null;
    },
    subscribe(wake) {
      const unsubscribes = [...stores.keys()].map((store) => store.onEarlierDueTime(wake));
      return () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      };
    },
  });

  return {
    stats,
    done: loop.done,
    wake: (at) => loop.wake(at),
    stop: () => loop.stop(),
  };
}
