import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import type { LogEntry } from '../../src/server/log.ts';
import { startSweeper } from '../../src/server/sweeper.ts';
import { taskBodyProblems } from '../../src/server/schemas.ts';
import type { TaskStorage } from '../../src/server/storage.ts';
import { makeRecord } from '../persist/contract.ts';
import { browserFetch, ORIGIN, pgliteHarness, type StorageHarness, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());
beforeEach(() => harness.reset());

const ID = makeRecord().id;
const BASE = 'http://wayflow.test';

/** A browser session against `app`, with helpers for the tasks API. */
function session(app: { fetch: (request: Request) => Response | Promise<Response> }, origin: string | null = ORIGIN) {
  const send = browserFetch((request) => app.fetch(request), origin);
  const put = (record: TaskRecord, ifMatch: number | string | null = record.version - 1, extra: Record<string, string> = {}) =>
    send(`${BASE}/tasks/${record.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'wayflow-binder': record.binder, ...(ifMatch === null ? {} : { 'if-match': `"${ifMatch}"` }), ...extra },
      body: JSON.stringify(record),
    });
  const get = (id = ID, binder = 'binder-a') => send(`${BASE}/tasks/${id}`, { headers: { 'wayflow-binder': binder } });
  return { send, put, get };
}

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string; current?: number | null } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |\.ts:\d+/);
  return body.error;
}

const live = (overrides: Partial<TaskRecord> = {}) => makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 3_600_000, ...overrides });

describe('tasks API', () => {
  it('creates, reads, updates, lists and deletes a task, with ETags', async () => {
    const { send, put, get } = session(testApp(harness.storage));
    const created = await put(live());
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    const read = await get();
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(read.headers.get('x-content-type-options')).toBe('nosniff');
    expect(((await read.json()) as { task: TaskRecord }).task.id).toBe(ID);
    const updated = await put(live({ version: 2 }));
    expect(updated.status).toBe(200);
    expect(await updated.json()).toEqual({ version: 2 });
    const list = await send(`${BASE}/tasks`, { headers: { 'wayflow-binder': 'binder-a' } });
    expect(((await list.json()) as { tasks: { id: string }[] }).tasks.map((task) => task.id)).toEqual([ID]);
    expect((await send(`${BASE}/tasks/${ID}`, { method: 'DELETE', headers: { 'wayflow-binder': 'binder-a' } })).status).toBe(204);
    expect((await get()).status).toBe(404);
  });

  it('answers task reads and writes with the headers every answer carries: security, request id, no-store, CORS of a listed origin, the new session cookie', async () => {
    const app = testApp(harness.storage);
    const send = (path: string, init: RequestInit = {}, cookie?: string) =>
      app.fetch(new Request(`${BASE}${path}`, { ...init, headers: { origin: ORIGIN, 'wayflow-binder': 'binder-a', ...(cookie ? { cookie } : {}), ...init.headers } }));
    const record = live();
    const created = await send(`/tasks/${ID}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': '"0"' }, body: JSON.stringify(record) });
    expect(created.status).toBe(201);
    const cookie = created.headers.get('set-cookie');
    expect(cookie).toMatch(/^wayflow_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    const session = cookie!.split(';')[0]!;
    const read = await send(`/tasks/${ID}`, {}, session);
    const list = await send('/tasks', {}, session);
    const missing = await send('/tasks/ZZZZZZZZZZZZZZZZZZZZZZ', {}, session);
    expect([read.status, list.status, missing.status]).toEqual([200, 200, 404]);
    const names = (response: Response) => [...response.headers.keys()].filter((name) => !['etag', 'set-cookie', 'content-length'].includes(name));
    for (const response of [created, read, missing]) expect(names(response)).toEqual(names(list));
    for (const response of [created, read, list, missing]) {
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('strict-transport-security')).toBe('max-age=15552000; includeSubDomains');
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-site');
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(response.headers.get('vary')).toBe('Origin');
    }
    expect(new Set([created, read, list, missing].map((response) => response.headers.get('x-request-id'))).size).toBe(4);
    expect(read.headers.get('set-cookie')).toBeNull();
    expect(await read.json()).toEqual({ task: record });
  });

  it('issues an HttpOnly, SameSite session cookie, Secure on https', async () => {
    const app = testApp(harness.storage);
    const plain = await app.request('http://wayflow.test/tasks', { headers: { 'wayflow-binder': 'b' } });
    expect(plain.headers.get('set-cookie')).toMatch(/^wayflow_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    const secure = await app.request('https://wayflow.test/tasks', { headers: { 'wayflow-binder': 'b' } });
    expect(secure.headers.get('set-cookie')).toMatch(/; Secure/);
  });
});

