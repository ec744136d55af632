import { VersionConflictError } from '../core/index.ts';
import type { TaskRecord } from '../core/index.ts';
import type { OfflineEntry } from './offline-store.ts';

// The remote store's offline outbox, as pure functions from entries to entries: what a write,
// a delete, a refusal or a confirmation makes of the device's entry for one task. The store
// adapter (remote.ts) reads and writes the entries and talks to the server.

/** A task whose offline writes the server refused because it changed there meanwhile. Nothing is dropped: resolve it. */
export interface SyncConflict {
  id: string;
  binder: string;
  /** The local copy the server refused (null: a local delete). */
  local: TaskRecord | null;
  /** The version the server had (null: the task is gone there). */
  remoteVersion: number | null;
}

/** How many writes wait on the device (each step moved or draft kept offline is one) and how many tasks hold refused writes. */
export function outboxCounts(entries: readonly OfflineEntry[]): { waiting: number; conflicts: number } {
  let waiting = 0;
  let conflicts = 0;
  for (const entry of entries) {
    if (entry.pending) waiting += (entry.record ? entry.record.version - entry.base : 1) + (entry.deleteFirst === undefined ? 0 : 1);
    if (entry.conflict) conflicts++;
  }
  return { waiting, conflicts };
}

/** A copy of the device's record of `entry`, when `binder` may read it and it has not expired at `now`; else null. */
export function localCopy(entry: OfflineEntry | undefined, binder: string, now: number): TaskRecord | null {
  return entry?.record && entry.binder === binder && entry.record.expiresAt > now ? structuredClone(entry.record) : null;
}

/** The entry of a record the server confirmed: the device's copy, nothing to send, a conflict kept. */
export function confirmedEntry(record: TaskRecord, previous: OfflineEntry | undefined): OfflineEntry {
  return { id: record.id, binder: record.binder, record, base: record.version, pending: false, conflict: previous?.conflict ?? null };
}

/**
 * The entry after writing `record` (built on version `expected`) on the device, to be sent later.
 * Throws `VersionConflictError` when the device's copy belongs to another binder or is not at `expected`.
 */
export function queuedWrite(entry: OfflineEntry | undefined, record: TaskRecord, expected: number): OfflineEntry {
  if (entry && !entry.conflict && entry.binder !== record.binder) throw new VersionConflictError(record.id, expected, null);
  const localVersion = entry?.record ? entry.record.version : entry?.pending ? 0 : null;
  if (localVersion !== null && localVersion !== expected) throw new VersionConflictError(record.id, expected, localVersion);
  // Without a copy, trust the caller's version: the server checks it when the writes are sent.
  const recreated = entry?.pending === true && entry.record === null;
  const builtOn = recreated ? 0 : entry?.pending ? entry.base : (entry?.record?.version ?? expected);
  const deleteFirst = recreated && entry.base > 0 ? entry.base : entry?.deleteFirst;
  return {
    id: record.id,
    binder: record.binder,
    record,
    base: builtOn,
    pending: true,
    conflict: entry?.conflict ?? null,
    ...(deleteFirst !== undefined ? { deleteFirst } : {}),
  };
}

/** The entry after deleting task `id` on the device, to be sent later; null when the device's copy belongs to another binder (nothing changes). */
export function queuedDelete(entry: OfflineEntry | undefined, id: string, binder: string): OfflineEntry | null {
  if (entry && entry.binder !== binder) return null;
  return { id, binder, record: null, base: entry?.pending ? entry.base : (entry?.record?.version ?? 0), pending: true, conflict: entry?.conflict ?? null };
}

/** The entry with its unsent writes set aside as a conflict with server version `remoteVersion`: no longer sent, never dropped. */
export function setAside(entry: OfflineEntry, remoteVersion: number | null): OfflineEntry {
  const { deleteFirst: _dropped, ...rest } = entry;
  return { ...rest, record: null, base: 0, pending: false, conflict: { local: entry.record, remoteVersion } };
}

/** The conflict an entry holds, or null. */
export function conflictOf(entry: OfflineEntry): SyncConflict | null {
  return entry.conflict ? { id: entry.id, binder: entry.binder, local: entry.conflict.local, remoteVersion: entry.conflict.remoteVersion } : null;
}
