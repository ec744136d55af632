import { PGlite, type Transaction } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAutomation, flow } from '../../../src/automations/index.ts';
import { silentLogger } from '../../../src/server/log.ts';
import { pgliteStorage } from '../../../src/server/pglite.ts';
import { postgresStorage } from '../../../src/server/postgres.ts';
import { type ServerAutomations, startServerAutomations } from '../../../src/server/server-automations.ts';
import { type SyncOptions, syncLinks } from '../../../src/server/sync/index.ts';
import type { TaskStorage } from '../../../src/server/storage.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';
import { DATABASE_URL, dropSchema } from '../harness.ts';
import { asUser, body, errorOf, syncApp } from './helpers.ts';

/** Counts the `poke` messages it receives; finishes when told `done`. */
const counter = defineAutomation('Counter', {
  nodes: { wait: flow.execute().asSoonAs((ctx) => ctx.data.done === true), end: flow.end() },
  receivers: {
    poke: (ctx) => {
      ctx.data.pokes = ((ctx.data.pokes as number | undefined) ?? 0) + 1;
      return ctx.data.pokes;
    },
    other: () => 'other',
  },
});

const sync: SyncOptions = {
  automations: { Counter: { start: { schema: z.object({}) }, expose: (data) => ({ pokes: data.pokes ?? 0 }), messages: ['poke', 'other'] } },
};

/** What a lost answer looks like to the server: the commit went through, then the connection died. */
const connectionLost = () => new Error('Connection terminated unexpectedly');

/**
 * A PGlite whose next transaction running a statement that `fault` matches commits, and then
 * fails as if the connection died before the answer came: the case where a client cannot tell.
 */
function lossyPglite(pg: PGlite) {
  let fault: ((text: string, params: unknown[]) => boolean) | null = null;
  const watch = (tx: Transaction, hit: () => void): Transaction =>
    new Proxy(tx, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== 'query' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (text: string, params: unknown[] = []) => {
          if (fault?.(text, params)) hit();
          return (value as Transaction['query']).call(target, text, params);
        };
      },
    });
  const lossy = new Proxy(pg, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop !== 'transaction') return typeof value === 'function' ? value.bind(target) : value;
      return async <T>(work: (tx: Transaction) => Promise<T>) => {
        let hit = false;
        const result = await target.transaction((tx) => work(watch(tx, () => (hit = true))));
        if (hit) {
          fault = null;
          throw connectionLost();
        }
        return result;
      };
    },
  });
  return {
    pg: lossy,
    /** Loses the answer of the next transaction that runs a matching statement. */
    loseAnswerOf(match: (text: string, params: unknown[]) => boolean) {
      fault = match;
    },
  };
}


/**
 * Keys past the retention: a running instance's start key stays; a finished one's is forgotten
 * but its owner still reads it; a deleted instance's links go; message keys go.
 */
async function forgetsKeysPastRetention(fetcher: (request: Request) => Response | Promise<Response>, running: ServerAutomations, sql: (text: string, params?: unknown[]) => Promise<unknown[]>) {
  const user = asUser(fetcher, 'nobody');
  const start = async (key: string) => (await body<{ instance: InstanceStatus }>(await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': key }))).instance.id;
  const [runningId, finishedId, deletedId] = [await start('keep-running'), await start('done'), await start('gone')];
  expect((await user.post(`/automations/instances/${runningId}/messages/poke`, {}, { 'idempotency-key': 'poke-old' })).status).toBe(200);
  await sql('UPDATE wayflow_automation_instances SET finished = true, finished_at = 1 WHERE id = $1', [finishedId]);
  await sql('DELETE FROM wayflow_automation_instances WHERE id = $1', [deletedId]);
  await sql("INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at) VALUES ('user:nobody', 'reserved', 'Counter', NULL, 0)");
  const links = await syncLinks(running.db);
  expect(await links.forgetKeys(0)).toEqual({ starts: 0, messages: 0 });

  expect(await links.forgetKeys(Date.now() + 1)).toEqual({ starts: 3, messages: 1 });
  const again = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'keep-running' });
  expect(again.status).toBe(200);
  expect((await body<{ instance: InstanceStatus }>(again)).instance.id).toBe(runningId);
  expect((await user.get(`/automations/instances/${finishedId}`)).status).toBe(200);
  const afterRetention = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'done' });
  expect(afterRetention.status).toBe(201);
  expect((await body<{ instance: InstanceStatus }>(afterRetention)).instance.id).not.toBe(finishedId);
  expect(await sql('SELECT idempotency_key FROM wayflow_sync_links WHERE instance_id = $1', [deletedId])).toEqual([]);
  const redelivered = await user.post(`/automations/instances/${runningId}/messages/poke`, {}, { 'idempotency-key': 'poke-old' });
  expect((await body<{ result: unknown }>(redelivered)).result).toBe(2);
}

