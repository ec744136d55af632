import { type Logger, silentLogger } from '../log.ts';
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
  logger?: Logger;
  /** The clock due times are compared with. */
  now: () => number;
  /** Called after a pass that threw (the loop goes on after `errorBackoffMs`). */
  onError?(error: unknown): void;
}

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
 * the time a pass takes, not a poll interval.
 */
export function startDueLoop(options: DueLoopOptions): DueLoop {
  const { now, maxSleepMs, errorBackoffMs } = options;
  const logger = options.logger ?? silentLogger;
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
        const next = await options.nextWakeAt(now());
        const t = now();
        let until = Math.min(next ?? Number.POSITIVE_INFINITY, hint, t + maxSleepMs);
        if (until <= t) {
          if (moved > 0) continue;
          // Due but not claimable yet (a step of another process holds the row): look again shortly.
          until = t + 5;
        }
        await sleepUntil(until);
      } catch (error) {
        options.onError?.(error);
        logger({ level: 'error', msg: `${options.name} scheduler pass failed`, error: error instanceof Error ? error.message : String(error) });
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
