import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidTaskIdError, newTaskId } from '../../src/core/ids.ts';
import type { StateStore } from '../../src/core/store.ts';
import type { Flow } from '../../src/core/definition.ts';
import { type TaskClock, startTask } from '../../src/core/task.ts';
import { browserBinder } from '../../src/persist/binder.ts';
import { indexedDbStore, openWayflowDatabase } from '../../src/persist/indexeddb.ts';
import { memoryStore } from '../../src/persist/memory.ts';
import { type OpenedTask, type OpenTaskOptions, openTask, type ReadyTask } from '../../src/persist/open.ts';
import { memoryLocation, readTaskId, withTaskId } from '../../src/persist/url.ts';
import { fakeLocks } from './fake-locks.ts';
import { otherFlow, signupV1, signupV2 } from './flows.ts';

const MINUTE = 60_000;
let time = 1_000_000;
const clock: TaskClock = { now: () => time, setTimeout: () => null, clearTimeout: () => undefined };
const opened: OpenedTask[] = [];
afterEach(() => {
  for (const result of opened.splice(0)) if (result.status === 'ready') result.close();
});

function ready(result: OpenedTask): ReadyTask {
  opened.push(result);
  if (result.status !== 'ready') throw new Error(`expected a ready task, got ${result.status}${result.status === 'error' ? `: ${result.error.message}` : ''}`);
  return result;
}

/** One browser profile: a store, a binder, Web Locks shared by its tabs. */
function profile(store: StateStore = memoryStore(() => time)) {
  const locks = fakeLocks();
  const tab = (href = 'https://shop.test/signup', extra: Partial<OpenTaskOptions> = {}) => {
    const location = memoryLocation(href);
    const open = async (flow: Flow = signupV1) => {
      const result = await openTask(flow, { store, binder: 'browser-1', location, clock, tabs: { locks, probeMs: 30, waitMs: 100 }, ...extra });
      opened.push(result);
      return result;
    };
    return { location, open };
  };
  return { store, tab };
}

