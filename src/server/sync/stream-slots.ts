import type { ServerLimits } from '../limits.ts';
import { SyncTooManyStreamsError } from './errors.ts';

/** Counts per key, dropping keys that reach zero. */
class Counts {
  private readonly counts = new Map<string, number>();
  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string, delta: number): void {
    const next = this.of(key) + delta;
    if (next <= 0) this.counts.delete(key);
    else this.counts.set(key, next);
  }
}

/**
 * The open event streams, bounded per caller (session or user), per client address and in
 * total (`streamsPerCaller`, `streamsPerClient`, `streams` of `ServerLimits`).
 */
export class StreamSlots {
  private readonly callers = new Counts();
  private readonly clients = new Counts();
  private total = 0;
  constructor(private readonly limits: Pick<ServerLimits, 'streams' | 'streamsPerClient' | 'streamsPerCaller'>) {}

  /** Takes a slot or throws 429 `too-many-streams` naming the bound reached; the returned function frees it (once). */
  take(owner: string, address: string | null): () => void {
    const { streams, streamsPerClient, streamsPerCaller } = this.limits;
    if (this.callers.of(owner) >= streamsPerCaller) throw new SyncTooManyStreamsError(`per session or user (${streamsPerCaller})`);
    if (address !== null && this.clients.of(address) >= streamsPerClient) throw new SyncTooManyStreamsError(`per client address (${streamsPerClient})`);
    if (this.total >= streams) throw new SyncTooManyStreamsError(`on this server (${streams})`);
    this.callers.add(owner, 1);
    if (address !== null) this.clients.add(address, 1);
    this.total++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.callers.add(owner, -1);
      if (address !== null) this.clients.add(address, -1);
      this.total--;
    };
  }

  /** Open streams of `owner`. */
  of(owner: string): number {
    return this.callers.of(owner);
  }
}
