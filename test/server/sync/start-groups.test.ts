import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/server/log.ts';
import { pgliteStorage } from '../../../src/server/pglite.ts';
import { postgresStorage } from '../../../src/server/postgres.ts';
import { type ServerAutomations, startServerAutomations } from '../../../src/server/server-automations.ts';
import { syncLinks } from '../../../src/server/sync/index.ts';
import type { TaskStorage } from '../../../src/server/storage.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';
import { DATABASE_URL, dropSchema } from '../harness.ts';
import { asSession, body, definitions, startOrder, syncApp, syncOptions } from './helpers.ts';

const CAP = 3;

/** The task storage and the automations of one server, on PGlite or on a PostgreSQL schema of its own. */
async function pgliteServer() {
  const pg = await PGlite.create();
  const storage = await pgliteStorage({ db: pg });
  const running = await startServerAutomations({ definitions, database: { kind: 'pglite', pg }, logger: silentLogger });
  return { storage, running, close: async () => undefined };
}
async function postgresServer() {
  const schema = `wayflow_start_groups_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const storage = await postgresStorage({ connectionString: DATABASE_URL, schema });
  const running = await startServerAutomations({ definitions, database: { kind: 'postgresql', connectionString: DATABASE_URL, schema }, logger: silentLogger });
  return { storage, running, close: () => dropSchema(schema) };
}

describe.each([
  ['PGlite', pgliteServer],
  ['PostgreSQL', postgresServer],
])('starts grouped in one transaction on %s', (_name, open) => {
  let server: { storage: TaskStorage; running: ServerAutomations; close(): Promise<void> };
  let app: ReturnType<typeof syncApp>;
  const shutdown = new AbortController();
  const fetcher = (request: Request) => app.fetch(request);
  beforeAll(async () => {
    server = await open();
    await syncLinks(server.running.db);
    app = syncApp(server.storage, server.running, syncOptions, { limits: { instancesPerCaller: CAP }, signal: shutdown.signal });
  });
  afterAll(async () => {
    shutdown.abort();
    await server?.running.stop();
    await server?.storage.close();
    await server?.close();
  });
  beforeEach(() => server.running.db.query('TRUNCATE wayflow_automation_instances, wayflow_automation_history, wayflow_automation_open_forms, wayflow_sync_links'));

  const post = (client: ReturnType<typeof asSession>, key: string, item = 'book') => client.post('/automations/start/SyncOrder', { input: { item, qty: 1 } }, { 'idempotency-key': key });
  /** Calls of `runner.createGroup` while `work` runs, by how many starts each held, and the calls of `runner.create` (a start run again alone; a group of one is a `createGroup` call). */
  const groupSizes = async <T>(work: () => Promise<T>): Promise<{ result: T; sizes: number[]; alone: number }> => {
    const groups = vi.spyOn(server.running.runner, 'createGroup');
    const creates = vi.spyOn(server.running.runner, 'create');
    try {
      const result = await work();
      return { result, sizes: groups.mock.calls.map(([starts]) => starts.length), alone: creates.mock.calls.length };
    } finally {
      groups.mockRestore();
      creates.mockRestore();
    }
  };

  it('keeps the per-session cap exact among concurrent starts of one session in one group', async () => {
    const shopper = asSession(fetcher);
    await startOrder(shopper);
    const { result, sizes, alone } = await groupSizes(() => Promise.all(Array.from({ length: 6 }, (_, i) => post(shopper, `race-${i}`))));
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    // The starts refused at the cap wrote nothing: they leave their group, which commits the others without running any again.
    expect(sizes.reduce((a, b) => a + b, 0) + alone).toBe(6);
    expect(result.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429, 429]);
    const [row] = await server.running.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_automation_instances');
    expect(row?.n).toBe(CAP);
  });

  it('answers each start of a group as it would be answered alone: refused at the cap, a retry, a start the database refuses, the others started', async () => {
    const full = asSession(fetcher);
    for (let i = 0; i < CAP; i++) await startOrder(full);
    const retried = asSession(fetcher);
    const earlier = await startOrder(retried, 'first');
    // Below its cap whatever the order: when the group runs again alone, its starts race for the caller's lock, and one at the cap would make the answers depend on that order.
    const plain = asSession(fetcher);
    // Alone, a start whose data PostgreSQL cannot store (\u0000 in text) fails with this status.
    const unstorableAlone = (await post(plain, 'nul-alone', 'nul \u0000 here')).status;
    expect(unstorableAlone).toBeGreaterThanOrEqual(500);
    const { result, sizes } = await groupSizes(() =>
      Promise.all([post(plain, 'a'), post(full, 'over'), post(retried, 'first'), post(plain, 'nul', 'nul \u0000 here'), post(retried, 'second'), post(plain, 'b')]),
    );
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(result.map((r) => r.status)).toEqual([201, 429, 200, unstorableAlone, 201, 201]);
    expect((await body<{ instance: InstanceStatus }>(result[2]!)).instance.id).toBe(earlier.id);
    for (const i of [0, 4, 5]) {
      const { instance } = await body<{ instance: InstanceStatus }>(result[i]!);
      expect((await (i === 4 ? retried : plain).get(`/automations/instances/${instance.id}`)).status).toBe(200);
    }
    const [row] = await server.running.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_automation_instances');
    expect(row?.n).toBe(CAP + 2 + 2);
  });
});
