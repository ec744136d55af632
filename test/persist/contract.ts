import { describe, expect, it } from 'vitest';
import { TaskRecordError, VersionConflictError } from '../../src/core/errors.ts';
import type { StateStore, TaskRecord } from '../../src/core/store.ts';
import { CorruptRecordError, canQuarantine, EmptyBinderError, InvalidRecordError } from '../../src/persist/record.ts';

/** Builds a valid record; tests override what they care about. */
export function makeRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = overrides.lastActiveAt ?? 1_000_000;
  return {
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    flowId: 'flow',
    flowVersion: 1,
    version: 1,
    data: { item: 'book' },
    snapshot: {
      value: { flow: { step: '$ready' } },
      context: { user: null, trail: [{ step: 'step', visit: 1, data: {} }], at: 0, inputs: {}, visits: { step: 1 }, until: null, reason: null },
    },
    history: [{ at: now, event: 'start', from: null, to: 'step', actor: null }],
    binder: 'binder-a',
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + 60_000,
    ...overrides,
  };
}

/** What the contract needs besides a fresh store: a way to damage what is stored, as a bug or another program would. */
export interface ContractHooks {
  /** Stores `raw` (an object whose `id` is `id`) bypassing every check. */
  writeRaw(store: StateStore, id: string, raw: unknown): Promise<void>;
}

/**
 * The StateStore contract: every store implementation runs this suite.
 * `create` returns a fresh, empty store; `now` is the time the records are read at.
 * With `hooks`, it also checks that corrupt records are reported and quarantined, never overwritten.
 */
