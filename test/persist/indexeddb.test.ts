import { describe, expect, it, vi } from 'vitest';
import { indexedDbStore, openWayflowDatabase } from '../../src/persist/indexeddb.ts';
import { makeRecord, storeContract } from './contract.ts';
import { storeProperties } from './properties.ts';

let databases = 0;
const names = new WeakMap<object, string>();
const create = () => {
  const name = `wayflow-test-${++databases}`;
  const store = indexedDbStore({ name });
  names.set(store, name);
  return store;
};

storeContract('indexedDbStore', create, {
  async writeRaw(store, _id, raw) {
    await (await openWayflowDatabase(names.get(store)!)).put('tasks', raw);
  },
});

describe('indexedDbStore properties', () => {
  storeProperties('indexedDbStore', create, 300);
});

describe('indexedDbStore', () => {
  it('starts a write’s transaction in the caller’s turn once the database is open, and still compares versions', async () => {
    const store = create();
    await store.put(makeRecord({ version: 1 }), 0);
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      const writing = store.put(makeRecord({ version: 2 }), 1);
      expect(transaction).toHaveBeenCalledTimes(1);
      await writing;
      await expect(store.put(makeRecord({ version: 2 }), 1)).rejects.toMatchObject({ code: 'version-conflict' });
    } finally {
      transaction.mockRestore();
    }
    await store.close();
    // A closed store reopens its database on the next write (nothing starts in the caller's turn then).
    await store.put(makeRecord({ version: 3 }), 2);
    expect(await store.get(makeRecord().id, makeRecord().binder, 0)).toMatchObject({ version: 3 });
  });

  it('keeps records across connections: a reopened database still has them', async () => {
    const store = create();
    await store.put(makeRecord(), 0);
    await store.close();
    const again = indexedDbStore({ name: names.get(store)! });
    expect(await again.get(makeRecord().id, 'binder-a', 1_000_000)).toEqual(makeRecord());
  });

  it('sweeps through the expiresAt index, leaving live tasks of every binder', async () => {
    const store = create();
    await store.put(makeRecord({ expiresAt: 10 }), 0);
    await store.put(makeRecord({ id: 'BBBBBBBBBBBBBBBBBBBBBB', binder: 'binder-b', expiresAt: 20 }), 0);
    await store.put(makeRecord({ id: 'CCCCCCCCCCCCCCCCCCCCCC', expiresAt: 30 }), 0);
    expect(await store.sweep(20)).toBe(2);
    const db = await openWayflowDatabase(names.get(store)!);
    expect(await db.getAllKeys('tasks')).toEqual(['CCCCCCCCCCCCCCCCCCCCCC']);
  });
});
