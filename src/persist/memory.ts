import { VersionConflictError } from '../core/index.ts';
import { positionOf, summaryOf } from '../core/shared.ts';
import type { TaskRecord, TaskSummary } from '../core/index.ts';
import { assertWritable, binderOf, ownedRecord, type QuarantinedRecord, type QuarantineStore, requireBinder } from './record.ts';

/** Positions of a record for task lists: the step id the snapshot points at, null once the task ended. */
export function stepOfRecord(record: TaskRecord): string | null {
  return positionOf(record.snapshot.value).step;
}

/**
 * A `StateStore` in memory: for tests, server-side rendering, and flows that
 * need no persistence. Records are copied in and out, so callers never share
 * them, and validated on every read like every other store.
 * `records` is the backing map (task id → stored value); pass one to inspect or seed it in tests.
 * @example
 * const task = await startTask(flow, { store: memoryStore() });
 */
export function memoryStore(clock: () => number = Date.now, records: Map<string, unknown> = new Map()): QuarantineStore {
  const quarantine: QuarantinedRecord[] = [];
  let nextKey = 1;
  const setAside = (id: string, code: string, reason: string, now: number) => {
    quarantine.push({ key: nextKey++, taskId: id, code, reason, at: now, raw: structuredClone(records.get(id)) });
    records.delete(id);
  };
  /** The valid record stored under `id` for `binder`, null when missing or another binder's; quarantines a corrupt one. */
  const read = (id: string, binder: string): TaskRecord | null => {
    try {
      return ownedRecord(records.get(id), id, binder);
    } catch (error) {
      const corrupt = error as Error & { code: string };
      setAside(id, corrupt.code, corrupt.message, clock());
      throw error;
    }
  };
  return {
    async get(id, binder, now = clock()) {
      requireBinder(binder, `Reading task ${id}`);
      const record = read(id, binder);
      return record && record.expiresAt > now ? structuredClone(record) : null;
    },
    async put(record, expectedVersion) {
      assertWritable(record);
      const raw = records.get(record.id);
      const owner = raw === undefined ? null : binderOf(raw);
      if (owner !== null && owner !== record.binder) throw new VersionConflictError(record.id, expectedVersion, null);
      const current = read(record.id, record.binder);
      const actual = current?.version ?? 0;
      if (actual !== expectedVersion || record.version !== expectedVersion + 1) {
        throw new VersionConflictError(record.id, expectedVersion, current ? current.version : null);
      }
      records.set(record.id, structuredClone(record));
    },
    async delete(id, binder) {
      requireBinder(binder, `Deleting task ${id}`);
      if (binderOf(records.get(id)) === binder) records.delete(id);
    },
    async list(binder, now = clock()) {
      requireBinder(binder, 'Listing tasks');
      const summaries: TaskSummary[] = [];
      for (const id of [...records.keys()]) {
        let record: TaskRecord | null;
        try {
          record = read(id, binder);
        } catch {
          continue;
        }
        if (!record || record.expiresAt <= now) continue;
        summaries.push(summaryOf(record));
      }
      return summaries.sort((a, b) => b.lastActiveAt - a.lastActiveAt);
    },
    async sweep(now = clock()) {
      let swept = 0;
      for (const [id, raw] of records) {
        const expiresAt = (raw as { expiresAt?: unknown } | null)?.expiresAt;
        if (typeof expiresAt === 'number' && expiresAt <= now) {
          records.delete(id);
          swept++;
        }
      }
      return swept;
    },
    async quarantine(id, binder, error, now = clock()) {
      requireBinder(binder, `Quarantining task ${id}`);
      const raw = records.get(id);
      if (raw === undefined) return;
      const owner = binderOf(raw);
      if (owner !== null && owner !== binder) return;
      setAside(id, error.code, error.message, now);
    },
    async quarantined() {
      return structuredClone(quarantine);
    },
  };
}
