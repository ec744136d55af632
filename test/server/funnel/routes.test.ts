import { hc } from 'hono/client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { action, defineFlow, startTask } from '../../../src/core/index.ts';
import type { FunnelsType } from '../../../src/server/funnel/routes.ts';
import type { FunnelsResponse } from '../../../src/sync/protocol.ts';
import { remoteStore } from '../../../src/persist/index.ts';
import type { Answer, Reads } from '../../helpers/route-types.ts';
import { browserFetch, pgliteHarness, type StorageHarness, testApp } from '../harness.ts';

const users: Record<string, { permissions?: string[]; superuser?: boolean }> = { viewer: { permissions: ['automations.view'] }, root: { superuser: true }, nobody: {} };
const authenticate = (request: Request) => {
  const id = request.headers.get('authorization')?.replace(/^Bearer /, '');
  return id && users[id] ? { id, credentials: 'header' as const, ...users[id] } : null;
};

const flow = defineFlow({ id: 'signup', title: 'Sign up', children: [action({ id: 'email', title: 'Email' }), action({ id: 'done', title: 'Done' })] });

let harness: StorageHarness;
let app: ReturnType<typeof testApp>;
let now = Date.UTC(2026, 11, 1);
beforeAll(async () => {
  harness = await pgliteHarness();
  app = testApp(harness.storage, { authenticate, clock: () => now });
});
afterAll(() => harness.close());

const get = (path: string, user?: string) => app.request(`http://wayflow.test${path}`, { headers: user ? { authorization: `Bearer ${user}` } : {} });

describe('GET /funnels/:flow', () => {
  it('is 404 to a caller known only by a session cookie and 403 to a signed-in user without automations.view', async () => {
    const stranger = await get('/funnels/signup');
    expect(stranger.status).toBe(404);
    expect(await stranger.json()).toEqual({ error: { code: 'not-found', message: 'No route GET /funnels/signup. The tasks API lives under /tasks.' } });
    const nobody = await get('/funnels/signup', 'nobody');
    expect(nobody.status).toBe(403);
    expect((await nobody.json()).error).toMatchObject({ code: 'funnel-forbidden', message: expect.stringContaining('"automations.view"') });
    expect((await get('/funnels/signup', 'root')).status).toBe(200);
  });

  it("answers a viewer the funnel of the shoppers' tasks, per version, in the window asked", async () => {
    const shopper = browserFetch((request) => app.fetch(request));
    const store = remoteStore({ baseUrl: 'http://wayflow.test', fetch: shopper, retryIntervalMs: 0 });
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined };
    const done = await startTask(flow, { store, clock });
    await done.submit();
    now += 1000;
    await done.submit();
    await startTask(flow, { store, clock });
    await store.sync();
    now += 1;
    const response = await get(`/funnels/signup?since=${now - 60_000}`, 'viewer');
    expect(response.status).toBe(200);
    const { funnels } = (await response.json()) as FunnelsResponse;
    expect(funnels).toHaveLength(1);
    expect(funnels[0]).toMatchObject({ flowId: 'signup', flowVersion: 1, started: 2, completed: 1, inProgress: 1, until: now });
    expect(funnels[0]!.steps.map((step) => [step.step, step.reached, step.inProgress, step.medianMs])).toEqual([
      ['email', 2, 1, 0],
      ['done', 1, 0, 1000],
    ]);
    expect((await (await get(`/funnels/signup?since=${now + 1}`, 'viewer')).json()) as FunnelsResponse).toEqual({ funnels: [] });
  });

  it('takes since as a date, epoch milliseconds or a duration back, and refuses anything else with 400', async () => {
    for (const since of ['2026-11-01', '1764547200000', '24h', '2w']) expect((await get(`/funnels/signup?since=${since}`, 'viewer')).status).toBe(200);
    const bad = await get('/funnels/signup?since=yesterday', 'viewer');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: 'invalid-query', message: expect.stringContaining('"yesterday" is not a time') });
  });

  it('answers the body the client type reads (a change on either side fails the type check)', () => {
    type Routes = ReturnType<typeof hc<FunnelsType>>;
    expectTypeOf<Reads<FunnelsResponse, Answer<Routes[':flow']['$get']>>>().toEqualTypeOf<true>();
    const url = hc<FunnelsType>('http://wayflow.test/funnels')[':flow'].$url({ param: { flow: 'signup' }, query: { since: '7d', until: '2026-12-01' } });
    expect(`${url.pathname}${url.search}`).toBe('/funnels/signup?since=7d&until=2026-12-01');
  });
});
