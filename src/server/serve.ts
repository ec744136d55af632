import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type AppOptions, createApp, notFoundJson } from './app.ts';
import { jsonLogger } from './log.ts';
import { defaultAllowedHosts } from './proxy.ts';
import type { ServerAutomations } from './server-automations.ts';
import { withStaticFiles } from './static.ts';
import { DEFAULT_IDEMPOTENCY_RETENTION_MS, type KeySweep, startSweeper } from './sweeper.ts';
import { type SyncLinks, syncLinks } from './sync/links.ts';

/** How long `close()` lets requests in flight finish before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 3000;

/** `createApp` options plus where to listen (on loopback, `allowedHosts` defaults to the loopback names). */
export interface ServeOptions extends AppOptions {
  /** TCP port (default 8787; 0 picks a free one). */
  port?: number;
  /** Interface to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** How often expired tasks are swept (default 60 s). */
  sweepIntervalMs?: number;
  /**
   * With `automations`: how long the sync API remembers an `Idempotency-Key` (default 7 days,
   * `DEFAULT_IDEMPOTENCY_RETENTION_MS`); the sweep forgets older ones, except the start key of
   * an unfinished instance.
   */
  idempotencyRetentionMs?: number;
  /** How long the outcome of a deleted task is kept for funnels (default 400 days, `DEFAULT_OUTCOME_RETENTION_MS`); the sweep forgets older ones. */
  outcomeRetentionMs?: number;
  /**
   * A folder of static files (e.g. the built demo) served beside the API; other GET requests for
   * HTML get its `index.html`, so a single-page app's deep links load. Dotfiles are never served.
   */
  staticDir?: string;
}

/**
 * A listening server; `close` ends open automation event streams, stops accepting requests,
 * stops the sweeper and closes the storage (the automations are the caller's to stop).
 */
export interface RunningServer {
  url: string;
  port: number;
  /** The automations running in this process (`wayflow serve --automations`, or `ServeOptions.automations`), if any. */
  automations?: ServerAutomations;
  close(): Promise<void>;
}

/** The sweep of the sync API's idempotency keys in `db`, opening its tables on first use (again after a failed open). */
function keySweep(db: Parameters<typeof syncLinks>[0], retentionMs = DEFAULT_IDEMPOTENCY_RETENTION_MS): KeySweep {
  let opened: Promise<SyncLinks> | undefined;
  const links = () => {
    opened ??= syncLinks(db).catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return { links, retentionMs };
}

/**
 * Serves the tasks API over HTTP on Node with a periodic sweep of expired tasks.
 * @example
 * const server = await serveTasks({ storage: await pgliteStorage({ dataDir: '.wayflow' }), port: 8787 });
 */
export async function serveTasks(options: ServeOptions): Promise<RunningServer> {
  const logger = options.logger ?? jsonLogger();
  // Ends the automation event streams on close: an open stream would keep server.close() waiting.
  const shutdown = new AbortController();
  options.signal?.addEventListener('abort', () => shutdown.abort(), { once: true });
  const hostname = options.hostname ?? '127.0.0.1';
  const allowedHosts = options.allowedHosts === undefined ? defaultAllowedHosts(hostname) : options.allowedHosts;
  const api = createApp({ ...options, allowedHosts, logger, signal: shutdown.signal, sessionOnPages: options.sessionOnPages ?? Boolean(options.staticDir) });
  // Static files only where no API route matched; without them the API app answers unknown routes itself.
  const root = options.staticDir ? withStaticFiles(api, options.staticDir, notFoundJson) : api;
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch: root.fetch, port: options.port ?? 8787, hostname }, (info: AddressInfo) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
  const sweeper = startSweeper({
    storage: options.storage,
    intervalMs: options.sweepIntervalMs ?? 60_000,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.outcomeRetentionMs !== undefined ? { outcomeRetentionMs: options.outcomeRetentionMs } : {}),
    ...(options.automations ? { keys: keySweep(options.automations.running.db, options.idempotencyRetentionMs) } : {}),
  });
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  logger({ level: 'info', msg: 'listening', url });
  return {
    url,
    port,
    ...(options.automations ? { automations: options.automations.running } : {}),
    async close() {
      shutdown.abort();
      // Ended event streams leave keep-alive connections that become idle only after close() began: close them as they do.
      const idle = setInterval(() => {
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }, 25);
      // A request still running after the grace period (e.g. a reconnect landing mid-shutdown) is cut off: close() never hangs.
      const deadline = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      await new Promise<void>((resolve) => server.close(() => resolve())).finally(() => {
        clearInterval(idle);
        clearTimeout(deadline);
      });
      await sweeper.stop();
      await options.storage.close();
    },
  };
}
