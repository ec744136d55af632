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

  it('commits a write as soon as its compare-and-set read passes, and never a refused one', async () => {
    const store = create();
    const commit = vi.spyOn(IDBTransaction.prototype, 'commit');
    try {
      await store.put(makeRecord({ version: 1 }), 0);
      expect(commit).toHaveBeenCalledTimes(1);
      await expect(store.put(makeRecord({ version: 2 }), 0)).rejects.toMatchObject({ code: 'version-conflict' });
      await expect(store.put(makeRecord({ version: 2, binder: 'binder-b' }), 1)).rejects.toMatchObject({ code: 'version-conflict' });
      expect(commit).toHaveBeenCalledTimes(1);
      // Resolved once committed: a read afterwards finds the write.
      await store.put(makeRecord({ version: 2, data: { step: 2 } }), 1);
      expect(commit).toHaveBeenCalledTimes(2);
      expect(await store.get(makeRecord().id, 'binder-a', 0)).toMatchObject({ version: 2, data: { step: 2 } });
    } finally {
      commit.mockRestore();
    }
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
