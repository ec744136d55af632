import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { remoteStore } from '../../src/persist/remote.ts';
import { storeContract } from '../persist/contract.ts';
import { storeProperties } from '../persist/properties.ts';
import { browserFetch, pgliteHarness, type StorageHarness, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());
beforeEach(() => harness.reset());

/** A remote store over the app in this process, as a fresh browser session. */
const create = async () => {
  await harness.reset();
  const app = testApp(harness.storage);
  return remoteStore({ baseUrl: 'http://wayflow.test', fetch: browserFetch((request) => app.fetch(request)), retryIntervalMs: 0 });
};

storeContract('remoteStore over the API on PGlite', create);

describe('remoteStore over the API on PGlite, properties', () => {
  storeProperties('remoteStore on PGlite', create, 25);
});
