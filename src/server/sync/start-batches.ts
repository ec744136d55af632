import type { AutomationRunner, GroupStart, InstanceRecord } from '../../automations/index.ts';
import { isDatabaseUnavailable } from '../outage.ts';

/** Most starts one transaction holds. */
const MAX_GROUP = 64;
/** Most groups in flight at once: later starts gather meanwhile, in the next group. */
const MAX_IN_FLIGHT = 2;
/** How long starts gathering behind a group in flight wait for its commit before they go as a second group (ms). */
export const START_GROUP_WAIT_MS = 20;

interface Waiting {
  start: GroupStart;
  order: string;
  resolve(record: InstanceRecord): void;
  reject(reason: unknown): void;
}

/**
 * Group commit of the starts browsers send: starts that reach `create` together run in one
 * transaction (`runner.createGroup`), so their statements share round trips and one COMMIT.
 * With no group in flight, the starts of one event-loop turn go at the end of that turn. With
 * one in flight, the starts arriving meanwhile, over as many turns as it takes, gather until it
 * commits, but wait at most `waitMs` (then they go as a second group beside it); with
 * `MAX_IN_FLIGHT` in flight they go when the first ends. A group holds at most `MAX_GROUP`.
 * Each start keeps what it has alone: its key is recorded (and its caller's lock held) before
 * its nodes run, its answer waits for the commit, and when the group's transaction fails (but
 * for a lost database) each start runs again alone, so a failing start fails only itself.
 * Starts are ordered by `order` (the caller) within a group, so concurrent groups take their
 * callers' locks in one order.
 */
export class StartBatches {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  /** Set while the waiting starts wait for the group in flight: sends them as a second group. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `failsAlone`: the errors a start's `inTransaction` throws having written nothing (the key
   * held by an earlier start, the caller at its cap): that start is left out of its group, which
   * goes on without it (`runner.createGroup`). `waitMs`: the longest starts wait behind a group in
   * flight (default `START_GROUP_WAIT_MS`).
   */
  constructor(
    private readonly runner: AutomationRunner,
    private readonly failsAlone: (error: unknown) => boolean = () => false,
    private readonly waitMs: number = START_GROUP_WAIT_MS,
  ) {}

  /** Starts an instance as `runner.create(start.automation, start.data, start.options)` would, in the next group. */
  create(start: GroupStart, order: string): Promise<InstanceRecord> {
    return new Promise<InstanceRecord>((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => this.turnEnded());
      this.waiting.push({ start, order, resolve, reject });
      if (this.waiting.length >= MAX_GROUP) this.send();
    });
  }

  /** At the end of the turn a first start arrived in: the waiting starts go now if no group is in flight, else they wait for one to end (at most `waitMs` while a second may go). */
  private turnEnded(): void {
    if (this.waiting.length === 0) return;
    if (this.inFlight === 0) this.send();
    else if (this.timer === undefined && this.inFlight < MAX_IN_FLIGHT) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) this.send();
      }, this.waitMs);
    }
  }

  /** Sends the waiting starts as one group. */
  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.waiting;
    this.waiting = [];
    this.inFlight += 1;
    group.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    this.runner
      .createGroup(
        group.map((w) => w.start),
        {
          // A refused commit committed nothing; a lost connection may have: then every start fails, as alone (a retry with its key finds its instance).
          runAgain: (error) => !isDatabaseUnavailable(error),
          failsAlone: this.failsAlone,
        },
      )
      .then(
        (outcomes) =>
          outcomes.forEach((outcome, i) => {
            if (outcome.status === 'fulfilled') group[i]!.resolve(outcome.value);
            else group[i]!.reject(outcome.reason);
          }),
        (error: unknown) => {
          for (const w of group) w.reject(error);
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        // The starts that gathered while it ran go now, in one group.
        if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) this.send();
      });
  }
}