describe('idempotent requests when the answer is lost (PGlite)', () => {
  let pg: PGlite;
  let storage: TaskStorage;
  let running: ServerAutomations;
  let lossy: ReturnType<typeof lossyPglite>;
  let fetcher: (request: Request) => Response | Promise<Response>;
  const sql = async <Row>(text: string) => (await pg.query<Row>(text)).rows;

  beforeAll(async () => {
    pg = await PGlite.create();
    storage = await pgliteStorage({ db: pg });
    lossy = lossyPglite(pg);
    running = await startServerAutomations({ definitions: [counter], database: { kind: 'pglite', pg: lossy.pg }, logger: silentLogger });
    await syncLinks(running.db);
    const app = syncApp(storage, running, sync);
    fetcher = (request) => app.fetch(request);
  });
  beforeEach(() =>
    pg.query('TRUNCATE wayflow_automation_instances, wayflow_automation_history, wayflow_automation_messages, wayflow_sync_links, wayflow_sync_messages'),
  );
  afterAll(async () => {
    await running?.stop();
    await storage?.close();
  });

  it('starts one instance per Idempotency-Key when the start committed but its answer was lost', async () => {
    const user = asUser(fetcher, 'nobody');
    lossy.loseAnswerOf((text) => text.includes('INSERT INTO wayflow_automation_instances'));
    const lost = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'start-1' });
    expect(lost.status).toBe(503);
    expect(lost.headers.get('retry-after')).toBe('1');
    expect((await errorOf(lost)).error.code).toBe('database-unavailable');

    const retry = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'start-1' });
    expect(retry.status).toBe(200);
    const { instance } = await body<{ instance: InstanceStatus }>(retry);
    const rows = await sql<{ id: string }>('SELECT id FROM wayflow_automation_instances');
    expect(rows.map((row) => row.id)).toEqual([instance.id]);
    expect(await sql('SELECT owner, idempotency_key, instance_id FROM wayflow_sync_links')).toEqual([
      { owner: 'user:nobody', idempotency_key: 'start-1', instance_id: instance.id },
    ]);
  });

  it('takes over a start reservation an older version left behind, and makes one instance for it', async () => {
    await pg.query(
      "INSERT INTO wayflow_sync_links (owner, idempotency_key, automation, instance_id, created_at) VALUES ('user:nobody', 'old-1', 'Counter', NULL, 0)",
    );
    const user = asUser(fetcher, 'nobody');
    const first = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'old-1' });
    expect(first.status).toBe(201);
    const again = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'old-1' });
    expect(again.status).toBe(200);
    expect((await body<{ instance: InstanceStatus }>(again)).instance.id).toBe((await body<{ instance: InstanceStatus }>(first)).instance.id);
    expect(await sql('SELECT id FROM wayflow_automation_instances')).toHaveLength(1);
  });

  it('delivers a message once per Idempotency-Key when the delivery committed but its answer was lost', async () => {
    const user = asUser(fetcher, 'nobody');
    const started = await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'start-2' });
    const { id } = (await body<{ instance: InstanceStatus }>(started)).instance;
    lossy.loseAnswerOf((_text, params) => JSON.stringify(params).includes('\\"pokes\\":1'));
    const lost = await user.post(`/automations/instances/${id}/messages/poke`, {}, { 'idempotency-key': 'poke-1' });
    expect(lost.status).toBe(503);
    expect((await errorOf(lost)).error.code).toBe('database-unavailable');

    const retry = await user.post(`/automations/instances/${id}/messages/poke`, {}, { 'idempotency-key': 'poke-1' });
    expect(retry.status).toBe(200);
    const answer = await body<{ result: unknown; instance: InstanceStatus }>(retry);
    expect(answer.result).toBe(1);
    expect(answer.instance.data).toEqual({ pokes: 1 });
    expect((await running.runner.get(id)).data.pokes).toBe(1);

    // Another key is another message.
    const next = await user.post(`/automations/instances/${id}/messages/poke`, {}, { 'idempotency-key': 'poke-2' });
    expect((await body<{ result: unknown }>(next)).result).toBe(2);
  });

  it('refuses a message key used for another message or instance (409), and a malformed key (400)', async () => {
    const user = asUser(fetcher, 'nobody');
    const ids: string[] = [];
    for (const key of ['start-a', 'start-b']) {
      ids.push((await body<{ instance: InstanceStatus }>(await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': key }))).instance.id);
    }
    expect((await user.post(`/automations/instances/${ids[0]}/messages/poke`, {}, { 'idempotency-key': 'm-1' })).status).toBe(200);
    for (const path of [`/automations/instances/${ids[0]}/messages/other`, `/automations/instances/${ids[1]}/messages/poke`]) {
      const reused = await user.post(path, {}, { 'idempotency-key': 'm-1' });
      expect(reused.status).toBe(409);
      expect((await errorOf(reused)).error).toMatchObject({ code: 'idempotency-key-reused', message: expect.stringContaining(`"poke" to instance ${ids[0]}`) });
    }
    const malformed = await user.post(`/automations/instances/${ids[0]}/messages/poke`, {}, { 'idempotency-key': 'a b' });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).error.code).toBe('invalid-idempotency-key');
    expect((await running.runner.get(ids[0]!)).data.pokes).toBe(1);
    expect((await running.runner.get(ids[1]!)).data.pokes).toBeUndefined();
  });

  it('forgets keys past the retention, but never the start key of an unfinished instance', async () => {
    await forgetsKeysPastRetention(fetcher, running, async (text, params) => (await pg.query(text, params)).rows);
  });

  it('delivers every send without a key, as before', async () => {
    const user = asUser(fetcher, 'nobody');
    const { id } = (await body<{ instance: InstanceStatus }>(await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'start-3' }))).instance;
    for (const expected of [1, 2]) expect((await body<{ result: unknown }>(await user.post(`/automations/instances/${id}/messages/poke`, {}))).result).toBe(expected);
  });
});

