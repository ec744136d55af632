import type { SSEStreamingApi } from 'hono/streaming';
import type { InstanceStatus, StreamEnd, StreamIdle } from '../../sync/index.ts';
import { type LongTimeout, setLongTimeout } from '../timers.ts';
import type { SyncHub, Versioned } from './hub.ts';

/** How long an event stream may stay without change, and how often it sends a heartbeat. */
export interface StreamTiming {
  streamIdleMs: number;
  heartbeatMs: number;
}

/** The open event streams of instances (or of process maps: `S` = `ProcessMapView`), fed by the hub; `closeAll` ends them (server shutdown). */
export class InstanceStreams<S extends Versioned & { status?: string } = InstanceStatus> {
  private readonly closers = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly hub: SyncHub<S>,
    private readonly readStatus: (id: string) => Promise<S | null>,
    private readonly timing: StreamTiming,
  ) {}

  /**
   * Ends every open stream, and every stream opened later (a browser reconnecting on a kept-alive
   * connection while the server shuts down): an open stream would keep the server's close waiting.
   */
  closeAll(): void {
    this.closed = true;
    for (const close of [...this.closers]) close();
  }

  /**
   * One event stream: the current status at once (skipped when `Last-Event-ID` is its version),
   * a status on every change, `end` after the final status, `idle` after `streamIdleMs` without
   * change, a comment heartbeat every `heartbeatMs`. Resolves when the stream ends; `free` releases the slot.
   */
  async watch(stream: SSEStreamingApi, id: string, lastEventId: string | undefined, free: () => void): Promise<void> {
    if (this.closed) {
      free();
      return;
    }
    const { streamIdleMs, heartbeatMs } = this.timing;
    let lastSent: string | undefined = lastEventId;
    let done = false;
    let resolveDone!: () => void;
    const finished = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    let chain: Promise<void> = Promise.resolve();
    const enqueue = (work: () => Promise<void>) => {
      chain = chain.then(() => (done ? undefined : work())).catch(() => close());
    };
    let idleTimer: LongTimeout | undefined;
    const heartbeat = setInterval(() => enqueue(() => stream.write(': heartbeat\n\n').then(() => undefined)), heartbeatMs);
    let unwatch: () => void = () => undefined;
    const close = () => {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      idleTimer?.clear();
      unwatch();
      free();
      this.closers.delete(close);
      resolveDone();
    };
    const armIdle = () => {
      idleTimer?.clear();
      idleTimer = setLongTimeout(
        () =>
          enqueue(async () => {
            await stream.writeSSE({ event: 'idle', data: JSON.stringify({ idleMs: streamIdleMs } satisfies StreamIdle) });
            close();
          }),
        streamIdleMs,
      );
    };
    const send = async (status: S | null) => {
      if (!status) {
        await stream.writeSSE({ event: 'end', data: JSON.stringify({ id, status: 'gone' } satisfies StreamEnd) });
        close();
        return;
      }
      if (status.version !== lastSent) {
        await stream.writeSSE({ event: 'status', id: status.version, data: JSON.stringify(status) });
        lastSent = status.version;
        armIdle();
      }
      if (status.status === 'finished') {
        await stream.writeSSE({ event: 'end', data: JSON.stringify({ id, status: 'finished' } satisfies StreamEnd) });
        close();
      }
    };
    this.closers.add(close);
    stream.onAbort(close);
    // Subscribe first, then read: a change between the two is not lost (it queues behind the first status).
    unwatch = this.hub.watch(id, (status) => enqueue(() => send(status)));
    armIdle();
    enqueue(async () => send(await this.readStatus(id)));
    await finished;
  }
}
