import { WayflowError } from '../core/index.ts';
import type { StateStore } from '../core/index.ts';

/** A task was idle past its timeout while its page stayed open; the change was not saved. */
export class TaskExpiredError extends WayflowError {
  override readonly name: string = 'TaskExpiredError';
  constructor(
    readonly flowId: string,
    readonly taskId: string,
    idleMs: number,
  ) {
    const idle = idleMs < 60_000 ? `${Math.round(idleMs / 1000)} s` : `${Math.round(idleMs / 60_000)} min`;
    super(
      'task-expired',
      `Task ${taskId} of flow "${flowId}" expired after ${idle} without activity, so this change was not saved; start a new task to go on.`,
    );
  }
}

/**
 * Wraps `store` so that a task left open past its idle timeout cannot be
 * written again (which would bring an expired task back to life): a write whose
 * `lastActiveAt` is at or after the `expiresAt` of the task's previous write
 * fails with `TaskExpiredError`. `expiresAt(id)` seeds the previous expiry of
 * tasks loaded from the store. Reads and other methods pass through.
 * @example
 * const task = await restoreTask(flow, record, { store: refuseExpiredWrites(store, flow.id, new Map([[record.id, record.expiresAt]])), binder });
 */
export function refuseExpiredWrites(store: StateStore, flowId: string, expiries: Map<string, number> = new Map()): StateStore {
  return {
    get: (id, binder, now) => store.get(id, binder, now),
    delete: (id, binder) => store.delete(id, binder),
    list: (binder, now) => store.list(binder, now),
    sweep: (now) => store.sweep(now),
    async put(record, expectedVersion) {
      const expiresAt = expiries.get(record.id);
      if (expectedVersion > 0 && expiresAt !== undefined && record.lastActiveAt >= expiresAt) {
        throw new TaskExpiredError(flowId, record.id, record.expiresAt - record.lastActiveAt);
      }
      await store.put(record, expectedVersion);
      expiries.set(record.id, record.expiresAt);
    },
  };
}
