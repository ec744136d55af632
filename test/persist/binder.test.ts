import { describe, expect, it } from 'vitest';
import { startTask } from '../../src/core/task.ts';
import { browserBinder, resolveBinder, rotateBrowserBinder } from '../../src/persist/binder.ts';
import { indexedDbStore } from '../../src/persist/indexeddb.ts';
import { memoryStore } from '../../src/persist/memory.ts';
import { openTask } from '../../src/persist/open.ts';
import { EmptyBinderError } from '../../src/persist/record.ts';
import { memoryLocation } from '../../src/persist/url.ts';
import { signupV1 } from './flows.ts';

let databases = 0;
const fresh = () => `wayflow-binder-${++databases}`;

describe('binder', () => {
  it('creates one random secret per browser profile and keeps it', async () => {
    const name = fresh();
    const first = await browserBinder({ name });
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await browserBinder({ name })).toBe(first);
    expect(await browserBinder({ name: fresh() })).not.toBe(first);
  });

  it('gives two tabs asking at once the same secret', async () => {
    const name = fresh();
    const [a, b, c] = await Promise.all([browserBinder({ name }), browserBinder({ name }), browserBinder({ name })]);
    expect(new Set([a, b, c]).size).toBe(1);
  });

  it('hides a task from another binder, and rotating the secret hides old tasks', async () => {
    const name = fresh();
    const store = indexedDbStore({ name });
    const binder = await browserBinder({ name });
    const task = await startTask(signupV1, { store, binder });
    expect(await store.get(task.id, binder)).not.toBeNull();
    expect(await store.get(task.id, 'user:42')).toBeNull();
    const rotated = await rotateBrowserBinder({ name });
    expect(rotated).not.toBe(binder);
    expect(await browserBinder({ name })).toBe(rotated);
    expect(await store.get(task.id, rotated)).toBeNull();
  });

  it('can be replaced by a fixed value or a function, such as the signed-in user id', async () => {
    expect(await resolveBinder('user:42')).toBe('user:42');
    expect(await resolveBinder(async () => 'user:43')).toBe('user:43');
  });

  it('refuses a binder function that returns nothing or an empty string, instead of binding tasks to ""', async () => {
    await expect(resolveBinder((() => undefined) as unknown as () => string)).rejects.toBeInstanceOf(EmptyBinderError);
    await expect(resolveBinder(async () => '')).rejects.toThrow(/The binder function: the binder is '', not a non-empty string/);
    await expect(resolveBinder('')).rejects.toMatchObject({ code: 'empty-binder' });
  });

  it('opens no task when the binder function returns nothing: the outcome is an error, and nothing is stored', async () => {
    const records = new Map<string, unknown>();
    const session: { userId?: string } = {};
    const opened = await openTask(signupV1, {
      store: memoryStore(Date.now, records),
      binder: () => session.userId as string,
      location: memoryLocation('https://shop.test/signup'),
      tabs: false,
      sweep: false,
    });
    expect(opened).toMatchObject({ status: 'error', error: { code: 'empty-binder' } });
    expect(records.size).toBe(0);
  });

  it('binds tasks started without a binder to "unbound", never to an empty binder', async () => {
    const records = new Map<string, unknown>();
    const task = await startTask(signupV1, { store: memoryStore(Date.now, records) });
    expect(task.toRecord().binder).toBe('unbound');
    expect(records.get(task.id)).toMatchObject({ binder: 'unbound' });
  });
});
