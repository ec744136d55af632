import pg from 'pg';
import { connectionSettings } from '../postgres.ts';

/** A LISTEN connection for due-time notifications; `close` ends it. */
export interface DueTimeListener {
  close(): Promise<void>;
}

/**
 * Listens on PostgreSQL for the NOTIFY the SQL storage sends when a commit sets an earlier
 * due time of an instance or a flow run (`storage.channel`; one or several channels on one
 * connection), calling `onDue(dueAt, channel)`. After a lost
 * connection it reconnects for as long as it takes, soon at first (25 ms, doubling up to
 * `retryMs`, default 250 ms), calling `onError` once per loss and `onReconnect` when it
 * listens again (notifications sent meanwhile are lost: look at the database then).
 */
export async function listenForDueTimes(options: {
  connectionString: string;
  channel: string | readonly string[];
  onDue: (dueAt: number, channel: string) => void;
  onError?: (error: unknown) => void;
  onReconnect?: () => void;
  retryMs?: number;
}): Promise<DueTimeListener> {
  const channels: readonly string[] = typeof options.channel === 'string' ? [options.channel] : options.channel;
  const maxRetryMs = options.retryMs ?? 250;
  let closed = false;
  let client: pg.Client | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  /** Failed attempts since the connection was lost: the next one waits longer. */
  let attempts = 0;
  const connect = async (initial: boolean): Promise<void> => {
    const next = new pg.Client({ connectionString: options.connectionString, ...connectionSettings() });
    let listening = false;
    const lost = (error?: unknown) => {
      if (client !== next) return;
      client = null;
      next.end().catch(() => undefined);
      if (listening) options.onError?.(error ?? new Error('The LISTEN connection was closed by the server.'));
      if (closed) return;
      retry = setTimeout(() => void connect(false), Math.min(maxRetryMs, 25 * 2 ** attempts));
      attempts += 1;
    };
    client = next;
    next.on('error', lost);
    next.on('end', () => lost());
    next.on('notification', (message) => {
      const dueAt = Number(message.payload);
      if (channels.includes(message.channel) && Number.isFinite(dueAt)) options.onDue(dueAt, message.channel);
    });
    try {
      await next.connect();
      for (const channel of channels) await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (error) {
      if (initial) throw error;
      lost(error);
      return;
    }
    if (client !== next) return;
    listening = true;
    attempts = 0;
    if (!initial) options.onReconnect?.();
  };
  try {
    await connect(true);
  } catch (error) {
    // The first connection failing is the caller's error to handle: no retries behind its back.
    closed = true;
    clearTimeout(retry);
    await (client as pg.Client | null)?.end().catch(() => undefined);
    throw error;
  }
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
