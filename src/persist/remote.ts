import { VersionConflictError, WayflowError } from '../core/index.ts';
import type { StateStore, TaskRecord, TaskSummary } from '../core/index.ts';
import { summaryOf } from '../core/shared.ts';
import { memoryOfflineStore, type OfflineEntry, type OfflineStore } from './offline-store.ts';
import { confirmedEntry, conflictOf, localCopy, outboxCounts, queuedDelete, queuedWrite, type SyncConflict, setAside } from './outbox.ts';
import { assertWritable, InvalidRecordError, parseTaskRecord, requireBinder } from './record.ts';
import { currentOf, failure, RemoteStoreError, type TasksAnswer, tasksClient, Unreachable } from './tasks-client.ts';
import type { TasksResponses } from './tasks-protocol.ts';

// The store adapter: the contract of `StateStore` over the tasks API (tasks-client.ts), falling
// back to the device's offline outbox (outbox.ts) while the server is unreachable.

/** What one `sync()` did. */
export interface SyncReport {
  /** Writes the server acknowledged. */
  pushed: number;
  /** Tasks whose unsent writes the server refused (also reported to `onConflict`). */
  conflicts: SyncConflict[];
  /** Tasks still waiting for the server (it is unreachable). */
  waiting: number;
}

/**
 * Whether the remote store reaches its server. `offline` means the last request failed
 * before an answer (the network is down, the server is down, or the browser refused the
 * request: a page on another origin that the server does not allow fails this way, see CORS
 * in docs/server.md); reads and writes then use the device's copies. `pending` says unsent
 * writes wait on this device.
 */
export interface RemoteStatus {
  connection: 'unknown' | 'online' | 'offline';
  /** Why the store is offline (the failed request's error, or the gateway's status); null otherwise. */
  reason: string | null;
  /** True while writes made offline wait to be sent. */
  pending: boolean;
  /** How many writes made on this device wait to be sent (each step moved or draft kept while offline is one). */
  waiting: number;
  /** True while a write (`put` or `delete`) is queued or on its way. */
  saving: boolean;
  /** How many tasks hold offline writes the server refused (see `conflicts()`); they stay until `resolveConflict`. */
  conflicts: number;
  /** The last write that failed (its error's `code` and message, e.g. `version-conflict`); null once a write succeeds. */
  error: { code: string; message: string } | null;
  /** When `connection` last changed (epoch ms). */
  since: number;
}

/** Options of `remoteStore`. */
export interface RemoteStoreOptions {
  /** Where the wayflow server's API is, e.g. `https://example.com/api` or `''` for this origin; requests go to `${baseUrl}/tasks`. */
  baseUrl: string;
  /** The fetch to use (default `globalThis.fetch`; cookies are sent with `credentials: 'include'`). */
  fetch?: typeof fetch;
  /** Where local copies and unsent writes are kept (default: memory; use `indexedDbOfflineStore()` in browsers). */
  fallback?: OfflineStore;
  /** Extra headers on every request, e.g. `{ Authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Called when unsent writes meet a newer server version; the local copy stays in `conflicts()` until resolved. */
  onConflict?: (conflict: SyncConflict) => void;
  /** How often to retry sending unsent writes while there are some (default 15 s; 0: only on use and `online` events). */
  retryIntervalMs?: number;
  /** Called when `status()` changes: the store went offline or online, or unsent writes appeared or were all sent. */
  onStatus?: (status: RemoteStatus) => void;
}

/** A `StateStore` over the wayflow server that keeps working offline. */
export interface RemoteStore extends StateStore {
  /** Sends unsent writes now, in order; resolves to what happened. */
  sync(): Promise<SyncReport>;
  /** Tasks whose offline writes the server refused, with the local copies. */
  conflicts(): Promise<SyncConflict[]>;
  /**
   * Settles a conflict: `remote` drops the local copy, `local` writes it over the
   * server's current version (throws `VersionConflictError` if that changes meanwhile).
   */
  resolveConflict(id: string, keep: 'local' | 'remote'): Promise<void>;
  /** Whether the server is reached and whether writes wait: the app shows it, so running on the device's copies is never silent. */
  status(): RemoteStatus;
  /** Calls `listener` with each new status until the returned function is called (for `useSyncExternalStore` and the like). */
  subscribe(listener: (status: RemoteStatus) => void): () => void;
  /** Stops retry timers and `online` listeners. */
  close(): void;
}

/** The server is unreachable and the operation cannot be done on the device alone. */
export class RemoteUnavailableError extends WayflowError {
  override readonly name: string = 'RemoteUnavailableError';
  constructor(taskId: string | null, reason: string) {
    super(
      'remote-unavailable',
      `${taskId ? `Task ${taskId}` : 'The operation'} needs the wayflow server, which is unreachable (${reason})${taskId ? ', and this device has no copy of it' : ''}. Retry when the connection is back.`,
    );
  }
}

