import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/core/errors.ts';
import type { OfflineEntry } from '../../src/persist/offline-store.ts';
import { confirmedEntry, conflictOf, localCopy, outboxCounts, queuedDelete, queuedWrite, setAside } from '../../src/persist/outbox.ts';
import { makeRecord } from './contract.ts';

const at = (version: number) => makeRecord({ version });

describe('the offline outbox', () => {
  it('queues writes on a confirmed copy and counts each as one waiting write', () => {
    let entry: OfflineEntry | undefined = confirmedEntry(at(2), undefined);
    for (const version of [3, 4, 5]) entry = queuedWrite(entry, at(version), version - 1);
    expect(entry).toMatchObject({ base: 2, pending: true, record: { version: 5 } });
    expect(outboxCounts([entry!])).toEqual({ waiting: 3, conflicts: 0 });
  });

  it('refuses a write that does not build on the device copy, or comes from another binder', () => {
    const entry = queuedWrite(confirmedEntry(at(2), undefined), at(3), 2);
    expect(() => queuedWrite(entry, at(3), 2)).toThrow(VersionConflictError);
    expect(() => queuedWrite(entry, makeRecord({ version: 4, binder: 'binder-b' }), 3)).toThrow(VersionConflictError);
  });

  it('deletes then re-creates: the server copy is deleted first, the new task starts at version 1', () => {
    const deleted = queuedDelete(confirmedEntry(at(2), undefined), at(2).id, 'binder-a')!;
    expect(deleted).toMatchObject({ record: null, base: 2, pending: true });
    const created = queuedWrite(deleted, at(1), 0);
    expect(created).toMatchObject({ base: 0, deleteFirst: 2, record: { version: 1 } });
    expect(outboxCounts([created])).toEqual({ waiting: 2, conflicts: 0 });
    expect(queuedDelete(created, at(1).id, 'binder-b')).toBeNull();
  });

  it('sets refused writes aside as a conflict that keeps the local copy', () => {
    const entry = queuedWrite(confirmedEntry(at(2), undefined), at(3), 2);
    const aside = setAside(entry, 7);
    expect(aside).toMatchObject({ record: null, pending: false, conflict: { local: at(3), remoteVersion: 7 } });
    expect(conflictOf(aside)).toEqual({ id: entry.id, binder: 'binder-a', local: at(3), remoteVersion: 7 });
    expect(outboxCounts([aside])).toEqual({ waiting: 0, conflicts: 1 });
    expect(confirmedEntry(at(8), aside).conflict).toEqual(aside.conflict);
  });

  it('reads the device copy only for its binder and before it expires', () => {
    const entry = confirmedEntry(at(2), undefined);
    expect(localCopy(entry, 'binder-a', entry.record!.expiresAt - 1)).toEqual(at(2));
    expect(localCopy(entry, 'binder-a', entry.record!.expiresAt)).toBeNull();
    expect(localCopy(entry, 'binder-b', 0)).toBeNull();
  });
});
