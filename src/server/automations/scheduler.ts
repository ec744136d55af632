import type { AutomationRunner } from '../../automations/index.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type DueLoop, startDueLoop } from './due-loop.ts';
import { AutomationSchedulerOptionsError } from './errors.ts';
import type { SqlAutomationStorage } from './pg-storage.ts';

/** Options of `startAutomationScheduler`. */
export interface AutomationSchedulerOptions {
  /**
   * The runner (its automations and flowcontrol flows) the scheduler advances instances and
   * continues runs with; it must use `storage` and the system clock.
   */
  runner: AutomationRunner;
  storage: SqlAutomationStorage;
  /** Instances and flow runs claimed per pass (default 100): small batches share the work between schedulers. */
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
  /** Passes made (each pass looks at automation instances and flowcontrol runs together). */
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
 * The long-running scheduler: one due loop over the one SQL storage. Each pass is the runner's
 * `schedulerPass(batchSize)`: messages waiting are delivered, and the automation instances and
 * flowcontrol runs that are due are claimed together (by due time) and run, `groupSize` per
 * transaction; passes repeat while they find work. Then the loop sleeps until the next due
 * time stored in the database (not a poll interval), woken earlier when this process commits
 * an earlier due time or `wake` is called (a NOTIFY listener, see `listenForDueTimes`).
 * Several schedulers on one PostgreSQL database share the work through the claims; on PGlite run one.
 * @example
 * const storage = await sqlAutomationStorage(db);
 * const runner = createAutomationRunner({ storage, automations: [webinar], flows: [onboarding] });
 * const scheduler = startAutomationScheduler({ runner, storage });
 * process.once('SIGTERM', () => void scheduler.stop());
 */
export function startAutomationScheduler(options: AutomationSchedulerOptions): AutomationScheduler {
  const { runner, storage } = options;
  if (!runner || !storage) throw new AutomationSchedulerOptionsError('pass the runner and the SQL storage it uses');
  const batchSize = options.batchSize ?? 100;
  const logger = options.logger ?? silentLogger;
  const stats: SchedulerStats = { passes: 0, advanced: 0, delivered: 0, flowRuns: 0, flowActions: 0, errors: 0 };

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
      const { advanced, delivered, runs, actions, refused } = await runner.schedulerPass(batchSize);
      stats.advanced += advanced;
      stats.delivered += delivered;
      stats.flowRuns += runs.length;
      stats.flowActions += actions;
      // Left as they are and looked at again after the claim timeout: one line per run each time.
      for (const error of refused) logger({ level: 'error', msg: 'flowcontrol run refused', run: error.runId, code: error.code, error: error.message });
      const moved = advanced + delivered + runs.length;
      if (moved > 0) logger({ level: 'debug', msg: 'automation scheduler pass', advanced, delivered, runs: runs.length, actions });
      stats.passes += 1;
      return moved;
    },
    nextWakeAt: (now) => storage.nextWakeAt(now),
    subscribe: (wake) => storage.onEarlierDueTime(wake),
  });

  return {
    stats,
    done: loop.done,
    wake: (at) => loop.wake(at),
    stop: () => loop.stop(),
  };
}
