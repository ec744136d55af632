import { describe, expect, it } from 'vitest';
import { resolveTestDatabase, SYSTEM_POSTGRES_URL } from './test-database.mjs';

/** The resolver with servers that answer (with a version) only at `answering`, and an embedded cluster that records its start and stop. */
function resolveWith(env: Record<string, string>, answering: Record<string, string>, options: { durable?: boolean; loopbackOnly?: boolean } = {}) {
  const events: string[] = [];
  const resolved = resolveTestDatabase({
    env,
    ...options,
    probe: async (url) => {
      events.push(`probe ${url}`);
      if (answering[url]) return answering[url]!;
      throw new Error('connect ECONNREFUSED');
    },
    startEmbedded: async ({ durable }) => {
      events.push(durable ? 'start embedded, durable' : 'start embedded');
      return { url: 'postgres://postgres@127.0.0.1:40000/postgres', port: 40000, version: '18.4', stop: async () => void events.push('stop embedded') };
    },
  });
  return { resolved, events };
}

describe('resolveTestDatabase', () => {
  it('uses WAYFLOW_TEST_DATABASE_URL, then DATABASE_URL, when set', async () => {
    const url = 'postgres://me:secret@db.local:5433/mine';
    const { resolved, events } = resolveWith({ WAYFLOW_TEST_DATABASE_URL: url, DATABASE_URL: 'postgres://other/x' }, { [url]: '16.2' });
    const database = await resolved;
    expect(database).toMatchObject({ source: 'given', url, version: '16.2', description: 'PostgreSQL 16.2 (WAYFLOW_TEST_DATABASE_URL, db.local:5433/mine)' });
    await database.stop();
    expect(events).toEqual([`probe ${url}`]);
    expect(await resolveWith({ DATABASE_URL: url }, { [url]: '16.2' }).resolved).toMatchObject({ url, description: expect.stringContaining('(DATABASE_URL,') });
  });

  it('refuses a given database that does not answer rather than using another, naming it without its password', async () => {
    const failure = resolveWith({ DATABASE_URL: 'postgres://me:secret@db.local:5433/mine' }, { [SYSTEM_POSTGRES_URL]: '15.14' }).resolved;
    await expect(failure).rejects.toMatchObject({ name: 'TestEnvironmentError', code: 'test-database-unreachable', message: expect.stringContaining('DATABASE_URL names db.local:5433/mine') });
    await expect(failure).rejects.not.toMatchObject({ message: expect.stringContaining('secret') });
  });

  it('refuses, for benchmarks, a given database away from this machine, before connecting to it', async () => {
    const url = 'postgres://me@db.example.com:5432/prod';
    const { resolved, events } = resolveWith({ DATABASE_URL: url }, { [url]: '16.2' }, { loopbackOnly: true });
    await expect(resolved).rejects.toMatchObject({ code: 'test-database-not-loopback', message: expect.stringContaining('db.example.com:5432/prod') });
    expect(events).toEqual([]);
    const local = 'postgres://me@localhost:5433/bench';
    expect(await resolveWith({ DATABASE_URL: local }, { [local]: '16.2' }, { loopbackOnly: true }).resolved).toMatchObject({ source: 'given', url: local });
  });

  it('uses PostgreSQL on 127.0.0.1:5432 when it answers', async () => {
    const { resolved, events } = resolveWith({}, { [SYSTEM_POSTGRES_URL]: '15.14' });
    expect(await resolved).toMatchObject({ source: 'system', url: SYSTEM_POSTGRES_URL, description: 'PostgreSQL 15.14 (system, 127.0.0.1:5432/test)' });
    expect(events).toEqual([`probe ${SYSTEM_POSTGRES_URL}`]);
  });

  it('starts an embedded cluster when 127.0.0.1:5432 does not answer, says why, and stops it', async () => {
    const { resolved, events } = resolveWith({}, {});
    const database = await resolved;
    expect(database).toMatchObject({ source: 'embedded', url: 'postgres://postgres@127.0.0.1:40000/postgres', version: '18.4' });
    expect(database.description).toBe('PostgreSQL 18.4 (embedded, a throwaway cluster on 127.0.0.1:40000, fsync off; 127.0.0.1:5432/test did not answer: connect ECONNREFUSED)');
    await database.stop();
    expect(events).toEqual([`probe ${SYSTEM_POSTGRES_URL}`, 'start embedded', 'stop embedded']);
  });

  it('starts an embedded cluster when WAYFLOW_TEST_POSTGRES=embedded, without asking any other server', async () => {
    const { resolved, events } = resolveWith({ WAYFLOW_TEST_POSTGRES: 'embedded', DATABASE_URL: SYSTEM_POSTGRES_URL }, { [SYSTEM_POSTGRES_URL]: '15.14' });
    expect(await resolved).toMatchObject({ source: 'embedded', description: expect.stringContaining('forced by WAYFLOW_TEST_POSTGRES=embedded') });
    expect(events).toEqual(['start embedded']);
  });

  it('starts a durable cluster for benchmarks, and says so by not saying fsync off', async () => {
    const { resolved, events } = resolveWith({ WAYFLOW_TEST_POSTGRES: 'embedded' }, {}, { durable: true });
    expect((await resolved).description).toBe('PostgreSQL 18.4 (embedded, a throwaway cluster on 127.0.0.1:40000; forced by WAYFLOW_TEST_POSTGRES=embedded)');
    expect(events).toEqual(['start embedded, durable']);
  });

  it('refuses an unknown WAYFLOW_TEST_POSTGRES value', async () => {
    await expect(resolveWith({ WAYFLOW_TEST_POSTGRES: 'system' }, {}).resolved).rejects.toMatchObject({ code: 'test-postgres-value', message: expect.stringContaining('"system"') });
  });
});
