import { describe, expect, it, vi } from 'vitest';
import type { DashboardView, InstanceStatus, OpenFormDetail, OpenFormSummary, SyncResponses } from '../../../src/sync/protocol.ts';
import { ORIGIN } from '../harness.ts';
import { asSession, asUser, body, errorOf, startOrder, syncTestEnv } from './helpers.ts';

const env = syncTestEnv({ app: {} });
const fetcher = env.fetcher('app');
const history = (id: string) => env.running.runner.history(id);

describe('POST /automations/start/:automation', () => {
  it('starts an instance (201) and answers a retry with the same Idempotency-Key with the same instance (200)', async () => {
    const shopper = asSession(fetcher);
    const first = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 2 } }, { 'idempotency-key': 'key-1' });
    expect(first.status).toBe(201);
    const { instance } = await body<{ instance: InstanceStatus }>(first);
    expect(instance).toMatchObject({
      automation: 'SyncOrder',
      verboseName: 'Order approval',
      status: 'running',
      nodes: ['approve'],
      data: { order: { item: 'book', qty: 2 }, note: null },
      messages: [],
      finishedAt: null,
    });
    expect(instance.forms).toEqual([{ instanceId: instance.id, taskId: expect.any(Number), node: 'approve', description: 'Approve the order', since: expect.any(Number) }]);
    expect(instance.data).not.toHaveProperty('secret');
    expect((await env.running.runner.get(instance.id)).data.by).toMatch(/^session:/);

    const retry = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 2 } }, { 'idempotency-key': 'key-1' });
    expect(retry.status).toBe(200);
    expect((await body<{ instance: InstanceStatus }>(retry)).instance.id).toBe(instance.id);
    expect(await env.running.runner.list({ automation: 'SyncOrder' })).toHaveLength(1);

    // Another session with the same key starts its own instance.
    const other = await asSession(fetcher).post('/automations/start/SyncOrder', { input: { item: 'pen', qty: 1 } }, { 'idempotency-key': 'key-1' });
    expect(other.status).toBe(201);
    expect((await body<{ instance: InstanceStatus }>(other)).instance.id).not.toBe(instance.id);
  });

  it("answers a start (201) with every header of the app's answers: security headers, no-store, the request id, CORS and a new session's cookie", async () => {
    const first = await fetcher(
      new Request('http://app.test/automations/start/SyncOrder', {
        method: 'POST',
        body: JSON.stringify({ input: { item: 'book', qty: 2 } }),
        headers: { origin: ORIGIN, 'content-type': 'application/json', 'idempotency-key': 'key-headers' },
      }),
    );
    expect(first.status).toBe(201);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    for (const [name, value] of [
      ['cross-origin-resource-policy', 'same-site'],
      ['x-content-type-options', 'nosniff'],
      ['x-frame-options', 'SAMEORIGIN'],
      ['referrer-policy', 'no-referrer'],
      ['strict-transport-security', 'max-age=15552000; includeSubDomains'],
      ['cache-control', 'no-store'],
      ['access-control-allow-origin', ORIGIN],
      ['access-control-allow-credentials', 'true'],
    ]) {
      expect([name, first.headers.get(name!)]).toEqual([name, value]);
    }
    expect(first.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(first.headers.get('x-powered-by')).toBeNull();
    expect((await body<{ instance: InstanceStatus }>(first)).instance.automation).toBe('SyncOrder');
  });

  it('answers a retry with the first instance whatever its body: a changed input, an invalid one, or none', async () => {
    const shopper = asSession(fetcher);
    const first = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 2 } }, { 'idempotency-key': 'key-body' });
    expect(first.status).toBe(201);
    const { instance } = await body<{ instance: InstanceStatus }>(first);
    for (const retryBody of [{ input: { item: 'pen', qty: 9 } }, { input: { item: '', qty: 0 } }, {}]) {
      const retry = await shopper.post('/automations/start/SyncOrder', retryBody, { 'idempotency-key': 'key-body' });
      expect(retry.status).toBe(200);
      const answer = (await body<{ instance: InstanceStatus }>(retry)).instance;
      expect(answer.id).toBe(instance.id);
      expect(answer.data).toMatchObject({ order: { item: 'book', qty: 2 } });
    }
    expect(await env.running.runner.list({ automation: 'SyncOrder' })).toHaveLength(1);
  });

  it('refuses invalid input with 422 and the field errors, creating nothing', async () => {
    const response = await asSession(fetcher).post('/automations/start/SyncOrder', { input: { item: '', qty: 0 } }, { 'idempotency-key': 'k-422' });
    expect(response.status).toBe(422);
    const { error } = await errorOf(response);
    expect(error.code).toBe('invalid-input');
    expect(Object.keys(error.fields!).sort()).toEqual(['item', 'qty']);
    expect(error.message).toMatch(/SyncOrder/);
    expect(await env.running.runner.list({})).toEqual([]);
    expect(await env.sql('SELECT * FROM wayflow_sync_links')).toEqual([]);
  });

  it('needs an Idempotency-Key (400), a startable automation (404), a JSON body (415/400)', async () => {
    const shopper = asSession(fetcher);
    const missing = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } });
    expect(missing.status).toBe(400);
    expect((await errorOf(missing)).error.code).toBe('invalid-idempotency-key');
    const malformed = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } }, { 'idempotency-key': 'a b' });
    expect(malformed.status).toBe(400);
    for (const name of ['SyncHidden', 'Nope']) {
      const response = await shopper.post(`/automations/start/${name}`, { input: {} }, { 'idempotency-key': 'k' });
      expect(response.status).toBe(404);
      expect((await errorOf(response)).error).toMatchObject({ code: 'automation-not-startable', message: expect.stringContaining(name) });
    }
    const notJson = await asUser(fetcher, 'nobody').post('/automations/start/SyncOrder', 'x', { 'content-type': 'text/plain', 'idempotency-key': 'k2' });
    expect(notJson.status).toBe(415);
    const noOrigin = await fetcher(
      new Request('http://app.test/automations/start/SyncOrder', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k3' }, body: '{}' }),
    );
    expect(noOrigin.status).toBe(403);
    expect((await errorOf(noOrigin)).error.code).toBe('bad-origin');
    expect(await env.running.runner.list({})).toEqual([]);
  });
});

