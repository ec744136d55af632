import { request as httpRequest, Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serveTasks } from '../../src/server/serve.ts';
import { jsonDeeperThan } from '../../src/server/security.ts';
import { makeRecord } from '../persist/contract.ts';
import { ORIGIN, pgliteHarness, type StorageHarness, TEST_LIMITS, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());

/** Nesting depth of a parsed JSON value, the slow way. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('jsonDeeperThan', () => {
  it('agrees with the depth of the parsed value for any JSON, brackets inside strings included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 14 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(jsonDeeperThan(text, max)).toBe(depthOf(value) > max);
      }),
    );
    expect(jsonDeeperThan(JSON.stringify({ s: '[[[[{{{{\\"]]' }), 1)).toBe(false);
  });
});

describe('JSON nesting at the edge', () => {
  it('refuses a task record nested 10,000 levels deep with 400 json-too-deep, and stores nothing', async () => {
    const app = testApp(harness.storage);
    const task = makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const response = await app.request(`http://wayflow.test/tasks/${task.id}`, {
      method: 'PUT',
      headers: { origin: ORIGIN, 'content-type': 'application/json', 'wayflow-binder': task.binder, 'if-match': '0' },
      body: JSON.stringify(task).replace('"data":{', `"data":{"deep":${deep},`),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'json-too-deep', message: expect.stringContaining('64 levels') } });
    expect(await harness.sql('SELECT id FROM wayflow_tasks')).toEqual([]);
  });
});

describe('oversized bodies on a keep-alive connection', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serveTasks({
      storage: { ...harness.storage, close: async () => undefined },
      port: 0,
      logger: () => undefined,
      allowedOrigins: [ORIGIN],
      limits: { ...TEST_LIMITS, bodyBytes: 1024 },
    });
  });
  afterAll(() => server?.close());

  /** A PUT of `size` bytes on `agent`, sent with Content-Length or chunked; resolves to the status or the socket error's code. */
  const put = (agent: Agent, size: number, chunked: boolean) =>
    new Promise<string>((resolve) => {
      const headers: Record<string, string | number> = { origin: ORIGIN, 'content-type': 'application/json', 'wayflow-binder': 'b', 'if-match': '0' };
      if (!chunked) headers['content-length'] = size;
      const req = httpRequest(`${server.url}/tasks/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'PUT', agent, headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => resolve(`${response.statusCode} ${(JSON.parse(body || '{}') as { error?: { code?: string } }).error?.code ?? ''}`.trim()));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      const chunk = Buffer.alloc(64 * 1024, 32);
      for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk.subarray(0, Math.min(chunk.length, size - sent)));
      req.end();
    });

  it('answers every oversized upload with 413, never a reset, and the connection serves the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 8; i++) outcomes.push(await put(agent, 2 * 1024 * 1024, i % 2 === 1));
      expect(outcomes).toEqual(Array(8).fill('413 body-too-large'));
      const health = await new Promise<number>((resolve, reject) => {
        httpRequest(`${server.url}/health`, { agent }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(health).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