describe('idempotent requests racing on PostgreSQL', () => {
  const schema = `wayflow_idem_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let storage: TaskStorage;
  let running: ServerAutomations;
  let fetcher: (request: Request) => Response | Promise<Response>;
  beforeAll(async () => {
    storage = await postgresStorage({ connectionString: DATABASE_URL, schema });
    running = await startServerAutomations({ definitions: [counter], database: { kind: 'postgresql', connectionString: DATABASE_URL, schema }, logger: silentLogger });
    const app = syncApp(storage, running, sync);
    fetcher = (request) => app.fetch(request);
  });
  afterAll(async () => {
    await running?.stop();
    await storage?.close();
    await dropSchema(schema);
  });

  it('answers concurrent starts with one key with one instance: the first 201, the others 200, none 409', async () => {
    const user = asUser(fetcher, 'nobody');
    const answers = await Promise.all(Array.from({ length: 8 }, () => user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'race-1' })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(await Promise.all(answers.map(async (answer) => (await body<{ instance: InstanceStatus }>(answer)).instance.id)));
    expect(ids.size).toBe(1);
    expect(await running.runner.list({ automation: 'Counter' })).toHaveLength(1);
  });

  it('forgets keys past the retention, but never the start key of an unfinished instance', async () => {
    await forgetsKeysPastRetention(fetcher, running, (text, params) => running.db.query(text, params));
  });

  it('delivers concurrent sends with one key once', async () => {
    const user = asUser(fetcher, 'nobody');
    const { id } = (await body<{ instance: InstanceStatus }>(await user.post('/automations/start/Counter', { input: {} }, { 'idempotency-key': 'race-2' }))).instance;
    const answers = await Promise.all(Array.from({ length: 8 }, () => user.post(`/automations/instances/${id}/messages/poke`, {}, { 'idempotency-key': 'race-poke' })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    for (const answer of answers) expect((await body<{ result: unknown }>(answer)).result).toBe(1);
    expect((await running.runner.get(id)).data.pokes).toBe(1);
  });
});
