import { type DBSchema, type IDBPDatabase, openDB, unwrap } from 'idb';
import { type TaskRecordError, VersionConflictError } from '../core/index.ts';
import type { TaskRecord, TaskSummary } from '../core/index.ts';
import { summaryOf } from '../core/shared.ts';
import { assertWritable, binderOf, CorruptRecordError, ownedRecord, parseTaskRecord, type QuarantinedRecord, type QuarantineStore, requireBinder, taskRecordProblems } from './record.ts';

/** The typed layout of wayflow's one IndexedDB database. */
export interface WayflowDatabase extends DBSchema {
  /** Task records by id; values are checked on every read, so they are typed as unknown here. */
  tasks: {
    key: string;
    value: unknown;
    indexes: { expiresAt: number; binderActivity: [string, number] };
  };
  /** Records set aside with the reason; auto-incremented keys, so nothing here is ever overwritten. */
  quarantine: { key: number; value: Omit<QuarantinedRecord, 'key'>; indexes: { taskId: string } };
  /** Small values of this browser profile, such as the binder secret. */
  meta: { key: string; value: string };
}

/** The default database name. */
export const DEFAULT_DATABASE = 'wayflow';

/** An open in flight or done; `database` is set once it is open, so a write starts its transaction without waiting for a promise. */
type Opening = Promise<IDBPDatabase<WayflowDatabase>> & { database?: IDBPDatabase<WayflowDatabase> };

/** The databases opening or open now, by name. */
const opened = new Map<string, Opening>();

/**
 * Opens (once per page and name) wayflow's IndexedDB database, creating its
 * stores on first use. Another tab upgrading the database closes this connection;
 * the next call reopens it.
 */
export function openWayflowDatabase(name: string = DEFAULT_DATABASE): Promise<IDBPDatabase<WayflowDatabase>> {
  let db = opened.get(name);
  if (!db) {
    const opening: Opening = openDB<WayflowDatabase>(name, 1, {
      upgrade(database) {
        const tasks = database.createObjectStore('tasks', { keyPath: 'id' });
        tasks.createIndex('expiresAt', 'expiresAt');
        tasks.createIndex('binderActivity', ['binder', 'lastActiveAt']);
        database.createObjectStore('quarantine', { autoIncrement: true }).createIndex('taskId', 'taskId');
        database.createObjectStore('meta');
      },
      blocking() {
        opened.delete(name);
        void opening.then((database) => database.close());
      },
      terminated() {
        opened.delete(name);
      },
    });
    opened.set(name, opening);
    opening.then(
      (database) => {
        opening.database = database;
      },
      () => opened.delete(name),
    );
    db = opening;
  }
  return db;
}

/** Options of `indexedDbStore`. */
export interface IndexedDbStoreOptions {
  /** Database name (default `wayflow`); one database holds tasks, quarantine and the binder secret. */
  name?: string;
  /** Time source for reads and sweeps that are not given a `now`. */
  clock?: () => number;
  /**
   * Durability of task writes (default `strict`: a resolved `submit` survives a power cut).
   * Deletes and sweeps always use `relaxed`: losing one only means it happens again later.
   */
  durability?: 'strict' | 'default' | 'relaxed';
}

/** A `StateStore` in IndexedDB that also closes its connection. */
export interface IndexedDbStore extends QuarantineStore {
  /** Closes the database connection; later calls reopen it. */
  close(): Promise<void>;
}

/**
 * A `StateStore` in the browser's IndexedDB (via `idb`): records are checked
 * on every read, writes are compare-and-set inside one transaction, expired
 * tasks are swept through an index on `expiresAt`, and corrupt records are
 * moved to the `quarantine` store instead of crashing or being overwritten.
 * @example
 * const store = indexedDbStore();
 * const task = await startTask(flow, { store, binder: await browserBinder() });
 */
