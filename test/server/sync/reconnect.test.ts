import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openAutomationDatabase, openAutomationRuntime } from '../../../src/server/automations/index.ts';
import { silentLogger } from '../../../src/server/log.ts';
import { openPglite, pgliteDatabase, pgliteStorage } from '../../../src/server/pglite.ts';
import { postgresStorage } from '../../../src/server/postgres.ts';
import type { ServerLimits } from '../../../src/server/limits.ts';
import { serveTasks } from '../../../src/server/serve.ts';
import { startServerAutomations } from '../../../src/server/server-automations.ts';
import type { SyncOptions } from '../../../src/server/sync/index.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';
import { DATABASE_URL, dropSchema } from '../harness.ts';
import { authenticate, definitions, type SseEvent, sseReader, syncOptions } from './helpers.ts';

type Where = { kind: 'pglite'; dir: string } | { kind: 'postgresql'; schema: string };

/** One `wayflow serve --automations`-like server process on the database. */
async function startServer(where: Where, sync: SyncOptions = syncOptions, limits: Partial<ServerLimits> = {}) {
  const pg = where.kind === 'pglite' ? await openPglite(where.dir) : null;
  const storage = pg ? await pgliteStorage({ db: pg }) : await postgresStorage({ connectionString: DATABASE_URL, schema: (where as { schema: string }).schema });
  const running = await startServerAutomations({
    definitions,
    logger: silentLogger,
    database: pg ? { kind: 'pglite', pg } : { kind: 'postgresql', connectionString: DATABASE_URL, schema: (where as { schema: string }).schema },
  });
  const server = await serveTasks({ storage, port: 0, logger: silentLogger, authenticate, automations: { running, sync }, limits });
  return {
    url: server.url,
    async close() {
      await running.stop();
      await server.close();
    },
  };
}

/** Another process moving the instance on: approves its form with a runner of its own. */
async function approveElsewhere(where: Where, instanceId: string, taskId: number) {
  const db = where.kind === 'pglite' ? pgliteDatabase(await openPglite(where.dir)) : (await openAutomationDatabase({ databaseUrl: DATABASE_URL, schema: where.schema })).db;
  const runtime = await openAutomationRuntime({ db, kind: where.kind, automations: definitions, flows: [] });
  try {
    await runtime.automations!.runner.submitForm(instanceId, { taskId }, { id: 'bo', groups: ['backoffice'] }, { decision: 'approve', note: 'Approved while you were away' });
  } finally {
    await runtime.close();
  }
}

/** A browser: keeps the session cookie across servers (the session secret lives in the database). */
function browser() {
  let cookie: string | null = null;
  return async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    if (init.method === 'POST') {
      headers.set('origin', new URL(url).origin);
      headers.set('content-type', 'application/json');
    }
    const response = await fetch(url, { ...init, headers });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return response;
  };
}

