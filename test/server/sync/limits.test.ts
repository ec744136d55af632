import { afterAll, describe, expect, it } from 'vitest';
import type { AppOptions } from '../../../src/server/app.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';
import { asSession, asUser, body, errorOf, sseReader, startOrder, syncApp, syncOptions, syncTestEnv } from './helpers.ts';

const env = syncTestEnv({ app: {} });
const shutdown = new AbortController();
afterAll(() => shutdown.abort());

/** The sync app with `limits`, behind one trusted proxy (so a test can speak from several addresses). */
const appWith = (limits: AppOptions['limits']) => {
  const app = syncApp(env.storage, env.running, syncOptions, { trustProxy: 1, limits, signal: shutdown.signal });
  return (request: Request) => app.fetch(request);
};

async function expectTooMany(response: Response, code: string) {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect((await errorOf(response)).error.code).toBe(code);
}

describe('instances started per session', () => {
  it('refuses a start past the cap with 429 and Retry-After; a finished instance frees its place', async () => {
    const fetcher = appWith({ instancesPerCaller: 2 });
    const shopper = asSession(fetcher);
    const first = await startOrder(shopper, 'first');
    await startOrder(shopper);
    const refused = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } }, { 'idempotency-key': 'third' });
    await expectTooMany(refused, 'too-many-instances');
    expect(await env.running.runner.list({ automation: 'SyncOrder' })).toHaveLength(2);
    // At the cap, a retry of an answered start still gets its instance.
    const retry = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 2 } }, { 'idempotency-key': 'first' });
    expect(retry.status).toBe(200);
    expect((await body<{ instance: InstanceStatus }>(retry)).instance.id).toBe(first.id);
    // Another session has its own allowance.
    await startOrder(asSession(fetcher));
    // The first instance finishes once its form is approved.
    const approved = await asUser(fetcher, 'bo').post(`/automations/forms/${first.id}/${first.forms[0]!.taskId}`, { input: { decision: 'approve', note: 'ok' } });
    expect((await body<{ instance: InstanceStatus }>(approved)).instance.status).toBe('finished');
    expect((await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } }, { 'idempotency-key': 'third' })).status).toBe(201);
  });
});

describe('open event streams', () => {
  it('bounds streams per session, per client address and in total, each refusal 429 with Retry-After', async () => {
    const fetcher = appWith({ streamsPerCaller: 2, streamsPerClient: 2, streams: 3 });
    const instance = await startOrder(asSession(fetcher));
    const path = `/automations/instances/${instance.id}/events`;
    const watch = (user: string, address: string) => asUser(fetcher, user).get(path, { 'x-forwarded-for': address });
    const open: ReturnType<typeof sseReader>[] = [];
    const opened = async (response: Response) => {
      expect(response.status).toBe(200);
      const events = sseReader(response);
      open.push(events);
      await events.status();
    };
    try {
      await opened(await watch('viewer', '198.51.100.1'));
      await opened(await watch('viewer', '198.51.100.2'));
      await expectTooMany(await watch('viewer', '198.51.100.3'), 'too-many-streams');
      await opened(await watch('root', '198.51.100.1'));
      // 198.51.100.1 holds two streams now, whoever asks.
      await expectTooMany(await watch('bo', '198.51.100.1'), 'too-many-streams');
      // Three streams are open: the server is full, for any address.
      const full = await watch('bo', '198.51.100.4');
      expect((await errorOf(full.clone())).error.message).toMatch(/on this server \(3\)/);
      await expectTooMany(full, 'too-many-streams');
      await open.shift()!.cancel();
      const freed = async () => {
        const response = await watch('bo', '198.51.100.4');
        if (response.status === 200) open.push(sseReader(response));
        else await response.body?.cancel();
        return response.status;
      };
      await expect.poll(freed, { timeout: 2000 }).toBe(200);
    } finally {
      await Promise.all(open.map((events) => events.cancel()));
    }
  });
});

describe('JSON nesting', () => {
  it('refuses a message payload or a start input nested 10,000 levels deep with 400 json-too-deep, changing nothing', async () => {
    const fetcher = appWith({});
    const shopper = asSession(fetcher);
    const instance = await startOrder(shopper);
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    // Sent as text: JSON.stringify of such a value would overflow the test's own stack.
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetcher(new Request(`http://app.test${path}`, { method: 'POST', headers: { authorization: 'Bearer root', 'content-type': 'application/json', ...headers }, body }));
    const message = await post(`/automations/instances/${instance.id}/messages/note`, `{"payload":{"note":"x","deep":${deep}}}`);
    expect(message.status).toBe(400);
    expect((await errorOf(message)).error.code).toBe('json-too-deep');
    const start = await post('/automations/start/SyncOrder', `{"input":{"item":${deep},"qty":1}}`, { 'idempotency-key': 'deep' });
    expect(start.status).toBe(400);
    expect((await errorOf(start)).error.code).toBe('json-too-deep');
    expect(await env.running.runner.list({ automation: 'SyncOrder' })).toHaveLength(1);
    expect((await env.running.runner.get(instance.id)).data).not.toHaveProperty('note');
  });
});
