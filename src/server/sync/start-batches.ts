import type { AutomationRunner, GroupStart, InstanceRecord } from '../../automations/index.ts';
import { isDatabaseUnavailable } from '../outage.ts';

/** Most starts one transaction holds. */
const MAX_GROUP = 64;
/** Most groups in flight at once: later starts gather meanwhile, in the next group. */
const MAX_IN_FLIGHT = 2;

interface Waiting {
  start: GroupStart;
  order: string;
  resolve(record: InstanceRecord): void;
  reject(reason: unknown): void;
}

/**
 * Group commit of the starts browsers send: the starts that reach `create` in one event-loop
 * turn run in one transaction (`runner.createGroup`), so their statements share round trips and
 * one COMMIT. Each start keeps what it has alone: its key is recorded (and its caller's lock
 * held) before its nodes run, its answer waits for the commit, and when the group's
 * transaction fails (but for a lost database) each start runs again alone, so a failing start
 * fails only itself.
 * Starts are ordered by `order` (the caller) within a group, so concurrent groups take their
 * callers' locks in one order.
 */
export class StartBatches {
  private waiting: Waiting[] = [];
  private inFlight = 0;

  /**
   * `failsAlone`: the errors a start's `inTransaction` throws having written nothing (the key
   * held by an earlier start, the caller at its cap): that start is left out of its group, which
   * goes on without it (`runner.createGroup`).
   */
  constructor(
    private readonly runner: AutomationRunner,
    private readonly failsAlone: (error: unknown) => boolean = () => false,
  ) {}

  /** Starts an instance as `runner.create(start.automation, start.data, start.options)` would, in the group of this turn. */
  create(start: GroupStart, order: string): Promise<InstanceRecord> {
    return new Promise<InstanceRecord>((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => this.flush());
      this.waiting.push({ start, order, resolve, reject });
      if (this.waiting.length >= MAX_GROUP) this.flush(true);
    });
  }

  /** Sends the waiting starts as one group, unless `MAX_IN_FLIGHT` groups run (then the first to end sends them), or `full`. */
  private flush(full = false): void {
    if (this.waiting.length === 0 || (this.inFlight >= MAX_IN_FLIGHT && !full)) return;
    const group = this.waiting;
    this.waiting = [];
    this.inFlight += 1;
    const done = () => {
      this.inFlight -= 1;
      this.flush();
    };
    if (group.length === 1) {
      const [{ start, resolve, reject }] = group as [Waiting];
      this.runner.create(start.automation, start.data ?? {}, start.options ?? {}).then(resolve, reject).finally(done);
      return;
    }
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
      .finally(done);
  }
}