async function reconnectScenario(where: Where) {
  const client = browser();
  let server = await startServer(where);
  try {
    const started = await client(`${server.url}/automations/start/SyncOrder`, {
      method: 'POST',
      headers: { 'idempotency-key': 'reconnect-1' },
      body: JSON.stringify({ input: { item: 'book', qty: 1 } }),
    });
    expect(started.status).toBe(201);
    const instance = ((await started.json()) as { instance: InstanceStatus }).instance;
    const events = sseReader(await client(`${server.url}/automations/instances/${instance.id}/events`));
    const first = await events.next();
    expect(first).toMatchObject({ event: 'status', id: instance.version });
    const lastEventId = first!.id!;

    // The server goes away: the stream ends (the client would now retry).
    await server.close();
    expect(await events.next()).toBeNull();

    // Meanwhile the automation moves on and sends its browser message.
    await approveElsewhere(where, instance.id, instance.forms[0]!.taskId);

    server = await startServer(where);
    const retried = await client(`${server.url}/automations/start/SyncOrder`, {
      method: 'POST',
      headers: { 'idempotency-key': 'reconnect-1' },
      body: JSON.stringify({ input: { item: 'book', qty: 1 } }),
    });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { instance: InstanceStatus }).instance.id).toBe(instance.id);

    const resumed = sseReader(await client(`${server.url}/automations/instances/${instance.id}/events`, { headers: { 'last-event-id': lastEventId } }));
    const caughtUp = await resumed.next();
    expect(caughtUp?.event).toBe('status');
    const status = JSON.parse(caughtUp!.data!) as InstanceStatus;
    expect(caughtUp!.id).toBe(status.version);
    expect(status).toMatchObject({ id: instance.id, status: 'finished', nodes: [], forms: [] });
    expect(status.messages).toEqual([{ seq: expect.any(Number), message: 'approved', payload: { note: 'Approved while you were away' }, at: expect.any(Number) }]);
    expect(await resumed.next()).toMatchObject({ event: 'end' } satisfies SseEvent);
    expect(await resumed.next()).toBeNull();
  } finally {
    await server.close();
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('reconnecting event streams', () => {
  it('PGlite: a client that reconnects to a restarted server with Last-Event-ID gets the current status with every browser message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-sync-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await reconnectScenario({ kind: 'pglite', dir });
    // Three PGlite starts on one folder (server, another process, server again): seconds each on a busy machine.
  }, 60_000);

  it('PostgreSQL: the same, server processes on one schema', async () => {
    const schema = `wayflow_sync_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    cleanups.push(() => dropSchema(schema));
    await reconnectScenario({ kind: 'postgresql', schema });
  });

  it('PostgreSQL: a watching client sees another process approve the form (polling), and a dropped connection frees its stream slot', async () => {
    const schema = `wayflow_sync_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    cleanups.push(() => dropSchema(schema));
    const where: Where = { kind: 'postgresql', schema };
    const server = await startServer(where, { ...syncOptions, pollMs: 100 }, { streamsPerCaller: 1 });
    const client = browser();
    try {
      const started = await client(`${server.url}/automations/start/SyncOrder`, {
        method: 'POST',
        headers: { 'idempotency-key': crypto.randomUUID() },
        body: JSON.stringify({ input: { item: 'pen', qty: 3 } }),
      });
      const instance = ((await started.json()) as { instance: InstanceStatus }).instance;
      const events = sseReader(await client(`${server.url}/automations/instances/${instance.id}/events`));
      await events.status();
      await approveElsewhere(where, instance.id, instance.forms[0]!.taskId);
      let status = await events.status(2000);
      while (status.status !== 'finished') status = await events.status(2000);
      expect(status.messages.map((m) => m.message)).toEqual(['approved']);
      expect(await events.next()).toMatchObject({ event: 'end' });

      // One slot per session; a finished instance ends its stream at once, so watch a running one.
      const second = await client(`${server.url}/automations/start/SyncOrder`, {
        method: 'POST',
        headers: { 'idempotency-key': crypto.randomUUID() },
        body: JSON.stringify({ input: { item: 'cup', qty: 1 } }),
      });
      const running = ((await second.json()) as { instance: InstanceStatus }).instance;
      const watching = new AbortController();
      const stream = await client(`${server.url}/automations/instances/${running.id}/events`, { signal: watching.signal });
      expect(stream.status).toBe(200);
      const refused = await client(`${server.url}/automations/instances/${running.id}/events`);
      expect(refused.status).toBe(429);
      watching.abort();
      await vi.waitFor(
        async () => {
          const again = await client(`${server.url}/automations/instances/${running.id}/events`);
          expect(again.status).toBe(200);
          await again.body?.cancel();
        },
        { timeout: 3000, interval: 50 },
      );
      // The back office approves the second order through the API.
      const form = await fetch(`${server.url}/automations/forms/${running.id}/${running.forms[0]!.taskId}`, {
        method: 'POST',
        headers: { authorization: 'Bearer bo', 'content-type': 'application/json' },
        body: JSON.stringify({ input: { decision: 'approve', note: 'ok' } }),
      });
      expect(form.status).toBe(200);
      expect(((await form.json()) as { instance: InstanceStatus }).instance).toMatchObject({ status: 'finished', messages: [{ message: 'approved', payload: { note: 'ok' } }] });
      const dashboard = await fetch(`${server.url}/automations/dashboard`, { headers: { authorization: 'Bearer viewer' } });
      expect(((await dashboard.json()) as { dashboard: { automations: { name: string; finished: number }[] } }).dashboard.automations[0]).toMatchObject({ name: 'SyncOrder', finished: 2 });
    } finally {
      await server.close();
    }
  });
});