export function indexedDbStore(options: IndexedDbStoreOptions = {}): IndexedDbStore {
  const name = options.name ?? DEFAULT_DATABASE;
  const clock = options.clock ?? Date.now;
  const durability = options.durability ?? 'strict';
  const db = () => openWayflowDatabase(name);

  /** Moves the record under `id` to quarantine if it is still there, still `binder`'s (or unowned) and, when `onlyIfCorrupt`, still invalid. */
  const setAside = async (id: string, binder: string, code: string, reason: string, now: number, onlyIfCorrupt: boolean) => {
    const tx = (await db()).transaction(['tasks', 'quarantine'], 'readwrite', { durability: 'strict' });
    const tasks = tx.objectStore('tasks');
    const raw = await tasks.get(id);
    const owner = binderOf(raw);
    // The key path is the id: a stored record's id always matches, so its other problems decide.
    const corrupt = !onlyIfCorrupt || taskRecordProblems(raw).length > 0;
    if (raw !== undefined && (owner === null || owner === binder) && corrupt) {
      await tx.objectStore('quarantine').add({ taskId: id, code, reason, at: now, raw });
      await tasks.delete(id);
    }
    await tx.done;
  };

  /** Validates a raw value read for `binder`; a corrupt one is quarantined and its error thrown. */
  const check = async (raw: unknown, id: string, binder: string): Promise<TaskRecord | null> => {
    try {
      return ownedRecord(raw, id, binder);
    } catch (error) {
      if (error instanceof CorruptRecordError) await setAside(id, binder, error.code, error.message, clock(), true);
      throw error;
    }
  };

  return {
    async get(id, binder, now = clock()) {
      requireBinder(binder, `Reading task ${id}`);
      const record = await check(await (await db()).get('tasks', id), id, binder);
      return record && record.expiresAt > now ? record : null;
    },

    async put(record, expectedVersion) {
      assertWritable(record);
      // With the database open, the transaction starts in the caller's turn (a step's write within its click). On the
      // platform's requests, not idb's wrappers: a step pays for this write's every call (a tenth of a millisecond in them).
      const tx = unwrap(opened.get(name)?.database ?? (await db())).transaction('tasks', 'readwrite', { durability });
      const tasks = tx.objectStore('tasks');
      // Read and write in one round trip: the write is queued behind the read, and the
      // transaction is aborted (the write rolled back) if the read shows it must not happen.
      const reading = tasks.get(record.id);
      tasks.put(record);
      let refused: Error | undefined;
      reading.onsuccess = () => {
        const raw = reading.result;
        try {
          // Another binder's record is a conflict (null); a corrupt one (parseTaskRecord throws) is never overwritten: rolled back, set aside, reported.
          const actual = raw === undefined ? 0 : binderOf(raw) === record.binder ? parseTaskRecord(raw, record.id).version : null;
          if (actual !== expectedVersion || record.version !== expectedVersion + 1) throw new VersionConflictError(record.id, expectedVersion, raw === undefined ? null : actual);
          // Checked: commit now, not once the write's own result has come back to this (busy) thread.
          tx.commit?.();
        } catch (error) {
          refused = error as Error;
          tx.abort();
        }
      };
      try {
        await new Promise((resolve, reject) => {
          tx.oncomplete = resolve;
          tx.onabort = () => reject(refused ?? tx.error);
        });
      } catch (error) {
        if (error instanceof CorruptRecordError) await setAside(record.id, record.binder, error.code, error.message, clock(), true);
        throw error;
      }
    },

    async delete(id, binder) {
      requireBinder(binder, `Deleting task ${id}`);
      const tx = (await db()).transaction('tasks', 'readwrite', { durability: 'relaxed' });
      if (binderOf(await tx.store.get(id)) === binder) await tx.store.delete(id);
      await tx.done;
    },

    async list(binder, now = clock()) {
      requireBinder(binder, 'Listing tasks');
      // The key path is the id: each value's id is the key it is stored under.
      const raws = await (await db()).getAllFromIndex('tasks', 'binderActivity', IDBKeyRange.bound([binder, -Infinity], [binder, Infinity]));
      const summaries: TaskSummary[] = [];
      for (let i = raws.length - 1; i >= 0; i--) {
        let record: TaskRecord | null;
        try {
          record = await check(raws[i], (raws[i] as TaskRecord).id, binder);
        } catch {
          continue;
        }
        if (!record || record.expiresAt <= now) continue;
        summaries.push(summaryOf(record));
      }
      return summaries;
    },

    async sweep(now = clock()) {
      const tx = (await db()).transaction('tasks', 'readwrite', { durability: 'relaxed' });
      let swept = 0;
      let cursor = await tx.store.index('expiresAt').openCursor(IDBKeyRange.upperBound(now));
      while (cursor) {
        await cursor.delete();
        swept++;
        cursor = await cursor.continue();
      }
      await tx.done;
      return swept;
    },

    async quarantine(id: string, binder: string, error: TaskRecordError, now = clock()) {
      requireBinder(binder, `Quarantining task ${id}`);
      await setAside(id, binder, error.code, error.message, now, false);
    },

    async quarantined() {
      const tx = (await db()).transaction('quarantine');
      const [values, keys] = await Promise.all([tx.store.getAll(), tx.store.getAllKeys(), tx.done]);
      return values.map((value, i) => ({ key: keys[i]!, ...value }));
    },

    async close() {
      const database = opened.get(name);
      opened.delete(name);
      if (database) (await database).close();
    },
  };
}
