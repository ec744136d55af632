import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from './embedded-postgres.mjs';

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
});
