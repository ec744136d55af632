import { createServer, type Server, type Socket, connect } from 'node:net';

/** A TCP proxy in front of a database: `cut()` is an outage as clients see it, without touching the database. */
export interface DatabaseProxy {
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  url(databaseUrl: string): string;
  /** Drops every open connection and refuses new ones (ECONNREFUSED) until `restore()`. */
  cut(): Promise<void>;
  /**
   * A black-holed database: open connections go silent (nothing forwarded either way) and new
   * ones are accepted but never answered, as when a firewall drops packets. `restore()` ends it,
   * dropping the silenced connections.
   */
  blackHole(): void;
  /** Accepts and forwards connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

const listen = (server: Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });

/**
 * Starts a proxy to the database of `databaseUrl` on a free port of 127.0.0.1.
 * @example
 * const proxy = await databaseProxy(DATABASE_URL);
 * const storage = await postgresStorage({ connectionString: proxy.url(DATABASE_URL) });
 * await proxy.cut(); // requests now fail as if the database were down
 */
export async function databaseProxy(databaseUrl: string): Promise<DatabaseProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  let silent = false;
  const server = createServer((client) => {
    if (silent) {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => client.destroy());
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const port = await listen(server, 0);
  let up = true;
  const cut = async () => {
    if (!up) return;
    up = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    dropAll();
    await closed;
  };
  return {
    url(url) {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(port);
      return proxied.toString();
    },
    cut,
    blackHole() {
      silent = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    async restore() {
      if (silent) {
        silent = false;
        dropAll();
      }
      if (up) return;
      await listen(server, port);
      up = true;
    },
    close: cut,
  };
}
