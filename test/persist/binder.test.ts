import { describe, expect, it } from 'vitest';
import { startTask } from '../../src/core/task.ts';
import { browserBinder, resolveBinder, rotateBrowserBinder } from '../../src/persist/binder.ts';
import { indexedDbStore } from '../../src/persist/indexeddb.ts';
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
});