describe('SyncLinks', () => {
  it('records one start per (owner, key): a later start with the key gets the first instance; keys are per owner', async () => {
    const { syncLinks } = await import('../../../src/server/sync/links.ts');
    const links = await syncLinks(env.running.db);
    const db = env.running.db;
    expect(await links.recordStart(db, 'user:a', 'k', 'SyncOrder', 'instance-1', 1000)).toBeNull();
    expect(await links.recordStart(db, 'user:a', 'k', 'SyncOrder', 'instance-2', 2000)).toEqual({ instanceId: 'instance-1', automation: 'SyncOrder' });
    expect(await links.recordStart(db, 'user:b', 'k', 'SyncOrder', 'instance-3', 2000)).toBeNull();
    expect(await links.find('user:a', 'k')).toEqual({ instanceId: 'instance-1', automation: 'SyncOrder' });
    expect(await links.find('user:c', 'k')).toBeNull();
    expect(await links.owns('user:a', 'instance-1')).toBe(true);
    expect(await links.owns('user:b', 'instance-1')).toBe(false);
  });

  it('records one message send per (owner, key) with its result', async () => {
    const { syncLinks } = await import('../../../src/server/sync/links.ts');
    const links = await syncLinks(env.running.db);
    const db = env.running.db;
    const sent = { instanceId: 'instance-1', message: 'note', result: { ok: true } };
    expect(await links.recordMessage(db, 'user:a', 'm', sent, 1000)).toBeNull();
    expect(await links.recordMessage(db, 'user:a', 'm', { ...sent, result: 'again' }, 2000)).toEqual(sent);
    expect(await links.findMessage('user:a', 'm')).toEqual(sent);
    expect(await links.findMessage('user:b', 'm')).toBeNull();
  });
});

describe('GET /automations/instances/:id', () => {
  it('shows the instance to its owner, a caller who may process its form and a dashboard viewer; 404 to others, like a missing one', async () => {
    const shopper = asSession(fetcher);
    const orderKey = crypto.randomUUID();
    const instance = await startOrder(shopper, orderKey);
    for (const client of [shopper, asUser(fetcher, 'bo'), asUser(fetcher, 'viewer'), asUser(fetcher, 'root')]) {
      const response = await client.get(`/automations/instances/${instance.id}`);
      expect(response.status).toBe(200);
      expect((await body<{ instance: InstanceStatus }>(response)).instance).toEqual(instance);
    }
    const foreign = await asSession(fetcher).get(`/automations/instances/${instance.id}`);
    const missing = await asSession(fetcher).get('/automations/instances/no-such-instance');
    const nobody = await asUser(fetcher, 'nobody').get(`/automations/instances/${instance.id}`);
    for (const response of [foreign, missing, nobody]) {
      expect(response.status).toBe(404);
      const { error } = await errorOf(response);
      expect(error.code).toBe('instance-not-found');
      expect(error.message).not.toContain('SyncOrder');
    }
  });

  it('links instances started by server code to a user with SyncLinks.link', async () => {
    const created = await env.running.runner.create('SyncOrder', { order: { item: 'lamp', qty: 1 } });
    const ada = asUser(fetcher, 'nobody');
    expect((await ada.get(`/automations/instances/${created.id}`)).status).toBe(404);
    const { syncLinks } = await import('../../../src/server/sync/links.ts');
    await (await syncLinks(env.running.db)).link('user:nobody', created.id, 'SyncOrder');
    expect((await ada.get(`/automations/instances/${created.id}`)).status).toBe(200);
  });
});

