import { hc } from 'hono/client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { TasksResponses } from '../../src/persist/tasks-protocol.ts';
import type { AppType } from '../../src/server/app.ts';
import type { Answer, Reads } from '../helpers/route-types.ts';
import { makeRecord } from '../persist/contract.ts';
import { browserFetch, pgliteHarness, testApp } from './harness.ts';

describe('typed client', () => {
  it('infers request and response types of the tasks API from AppType', async () => {
    const harness = await pgliteHarness();
    try {
      const app = testApp(harness.storage);
      const client = hc<AppType>('http://wayflow.test', { fetch: browserFetch((request) => app.fetch(request)) });
      const record = makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 });
      const put = await client.tasks[':id'].$put({ param: { id: record.id }, header: { 'wayflow-binder': 'binder-a', 'if-match': '0' }, json: record });
      expect(put.status).toBe(201);
      const read = await client.tasks[':id'].$get({ param: { id: record.id }, header: { 'wayflow-binder': 'binder-a' }, query: {} });
      if (read.status !== 200) throw new Error(`read failed with ${read.status}`);
      const { task } = await read.json();
      expectTypeOf(task.version).toEqualTypeOf<number>();
      expect(task).toEqual(record);
      const list = await client.tasks.$get({ header: { 'wayflow-binder': 'binder-a' }, query: {} });
      const { tasks } = await list.json();
      expectTypeOf(tasks[0]!.step).toEqualTypeOf<string | null>();
      expect(tasks.map((summary) => summary.id)).toEqual([record.id]);
    } finally {
      await harness.close();
    }
  });

  it('remoteStore reads the bodies the tasks routes answer with (a change on either side fails the type check)', () => {
    type Tasks = ReturnType<typeof hc<AppType>>['tasks'];
    expectTypeOf<Reads<TasksResponses['read'], Answer<Tasks[':id']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<TasksResponses['list'], Answer<Tasks['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<TasksResponses['sweep'], Answer<Tasks['sweep']['$post']>>>().toEqualTypeOf<true>();
  });
});
