import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WayflowError } from '../../src/core/index.ts';
import { automationClient, SyncError, syncErrorFrom } from '../../src/sync/index.ts';
import { fakeFetch, statusOf } from './fakes.ts';

describe('automationClient', () => {
  it('calls every route with cookies, JSON bodies and the idempotency key', async () => {
    const instance = statusOf('v1');
    const { fetch, requests } = fakeFetch((url) => {
      if (url.endsWith('/forms')) return [200, { forms: [] }];
      if (url.includes('/dashboard/instances/')) return [200, { instance, history: [] }];
      if (url.endsWith('/dashboard')) return [200, { dashboard: { automations: [] } }];
      if (url.includes('/forms/')) return [200, { form: { instanceId: 'i1', taskId: 3 }, instance }];
      if (url.includes('/messages/')) return [200, { result: 'ok', instance }];
      return [200, { instance }];
    });
    const client = automationClient({ baseUrl: 'https://shop.test', fetch, EventSource: null });
    expect(await client.forms()).toEqual([]);
    expect(await client.form('i 1', 3)).toEqual({ instanceId: 'i1', taskId: 3 });
    expect(await client.submitForm('i1', 3, { ok: true })).toEqual(instance);
    expect(await client.start('Order', { n: 1 }, 'task:start:1')).toEqual(instance);
    expect(await client.status('i1')).toEqual(instance);
    expect(await client.send('i1', 'note', { text: 'hi' })).toEqual({ result: 'ok', instance });
    expect(await client.dashboard()).toEqual({ automations: [] });
    expect(await client.inspect('i1')).toEqual({ instance, history: [] });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET https://shop.test/automations/forms',
      'GET https://shop.test/automations/forms/i%201/3',
      'POST https://shop.test/automations/forms/i1/3',
      'POST https://shop.test/automations/start/Order',
      'GET https://shop.test/automations/instances/i1',
      'POST https://shop.test/automations/instances/i1/messages/note',
      'GET https://shop.test/automations/dashboard',
      'GET https://shop.test/automations/dashboard/instances/i1',
    ]);
    expect(requests.every((r) => r.credentials === 'same-origin')).toBe(true);
    expect(requests[2]!.body).toEqual({ input: { ok: true } });
    expect(requests[2]!.headers['Content-Type']).toBe('application/json');
    expect(requests[3]!.headers['Idempotency-Key']).toBe('task:start:1');
    expect(requests[3]!.body).toEqual({ input: { n: 1 } });
    expect(requests[5]!.body).toEqual({ payload: { text: 'hi' } });
    expect(requests[0]!.headers['Content-Type']).toBeUndefined();
  });

  it('throws a SyncError with the server code, status and fields', async () => {
    const { fetch } = fakeFetch(() => [422, { error: { code: 'invalid-input', message: 'Check the form', fields: { amount: ['Too big'] } } }]);
    const error = await automationClient({ fetch }).submitForm('i1', 1, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toBeInstanceOf(WayflowError);
    expect(error).toMatchObject({ code: 'invalid-input', status: 422, message: 'Check the form', fields: { amount: ['Too big'] }, name: 'SyncError' });
  });

  it('reads a body that is not the error format, and a network failure as unreachable', async () => {
    const { fetch } = fakeFetch(() => [502, '<html>Bad gateway</html>']);
    await expect(automationClient({ fetch, retries: 0 }).status('i1')).rejects.toMatchObject({ code: 'http-502', status: 502 });
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(automationClient({ fetch: down }).forms()).rejects.toMatchObject({ code: 'unreachable', status: 0 });
  });

  it('sends a message with its idempotency key', async () => {
    const { fetch, requests } = fakeFetch(() => [200, { result: 'ok', instance: statusOf('v1') }]);
    await automationClient({ fetch }).send('i1', 'note', { text: 'hi' }, 'task:note:1');
    expect(requests[0]!.headers['Idempotency-Key']).toBe('task:note:1');
  });

  it('sends reads, starts and keyed messages again after a 503, waiting what Retry-After says', async () => {
    const instance = statusOf('v1');
    const unavailable = [503, { error: { code: 'database-unavailable', message: 'Retry in a moment' } }, { 'Retry-After': '1' }] as const;
    let failures = 0;
    const { fetch, requests } = fakeFetch((url) => {
      if (failures > 0) {
        failures -= 1;
        return [...unavailable];
      }
      return url.includes('/messages/') ? [200, { result: 'ok', instance }] : [200, { instance }];
    });
    const client = automationClient({ fetch });
    failures = 1;
    const started = performance.now();
    expect(await client.start('Order', {}, 'task:start:1')).toEqual(instance);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(requests.map((r) => r.headers['Idempotency-Key'])).toEqual(['task:start:1', 'task:start:1']);
    for (const request of [() => client.status('i1'), () => client.send('i1', 'note', {}, 'task:note:1')]) {
      failures = 1;
      await request();
    }
    expect(requests).toHaveLength(6);
  });

  it('does not send again what is not safe to repeat (a form, a message without a key), nor past the retries', async () => {
    const { fetch, requests } = fakeFetch(() => [503, { error: { code: 'database-unavailable', message: 'Retry in a moment' } }, { 'Retry-After': '0' }]);
    const client = automationClient({ fetch, retries: 2 });
    await expect(client.submitForm('i1', 3, {})).rejects.toMatchObject({ code: 'database-unavailable', status: 503 });
    await expect(client.send('i1', 'note')).rejects.toMatchObject({ code: 'database-unavailable', status: 503 });
    expect(requests).toHaveLength(2);
    await expect(client.status('i1')).rejects.toMatchObject({ code: 'database-unavailable', status: 503 });
    expect(requests).toHaveLength(5);
  });

  it('syncErrorFrom never throws and always gives a code, a message and string-list fields', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.jsonValue(), fc.jsonValue(), (status, body, error) => {
        for (const candidate of [body, { error }, { error: { code: error, message: body, fields: error } }]) {
          const parsed = syncErrorFrom(status, candidate);
          expect(parsed.status).toBe(status);
          expect(typeof parsed.code).toBe('string');
          expect(parsed.code.length).toBeGreaterThan(0);
          expect(typeof parsed.message).toBe('string');
          for (const list of Object.values(parsed.fields ?? {})) expect(list.every((t) => typeof t === 'string') && list.length > 0).toBe(true);
        }
      }),
    );
    expect(syncErrorFrom(409, { error: { code: 'form-closed', message: 'Closed' } })).toMatchObject({ code: 'form-closed', message: 'Closed', fields: undefined });
  });
});
