// Bench-only stores that bound what wayflow's store guarantees cost in the peers race
// (`VARIANTS=wf-slim,wf-peerstore node bench/peers/run.mjs`). Not stores anyone should use: each
// writes to IndexedDB only what a peer of the race writes (the task's id, binder, version,
// expiry and data: 200 to 300 bytes instead of wayflow's record of 0.4 to 1.6 KB with its trail,
// inputs and history) and keeps the whole record in memory, so the race's forward-only checkouts
// run as on `indexedDbStore`, in one strict-durability transaction per step.
import type { StateStore, TaskRecord } from '../../src/persist/index.ts';
import { VersionConflictError } from '../../src/core/index.ts';

/** What `slimStore` writes of a record: what the peers write. */
const slim = (record: TaskRecord) => ({ id: record.id, binder: record.binder, version: record.version, expiresAt: record.expiresAt, data: record.data });

/**
 * A store writing a peer-sized record. `check`: the write keeps wayflow's compare-and-set (the stored version
 * read in the same transaction, the write rolled back on a conflict; `wf-slim`); without it the write is a put
 * alone, as the peers' (`wf-peerstore`).
 */
export function slimStore(name: string, check: boolean): StateStore {
  const kept = new Map<string, TaskRecord>();
  const opening = new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('tasks', { keyPath: 'id' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  let database: IDBDatabase | undefined;
  void opening.then((db) => {
    database = db;
  });
  return {
    async get(id, binder, now = Date.now()) {
      const record = kept.get(id);
      return record && record.binder === binder && record.expiresAt > now ? record : null;
    },
    async put(record, expectedVersion) {
      const tx = (database ?? (await opening)).transaction('tasks', 'readwrite', { durability: 'strict' });
      const tasks = tx.objectStore('tasks');
      let refused: Error | undefined;
      if (check) {
        const reading = tasks.get(record.id);
        tasks.put(slim(record));
        reading.onsuccess = () => {
          const stored = reading.result as { version: number; binder: string } | undefined;
          const actual = stored === undefined ? 0 : stored.binder === record.binder ? stored.version : null;
          if (actual === expectedVersion) return tx.commit();
          refused = new VersionConflictError(record.id, expectedVersion, actual);
          tx.abort();
        };
      } else {
        tasks.put(slim(record));
        tx.commit();
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onabort = () => reject(refused ?? tx.error);
      });
      kept.set(record.id, record);
    },
    async delete(id) {
      kept.delete(id);
    },
    async list() {
      return [];
    },
    async sweep() {
      return 0;
    },
  };
}