describe('forms', () => {
  it('lists the open forms the caller may process, with hours waiting', async () => {
    const instance = await startOrder(asSession(fetcher));
    const hidden = await env.running.runner.create('SyncHidden', {});
    const list = async (user: string) => (await body<{ forms: OpenFormSummary[] }>(await asUser(fetcher, user).get('/automations/forms'))).forms;
    expect(await list('bo')).toEqual([
      {
        instanceId: instance.id,
        taskId: instance.forms[0]!.taskId,
        node: 'approve',
        description: 'Approve the order',
        since: instance.forms[0]!.since,
        automation: 'SyncOrder',
        verboseName: 'Order approval',
        hoursWaiting: 0,
      },
    ]);
    expect((await list('ada')).map((f) => [f.automation, f.instanceId])).toEqual([['SyncHidden', hidden.id]]);
    expect(await list('nobody')).toEqual([]);
    expect((await list('root')).length).toBe(2);
    // hoursWaiting: one decimal of the hours since the form opened (the task list reads it from the open-forms index).
    await env.sql('UPDATE wayflow_automation_open_forms SET since = $1 WHERE instance_id = $2', [instance.forms[0]!.since - 2.26 * 3.6e6, instance.id]);
    expect((await list('bo'))[0]!.hoursWaiting).toBe(2.3);
  });

  it('shows one form with the exposed data; 403 form-forbidden names automation, node and requirement; 404 for no such form', async () => {
    const instance = await startOrder(asSession(fetcher));
    const path = `/automations/forms/${instance.id}/${instance.forms[0]!.taskId}`;
    const ok = await asUser(fetcher, 'bo').get(path);
    expect(ok.status).toBe(200);
    expect((await body<{ form: OpenFormDetail }>(ok)).form).toMatchObject({ node: 'approve', automation: 'SyncOrder', data: { order: { item: 'book', qty: 2 }, note: null } });
    const forbidden = await asUser(fetcher, 'nobody').get(path);
    expect(forbidden.status).toBe(403);
    const { error } = await errorOf(forbidden);
    expect(error.code).toBe('form-forbidden');
    expect(error.message).toMatch(/"SyncOrder".*"approve".*group "backoffice"/);
    for (const missing of [`/automations/forms/${instance.id}/999`, `/automations/forms/${instance.id}/x`, '/automations/forms/nope/1']) {
      const response = await asUser(fetcher, 'bo').get(missing);
      expect(response.status).toBe(404);
      expect((await errorOf(response)).error.code).toBe('form-not-found');
    }
  });

  it('submits a form: 403 and 422 change nothing, success moves the instance on with the browser message, a second submit is 409', async () => {
    const shopper = asSession(fetcher);
    const orderKey = crypto.randomUUID();
    const instance = await startOrder(shopper, orderKey);
    const path = `/automations/forms/${instance.id}/${instance.forms[0]!.taskId}`;
    const before = { record: await env.running.runner.get(instance.id), history: await history(instance.id) };

    const forbidden = await asUser(fetcher, 'nobody').post(path, { input: { decision: 'approve', note: 'ok' } });
    expect(forbidden.status).toBe(403);
    expect((await errorOf(forbidden)).error.code).toBe('form-forbidden');
    // The owner of the instance may not process a back-office form either.
    expect((await shopper.post(path, { input: { decision: 'approve', note: 'ok' } })).status).toBe(403);

    const invalid = await asUser(fetcher, 'bo').post(path, { input: { decision: 'maybe', note: '' } });
    expect(invalid.status).toBe(422);
    const { error } = await errorOf(invalid);
    expect(error.code).toBe('invalid-input');
    expect(error.fields).toEqual({ decision: [expect.any(String)], note: ['Write a note'] });
    expect(error.message).toMatch(/SyncOrder.*approve/);
    expect(await env.running.runner.get(instance.id)).toEqual(before.record);
    expect(await history(instance.id)).toEqual(before.history);

    const done = await asUser(fetcher, 'bo').post(path, { input: { decision: 'approve', note: 'Ship it' } });
    expect(done.status).toBe(200);
    const after = (await body<{ instance: InstanceStatus }>(done)).instance;
    expect(after).toMatchObject({ status: 'finished', nodes: [], forms: [], finishedAt: expect.any(Number) });
    expect(after.messages).toEqual([{ seq: expect.any(Number), message: 'approved', payload: { note: 'Ship it' }, at: expect.any(Number) }]);
    expect(after.version).not.toBe(instance.version);
    expect((await history(instance.id)).find((r) => r.status === 'approve')?.completedBy).toBe('bo');

    const again = await asUser(fetcher, 'bo2').post(path, { input: { decision: 'reject', note: 'late' } });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).error).toMatchObject({ code: 'form-closed', message: expect.stringMatching(/SyncOrder.*approve/) });
    // A stranger learns nothing of a closed form; reading a closed form is 404 (it is no longer open).
    expect((await asUser(fetcher, 'nobody').post(path, { input: {} })).status).toBe(404);
    expect((await asUser(fetcher, 'bo').get(path)).status).toBe(404);
  });
});

