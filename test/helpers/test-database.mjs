import { serverVersion, startEmbeddedPostgres } from './embedded-postgres.mjs';
import { TestEnvironmentError } from './environment-error.mjs';

/** The PostgreSQL a developer machine or CI usually has: the `test` database on 127.0.0.1:5432. */
export const SYSTEM_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/** Where a database URL points, without the user or password. */
export function databaseAddress(url) {
  const { host, pathname } = new URL(url);
  return `${host}${pathname}`;
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
 */
export async function resolveTestDatabase({ env = process.env, durable = false, loopbackOnly = false, probe = serverVersion, startEmbedded = startEmbeddedPostgres } = {}) {
  const forced = env.WAYFLOW_TEST_POSTGRES || undefined;
  if (forced !== undefined && forced !== 'embedded') {
    throw new TestEnvironmentError(
      'test-postgres-value',
      `WAYFLOW_TEST_POSTGRES is "${forced}", but its one value is "embedded" (start a throwaway cluster even when another PostgreSQL answers): fix it, or unset it to let the set-up choose.`,
    );
  }
  let why = 'forced by WAYFLOW_TEST_POSTGRES=embedded';
  if (!forced) {
    const variable = env.WAYFLOW_TEST_DATABASE_URL ? 'WAYFLOW_TEST_DATABASE_URL' : env.DATABASE_URL ? 'DATABASE_URL' : undefined;
    if (variable) {
      const url = env[variable];
      if (loopbackOnly && !LOOPBACK.includes(new URL(url).hostname)) {
        throw new TestEnvironmentError('test-database-not-loopback', `${variable} names ${databaseAddress(url)}, but benchmarks only talk to a database on this machine (127.0.0.1, localhost or [::1]): point it at one, or unset it.`);
      }
      const version = await probe(url).catch((cause) => {
        throw new TestEnvironmentError(
          'test-database-unreachable',
          `${variable} names ${databaseAddress(url)}, which does not answer (${cause.message}): start that server, fix the URL, or unset ${variable} to let the set-up find or start one.`,
          { cause },
        );
      });
      return { source: 'given', url, version, description: `PostgreSQL ${version} (${variable}, ${databaseAddress(url)})`, stop: async () => undefined };
    }
    try {
      const version = await probe(SYSTEM_POSTGRES_URL);
      return { source: 'system', url: SYSTEM_POSTGRES_URL, version, description: `PostgreSQL ${version} (system, ${databaseAddress(SYSTEM_POSTGRES_URL)})`, stop: async () => undefined };
    } catch (error) {
      why = `${databaseAddress(SYSTEM_POSTGRES_URL)} did not answer: ${error.message}`;
    }
  }
  const cluster = await startEmbedded({ durable });
  return {
    source: 'embedded',
    url: cluster.url,
    version: cluster.version,
    description: `PostgreSQL ${cluster.version} (embedded, a throwaway cluster on 127.0.0.1:${cluster.port}${durable ? '' : ', fsync off'}; ${why})`,
    stop: () => cluster.stop(),
  };
}
