import type { AutomationRunner, FlowControl } from '../../automations/index.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type DueLoop, startDueLoop } from './due-loop.ts';
import { AutomationSchedulerOptionsError } from './errors.ts';
import type { SqlFlowRunStore } from './flow-run-store.ts';
import type { SqlAutomationStorage } from './pg-storage.ts';

/** The flowcontrol side of a scheduler: the `FlowControl` (its flows) and the SQL store it was made with. */
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
  /** Instances claimed per pass, and flow runs claimed per pass (default 100): small batches share the work between schedulers. */
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
  /** Passes made (automation and flowcontrol passes together). */
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
  /**
   * Wakes the scheduler at `at` (default: now) if it would sleep longer, e.g. on a NOTIFY from
   * another process; `target` wakes only the automation or only the flowcontrol side.
   */
  wake(at?: number, target?: 'automations' | 'flows'): void;
  /** Finishes the passes in progress and stops; resolves when it has stopped. */
  stop(): Promise<void>;
  /** Resolves when the scheduler has stopped. */
  readonly done: Promise<void>;
  readonly stats: SchedulerStats;
}

/**
 * The long-running scheduler. For automations it runs `runner.stepAll(batchSize)` while
 * instances are due; for flowcontrol it runs `control.continueFlowRunBatch(batchSize)` while
 * runs are runnable. Each side then sleeps until its next due time stored in the database
 * (not a poll interval), woken earlier when this process commits an earlier due time or
 * `wake` is called (a NOTIFY listener, see `listenForDueTimes`). The two sides are separate
 * loops, so a backlog of one does not delay the other's timers. Several schedulers on one
 * PostgreSQL database share the work through the claims; on PGlite run one.
 * @example
 * const scheduler = startAutomationScheduler({ runner, storage, flows: { control, store: flowStore } });
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
  const common = {
    maxSleepMs: options.maxSleepMs ?? 5000,
    errorBackoffMs: options.errorBackoffMs ?? 1000,
    ...(options.outageRetryMs !== undefined ? { outageRetryMs: options.outageRetryMs } : {}),
    now: options.now ?? Date.now,
    logger,
  };
  const stats: SchedulerStats = { passes: 0, advanced: 0, delivered: 0, flowRuns: 0, flowActions: 0, errors: 0 };
  const onError = () => {
    stats.errors += 1;
  };

  const automations: DueLoop | null =
    runner && storage
      ? startDueLoop({
          ...common,
          name: 'automation',
          onError,
          async pass() {
            const { advanced, delivered } = await runner.stepAll(batchSize);
            stats.passes += 1;
            stats.advanced += advanced;
            stats.delivered += delivered;
            if (advanced + delivered > 0) logger({ level: 'debug', msg: 'automation scheduler pass', advanced, delivered });
            return advanced + delivered;
          },
          nextWakeAt: (now) => storage.nextWakeAt(now),
          subscribe: (wake) => storage.onEarlierDueTime(wake),
        })
      : null;
  const flowLoop: DueLoop | null = flows
    ? startDueLoop({
        ...common,
        name: 'flowcontrol',
        onError,
        async pass() {
          const { runs, actions } = await flows.control.continueFlowRunBatch(batchSize);
          stats.passes += 1;
          stats.flowRuns += runs.length;
          stats.flowActions += actions;
          if (runs.length > 0) logger({ level: 'debug', msg: 'flowcontrol scheduler pass', runs: runs.length, actions });
          return runs.length;
        },
        nextWakeAt: (now) => flows.store.nextWakeAt(now),
        subscribe: (wake) => flows.store.onEarlierDueTime(wake),
      })
    : null;
  const loops = [automations, flowLoop].filter((loop): loop is DueLoop => loop !== null);

  return {
    stats,
    done: Promise.all(loops.map((loop) => loop.done)).then(() => undefined),
    wake(at, target) {
      if (target !== 'flows') automations?.wake(at);
      if (target !== 'automations') flowLoop?.wake(at);
    },
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
    },
  };
}