describe('POST /automations/instances/:id/messages/:message', () => {
  it('delivers a listed message and returns the result; 404 for unlisted receivers and foreign instances; 422 for missing data', async () => {
    const shopper = asSession(fetcher);
    const orderKey = crypto.randomUUID();
    const instance = await startOrder(shopper, orderKey);
    const sent = await shopper.post(`/automations/instances/${instance.id}/messages/note`, { payload: { note: 'Leave at the door' } });
    expect(sent.status).toBe(200);
    const answer = await body<{ result: unknown; instance: InstanceStatus }>(sent);
    expect(answer.result).toBe('noted');
    expect(answer.instance.data).toEqual({ order: { item: 'book', qty: 2 }, note: 'Leave at the door' });

    for (const message of ['internal', 'nope']) {
      const response = await shopper.post(`/automations/instances/${instance.id}/messages/${message}`, {});
      expect(response.status).toBe(404);
      expect((await errorOf(response)).error.code).toBe('unknown-message');
    }
    expect((await env.running.runner.get(instance.id)).data.internal).toBeUndefined();
    const foreign = await asSession(fetcher).post(`/automations/instances/${instance.id}/messages/note`, { payload: { note: 'x' } });
    expect(foreign.status).toBe(404);
    expect((await errorOf(foreign)).error.code).toBe('instance-not-found');
    const missing = await shopper.post(`/automations/instances/${instance.id}/messages/note`, {});
    expect(missing.status).toBe(422);
    expect((await errorOf(missing)).error.fields).toEqual({ 'payload.note': [expect.any(String)] });
  });
});

