import { describe } from 'vitest';
import { memoryStore } from '../../src/persist/memory.ts';
import { storeContract } from './contract.ts';
import { storeProperties } from './properties.ts';

const backing = new WeakMap<object, Map<string, unknown>>();
const create = () => {
  const records = new Map<string, unknown>();
  const store = memoryStore(Date.now, records);
  backing.set(store, records);
  return store;
};

storeContract('memoryStore', create, {
  async writeRaw(store, id, raw) {
    backing.get(store)!.set(id, raw);
  },
});

describe('memoryStore properties', () => {
  storeProperties('memoryStore', create, 300);
});
