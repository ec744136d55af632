import type { InstanceStatus } from '../../sync/index.ts';
import type { Logger } from '../log.ts';
import { isDatabaseUnavailable } from '../outage.ts';

/** A watcher of one instance (or of what else a hub watches): called with each new status (null when it is gone). */
export type StatusListener<S extends Versioned = InstanceStatus> = (status: S | null) => void;

/** What a hub hands out: anything with a version that changes when it does. */
export interface Versioned {
  version: string;
}

interface Watch<S extends Versioned> {
  listeners: Set<StatusListener<S>>;
  /** The version last handed to the listeners. */
  last: string | null | undefined;
  timer: ReturnType<typeof setInterval>;
  running: boolean;
  again: boolean;
}

/**
 * Shares one poller per watched instance among every event stream on it, and re-reads at
 * once when `notify` says the instance may have changed (runner effects in this process).
 * A route that changes an instance and reads its status anyway wraps the change in
 * `answering`: the notifications meanwhile are held, and the route's status is handed to
 * the listeners instead of a read. Listeners get a status only when its version differs from
 * the last one handed out. A hub of process maps (`S` = `ProcessMapView`) watches automations by name the same way.
 */
export class SyncHub<S extends Versioned = InstanceStatus> {
  private readonly watches = new Map<string, Watch<S>>();
  /** Instances a route is changing: how many routes, and whether a notification came meanwhile. */
  private readonly held = new Map<string, { routes: number; overlapped: boolean; notified: boolean }>();

  constructor(
    private readonly read: (instanceId: string) => Promise<S | null>,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** How many instances are watched (each with one poller). */
  get watched(): number {
    return this.watches.size;
  }

  /** Calls `listener` with each change of the instance until the returned function is called. */
  watch(instanceId: string, listener: StatusListener<S>): () => void {
    let watch = this.watches.get(instanceId);
    if (!watch) {
      const timer = setInterval(() => this.notify(instanceId), this.pollMs);
      timer.unref?.();
      watch = { listeners: new Set(), last: undefined, timer, running: false, again: false };
      this.watches.set(instanceId, watch);
    }
    watch.listeners.add(listener);
    const current = watch;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.watches.get(instanceId) === current) {
        clearInterval(current.timer);
        this.watches.delete(instanceId);
      }
    };
  }

  /** The instance may have changed: re-read it now if anyone watches it (concurrent calls coalesce; held while a route answers for it). */
  notify(instanceId: string): void {
    const hold = this.held.get(instanceId);
    if (hold) {
      hold.notified = true;
      return;
    }
    const watch = this.watches.get(instanceId);
    if (!watch) return;
    if (watch.running) {
      watch.again = true;
      return;
    }
    watch.running = true;
    void this.refresh(instanceId, watch);
  }

  /**
   * Runs `work`, a route's change of the instance that resolves to its status afterwards, and
   * hands that status to the watchers: one notification per change, and no read. While two
   * routes change one instance at once, their statuses may arrive out of order: then the
   * watchers get a fresh read instead. When `work` fails, a notification held meanwhile is sent.
   */
  async answering<T extends { instance: S | null }>(instanceId: string, work: () => Promise<T>): Promise<T> {
    const hold = this.held.get(instanceId) ?? { routes: 0, overlapped: false, notified: false };
    hold.routes += 1;
    if (hold.routes > 1) hold.overlapped = true;
    this.held.set(instanceId, hold);
    let answer: T | undefined;
    try {
      answer = await work();
      return answer;
    } finally {
      hold.routes -= 1;
      if (hold.routes === 0) {
        this.held.delete(instanceId);
        if (answer?.instance && !hold.overlapped) this.publish(instanceId, answer.instance);
        else if (hold.notified || hold.overlapped) this.notify(instanceId);
      }
    }
  }

  /** Hands `status`, just read by the caller, to the instance's listeners if its version is new to them. */
  private publish(instanceId: string, status: S): void {
    const watch = this.watches.get(instanceId);
    if (!watch) return;
    // A read in flight may end with an older status: read again after it.
    if (watch.running) {
      watch.again = true;
      return;
    }
    if (status.version === watch.last) return;
    watch.last = status.version;
    for (const listener of [...watch.listeners]) listener(status);
  }

  private async refresh(instanceId: string, watch: Watch<S>): Promise<void> {
    try {
      do {
        watch.again = false;
        const status = await this.read(instanceId);
        const version = status?.version ?? null;
        if (version === watch.last) continue;
        watch.last = version;
        for (const listener of [...watch.listeners]) listener(status);
      } while (watch.again && this.watches.get(instanceId) === watch);
    } catch (error) {
      // An outage is logged once by the database's OutageMonitor; the next poll reads again.
      if (!isDatabaseUnavailable(error)) {
        this.logger({ level: 'warn', msg: 'sync: reading a watched instance failed', error: error instanceof Error ? error.message : String(error) });
      }
    } finally {
      watch.running = false;
    }
  }

  /** Stops every poller. */
  close(): void {
    for (const watch of this.watches.values()) clearInterval(watch.timer);
    this.watches.clear();
  }
}
