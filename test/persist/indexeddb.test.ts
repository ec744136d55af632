import { describe, expect, it } from 'vitest';
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