describe('dashboard', () => {
  it('is 403 without automations.view; counts instances per automation and node, newest first', async () => {
    const shopper = asSession(fetcher);
    const a = await startOrder(shopper);
    const b = await startOrder(shopper);
    await asUser(fetcher, 'bo').post(`/automations/forms/${a.id}/${a.forms[0]!.taskId}`, { input: { decision: 'approve', note: 'ok' } });
    for (const client of [asUser(fetcher, 'nobody'), asUser(fetcher, 'bo'), shopper]) {
      const response = await client.get('/automations/dashboard');
      expect(response.status).toBe(403);
      expect((await errorOf(response)).error.code).toBe('dashboard-forbidden');
      expect((await client.get(`/automations/dashboard/instances/${a.id}`)).status).toBe(403);
    }
    const { dashboard } = await body<{ dashboard: DashboardView }>(await asUser(fetcher, 'viewer').get('/automations/dashboard'));
    expect(dashboard.automations.map((x) => [x.name, x.running, x.finished, x.nodes])).toEqual([
      // Every node in declaration order, the ones nobody waits at with 0 (django's dashboard).
      ['SyncOrder', 1, 1, [['received', 0], ['approve', 1], ['approved', 0], ['end', 0]].map(([node, count]) => ({ node, count }))],
      ['SyncHidden', 0, 0, [{ node: 'review', count: 0 }, { node: 'end', count: 0 }]],
    ]);
    // Each automation's definition as a graph, for drawing with its counts.
    expect(dashboard.automations[0]!.graph.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['received>approve', 'approve>approved', 'approved>end']);
    const recent = dashboard.automations[0]!.recent;
    expect(recent.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(recent[0]!.createdAt).toBeGreaterThanOrEqual(recent[1]!.createdAt);
    expect(recent.find((r) => r.id === a.id)?.messages.map((m) => m.message)).toEqual(['approved']);

    const detail = await asUser(fetcher, 'viewer').get(`/automations/dashboard/instances/${a.id}`);
    expect(detail.status).toBe(200);
    const view = await body<SyncResponses['inspect']>(detail);
    expect(view.history.map((h) => [h.node, h.message, h.completedBy])).toEqual([
      ['received', 'OK', null],
      ['approve', 'OK', 'bo'],
      ['approved', 'OK', null],
      ['end', 'OK', null],
    ]);
    // The automation's definition, drawn with what this instance did at each node (the reference's history view).
    expect(view.graph.nodes.map((n) => n.id)).toEqual(['received', 'approve', 'approved', 'end']);
    expect(view.graph.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['received>approve', 'approve>approved', 'approved>end']);
    expect(view.counts).toEqual({
      received: { waiting: 0, passed: 1, errors: 0 },
      approve: { waiting: 0, passed: 1, errors: 0 },
      approved: { waiting: 0, passed: 1, errors: 0 },
      end: { waiting: 0, passed: 1, errors: 0 },
    });
    const waiting = await body<SyncResponses['inspect']>(await asUser(fetcher, 'viewer').get(`/automations/dashboard/instances/${b.id}`));
    expect(waiting.counts.approve).toEqual({ waiting: 1, passed: 0, errors: 0 });
    expect((await asUser(fetcher, 'viewer').get('/automations/dashboard/instances/nope')).status).toBe(404);
  });
});

describe('the order of the checks of a request', () => {
  it('answers the first check a request fails, as before the validators: startable, key, form, viewer, body last', async () => {
    const shopper = asSession(fetcher);
    const unknownWithoutKey = await shopper.post('/automations/start/Nope', { input: {} });
    expect(unknownWithoutKey.status).toBe(404);
    expect((await errorOf(unknownWithoutKey)).error.code).toBe('automation-not-startable');

    const badKeyBadId = await shopper.post('/automations/instances/bad id/messages/note', { payload: {} }, { 'idempotency-key': 'a b' });
    expect(badKeyBadId.status).toBe(400);
    expect((await errorOf(badKeyBadId)).error.code).toBe('invalid-idempotency-key');

    const notAViewer = await asUser(fetcher, 'nobody').get('/automations/dashboard/instances/bad%20id');
    expect(notAViewer.status).toBe(403);
    expect((await errorOf(notAViewer)).error.code).toBe('dashboard-forbidden');

    const badFormNotJson = await asUser(fetcher, 'bo').post('/automations/forms/bad%20id/1', 'x');
    expect(badFormNotJson.status).toBe(404);

    const orderKey = crypto.randomUUID();
    const instance = await startOrder(shopper, orderKey);
    const retryWithOtherBody = await shopper.post('/automations/start/SyncOrder', { nonsense: true }, { 'idempotency-key': orderKey });
    expect(retryWithOtherBody.status).toBe(200);
    expect((await body<{ instance: InstanceStatus }>(retryWithOtherBody)).instance.id).toBe(instance.id);
  });
});

describe('request headers', () => {
  it('a start and a message read the headers they check, never every header of the request', async () => {
    // Iterating a request's headers turns @hono/node-server's lightweight headers into a web Headers: the start route must not.
    const shopper = asSession(fetcher);
    const started = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 1 } }, { 'idempotency-key': 'headers-1' });
    const { instance } = await body<{ instance: InstanceStatus }>(started);
    const forEach = vi.spyOn(Headers.prototype, 'forEach');
    try {
      const start = await shopper.post('/automations/start/SyncOrder', { input: { item: 'book', qty: 2 } }, { 'idempotency-key': 'headers-2' });
      expect(start.status).toBe(201);
      const sent = await shopper.post(`/automations/instances/${instance.id}/messages/note`, { payload: { note: 'x' } }, { 'idempotency-key': 'headers-3' });
      expect(sent.status).toBe(200);
      expect(forEach).not.toHaveBeenCalled();
    } finally {
      forEach.mockRestore();
    }
    const malformed = await shopper.post(`/automations/instances/${instance.id}/messages/note`, { payload: { note: 'x' } }, { 'idempotency-key': 'a b' });
    expect((await errorOf(malformed)).error.code).toBe('invalid-idempotency-key');
  });
});
