import { type DBSchema, openDB } from 'idb';
import type { TaskRecord } from '../core/index.ts';

/**
 * What the remote store keeps on the device for one task: the last copy the
 * server confirmed, writes the server has not acknowledged yet, and a conflict
 * found while sending them.
 */
export interface OfflineEntry {
  id: string;
  binder: string;
  /** The newest local copy; null when the task was deleted locally. */
  record: TaskRecord | null;
  /** The server version `record` builds on (0: the server has no copy yet). */
  base: number;
  /** True while the local copy holds writes the server has not acknowledged. */
  pending: boolean;
  /** Set when the server refused the unsent writes because the task changed there; the local copy is kept here. */
  conflict: { local: TaskRecord | null; remoteVersion: number | null } | null;
  /** A server version to delete before the unsent writes create the task again (a local delete, then a new start). */
  deleteFirst?: number;
}

/** Where the remote store keeps `OfflineEntry`s: memory, or IndexedDB to survive reloads. */
export interface OfflineStore {
  get(id: string): Promise<OfflineEntry | undefined>;
  set(entry: OfflineEntry): Promise<void>;
  delete(id: string): Promise<void>;
  all(): Promise<OfflineEntry[]>;
}

/** An `OfflineStore` in memory: unsent writes survive a server outage, not a reload. */
export function memoryOfflineStore(): OfflineStore {
  const entries = new Map<string, OfflineEntry>();
  return {
    get: async (id) => structuredClone(entries.get(id)),
    set: async (entry) => void entries.set(entry.id, structuredClone(entry)),
    delete: async (id) => void entries.delete(id),
    all: async () => [...entries.values()].map((entry) => structuredClone(entry)),
  };
}

interface OfflineSchema extends DBSchema {
  entries: { key: string; value: OfflineEntry };
}

/**
 * An `OfflineStore` in IndexedDB (database `name`, default `wayflow-remote`):
 * unsent writes survive reloads and are sent when the server is back.
 */
export function indexedDbOfflineStore(name = 'wayflow-remote'): OfflineStore {
  const db = openDB<OfflineSchema>(name, 1, {
    upgrade(database) {
      database.createObjectStore('entries', { keyPath: 'id' });
    },
  });
  return {
    get: async (id) => (await db).get('entries', id),
    set: async (entry) => void (await (await db).put('entries', entry)),
    delete: async (id) => (await db).delete('entries', id),
    all: async () => (await db).getAll('entries'),
  };
}
