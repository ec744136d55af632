import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/server/log.ts';
import { postgresStorage } from '../../../src/server/postgres.ts';
import { type ServerAutomations, startServerAutomations } from '../../../src/server/server-automations.ts';
import type { TaskStorage } from '../../../src/server/storage.ts';
import { DATABASE_URL } from '../harness.ts';
import { asSession, definitions, startOrder, syncApp, syncOptions } from './helpers.ts';

const SCHEMA = `wayflow_start_cap_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const CAP = 3;
/** Two server processes on one PostgreSQL schema, each with its own pools. */
const processes: { storage: TaskStorage; running: ServerAutomations }[] = [];
const shutdown = new AbortController();

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const storage = await postgresStorage({ connectionString: DATABASE_URL, schema: SCHEMA });
    const running = await startServerAutomations({ definitions, database: { kind: 'postgresql', connectionString: DATABASE_URL, schema: SCHEMA }, logger: silentLogger });
    processes.push({ storage, running });
  }
});
afterAll(async () => {
  shutdown.abort();
  for (const { storage, running } of processes) {
    await running.stop();
    await storage.close();
  }
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
});

describe('the per-session instance cap across server processes', () => {
  it('lets exactly one of two concurrent starts at cap - 1 through, whichever processes take them', async () => {
    const [one, two] = processes.map(({ storage, running }) => syncApp(storage, running, syncOptions, { limits: { instancesPerCaller: CAP }, signal: shutdown.signal }));
    for (let round = 0; round < 5; round++) {
      // One browser session whose requests alternate between the two processes (they share the cookie secret).
      let turn = 0;
      const shopper = asSession((request) => (turn++ % 2 === 0 ? one!.fetch(request) : two!.fetch(request)));
      for (let started = 0; started < CAP - 1; started++) await startOrder(shopper);
      const racing = await Promise.all(['left', 'right'].map((side) => shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } }, { 'idempotency-key': `${side}-${round}` })));
      expect(racing.map((response) => response.status).sort()).toEqual([201, 429]);
      // A retry of the start that got through is answered with its instance, though the session is at its cap now.
      const winner = racing.findIndex((response) => response.status === 201);
      const retry = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } }, { 'idempotency-key': `${winner === 0 ? 'left' : 'right'}-${round}` });
      expect(retry.status).toBe(200);
    }
  });
});
