import type { Logger } from './log.ts';
import { isDatabaseUnavailable } from './outage.ts';
import type { TaskStorage } from './storage.ts';
import { timerMs } from './timers.ts';

/** A running periodic sweep; `stop` cancels the next runs and waits for the current one. */
export interface Sweeper {
  /** Runs one sweep now; resolves to how many tasks were deleted. */
  sweepNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Deletes tasks past their idle deadline every `intervalMs` (at most every 24.8 days, the
 * longest a Node timer holds; a longer interval is shortened to it). A failed sweep is
 * logged and retried at the next tick; the timer never keeps the process alive.
 */
export function startSweeper(options: { storage: TaskStorage; intervalMs: number; logger: Logger; clock?: () => number }): Sweeper {
  const clock = options.clock ?? Date.now;
  let running: Promise<number> | null = null;
  const sweepNow = () => {
    running ??= options.storage
      .sweepExpired(clock())
      .then((swept) => {
        if (swept > 0) options.logger({ level: 'info', msg: 'swept expired tasks', swept });
        return swept;
      })
      .finally(() => {
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
