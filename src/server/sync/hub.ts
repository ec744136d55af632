import type { InstanceStatus } from '../../sync/protocol.ts';
import type { Logger } from '../log.ts';
import { isDatabaseUnavailable } from '../outage.ts';

/** A watcher of one instance: called with each new status (null when the instance is gone). */
export type StatusListener = (status: InstanceStatus | null) => void;

interface Watch {
  listeners: Set<StatusListener>;
  /** The version last handed to the listeners. */
  last: string | null | undefined;
  timer: ReturnType<typeof setInterval>;
  running: boolean;
  again: boolean;
}

/**
 * Shares one poller per watched instance among every event stream on it, and re-reads at
 * once when `notify` says the instance may have changed (runner effects in this process, the
 * sync API's own writes). Listeners get a status only when its version differs from the last
 * one handed out.
 */
export class SyncHub {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly read: (instanceId: string) => Promise<InstanceStatus | null>,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** How many instances are watched (each with one poller). */
  get watched(): number {
    return this.watches.size;
  }

  /** Calls `listener` with each change of the instance until the returned function is called. */
  watch(instanceId: string, listener: StatusListener): () => void {
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

  /** The instance may have changed: re-read it now if anyone watches it (concurrent calls coalesce). */
  notify(instanceId: string): void {
    const watch = this.watches.get(instanceId);
    if (!watch) return;
    if (watch.running) {
      watch.again = true;
      return;
    }
    watch.running = true;
    void this.refresh(instanceId, watch);
  }

  private async refresh(instanceId: string, watch: Watch): Promise<void> {
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
