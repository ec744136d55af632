import type { InstanceStatus } from './protocol.ts';

/** Options of `watch`. */
export interface WatchOptions {
  /** Polling interval while the stream is unavailable (default 5000 ms). */
  pollMs?: number;
  /** Longest wait between attempts to reopen the stream (default 60 s; the first retry waits 1 s, then doubles). */
  maxBackoffMs?: number;
  /** Told about failed polls; the watch keeps going, except after a 403 or 404 (the instance is not visible). */
  onError?(error: unknown): void;
}

/** Stops a watch: closes the stream and clears every timer. */
export type StopWatching = () => void;

/** What `watchInstance` needs: the events URL, a status reader, and the EventSource class (`null`: poll only). `S` is what the stream carries (a process map's view for `watchMap`). */
export interface WatchSource<S extends { version: string; status?: string } = InstanceStatus> {
  url: string;
  status(): Promise<S>;
  EventSource: typeof EventSource | null;
}

/**
 * Follows one instance (or one process map: `watchMap`): listens to its `status` events, calls `onStatus` only when the
 * `version` changes, stops at `end`. On `idle`, a stream error (a 429 included) or without
 * EventSource, it polls `status()` every `pollMs` (catching up at once) while it tries to
 * reopen the stream with exponential backoff; the first status of a reopened stream
 * stops the polling.
 */
export function watchInstance<S extends { version: string; status?: string } = InstanceStatus>(source: WatchSource<S>, onStatus: (status: S) => void, options: WatchOptions = {}): StopWatching {
  const pollMs = options.pollMs ?? 5000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  let last: string | undefined;
  let stopped = false;
  let stream: EventSource | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let polling = false;
  let reopenTimer: ReturnType<typeof setTimeout> | undefined;
  let backoff = 1000;

  const stop = () => {
    stopped = true;
    stream?.close();
    stream = null;
    clearTimeout(pollTimer);
    clearTimeout(reopenTimer);
  };
  const deliver = (status: S) => {
    if (stopped || status.version === last) return;
    last = status.version;
    onStatus(status);
  };
  const poll = () => {
    if (stopped || !polling) return;
    source
      .status()
      .then((status) => {
        deliver(status);
        if (status.status === 'finished') stop();
      }, (error: { status?: number }) => {
        options.onError?.(error);
        // The instance is gone or not ours: it will not come back.
        if (error?.status === 403 || error?.status === 404) stop();
      })
      .finally(() => {
        if (!stopped && polling) pollTimer = setTimeout(poll, pollMs);
      });
  };
  const startPolling = () => {
    if (polling) return;
    polling = true;
    poll();
  };
  const stopPolling = () => {
    polling = false;
    clearTimeout(pollTimer);
  };
  const fallBack = () => {
    stream?.close();
    stream = null;
    if (stopped) return;
    startPolling();
    if (!source.EventSource) return;
    clearTimeout(reopenTimer);
    reopenTimer = setTimeout(open, backoff);
    backoff = Math.min(backoff * 2, maxBackoff);
  };
  const read = (event: Event): S | null => {
    try {
      const data = JSON.parse((event as MessageEvent).data) as S;
      return data && typeof data.version === 'string' ? data : null;
    } catch {
      return null;
    }
  };
  function open() {
    if (stopped) return;
    if (!source.EventSource) return startPolling();
    let es: EventSource;
    try {
      es = new source.EventSource(source.url);
    } catch {
      return fallBack();
    }
    stream = es;
    es.addEventListener('status', (event) => {
      const status = read(event);
      if (es !== stream || !status) return;
      stopPolling();
      backoff = 1000;
      deliver(status);
    });
    es.addEventListener('end', (event) => {
      if (es !== stream) return;
      const status = read(event);
      if (status) deliver(status);
      stop();
    });
    es.addEventListener('idle', () => es === stream && fallBack());
    es.addEventListener('error', () => es === stream && fallBack());
  }
  open();
  return stop;
}