describe('openTask', () => {
  it('expires tasks after the idle timeout the flow declares', async () => {
    const { tab } = profile();
    const page = tab();
    const brief = { ...signupV1, idleTimeoutMs: 2 * MINUTE };
    const first = ready(await page.open(brief));
    expect(first.task.toRecord().expiresAt - first.task.toRecord().lastActiveAt).toBe(2 * MINUTE);
    first.close();
    time += 2 * MINUTE;
    expect((await page.open(brief)).status).toBe('expired');
  });

  it('starts a new task, puts its id in the URL, and restores it after a reload at the same step', async () => {
    const { store, tab } = profile();
    const page = tab('https://shop.test/signup?ref=mail');
    const first = ready(await page.open());
    expect(first.origin).toBe('new');
    const id = readTaskId(page.location.read());
    expect(id).toBe(first.task.id);
    expect(page.location.read()).toContain('ref=mail');
    expect(await first.task.submit({ name: 'Ada' })).toEqual({ ok: true });
    expect((await store.get(id!, 'browser-1', time))!.snapshot.value).toEqual({ signup: { email: '$ready' } });
    first.close();
    const reloaded = ready(await page.open());
    expect(reloaded).toMatchObject({ origin: 'restored', forkedFrom: null });
    expect(reloaded.task.id).toBe(id);
    expect(reloaded.task.state.step?.id).toBe('email');
    expect(reloaded.task.state.data).toEqual({ name: { name: 'Ada' } });
  });

  it('commits every transition before submit resolves', async () => {
    const { store, tab } = profile();
    const { task } = ready(await tab().open());
    await task.submit({ name: 'Ada' });
    await task.submit({ email: 'ada@example.org' });
    expect(await store.get(task.id, 'browser-1', time)).toEqual(task.toRecord());
    expect(task.toRecord().version).toBe(3);
  });

  it('rejects a malformed id in the URL without looking it up, and can start over', async () => {
    const { store, tab } = profile();
    const get = vi.spyOn(store, 'get');
    const page = tab('https://shop.test/signup?_id=../../admin');
    const result = await page.open();
    expect(result).toMatchObject({ status: 'error', taskId: null });
    expect(result.status === 'error' && result.error).toBeInstanceOf(InvalidTaskIdError);
    expect(get).not.toHaveBeenCalled();
    const fresh = ready(await result.startOver());
    expect(readTaskId(page.location.read())).toBe(fresh.task.id);
  });

  it('shows an idle task as expired, never returns it, sweeps it, and starts over', async () => {
    const { store, tab } = profile();
    const page = tab('https://shop.test/signup', { idleTimeoutMs: 5 * MINUTE });
    const first = ready(await page.open());
    const id = first.task.id;
    first.close();
    time += 5 * MINUTE;
    const result = await page.open();
    expect(result).toMatchObject({ status: 'expired', taskId: id });
    expect(await store.get(id, 'browser-1', time)).toBeNull();
    const fresh = ready(await result.startOver());
    expect(fresh.task.id).not.toBe(id);
    expect(await fresh.swept).toBe(1);
    expect(await page.open()).toMatchObject({ status: 'ready' });
  });

  it('refuses changes to a task left open past its idle timeout, and says so', async () => {
    const { store, tab } = profile();
    const page = tab('https://shop.test/signup', { idleTimeoutMs: 5 * MINUTE });
    const { task } = ready(await page.open());
    expect(await task.submit({ name: 'Ada' })).toEqual({ ok: true });
    time += 5 * MINUTE - 1;
    expect(await task.submit({ email: 'ada@example.org' })).toEqual({ ok: true });
    time += 5 * MINUTE;
    const late = await task.submit({ survey: 'late' });
    expect(late).toMatchObject({ ok: false, error: { code: 'task-expired' } });
    expect(task.state.error?.message).toMatch(new RegExp(`Task ${task.id} of flow "signup" expired after 5 min without activity.*start a new task`));
    expect(await store.get(task.id, 'browser-1', time)).toBeNull();
    expect((await store.get(task.id, 'browser-1', 0))!.version).toBe(3);
  });

  it('uses a 20-minute idle timeout by default', async () => {
    const { tab } = profile();
    const page = tab();
    ready(await page.open()).close();
    time += 20 * MINUTE - 1;
    ready(await page.open()).close();
    time += 20 * MINUTE;
    expect(await page.open()).toMatchObject({ status: 'expired' });
  });

  it('sweeps expired tasks of every flow on start-up', async () => {
    const { store, tab } = profile();
    const old = await startTask(otherFlow, { store, binder: 'someone', clock, idleTimeoutMs: 10 });
    time += 10;
    const result = ready(await tab().open());
    expect(await result.swept).toBe(1);
    expect(await store.get(old.id, 'someone', 0)).toBeNull();
  });

  it('sweeps before a new task’s first write (the first step never queues behind the sweep), after a restored task’s read', async () => {
    const inner = memoryStore(() => time);
    const calls: string[] = [];
    const noted =
      <A extends unknown[], R>(name: string, call: (...args: A) => R) =>
      (...args: A) => {
        calls.push(name);
        return call(...args);
      };
    const store: StateStore = { ...inner, get: noted('get', inner.get), put: noted('put', inner.put), sweep: noted('sweep', inner.sweep) };
    const started = ready(await profile(store).tab().open());
    expect(await started.swept).toBe(0);
    expect(calls).toEqual(['sweep', 'put']);
    calls.length = 0;
    started.close();
    const restored = ready(await profile(store).tab(withTaskId('https://shop.test/signup', started.task.id).href).open());
    expect(await restored.swept).toBe(0);
    expect(calls).toEqual(['get', 'sweep']);
  });

  it('reads a task of another binder, or an unknown id, as not found', async () => {
    const { store, tab } = profile();
    const theirs = await startTask(signupV1, { store, binder: 'browser-2', clock });
    expect(await tab(withTaskId('https://shop.test/signup', theirs.id).href).open()).toMatchObject({ status: 'not-found', taskId: theirs.id });
    expect(await tab(withTaskId('https://shop.test/signup', newTaskId()).href).open()).toMatchObject({ status: 'not-found' });
    expect((await store.get(theirs.id, 'browser-2', time))!.version).toBe(1);
  });

  it('reports a corrupted record and quarantines it instead of crashing or overwriting it', async () => {
    const records = new Map<string, unknown>();
    const store = memoryStore(() => time, records);
    const id = newTaskId();
    records.set(id, { id, binder: 'browser-1', flowId: 'signup', snapshot: 'garbled' });
    const result = await profile(store).tab(withTaskId('https://shop.test/signup', id).href).open();
    expect(result).toMatchObject({ status: 'error', taskId: id, error: { code: 'corrupt-record' } });
    expect(result.status === 'error' && result.error.message).toMatch(new RegExp(`Task ${id} of flow "signup" has a corrupted stored record`));
    expect(await store.quarantined()).toMatchObject([{ taskId: id, raw: { snapshot: 'garbled' } }]);
  });

  it('refuses a record of another flow and leaves it for that flow', async () => {
    const { store, tab } = profile();
    const other = await startTask(otherFlow, { store, binder: 'browser-1', clock });
    const result = await tab(withTaskId('https://shop.test/signup', other.id).href).open();
    expect(result).toMatchObject({ status: 'error', error: { code: 'foreign-flow' } });
    expect(await store.get(other.id, 'browser-1', time)).toEqual(other.toRecord());
  });

  it('migrates a record of an older flow version, relocates it, and writes it back', async () => {
    const { store, tab } = profile();
    const page = tab();
    const first = ready(await page.open(signupV1));
    await first.task.submit({ name: 'Ada' });
    await first.task.submit({ email: 'ada@example.org' });
    first.close();
    const result = ready(await page.open(signupV2));
    expect(result.relocated).toEqual({ from: 'survey', to: 'email' });
    expect(result.task.state.step?.id).toBe('email');
    const stored = (await store.get(result.task.id, 'browser-1', time))!;
    expect(stored).toMatchObject({ flowVersion: 2, version: 4 });
    expect(await result.task.submit({ email: 'ada@example.org' })).toEqual({ ok: true });
    expect(result.task.state.step?.id).toBe('confirm');
  });

  it('quarantines a record of a version it cannot migrate', async () => {
    const store = memoryStore(() => time);
    const { tab } = profile(store);
    const page = tab('https://shop.test/signup', { migrations: { oldest: 2 } });
    ready(await page.open(signupV1)).close();
    const result = await page.open(signupV2);
    expect(result).toMatchObject({ status: 'error', error: { code: 'unknown-flow-version' } });
    expect(await store.quarantined()).toMatchObject([{ code: 'unknown-flow-version', raw: { flowVersion: 1 } }]);
  });

  it('leaves a record of a newer flow version alone and asks for a reload', async () => {
    const { store, tab } = profile();
    const page = tab();
    ready(await page.open(signupV2)).close();
    const result = await page.open(signupV1);
    expect(result).toMatchObject({ status: 'error', error: { code: 'flow-version-ahead' } });
    expect((await store.list('browser-1', time))[0]!.flowId).toBe('signup');
  });

  it('forks a duplicated tab into a new task with a copy of the state; both then advance independently', async () => {
    const { store, tab } = profile();
    const original = tab();
    const a = ready(await original.open());
    await a.task.submit({ name: 'Ada' });
    const duplicate = tab(original.location.read());
    const b = ready(await duplicate.open());
    expect(b).toMatchObject({ origin: 'forked', forkedFrom: a.task.id });
    expect(b.task.id).not.toBe(a.task.id);
    expect(readTaskId(duplicate.location.read())).toBe(b.task.id);
    expect(b.task.state).toMatchObject({ step: { id: 'email' }, data: { name: { name: 'Ada' } } });
    await b.task.submit({ email: 'b@example.org' });
    await a.task.submit({ email: 'a@example.org' });
    expect((await store.get(a.task.id, 'browser-1', time))!.data.email).toEqual({ email: 'a@example.org' });
    expect((await store.get(b.task.id, 'browser-1', time))!.data.email).toEqual({ email: 'b@example.org' });
    expect((await store.get(b.task.id, 'browser-1', time))!.history.map((h) => h.event)).toContain('fork');
  });

  it('forks a duplicated tab running a newer flow version from the migrated state, leaving the original untouched', async () => {
    const { store, tab } = profile();
    const original = tab();
    const a = ready(await original.open(signupV1));
    await a.task.submit({ name: 'Ada' });
    await a.task.submit({ email: 'ada@example.org' });
    const before = await store.get(a.task.id, 'browser-1', time);
    const b = ready(await tab(original.location.read()).open(signupV2));
    expect(b).toMatchObject({ origin: 'forked', forkedFrom: a.task.id, relocated: { from: 'survey', to: 'email' } });
    expect(b.task.toRecord()).toMatchObject({ flowVersion: 2, version: 1 });
    expect(b.task.toRecord().history.map((h) => h.event).slice(-2)).toEqual(['migrate', 'fork']);
    expect(await store.get(a.task.id, 'browser-1', time)).toEqual(before);
  });

  it('without tab detection, surfaces a second tab’s conflicting write to the user instead of losing either', async () => {
    const { store, tab } = profile();
    const page = tab('https://shop.test/signup', { tabs: false });
    const a = ready(await page.open());
    const b = ready(await tab(page.location.read(), { tabs: false }).open());
    expect(b.task.id).toBe(a.task.id);
    expect(await a.task.submit({ name: 'Ada' })).toEqual({ ok: true });
    const second = await b.task.submit({ name: 'Bob' });
    expect(second).toMatchObject({ ok: false, error: { code: 'version-conflict' } });
    expect(b.task.state.error?.message).toMatch(/changed elsewhere.*Reload the task/);
    expect((await store.get(a.task.id, 'browser-1', time))!.data).toEqual({ name: { name: 'Ada' } });
  });

  it('binds tasks to this browser profile’s secret by default and keeps them in IndexedDB', async () => {
    const name = `wayflow-open-${Date.now()}`;
    const store = indexedDbStore({ name, clock: () => time });
    const location = memoryLocation('https://shop.test/signup');
    const options = { store, location, clock, tabs: false as const, binder: () => browserBinder({ name }) };
    const first = ready(await openTask(signupV1, options));
    const secret = await browserBinder({ name });
    expect(first.task.toRecord().binder).toBe(secret);
    await first.task.submit({ name: 'Ada' });
    first.close();
    const again = ready(await openTask(signupV1, options));
    expect(again.task.state.step?.id).toBe('email');
    const db = await openWayflowDatabase(name);
    expect(await db.count('tasks')).toBe(1);
  });

  it('uses the default database’s browser secret when no binder is given', async () => {
    const store = memoryStore(() => time);
    const result = ready(await openTask(signupV1, { store, location: memoryLocation('https://shop.test/'), clock, tabs: false }));
    expect(result.task.toRecord().binder).toBe(await browserBinder());
    expect(await store.get(result.task.id, 'user:42', time)).toBeNull();
  });

  it('starts over from a ready task: a new id in the URL, the old record left to expire', async () => {
    const { store, tab } = profile();
    const page = tab();
    const first = ready(await page.open());
    const second = ready(await first.startOver());
    expect(second.task.id).not.toBe(first.task.id);
    expect(readTaskId(page.location.read())).toBe(second.task.id);
    expect(await store.get(first.task.id, 'browser-1', time)).not.toBeNull();
  });
});