describe('HTTP error paths', () => {
  it('answers malformed JSON with 400 malformed-json and stores nothing', async () => {
    const { send, get } = session(testApp(harness.storage));
    const response = await send(`${BASE}/tasks/${ID}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'wayflow-binder': 'binder-a', 'if-match': '0' },
      body: '{"id": "AAAAAAAAAAAAAAAAAAAAAA",',
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('malformed-json');
    expect((await get()).status).toBe(404);
  });

  it('answers a body that is not JSON with 415', async () => {
    const { send } = session(testApp(harness.storage));
    const response = await send(`${BASE}/tasks/${ID}`, { method: 'PUT', headers: { 'content-type': 'text/plain', 'wayflow-binder': 'binder-a', 'if-match': '0' }, body: 'hello' });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).code).toBe('unsupported-media-type');
  });

  it('answers a record that breaks the schema with 400 invalid-body naming the field', async () => {
    const { put } = session(testApp(harness.storage));
    const response = await put({ ...live(), history: 'none' } as unknown as TaskRecord, 0);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe('invalid-body');
    expect(error.message).toMatch(/history/);
  });

  it('refuses an unknown top-level field, a version past what the database holds and a binder unfit for a header, naming each', async () => {
    const { put } = session(testApp(harness.storage));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...live(), colour: 'red' }, /colour: not a field of a task record/],
      [{ ...live(), version: 2 ** 31 }, /version: expected at most 2147483647/],
    ];
    for (const [record, message] of cases) {
      const response = await put(record as unknown as TaskRecord, 0);
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatchObject({ code: 'invalid-body', message: expect.stringMatching(message) });
    }
    expect(taskBodyProblems({ ...live(), binder: 'two words' })).toEqual(['binder: expected 1 to 256 printable ASCII characters']);
    expect(taskBodyProblems(live())).toEqual([]);
  });

  it('answers an oversized body with 413, with or without Content-Length, and stores nothing', async () => {
    const { send, put, get } = session(testApp(harness.storage, { limits: { bodyBytes: 2048 } }));
    const big = live({ data: { text: 'x'.repeat(4096) } });
    const declared = await put(big, 0);
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).code).toBe('body-too-large');
    const bytes = new TextEncoder().encode(JSON.stringify(big));
    const streamed = await send(`${BASE}/tasks/${ID}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'wayflow-binder': 'binder-a', 'if-match': '0', 'transfer-encoding': 'chunked' },
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 512) controller.enqueue(bytes.slice(at, at + 512));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await get()).status).toBe(404);
  });

  it('answers a stale If-Match with 409 and the current version, and keeps the newer record', async () => {
    const { put, get } = session(testApp(harness.storage));
    await put(live());
    await put(live({ version: 2, data: { item: 'pen' } }));
    const stale = await put(live({ version: 2, data: { item: 'lost' } }), 1);
    expect(stale.status).toBe(409);
    expect(await errorOf(stale)).toMatchObject({ code: 'version-conflict', current: 2 });
    const again = await put(live(), 0);
    expect(again.status).toBe(409);
    expect((await errorOf(again)).current).toBe(2);
    expect(((await (await get()).json()) as { task: TaskRecord }).task.data).toEqual({ item: 'pen' });
  });

  it('requires If-Match on writes and a version that follows it', async () => {
    const { put } = session(testApp(harness.storage));
    const missing = await put(live(), null);
    expect(missing.status).toBe(428);
    expect((await errorOf(missing)).code).toBe('if-match-required');
    const garbage = await put(live(), 'abc');
    expect(garbage.status).toBe(400);
    expect((await errorOf(garbage)).code).toBe('invalid-if-match');
    const skipped = await put(live({ version: 3 }), 0);
    expect(skipped.status).toBe(400);
    expect((await errorOf(skipped)).code).toBe('invalid-version');
  });

  it('answers a conditional delete of a changed task with 409 and leaves it', async () => {
    const { send, put, get } = session(testApp(harness.storage));
    await put(live());
    await put(live({ version: 2 }));
    const response = await send(`${BASE}/tasks/${ID}`, { method: 'DELETE', headers: { 'wayflow-binder': 'binder-a', 'if-match': '"1"' } });
    expect(response.status).toBe(409);
    expect((await errorOf(response)).current).toBe(2);
    expect((await get()).status).toBe(200);
  });

  it('answers a task of another session exactly like a missing one: 404 to read, write and delete', async () => {
    const app = testApp(harness.storage);
    const mine = session(app);
    const theirs = session(app);
    await mine.put(live());
    const foreign = await theirs.get();
    const missingId = 'ZZZZZZZZZZZZZZZZZZZZZZ';
    const missing = await theirs.get(missingId);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await errorOf(foreign)).code).toBe((await errorOf(missing)).code);
    const overwrite = await theirs.put(live({ version: 2, data: { item: 'stolen' } }), 1);
    expect(overwrite.status).toBe(404);
    const create = await theirs.put(live({ data: { item: 'shadow' } }), 0);
    expect(create.status).toBe(201);
    expect((await theirs.send(`${BASE}/tasks/${ID}`, { method: 'DELETE', headers: { 'wayflow-binder': 'binder-a' } })).status).toBe(204);
    expect(((await (await mine.get()).json()) as { task: TaskRecord }).task.data).toEqual({ item: 'book' });
  });

  it('answers a task of another binder in the same session as missing', async () => {
    const { put, get } = session(testApp(harness.storage));
    await put(live());
    expect((await get(ID, 'binder-b')).status).toBe(404);
  });

  it('ignores a forged session cookie and issues a new session', async () => {
    const app = testApp(harness.storage);
    const { put } = session(app);
    await put(live());
    const forged = await app.request(`${BASE}/tasks/${ID}`, { headers: { cookie: 'wayflow_session=abc.def', 'wayflow-binder': 'binder-a' } });
    expect(forged.status).toBe(404);
    expect(forged.headers.get('set-cookie')).toMatch(/^wayflow_session=/);
  });

  it('answers an expired task with 404, and the periodic sweep deletes it', async () => {
    let now = Date.now();
    const clock = () => now;
    const { put, get } = session(testApp(harness.storage, { idleTimeoutMs: 60_000, clock }));
    await put(live({ expiresAt: now + 3_600_000 }));
    now += 59_999;
    expect((await get()).status).toBe(200);
    now += 1;
    const expired = await get();
    expect(expired.status).toBe(404);
    expect((await errorOf(expired)).code).toBe('task-not-found');
    expect((await put(live({ version: 2 }))).status).toBe(404);
    const sweeper = startSweeper({ storage: harness.storage, intervalMs: 3_600_000, logger: () => undefined, clock });
    expect(await sweeper.sweepNow()).toBe(1);
    await sweeper.stop();
    expect(await harness.sql('SELECT id FROM wayflow_tasks')).toEqual([]);
  });

  it('lets a new task take the id of an idle-expired one', async () => {
    let now = Date.now();
    const { put, get } = session(testApp(harness.storage, { idleTimeoutMs: 1000, clock: () => now }));
    await put(live({ data: { item: 'old' } }));
    now += 1000;
    expect((await put(live({ data: { item: 'new' } }), 0)).status).toBe(201);
    expect(((await (await get()).json()) as { task: TaskRecord }).task.data).toEqual({ item: 'new' });
  });

  it('refuses cookie-authenticated writes from a foreign origin or without Origin (CSRF), and allows its own and listed ones', async () => {
    const app = testApp(harness.storage);
    const evil = session(app, 'https://evil.example');
    const bad = await evil.put(live());
    expect(bad.status).toBe(403);
    expect((await errorOf(bad)).code).toBe('bad-origin');
    const none = session(app, null);
    expect((await none.put(live())).status).toBe(403);
    const same = session(app, BASE);
    expect((await same.put(live())).status).toBe(201);
    const listed = session(app, ORIGIN);
    expect((await listed.put(live())).status).toBe(201);
    expect((await evil.get()).status).toBe(404);
  });

  it('binds tasks to an authenticated user across sessions; header credentials skip the origin check', async () => {
    const app = testApp(harness.storage, {
      authenticate: (request) => {
        const token = request.headers.get('authorization');
        return token?.startsWith('Bearer ') ? { id: token.slice(7), credentials: 'header' } : null;
      },
    });
    const ada = (origin: string | null) => {
      const { send } = session(app, origin);
      return (path: string, init: RequestInit = {}) => send(`${BASE}${path}`, { ...init, headers: { authorization: 'Bearer ada', 'wayflow-binder': 'binder-a', ...init.headers } });
    };
    const laptop = ada(null);
    const created = await laptop(`/tasks/${ID}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': '0' }, body: JSON.stringify(live()) });
    expect(created.status).toBe(201);
    expect(created.headers.get('set-cookie')).toBeNull();
    expect((await ada(null)(`/tasks/${ID}`)).status).toBe(200);
    const bob = await app.request(`${BASE}/tasks/${ID}`, { headers: { authorization: 'Bearer bob', 'wayflow-binder': 'binder-a' } });
    expect(bob.status).toBe(404);
    expect((await session(app).get()).status).toBe(404);
  });

  it('applies the origin check to users authenticated by cookie', async () => {
    const app = testApp(harness.storage, { authenticate: (request) => (request.headers.get('cookie')?.includes('app=ada') ? { id: 'ada', credentials: 'cookie' } : null) });
    const response = await app.request(`${BASE}/tasks/${ID}`, {
      method: 'PUT',
      headers: { cookie: 'app=ada', origin: 'https://evil.example', 'content-type': 'application/json', 'wayflow-binder': 'binder-a', 'if-match': '0' },
      body: JSON.stringify(live()),
    });
    expect(response.status).toBe(403);
  });

  it('bounds writes per session with 429 and Retry-After, leaving other sessions alone', async () => {
    const app = testApp(harness.storage, { limits: { writeRate: { perSecond: 1, burst: 3 } } });
    const busy = session(app);
    const statuses: number[] = [];
    for (let version = 1; version <= 5; version++) statuses.push((await busy.put(live({ version }))).status);
    expect(statuses).toEqual([201, 200, 200, 429, 429]);
    const limited = await busy.put(live({ version: 4 }));
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await errorOf(limited)).code).toBe('rate-limited');
    expect((await busy.get()).status).toBe(200);
    expect((await session(app).put(live({ id: 'CCCCCCCCCCCCCCCCCCCCCC' }))).status).toBe(201);
  });

  it('answers malformed ids, missing binders and unknown routes with JSON errors', async () => {
    const { send } = session(testApp(harness.storage));
    const badId = await send(`${BASE}/tasks/not-an-id`, { headers: { 'wayflow-binder': 'binder-a' } });
    expect(badId.status).toBe(400);
    expect((await errorOf(badId)).code).toBe('invalid-task-id');
    const noBinder = await send(`${BASE}/tasks/${ID}`);
    expect(noBinder.status).toBe(400);
    expect((await errorOf(noBinder)).code).toBe('invalid-binder');
    const nowhere = await send(`${BASE}/elsewhere`);
    expect(nowhere.status).toBe(404);
    expect((await errorOf(nowhere)).code).toBe('not-found');
  });

  it('answers a record as stored when the server wrote it, and one edited in the database as JSON.stringify writes what JSON.parse reads', async () => {
    const { put, get } = session(testApp(harness.storage));
    const record = live();
    await put(record);
    const read = await get();
    expect(read.headers.get('etag')).toBe('"1"');
    expect(await read.text()).toBe(JSON.stringify({ task: record }));
    // Valid, but not as JSON.stringify writes it: spaces, a key given twice (the last one counts, as for JSON.parse).
    const edited = JSON.stringify({ ...record, flowId: 'first' }, null, 2).replace('"flowId": "first"', `"flowId": "first", "flowId": ${JSON.stringify(record.flowId)}`);
    await harness.sql('UPDATE wayflow_tasks SET record = $1', [edited]);
    for (const answer of [await get(), await get()]) {
      expect(answer.headers.get('etag')).toBe('"1"');
      expect(await answer.text()).toBe(JSON.stringify({ task: record }));
    }
  });

  it('answers a record damaged in the database with 500 corrupt-record naming the task, and leaves the row for inspection', async () => {
    const { put, get } = session(testApp(harness.storage));
    await put(live());
    await harness.sql('UPDATE wayflow_tasks SET record = $1', ['{"id": "AAAA']);
    const broken = await get();
    expect(broken.status).toBe(500);
    expect(await errorOf(broken)).toMatchObject({ code: 'corrupt-record', message: expect.stringContaining(`Task ${ID} has a damaged stored record (not JSON)`) });
    await harness.sql('UPDATE wayflow_tasks SET record = $1', [JSON.stringify({ ...live(), history: 'none' })]);
    expect((await errorOf(await get())).message).toMatch(/history/);
    expect(await harness.sql('SELECT id FROM wayflow_tasks')).toEqual([{ id: ID }]);
  });

  it('reads a task through `read` from a storage of its own without `readJson`, answering the same record and ETag', async () => {
    const { readJson: _, ...withoutJson } = harness.storage;
    const { put, get } = session(testApp(withoutJson as TaskStorage));
    const record = live();
    expect((await put(record)).status).toBe(201);
    const read = await get();
    expect(read.headers.get('etag')).toBe('"1"');
    expect(await read.json()).toEqual({ task: record });
  });

  it('answers a storage failure with 500 and a request id, logging the stack but not returning it', async () => {
    const logs: LogEntry[] = [];
    const fail = async () => Promise.reject(new Error('disk on fire'));
    const broken: TaskStorage = { ...harness.storage, read: fail, readJson: fail };
    const app = testApp(broken, { logger: (entry) => logs.push(entry) });
    const response = await app.request(`${BASE}/tasks/${ID}`, { headers: { 'wayflow-binder': 'binder-a' } });
    expect(response.status).toBe(500);
    const error = await errorOf(response);
    expect(error.code).toBe('internal');
    expect(error.message).not.toMatch(/disk on fire/);
    const requestId = response.headers.get('x-request-id');
    expect(error.message).toContain(requestId);
    expect(logs.find((entry) => entry.msg === 'unhandled error')).toMatchObject({ level: 'error', requestId, error: 'disk on fire', stack: expect.stringContaining('disk on fire') });
  });

  it('logs one structured entry per request, without task ids, cookies or binders', async () => {
    const logs: LogEntry[] = [];
    const { put } = session(testApp(harness.storage, { logger: (entry) => logs.push(entry) }));
    await put(live());
    await put(live());
    expect(logs.map(({ level, msg, method, path, status }) => ({ level, msg, method, path, status }))).toEqual([
      { level: 'info', msg: 'request', method: 'PUT', path: '/tasks/:id', status: 201 },
      { level: 'warn', msg: 'request', method: 'PUT', path: '/tasks/:id', status: 409 },
    ]);
    expect(typeof logs[0]!.ms).toBe('number');
    expect(JSON.stringify(logs)).not.toMatch(new RegExp(`${ID}|binder-a|wayflow_session`));
  });
});
