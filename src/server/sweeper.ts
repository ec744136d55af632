import type { Logger } from './log.ts';
import { isDatabaseUnavailable } from './outage.ts';
import type { TaskStorage } from './storage.ts';
import type { SyncLinks } from './sync/links.ts';
import { timerMs } from './timers.ts';

/** How long an `Idempotency-Key` is remembered when no retention is given: 7 days, far past any client's retries. */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** How long the outcome of a deleted task is kept for funnels when no retention is given: 400 days, past a year-on-year comparison. */
export const DEFAULT_OUTCOME_RETENTION_MS = 400 * 24 * 3600 * 1000;

/** The sync API's idempotency keys to forget once they are `retentionMs` old (see `SyncLinks.forgetKeys`). */
export interface KeySweep {
  links: () => Promise<SyncLinks>;
  retentionMs: number;
}

/** A running periodic sweep; `stop` cancels the next runs and waits for the current one. */
export interface Sweeper {
  /** Runs one sweep now; resolves to how many tasks were deleted. */
  sweepNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Deletes tasks past their idle deadline every `intervalMs` (at most every 24.8 days, the
 * longest a Node timer holds; a longer interval is shortened to it), and with `keys` forgets
 * the idempotency keys past their retention; it also forgets the outcomes of tasks that ended more
 * than `outcomeRetentionMs` ago (default `DEFAULT_OUTCOME_RETENTION_MS`). A failed sweep is logged and retried at the
 * next tick; the timer never keeps the process alive.
 */
export function startSweeper(options: { storage: TaskStorage; intervalMs: number; logger: Logger; clock?: () => number; keys?: KeySweep; outcomeRetentionMs?: number }): Sweeper {
  const clock = options.clock ?? Date.now;
  const { keys } = options;
  let running: Promise<number> | null = null;
  const sweep = async () => {
    const swept = await options.storage.sweepExpired(clock());
    if (swept > 0) options.logger({ level: 'info', msg: 'swept expired tasks', swept });
    const outcomes = await options.storage.forgetOutcomes(clock() - (options.outcomeRetentionMs ?? DEFAULT_OUTCOME_RETENTION_MS));
    if (outcomes > 0) options.logger({ level: 'info', msg: 'forgot task outcomes past their retention', outcomes });
    if (keys) {
      const forgotten = await (await keys.links()).forgetKeys(clock() - keys.retentionMs);
      if (forgotten.starts + forgotten.messages > 0) options.logger({ level: 'info', msg: 'forgot idempotency keys past their retention', ...forgotten });
    }
    return swept;
  };
  const sweepNow = () => {
    running ??= sweep().finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => {
    sweepNow().catch((error: unknown) => {
      // An outage is logged once by the database's OutageMonitor; the next tick sweeps again.
      if (isDatabaseUnavailable(error)) return;
      options.logger({ level: 'error', msg: 'sweep failed', error: error instanceof Error ? error.message : String(error) });
    });
  }, timerMs(options.intervalMs));
  timer.unref();
  return {
    sweepNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