export function storeContract(name: string, create: () => Promise<StateStore> | StateStore, hooks?: ContractHooks) {
  describe(`${name} honours the StateStore contract`, () => {
    const now = 1_000_000;

    it('returns what was put, as a copy', async () => {
      const store = await create();
      const record = makeRecord();
      await store.put(record, 0);
      const read = await store.get(record.id, 'binder-a', now);
      expect(read).toEqual(record);
      read!.data.item = 'changed';
      expect((await store.get(record.id, 'binder-a', now))!.data.item).toBe('book');
    });

    it('returns null for a missing task', async () => {
      const store = await create();
      expect(await store.get('BBBBBBBBBBBBBBBBBBBBBB', 'binder-a', now)).toBeNull();
    });

    it('rejects a write with a stale version and keeps the newer record', async () => {
      const store = await create();
      await store.put(makeRecord(), 0);
      await store.put(makeRecord({ version: 2, data: { item: 'pen' } }), 1);
      const stale = store.put(makeRecord({ version: 2, data: { item: 'lost' } }), 1);
      await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
      await expect(stale).rejects.toMatchObject({ code: 'version-conflict', expected: 1, actual: 2 });
      expect((await store.get(makeRecord().id, 'binder-a', now))!.data).toEqual({ item: 'pen' });
    });

    it('refuses an empty binder on every call with EmptyBinderError, and stores nothing', async () => {
      const store = await create();
      for (const binder of ['', undefined as unknown as string]) {
        await expect(store.put(makeRecord({ binder }), 0)).rejects.toBeInstanceOf(EmptyBinderError);
        await expect(store.get(makeRecord().id, binder, now)).rejects.toMatchObject({ code: 'empty-binder' });
        await expect(store.list(binder, now)).rejects.toBeInstanceOf(EmptyBinderError);
        await expect(store.delete(makeRecord().id, binder)).rejects.toBeInstanceOf(EmptyBinderError);
      }
      await store.put(makeRecord(), 0);
      await expect(store.list('', now)).rejects.toBeInstanceOf(EmptyBinderError);
      expect((await store.list('binder-a', now)).map((t) => t.id)).toEqual([makeRecord().id]);
    });

    it('refuses to create a task that already exists', async () => {
      const store = await create();
      await store.put(makeRecord(), 0);
      await expect(store.put(makeRecord(), 0)).rejects.toBeInstanceOf(VersionConflictError);
    });

    it('hides a task bound to another binder, and will not let it be overwritten or deleted', async () => {
      const store = await create();
      await store.put(makeRecord(), 0);
      expect(await store.get(makeRecord().id, 'binder-b', now)).toBeNull();
      await expect(store.put(makeRecord({ version: 2, binder: 'binder-b' }), 1)).rejects.toBeInstanceOf(VersionConflictError);
      await store.delete(makeRecord().id, 'binder-b');
      expect(await store.get(makeRecord().id, 'binder-a', now)).not.toBeNull();
      expect(await store.list('binder-b', now)).toEqual([]);
    });

    it('never returns an expired task, and sweeps it', async () => {
      const store = await create();
      await store.put(makeRecord({ expiresAt: now + 10 }), 0);
      await store.put(makeRecord({ id: 'CCCCCCCCCCCCCCCCCCCCCC', expiresAt: now + 1000 }), 0);
      expect(await store.get(makeRecord().id, 'binder-a', now + 10)).toBeNull();
      expect((await store.list('binder-a', now + 10)).map((s) => s.id)).toEqual(['CCCCCCCCCCCCCCCCCCCCCC']);
      expect(await store.sweep(now + 10)).toBe(1);
      expect(await store.sweep(now + 10)).toBe(0);
      expect(await store.get('CCCCCCCCCCCCCCCCCCCCCC', 'binder-a', now + 10)).not.toBeNull();
    });

    it('lists a binder’s tasks most recently active first, with their step', async () => {
      const store = await create();
      await store.put(makeRecord({ id: 'DDDDDDDDDDDDDDDDDDDDDD', lastActiveAt: now - 5 }), 0);
      await store.put(makeRecord({ id: 'EEEEEEEEEEEEEEEEEEEEEE', lastActiveAt: now - 1 }), 0);
      const list = await store.list('binder-a', now);
      expect(list.map((s) => s.id)).toEqual(['EEEEEEEEEEEEEEEEEEEEEE', 'DDDDDDDDDDDDDDDDDDDDDD']);
      expect(list[0]).toMatchObject({ flowId: 'flow', step: 'step' });
    });

    it('deletes a task', async () => {
      const store = await create();
      await store.put(makeRecord(), 0);
      await store.delete(makeRecord().id, 'binder-a');
      expect(await store.get(makeRecord().id, 'binder-a', now)).toBeNull();
      await store.delete(makeRecord().id, 'binder-a');
    });

    it('refuses a write whose version is not expectedVersion + 1', async () => {
      const store = await create();
      await expect(store.put(makeRecord({ version: 2 }), 0)).rejects.toBeInstanceOf(VersionConflictError);
      await store.put(makeRecord(), 0);
      await expect(store.put(makeRecord({ version: 3 }), 1)).rejects.toBeInstanceOf(VersionConflictError);
      expect((await store.get(makeRecord().id, 'binder-a', now))!.version).toBe(1);
    });

    it('lets exactly one of two concurrent writes of the same version win', async () => {
      const store = await create();
      await store.put(makeRecord(), 0);
      const results = await Promise.allSettled([
        store.put(makeRecord({ version: 2, data: { item: 'left' } }), 1),
        store.put(makeRecord({ version: 2, data: { item: 'right' } }), 1),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(VersionConflictError);
      const winner = results[0]!.status === 'fulfilled' ? 'left' : 'right';
      expect((await store.get(makeRecord().id, 'binder-a', now))!.data.item).toBe(winner);
    });

    it('refuses to store a malformed record and writes nothing', async () => {
      const store = await create();
      const bad = { ...makeRecord(), history: 'none' } as unknown as TaskRecord;
      await expect(store.put(bad, 0)).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(store.put(makeRecord({ id: 'not an id' }), 0)).rejects.toMatchObject({ code: 'invalid-record' });
      expect(await store.get(makeRecord().id, 'binder-a', now)).toBeNull();
    });

    it('counts a task expiring exactly now as expired', async () => {
      const store = await create();
      await store.put(makeRecord({ expiresAt: now }), 0);
      expect(await store.get(makeRecord().id, 'binder-a', now)).toBeNull();
      expect(await store.get(makeRecord().id, 'binder-a', now - 1)).not.toBeNull();
      expect(await store.sweep(now)).toBe(1);
    });

    if (hooks) {
      it('reports a corrupted record with a clear error, quarantines it, and never overwrites it', async () => {
        const store = await create();
        const id = makeRecord().id;
        const raw = { ...makeRecord(), version: 'seven', snapshot: null };
        await hooks.writeRaw(store, id, raw);
        const read = store.get(id, 'binder-a', now);
        await expect(read).rejects.toBeInstanceOf(CorruptRecordError);
        await expect(read).rejects.toThrow(/Task AAAAAAAAAAAAAAAAAAAAAA of flow "flow" has a corrupted stored record \(version: .*quarantine/);
        expect(await store.get(id, 'binder-a', now)).toBeNull();
        if (!canQuarantine(store)) return;
        const [kept] = await store.quarantined();
        expect(kept).toMatchObject({ taskId: id, code: 'corrupt-record', raw });
        await store.put(makeRecord(), 0);
        await hooks.writeRaw(store, id, { id, garbage: true });
        await expect(store.get(id, 'binder-a', now)).rejects.toMatchObject({ code: 'corrupt-record' });
        const all = await store.quarantined();
        expect(all.map((q) => q.raw)).toEqual([raw, { id, garbage: true }]);
        expect(new Set(all.map((q) => q.key)).size).toBe(2);
      });

      it('will not write over a corrupted record: the write fails and the record goes to quarantine', async () => {
        const store = await create();
        const id = makeRecord().id;
        await hooks.writeRaw(store, id, { id, binder: 'binder-a', version: 1 });
        await expect(store.put(makeRecord({ version: 2 }), 1)).rejects.toBeInstanceOf(TaskRecordError);
        if (canQuarantine(store)) expect((await store.quarantined()).map((q) => q.raw)).toEqual([{ id, binder: 'binder-a', version: 1 }]);
        await store.put(makeRecord(), 0);
        expect(await store.get(id, 'binder-a', now)).toEqual(makeRecord());
      });

      it('leaves a corrupted record of another binder alone and reads it as not found', async () => {
        const store = await create();
        const id = makeRecord().id;
        await hooks.writeRaw(store, id, { id, binder: 'binder-b', junk: true });
        expect(await store.get(id, 'binder-a', now)).toBeNull();
        if (canQuarantine(store)) expect(await store.quarantined()).toEqual([]);
      });

      it('skips corrupted records when listing, and quarantines them', async () => {
        const store = await create();
        await store.put(makeRecord(), 0);
        await hooks.writeRaw(store, 'CCCCCCCCCCCCCCCCCCCCCC', { ...makeRecord({ id: 'CCCCCCCCCCCCCCCCCCCCCC' }), data: 5 });
        expect((await store.list('binder-a', now)).map((s) => s.id)).toEqual([makeRecord().id]);
        if (canQuarantine(store)) expect((await store.quarantined()).map((q) => q.taskId)).toEqual(['CCCCCCCCCCCCCCCCCCCCCC']);
      });

      it('quarantines on request a valid record no code can use, keeping it unchanged', async () => {
        const store = await create();
        if (!canQuarantine(store)) return;
        await store.put(makeRecord(), 0);
        await store.quarantine(makeRecord().id, 'binder-b', new TaskRecordError('unknown-flow-version', 'too old'), now);
        expect(await store.get(makeRecord().id, 'binder-a', now)).not.toBeNull();
        await store.quarantine(makeRecord().id, 'binder-a', new TaskRecordError('unknown-flow-version', 'too old'), now);
        expect(await store.get(makeRecord().id, 'binder-a', now)).toBeNull();
        expect(await store.quarantined()).toMatchObject([{ taskId: makeRecord().id, code: 'unknown-flow-version', reason: 'too old', at: now, raw: makeRecord() }]);
      });
    }
  });
}
