import { describe, expect, it } from 'vitest';
import { automationGraph } from '../../../src/automations/index.ts';
import type { NodeInstanceView, ProcessMapView } from '../../../src/sync/protocol.ts';
import { asSession, asUser, body, errorOf, sseReader, startOrder, syncOrder, syncTestEnv } from './helpers.ts';

const env = syncTestEnv({ push: { pollMs: 60_000, streamIdleMs: 60_000 } });
const fetcher = env.fetcher('push');
const viewer = () => asUser(fetcher, 'viewer');
const approve = (instance: { id: string; forms: { taskId: number }[] }) =>
  asUser(fetcher, 'bo').post(`/automations/forms/${instance.id}/${instance.forms[0]!.taskId}`, { input: { decision: 'approve', note: 'Ship it' } });

describe('GET /automations/map/:automation', () => {
  it('is 403 to everyone without automations.view, as the dashboard; 404 for an automation or node that does not exist', async () => {
    const shopper = asSession(fetcher);
    const order = await startOrder(shopper);
    for (const client of [asUser(fetcher, 'nobody'), asUser(fetcher, 'bo'), shopper]) {
      for (const path of ['/automations/map/SyncOrder', '/automations/map/SyncOrder/nodes/approve', '/automations/map/SyncOrder/events', '/automations/map/Nope']) {
        const response = await client.get(path);
        expect([path, response.status]).toEqual([path, 403]);
        expect((await errorOf(response)).error.code).toBe('dashboard-forbidden');
      }
    }
    const unknown = await viewer().get('/automations/map/Nope');
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).error).toMatchObject({ code: 'automation-not-found', message: expect.stringContaining('"Nope"') });
    expect((await viewer().get('/automations/map/Nope/events')).status).toBe(404);
    const node = await viewer().get('/automations/map/SyncOrder/nodes/toString');
    expect(node.status).toBe(404);
    expect((await errorOf(node)).error).toMatchObject({ code: 'node-not-found', message: expect.stringContaining('"toString"') });
    expect(order.forms).toHaveLength(1);
  });

  it("answers the automation's graph with how many instances wait at each node, passed it and failed there; a node lists its instances", async () => {
    const shopper = asSession(fetcher);
    const first = await startOrder(shopper);
    const second = await startOrder(shopper);
    expect((await approve(first)).status).toBe(200);
    const { map } = await body<{ map: ProcessMapView }>(await viewer().get('/automations/map/SyncOrder'));
    expect(map.graph).toEqual(automationGraph(syncOrder));
    expect(map).toMatchObject({ name: 'SyncOrder', verboseName: 'Order approval' });
    expect(map.counts).toEqual({
      received: { waiting: 0, passed: 2, errors: 0 },
      approve: { waiting: 1, passed: 1, errors: 0 },
      approved: { waiting: 0, passed: 1, errors: 0 },
      end: { waiting: 0, passed: 1, errors: 0 },
    });
    const { instances } = await body<{ instances: NodeInstanceView[] }>(await viewer().get('/automations/map/SyncOrder/nodes/approve'));
    expect(instances).toEqual([{ id: second.id, createdAt: second.createdAt, since: expect.any(Number), status: 'form', error: null }]);
    expect(await body(await viewer().get('/automations/map/SyncOrder/nodes/end'))).toEqual({ instances: [] });
  });
});

describe('GET /automations/map/:automation/events', () => {
  it('sends the map at once, then pushes new counts when an instance moves (the poll is 60 s)', async () => {
    const shopper = asSession(fetcher);
    const order = await startOrder(shopper);
    const response = await viewer().get('/automations/map/SyncOrder/events');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseReader(response);
    const read = async () => {
      const event = await events.next({ timeoutMs: 5000 });
      expect(event?.event).toBe('status');
      const map = JSON.parse(event!.data!) as ProcessMapView;
      expect(event!.id).toBe(map.version);
      return map;
    };
    const before = await read();
    expect(before.counts.approve).toEqual({ waiting: 1, passed: 0, errors: 0 });
    expect((await approve(order)).status).toBe(200);
    let after = await read();
    while (after.counts.end === undefined) after = await read();
    expect(after.counts.approve).toEqual({ waiting: 0, passed: 1, errors: 0 });
    expect(after.counts.end).toEqual({ waiting: 0, passed: 1, errors: 0 });
    expect(after.version).not.toBe(before.version);
    await events.cancel();
  });
});
