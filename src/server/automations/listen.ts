import pg from 'pg';

/** A LISTEN connection for due-time notifications; `close` ends it. */
export interface DueTimeListener {
  close(): Promise<void>;
}

/**
 * Listens on PostgreSQL for the NOTIFY the SQL automation storage and flow run store send
 * when a commit sets an earlier due time (`storage.channel`, `flowStore.channel`; one or
 * several channels on one connection), calling `onDue(dueAt, channel)`. Reconnects after a
 * lost connection (every `retryMs`, default 1000); meanwhile the scheduler still wakes by itself.
 */
export async function listenForDueTimes(options: {
  connectionString: string;
  channel: string | readonly string[];
  onDue: (dueAt: number, channel: string) => void;
  onError?: (error: unknown) => void;
  retryMs?: number;
}): Promise<DueTimeListener> {
  const channels: readonly string[] = typeof options.channel === 'string' ? [options.channel] : options.channel;
  let closed = false;
  let client: pg.Client | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = async (initial: boolean): Promise<void> => {
    const next = new pg.Client({ connectionString: options.connectionString });
    const lost = (error?: unknown) => {
      if (client !== next) return;
      client = null;
      if (error !== undefined) options.onError?.(error);
      next.end().catch(() => undefined);
      if (!closed) retry = setTimeout(() => void connect(false), options.retryMs ?? 1000);
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
    }
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
