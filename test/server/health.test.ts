import { describe, expect, it } from 'vitest';
import type { TaskStorage } from '../../src/server/storage.ts';
import { pgliteHarness, postgresHarness, type StorageHarness, testApp } from './harness.ts';

const check = async (storage: TaskStorage, path: string) => {
  const response = await testApp(storage).request(`http://wayflow.test${path}`);
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
};

describe.each([
  ['PGlite', pgliteHarness],
  ['PostgreSQL', () => postgresHarness()],
] as [string, () => Promise<StorageHarness>][])('health checks on %s', (_, open) => {
  it('answers readiness once the database answers, 503 database-unavailable with Retry-After when it does not; liveness never asks it', async () => {
    const harness = await open();
    try {
      expect(await check(harness.storage, '/health')).toMatchObject({ status: 200, body: { ok: true } });
      expect(await check(harness.storage, '/health/ready')).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      await harness.close();
    }
    // The database is gone now.
    expect(await check(harness.storage, '/health')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await check(harness.storage, '/health/ready')).toMatchObject({ status: 503, retryAfter: '5', body: { ok: false, error: { code: 'database-unavailable' } } });
  }, 60_000);
});

describe('readiness of a database that hangs', () => {
  it('answers 503 after 2 s instead of waiting with the caller', async () => {
    const harness = await pgliteHarness();
    try {
      const hanging: TaskStorage = { ...harness.storage, ping: () => new Promise(() => undefined) };
      const started = Date.now();
      expect((await check(hanging, '/health/ready')).status).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    } finally {
      await harness.close();
    }
  }, 60_000);
});