/**
 * A `StateStore` backed by the wayflow server's tasks API. Versions are checked
 * by the server (`If-Match`). When the server is unreachable, reads come from
 * and writes go to the `fallback` offline store; they are sent in order when the
 * server is back, and a write the server refuses is kept and reported as a
 * `SyncConflict`, never dropped.
 * @example
 * const store = remoteStore({ baseUrl: '/api', fallback: indexedDbOfflineStore() });
 * const task = await startTask(flow, { store, binder: await browserBinder() });
 */
export function remoteStore(options: RemoteStoreOptions): RemoteStore {
  const offline = options.fallback ?? memoryOfflineStore();
  const retryIntervalMs = options.retryIntervalMs ?? 15_000;
  let queue: Promise<unknown> = Promise.resolve();
  let hasPending: boolean | null = null;
  let retryTimer: ReturnType<typeof setInterval> | null = null;
  let soonTimer: ReturnType<typeof setTimeout> | null = null;
  let current: RemoteStatus = { connection: 'unknown', reason: null, pending: false, waiting: 0, saving: false, conflicts: 0, error: null, since: Date.now() };
  let writing = 0;
  const listeners = new Set<(status: RemoteStatus) => void>();
  if (options.onStatus) listeners.add(options.onStatus);
  const report = (change: Partial<RemoteStatus>) => {
    const next = { ...current, ...change };
    if ((Object.keys(change) as (keyof RemoteStatus)[]).every((key) => next[key] === current[key])) return;
    current = { ...next, since: next.connection === current.connection ? current.since : Date.now() };
    for (const listener of [...listeners]) {
      try {
        listener(current);
      } catch {
        // One failing listener must not stop the others, nor the store.
      }
    }
  };

  /** Runs operations one at a time, so a sync never interleaves with a write; an unreachable server becomes a typed error. */
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const guarded = () =>
      work().catch((error: unknown) => {
        throw error instanceof Unreachable ? new RemoteUnavailableError(null, error.message) : error;
      });
    const run = queue.then(guarded, guarded);
    queue = run.catch(() => undefined);
    return run;
  };

  const client = tasksClient({ ...options, onConnection: (connection, reason) => report({ connection, reason }) });
  const request = client.request;
  const pushRecord = client.write;

  /** Counts the unsent writes and the conflicts on the device, for `status()`. */
  const recount = async (entries?: OfflineEntry[]) => report(outboxCounts(entries ?? (await offline.all())));

  /** Runs a write like `exclusive`, telling `status()` while it is queued or on its way, and whether it failed. */
  const saving = <T>(work: () => Promise<T>): Promise<T> => {
    report({ saving: ++writing > 0 });
    const run = exclusive(work);
    run.then(
      () => report({ saving: --writing > 0, error: null }),
      (error: WayflowError | Error) => report({ saving: --writing > 0, error: { code: 'code' in error ? error.code : 'remote-error', message: error.message } }),
    );
    return run;
  };

  const setPending = (value: boolean) => {
    hasPending = value;
    const retryAfterMs = client.takeRetryAfter();
    const retry = () => void exclusive(pushAll).catch(() => undefined);
    report({ pending: value });
    if (value && retryIntervalMs > 0 && !retryTimer) {
      retryTimer = setInterval(retry, retryIntervalMs);
      (retryTimer as { unref?: () => void }).unref?.();
    }
    // The server said when it expects to be back (e.g. its database restarting): try then, not only at the next interval.
    if (value && retryIntervalMs > 0 && retryAfterMs !== null && retryAfterMs < retryIntervalMs && !soonTimer) {
      soonTimer = setTimeout(() => {
        soonTimer = null;
        retry();
      }, retryAfterMs);
      (soonTimer as { unref?: () => void }).unref?.();
    }
    if (!value && retryTimer) {
      clearInterval(retryTimer);
      retryTimer = null;
    }
  };

  /** Sends every unsent write, task by task; stops quietly at the first sign the server is unreachable. */
  const pushAll = async (): Promise<SyncReport> => {
    const report: SyncReport = { pushed: 0, conflicts: [], waiting: 0 };
    const entries = (await offline.all()).filter((entry) => entry.pending);
    for (const [index, entry] of entries.entries()) {
      try {
        await pushEntry(entry, report);
      } catch (error) {
        if (error instanceof Unreachable || (error instanceof RemoteStoreError && error.status === 429)) {
          report.waiting = entries.length - index;
          break;
        }
        // The server refuses these writes for good: keep them, surfaced as a conflict, never dropped.
        await setAsideAndReport((await offline.get(entry.id)) ?? entry, null, report);
      }
    }
    setPending(report.waiting > 0);
    await recount();
    return report;
  };

  /** Moves unsent writes the server refused into `conflict`, reports them, and stops sending them. */
  const setAsideAndReport = async (entry: OfflineEntry, remoteVersion: number | null, report: SyncReport) => {
    const settled = setAside(entry, remoteVersion);
    await offline.set(settled);
    const conflict = conflictOf(settled)!;
    report.conflicts.push(conflict);
    options.onConflict?.(conflict);
  };

  const pushEntry = async (entry: OfflineEntry, report: SyncReport) => {
    const refuse = (remoteVersion: number | null) => setAsideAndReport(entry, remoteVersion, report);
    if (entry.deleteFirst !== undefined) {
      const { status, body } = await request('DELETE', `/${entry.id}`, { binder: entry.binder, ifMatch: entry.deleteFirst });
      if (status === 409) return refuse(currentOf(body));
      if (status !== 204 && status !== 404) throw failure(status, body, `Deleting task ${entry.id}`);
      report.pushed++;
      const { deleteFirst: _done, ...rest } = entry;
      entry = rest;
      await offline.set(entry);
    }
    if (entry.record === null) {
      const { status, body } = await request('DELETE', `/${entry.id}`, { binder: entry.binder, ...(entry.base > 0 ? { ifMatch: entry.base } : {}) });
      if (status === 409) return refuse(currentOf(body));
      if (status !== 204 && status !== 404) throw failure(status, body, `Deleting task ${entry.id}`);
      report.pushed++;
      return offline.delete(entry.id);
    }
    // Offline writes made versions base+1 … record.version; the server gets the same line, ending at the newest copy.
    const record = entry.record;
    for (let version = entry.base + 1; version <= record.version; version++) {
      const outcome = await pushRecord({ ...record, version }, version - 1);
      let acknowledged = version;
      if (outcome === 'ok') {
        report.pushed++;
      } else {
        // Another tab of this browser may be sending the same unsent writes: a server copy equal to one of ours is ours.
        const ours = typeof outcome === 'number' && outcome >= version ? await ourVersionOnServer(record, version) : null;
        if (ours === null) return refuse(outcome);
        acknowledged = ours;
        version = ours;
      }
      entry = { ...entry, base: acknowledged, pending: acknowledged < record.version };
      await offline.set(entry);
    }
  };

  /** The server's version when its copy is `record` at a version from `from` to `record.version` (one of our unsent writes), else null. */
  const ourVersionOnServer = async (record: TaskRecord, from: number): Promise<number | null> => {
    const { status, body } = await request('GET', `/${record.id}`, { binder: record.binder });
    const remote = status === 200 ? ((body as Partial<TasksResponses['read']>).task as TaskRecord | undefined) : undefined;
    if (!remote || typeof remote.version !== 'number' || remote.version < from || remote.version > record.version) return null;
    return JSON.stringify(remote) === JSON.stringify({ ...record, version: remote.version }) ? remote.version : null;
  };

  /** Sends unsent writes first when there may be some; an unreachable server is not an error here. */
  const flush = async () => {
    if (hasPending === null) {
      const entries = await offline.all();
      hasPending = entries.some((entry) => entry.pending);
      report({ pending: hasPending });
      await recount(entries);
    }
    if (hasPending) await pushAll();
  };

  /** Keeps the device's copy in step with what the server confirmed, leaving conflicts alone. */
  const remember = async (record: TaskRecord) => offline.set(confirmedEntry(record, await offline.get(record.id)));

  const writeLocally = async (record: TaskRecord, expected: number, entry: OfflineEntry | undefined) => {
    await offline.set(queuedWrite(entry, record, expected));
    setPending(true);
    await recount();
  };

  const store: RemoteStore = {
    get: (id, binder, now = Date.now()) =>
      exclusive(async () => {
        requireBinder(binder, `Reading task ${id}`);
        await flush();
        const entry = await offline.get(id);
        if (entry?.pending) return localCopy(entry, binder, now);
        let answer: TasksAnswer;
        try {
          answer = await request('GET', `/${id}`, { binder, query: { now: String(Math.max(0, Math.floor(now))) } });
        } catch (error) {
          if (!(error instanceof Unreachable)) throw error;
          if (entry?.record) return localCopy(entry, binder, now);
          throw new RemoteUnavailableError(id, error.message);
        }
        if (answer.status === 404) {
          if (entry && entry.binder === binder && !entry.conflict) await offline.delete(id);
          return null;
        }
        if (answer.status !== 200) throw failure(answer.status, answer.body, `Reading task ${id}`);
        const record = parseTaskRecord((answer.body as Partial<TasksResponses['read']> | null)?.task, id);
        await remember(record);
        return record;
      }),

    put: (record, expected) =>
      saving(async () => {
        assertWritable(record);
        if (record.version !== expected + 1) throw new VersionConflictError(record.id, expected, null);
        await flush();
        const entry = await offline.get(record.id);
        if (entry?.pending) return writeLocally(record, expected, entry);
        let outcome: number | null | 'ok';
        try {
          outcome = await pushRecord(record, expected);
        } catch (error) {
          if (error instanceof Unreachable) return writeLocally(record, expected, entry);
          if (error instanceof RemoteStoreError && error.status === 400) throw new InvalidRecordError(record.id, record.flowId, error.message);
          throw error;
        }
        if (outcome !== 'ok') throw new VersionConflictError(record.id, expected, outcome);
        await remember(structuredClone(record));
      }),

    delete: (id, binder) =>
      saving(async () => {
        requireBinder(binder, `Deleting task ${id}`);
        await flush();
        const entry = await offline.get(id);
        const deleteLocally = async () => {
          const queued = queuedDelete(entry, id, binder);
          if (!queued) return;
          await offline.set(queued);
          setPending(true);
          await recount();
        };
        if (entry?.pending) return deleteLocally();
        let answer: TasksAnswer;
        try {
          answer = await request('DELETE', `/${id}`, { binder });
        } catch (error) {
          if (error instanceof Unreachable) return deleteLocally();
          throw error;
        }
        if (answer.status !== 204 && answer.status !== 404) throw failure(answer.status, answer.body, `Deleting task ${id}`);
        if (entry && entry.binder === binder && !entry.conflict) await offline.delete(id);
      }),

    list: (binder, now = Date.now()) =>
      exclusive(async () => {
        requireBinder(binder, 'Listing tasks');
        await flush();
        try {
          const answer = await request('GET', '', { binder, query: { now: String(Math.max(0, Math.floor(now))) } });
          if (answer.status !== 200) throw failure(answer.status, answer.body, 'Listing tasks');
          return (answer.body as TasksResponses['list']).tasks;
        } catch (error) {
          if (!(error instanceof Unreachable)) throw error;
        }
        const summaries: TaskSummary[] = [];
        for (const entry of await offline.all()) {
          const record = localCopy(entry, binder, now);
          if (record) summaries.push(summaryOf(record));
        }
        return summaries.sort((a, b) => b.lastActiveAt - a.lastActiveAt);
      }),

    sweep: (now = Date.now()) =>
      exclusive(async () => {
        await flush();
        // Confirmed copies of expired tasks go; unsent writes stay until the server has seen them.
        for (const entry of await offline.all()) {
          if (!entry.pending && !entry.conflict && entry.record && entry.record.expiresAt <= now) await offline.delete(entry.id);
        }
        try {
          const answer = await request('POST', '/sweep', { body: { now: Math.max(0, now) } });
          if (answer.status !== 200) throw failure(answer.status, answer.body, 'Sweeping tasks');
          return (answer.body as TasksResponses['sweep']).swept;
        } catch (error) {
          if (error instanceof Unreachable) return 0;
          throw error;
        }
      }),

    sync: () => exclusive(pushAll),

    conflicts: async () => (await offline.all()).map(conflictOf).filter((conflict): conflict is SyncConflict => conflict !== null),

    resolveConflict: (id, keep) =>
      exclusive(async () => {
        const entry = await offline.get(id);
        if (!entry?.conflict) return;
        if (keep === 'local') {
          const { local } = entry.conflict;
          const answer = await request('GET', `/${id}`, { binder: entry.binder });
          const remote = answer.status === 200 ? parseTaskRecord((answer.body as Partial<TasksResponses['read']>).task, id) : null;
          if (answer.status !== 200 && answer.status !== 404) throw failure(answer.status, answer.body, `Reading task ${id}`);
          const version = remote?.version ?? 0;
          if (local) {
            const outcome = await pushRecord({ ...local, version: version + 1 }, version);
            if (outcome !== 'ok') throw new VersionConflictError(id, version, outcome);
          } else if (remote) {
            const gone = await request('DELETE', `/${id}`, { binder: entry.binder, ifMatch: version });
            if (gone.status === 409) throw new VersionConflictError(id, version, currentOf(gone.body));
          }
        }
        await offline.delete(id);
        await recount();
      }),

    status: () => current,

    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    close() {
      if (retryTimer) clearInterval(retryTimer);
      if (soonTimer) clearTimeout(soonTimer);
      retryTimer = null;
      soonTimer = null;
      globalThis.removeEventListener?.('online', onOnline);
    },
  };
  const onOnline = () => void store.sync().catch(() => undefined);
  globalThis.addEventListener?.('online', onOnline);
  return store;
}
