import { type Logger, silentLogger } from '../log.ts';
import { isDatabaseUnavailable } from '../outage.ts';
import { timerMs } from '../timers.ts';

/** Options of `startDueLoop`: one kind of durable work (automation instances, flow runs) and how to find its next due time. */
export interface DueLoopOptions {
  /** Named in the log lines of failed passes (`automation`, `flowcontrol`). */
  name: string;
  /** Does the work that is due now; resolves to how much it did (0: nothing was due or claimable). */
  pass(): Promise<number>;
  /** The next time work falls due, read from the database (null: nothing scheduled). */
  nextWakeAt(now: number): Promise<number | null>;
  /** Subscribes to this process's commits that set an earlier due time; returns the unsubscribe function. */
  subscribe?(wake: (at: number) => void): () => void;
  /** Longest sleep between looks at the database, a safety net for missed notifications. */
  maxSleepMs: number;
  /** Pause after a failed pass. */
  errorBackoffMs: number;
  /**
   * Longest pause after a pass that failed because the database is unavailable (default 250 ms):
   * such passes are retried soon (25 ms, doubling up to this), so work resumes within this
   * time of the database coming back, and are logged at `debug` only (an `OutageMonitor` on the
   * database logs the outage once).
   */
  outageRetryMs?: number;
  logger?: Logger;
  /** The clock due times are compared with. */
  now: () => number;
  /** Called after a pass that threw (the loop goes on after `errorBackoffMs`, or `outageRetryMs` at most). */
  onError?(error: unknown): void;
}

/** The longest pause between looks at work that is due but held by another transaction. */
export const HELD_RETRY_MS = 20;

/** A running due-time loop. */
export interface DueLoop {
  /** Wakes the loop at `at` (default: now) if it would sleep longer. */
  wake(at?: number): void;
  /** Finishes the pass in progress and stops; resolves when it has stopped. */
  stop(): Promise<void>;
  /** Resolves when the loop has stopped. */
  readonly done: Promise<void>;
}

/**
 * Runs `pass` while it finds work, then sleeps until `nextWakeAt` (at most `maxSleepMs`),
 * woken earlier by `wake` (a NOTIFY from another process) or by a subscribed commit of this
 * process. Timers are the due times stored in the database, so a due time is met to within
 * the time a pass takes, not a poll interval. A failed pass never ends the loop: it is
 * retried, soon when the database is unavailable (see `outageRetryMs`).
 */
export function startDueLoop(options: DueLoopOptions): DueLoop {
  const { now, maxSleepMs, errorBackoffMs } = options;
  const outageRetryMs = options.outageRetryMs ?? 250;
  const logger = options.logger ?? silentLogger;
  /** Passes failed in a row because the database is unavailable. */
  let unavailable = 0;
  /** Looks in a row that found work due but none claimable (another transaction holds it). */
  let held = 0;
  let stopping = false;
  /** The earliest wake-up asked for since the current pass began. */
  let hint = Number.POSITIVE_INFINITY;
  let sleeping: { until: number; timer: ReturnType<typeof setTimeout>; wakeUp: () => void } | null = null;

  // +1 ms: a timer may fire a little before Date.now() reaches the due time. Bounded to what a
  // Node timer holds (24.8 days; past it, it would fire at once): a sleep that ends early just looks again.
  const arm = (at: number, fire: () => void) => setTimeout(fire, timerMs(at - now() + 1));
  const sleepUntil = (until: number) =>
    new Promise<void>((resolve) => {
      // stop() may land while a pass or nextWakeAt is in flight, before this sleep began.
      if (stopping) return resolve();
      const wakeUp = () => {
        if (sleeping) clearTimeout(sleeping.timer);
        sleeping = null;
        resolve();
      };
      sleeping = { until, timer: arm(until, wakeUp), wakeUp };
    });
  const wake = (at: number = now()) => {
    hint = Math.min(hint, at);
    // News (a commit that made something due): the next look is a fresh one, not a retry of a held row.
    held = 0;
    if (!sleeping || at >= sleeping.until) return;
    clearTimeout(sleeping.timer);
    sleeping.until = at;
    sleeping.timer = arm(at, sleeping.wakeUp);
  };
  const unsubscribe = options.subscribe?.((at) => wake(at)) ?? (() => undefined);

  const loop = async () => {
    while (!stopping) {
      hint = Number.POSITIVE_INFINITY;
      try {
        const moved = await options.pass();
        if (stopping) break;
        // Work was found: look again at once (a backlog drains without a wake-up query per pass).
        if (moved > 0) {
          unavailable = 0;
          held = 0;
          continue;
        }
        const next = await options.nextWakeAt(now());
        unavailable = 0;
        const t = now();
        let until = Math.min(next ?? Number.POSITIVE_INFINITY, hint, t + maxSleepMs);
        if (until <= t) {
          // Due but not claimable yet (a step of another process holds the row): look again shortly,
          // after 5 ms, then 10, then every HELD_RETRY_MS while it stays held. Two schedulers wake
          // for the same due time and one of them wins; the other need not look every 5 ms (four
          // statements each) until the winner commits, which a slow WAL flush can make 100 ms.
          until = t + Math.min(HELD_RETRY_MS, 5 * 2 ** held);
          held += 1;
        } else {
          held = 0;
        }
        await sleepUntil(until);
      } catch (error) {
        options.onError?.(error);
        const message = error instanceof Error ? error.message : String(error);
        if (isDatabaseUnavailable(error)) {
          logger({ level: 'debug', msg: `${options.name} scheduler pass failed: database unavailable`, error: message });
          const pause = Math.min(outageRetryMs, 25 * 2 ** unavailable);
          unavailable += 1;
          if (!stopping) await sleepUntil(now() + pause);
          continue;
        }
        unavailable = 0;
        logger({ level: 'error', msg: `${options.name} scheduler pass failed`, error: message });
        if (!stopping) await sleepUntil(now() + errorBackoffMs);
      }
    }
  };

  const done = loop().finally(unsubscribe);
  return {
    wake,
    done,
    async stop() {
      stopping = true;
      sleeping?.wakeUp();
      await done;
    },
  };
}
