import { describe, expect, it } from 'vitest';
import {
  type AutomationStorage,
  createAutomationRunner,
  defineAutomation,
  type FlowRun,
  flow,
  type InstanceRecord,
  ManualClock,
  MissingMessageDataError,
  requireDataParameters,
} from '../../src/automations/index.ts';
import { storedRun } from './flowcontrol-scenarios.ts';

/** A stored instance with sensible defaults, for storage tests. */
export function record(overrides: Partial<InstanceRecord> & { id: string }): InstanceRecord {
  return {
    automation: 'A',
    key: `key-${overrides.id}`,
    data: {},
    paths: [],
    finished: false,
    createdAt: 0,
    finishedAt: null,
    nextTaskId: 1,
    nextPathId: 1,
    repeatAnchors: {},
    uniqueKey: null,
    dueAt: null,
    updatedAt: 0,
    ...overrides,
  };
}

/** A stored flow run of flow `F`, created at 0, for storage tests. */
const flowRun = (id: string, fields: Partial<FlowRun> = {}): FlowRun => storedRun(id, { flow: 'F', createdAt: 0, ...fields });

/** The behaviour every `AutomationStorage` implementation must show; call it from the implementation's test file. */
export function automationStorageContract(name: string, make: () => AutomationStorage | Promise<AutomationStorage>): void {
  describe(`AutomationStorage contract: ${name}`, () => {
    it('inserts, reads by id and by key, replaces and deletes instances with their history', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        expect(await tx.insertInstance(record({ id: 'a', data: { x: 1 } }))).toBeNull();
        await tx.applyHistory([{ type: 'open', row: { instanceId: 'a', taskId: 1, path: 'p1', status: 'n', created: 5, finished: null, message: null, result: null } }]);
      });
      await storage.transaction(async (tx) => {
        expect((await tx.getInstance('a'))?.data).toEqual({ x: 1 });
        expect((await tx.getInstanceByKey('key-a'))?.id).toBe('a');
        await tx.putInstance(record({ id: 'a', data: { x: 2 } }));
        await tx.applyHistory([{ type: 'close', instanceId: 'a', taskId: 1, finished: 9, message: 'OK', result: { r: 1 } }]);
      });
      await storage.transaction(async (tx) => {
        expect((await tx.getInstance('a'))?.data).toEqual({ x: 2 });
        expect(await tx.history('a')).toEqual([{ instanceId: 'a', taskId: 1, path: 'p1', status: 'n', created: 5, finished: 9, message: 'OK', result: { r: 1 } }]);
        expect(await tx.deleteInstance('a')).toBe(true);
        expect(await tx.getInstance('a')).toBeNull();
        expect(await tx.history('a')).toEqual([]);
        expect(await tx.deleteInstance('a')).toBe(false);
      });
    });

    it('reads within a transaction what it wrote before: instances, history, messages, due instances', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        expect(await tx.insertInstance(record({ id: 'w', data: { v: 1 }, dueAt: 50 }))).toBeNull();
        await tx.applyHistory([{ type: 'open', row: { instanceId: 'w', taskId: 1, path: 'p1', status: 'n', created: 5, finished: null, message: null, result: null } }]);
        await tx.putInstance(record({ id: 'w', data: { v: 2 }, dueAt: 40 }));
        await tx.applyHistory([
          { type: 'close', instanceId: 'w', taskId: 1, finished: 6, message: 'OK', result: 'r1' },
          { type: 'open', row: { instanceId: 'w', taskId: 2, path: 'p1', status: 'm', created: 6, finished: null, message: null, result: null } },
        ]);
        await tx.enqueueMessage({ id: 'msg', to: { instanceId: 'w' }, message: 'hi', payload: { n: 1 }, createdAt: 7 });
        await tx.enqueueMessage({ id: 'msg', to: { instanceId: 'w' }, message: 'hi', payload: { n: 2 }, createdAt: 7 });
        expect((await tx.getInstanceByKey('key-w'))?.data).toEqual({ v: 2 });
        expect((await tx.listInstances({ automation: 'A' })).map((r) => [r.id, r.data])).toEqual([['w', { v: 2 }]]);
        expect((await tx.history('w')).map((row) => [row.taskId, row.finished, row.result])).toEqual([
          [1, 6, 'r1'],
          [2, null, null],
        ]);
        expect((await tx.pendingMessages(10)).map((m) => [m.id, m.payload])).toEqual([['msg', { n: 2 }]]);
        expect(await tx.dueInstances(45, 10)).toEqual(['w']);
        await tx.putInstance(record({ id: 'w', data: { v: 3 }, dueAt: null }));
        await tx.applyHistory([{ type: 'close', instanceId: 'w', taskId: 2, finished: 8, message: 'OK', result: 'r2', completedBy: 'ada' }]);
      });
      await storage.transaction(async (tx) => {
        expect((await tx.getInstance('w'))?.data).toEqual({ v: 3 });
        expect((await tx.history('w')).map((row) => [row.taskId, row.finished, row.completedBy])).toEqual([
          [1, 6, undefined],
          [2, 8, 'ada'],
        ]);
        expect(await tx.dueInstances(45, 10)).toEqual([]);
      });
    });

    it("keeps a sub-process's parent task and every path field through a write and a read", async () => {
      const storage = await make();
      const parent = { instanceId: 'boss', taskId: 3 };
      const paths: InstanceRecord['paths'] = [{ id: 'p1', node: 'close', taskId: 2, enteredAt: 1, waitUntil: null, status: 'error', forks: [], error: 'failed', failedEnd: true }];
      await storage.transaction(async (tx) => {
        await tx.insertInstance(record({ id: 'child', parent }));
      });
      await storage.transaction(async (tx) => {
        expect((await tx.getInstance('child'))?.parent).toEqual(parent);
        await tx.putInstance(record({ id: 'child', parent, paths }));
      });
      const read = await storage.transaction((tx) => tx.getInstance('child'));
      expect([read?.parent, read?.paths]).toEqual([parent, paths]);
    });

    it('keeps unique keys unique, returning the holder instead of inserting', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        expect(await tx.insertInstance(record({ id: 'a', uniqueKey: 'u' }))).toBeNull();
        expect((await tx.insertInstance(record({ id: 'b', uniqueKey: 'u' })))?.id).toBe('a');
        expect(await tx.getInstance('b')).toBeNull();
        expect(await tx.insertInstance(record({ id: 'c' }))).toBeNull();
        expect(await tx.insertInstance(record({ id: 'd' }))).toBeNull();
      });
    });

    it('lists due unfinished instances earliest first and filters instances', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        await tx.insertInstance(record({ id: 'late', dueAt: 30, createdAt: 1 }));
        await tx.insertInstance(record({ id: 'early', dueAt: 10, createdAt: 2, automation: 'B' }));
        await tx.insertInstance(record({ id: 'future', dueAt: 100, createdAt: 3 }));
        await tx.insertInstance(record({ id: 'idle', dueAt: null, createdAt: 4 }));
        await tx.insertInstance(record({ id: 'done', dueAt: 5, finished: true, finishedAt: 5, createdAt: 5 }));
        expect(await tx.dueInstances(50, 10)).toEqual(['early', 'late']);
        expect(await tx.dueInstances(50, 1)).toEqual(['early']);
        expect((await tx.listInstances({ automation: 'A', finished: false })).map((r) => r.id)).toEqual(['late', 'future', 'idle']);
      });
    });

    it('keeps flow runs beside instances: one due list by due time, each kind read only as itself', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        await tx.insertInstance(record({ id: 'i-early', dueAt: 10 }));
        await tx.putRun(flowRun('r-pending', { createdAt: 20 }));
        await tx.insertInstance(record({ id: 'i-late', dueAt: 40 }));
        await tx.putRun(flowRun('r-waiting', { status: 'waiting', position: [0], continueAfter: 30, createdAt: 5 }));
        await tx.putRun(flowRun('r-trigger', { status: 'waiting', position: [0], waitingTrigger: 't', objectId: 'o1', createdAt: 6 }));
        await tx.putRun(flowRun('r-done', { status: 'done', finishedAt: 7, parentId: 'r-pending', createdAt: 7 }));
        // Read back in the same transaction, before any flush: the held-back writes count.
        expect((await tx.listRuns({ parentId: 'r-pending' })).map((run) => run.id)).toEqual(['r-done']);
      });
      await storage.transaction(async (tx) => {
        expect(await tx.dueInstances(35, 10)).toEqual(['i-early', 'r-pending', 'r-waiting']);
        expect(await tx.dueInstances(50, 10, { automations: [], flows: ['F'] })).toEqual(['r-pending', 'r-waiting']);
        expect(await tx.dueInstances(50, 10, { automations: ['A'], flows: [] })).toEqual(['i-early', 'i-late']);
      });
      await storage.transaction(async (tx) => {
        expect(await tx.getInstance('r-pending')).toBeNull();
        expect(await tx.getRun('i-early')).toBeNull();
        expect((await tx.listInstances({})).map((i) => i.id)).toEqual(['i-early', 'i-late']);
        expect((await tx.listRuns({ unfinished: true })).map((run) => run.id)).toEqual(['r-waiting', 'r-trigger', 'r-pending']);
        expect((await tx.listRuns({ waitingTrigger: 't', objectId: 'o1' })).map((run) => run.id)).toEqual(['r-trigger']);
        const run = (await tx.getRun('r-waiting'))!;
        await tx.putRun({ ...run, status: 'done', continueAfter: null, finishedAt: 31 });
        expect((await tx.listRuns({ unfinished: true })).map((r) => r.id)).toEqual(['r-trigger', 'r-pending']);
      });
      expect(await storage.transaction((tx) => tx.getRun('r-waiting'))).toEqual(flowRun('r-waiting', { status: 'done', position: [0], continueAfter: null, finishedAt: 31, createdAt: 5 }));
    });

    it('rolls a failing transaction back completely', async () => {
      const storage = await make();
      await expect(
        storage.transaction(async (tx) => {
          await tx.insertInstance(record({ id: 'a' }));
          await tx.enqueueMessage({ id: 'm', to: { instanceId: 'a' }, message: 'x', payload: {}, createdAt: 0 });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await storage.transaction(async (tx) => {
        expect(await tx.getInstance('a')).toBeNull();
        expect(await tx.pendingMessages(10)).toEqual([]);
      });
    });

    it('queues messages in order, deletes delivered ones and keeps failed ones apart', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        await tx.enqueueMessage({ id: 'm2', to: { automation: 'A' }, message: 'b', payload: {}, createdAt: 2 });
        await tx.enqueueMessage({ id: 'm1', to: { instanceId: 'a' }, message: 'a', payload: { p: 1 }, createdAt: 1 });
        await tx.enqueueMessage({ id: 'm3', to: { instanceId: 'a' }, message: 'c', payload: {}, createdAt: 3 });
        expect((await tx.pendingMessages(10)).map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
        await tx.deleteMessage('m1');
        await tx.failMessage('m3', 'no receiver');
        await tx.enqueueMessage({ id: 'm2', to: { automation: 'A' }, message: 'b', payload: {}, createdAt: 2, deliveredTo: ['x'] });
        expect(await tx.pendingMessages(10)).toEqual([{ id: 'm2', to: { automation: 'A' }, message: 'b', payload: {}, createdAt: 2, deliveredTo: ['x'] }]);
        expect((await tx.failedMessages(10)).map((m) => [m.id, m.error])).toEqual([['m3', 'no receiver']]);
      });
    });

    it('deletes instances finished before a time, with their history, and counts them', async () => {
      const storage = await make();
      await storage.transaction(async (tx) => {
        await tx.insertInstance(record({ id: 'old', finished: true, finishedAt: 10 }));
        await tx.applyHistory([{ type: 'open', row: { instanceId: 'old', taskId: 1, path: 'p1', status: 'n', created: 1, finished: 10, message: 'OK', result: null } }]);
        await tx.insertInstance(record({ id: 'new', finished: true, finishedAt: 50 }));
        await tx.insertInstance(record({ id: 'running' }));
        expect(await tx.deleteFinishedBefore(20)).toEqual({ automations: 1, tasks: 1 });
        expect((await tx.listInstances({})).map((r) => r.id).sort()).toEqual(['new', 'running']);
      });
    });

    it('stores nothing when a create-on-message is refused: creation and delivery are one transaction', async () => {
      const storage = await make();
      let ids = 0;
      const runner = createAutomationRunner({ storage, clock: new ManualClock(1_000), newId: () => `i${++ids}` });
      const signups = defineAutomation('Signups', {
        unique: ['list'],
        receivers: {
          subscribe: requireDataParameters({ email: 'string' }, (ctx, _token, payload) => {
            if (payload.email === 'spam@x') throw new Error('refused by the receiver');
            ctx.data.emails = [...((ctx.data.emails as string[] | undefined) ?? []), payload.email];
          }),
        },
        nodes: { wait: flow.execute().asSoonAs(() => false), end: flow.end() },
      });
      runner.register(signups);
      const stored = () => storage.transaction(async (tx) => ({ instances: await tx.listInstances({}), history: await tx.history('i1'), outbox: await tx.pendingMessages(10) }));

      await expect(runner.createOnMessage(signups, 'subscribe', undefined, { list: 'news' })).rejects.toBeInstanceOf(MissingMessageDataError);
      await expect(runner.createOnMessage(signups, 'subscribe', undefined, { list: 'news', email: 'spam@x' })).rejects.toThrow('refused by the receiver');
      expect(await stored()).toEqual({ instances: [], history: [], outbox: [] });
      expect(await runner.stepAll()).toEqual({ advanced: 0, delivered: 0 });

      const { instance } = await runner.createOnMessage(signups, 'subscribe', undefined, { list: 'news', email: 'a@x' });
      expect(instance.data).toMatchObject({ list: 'news', emails: ['a@x'] });
      await expect(runner.createOnMessage(signups, 'subscribe', undefined, { list: 'news' })).rejects.toBeInstanceOf(MissingMessageDataError);
      const after = await stored();
      expect(after.instances.map((r) => [r.id, r.data.emails])).toEqual([[instance.id, ['a@x']]]);
    });
  });
}
