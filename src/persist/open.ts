import type { Flow, FlowData, TaskData } from '../core/index.ts';
import { TaskRecordError, WayflowError } from '../core/index.ts';
import { newTaskId } from '../core/index.ts';
import type { StateStore, TaskRecord } from '../core/index.ts';
import { restoreTask, startTask, systemTaskClock, type Task, type TaskOptions } from '../core/index.ts';
import { DEFAULT_IDLE_MS } from '../core/shared.ts';
import { type BinderSource, browserBinder, resolveBinder } from './binder.ts';
import { refuseExpiredWrites } from './expiry.ts';
import { type FlowMigrations, migrateRecord } from './migrate.ts';
import { canQuarantine } from './record.ts';
import { claimTask, forkRecord, type TabOptions, type TaskClaim } from './tabs.ts';
import { browserLocation, DEFAULT_TASK_PARAM, readTaskId, type TaskLocation, withTaskId } from './url.ts';

/** Codes of records that are valid for other code (another flow, a newer version): reported, never moved. */
const LEAVE_ALONE = new Set(['foreign-flow', 'flow-version-ahead']);

/** The store failed (IndexedDB unavailable, quota exceeded, …); nothing was changed. */
export class TaskStoreError extends WayflowError {
  override readonly name: string = 'TaskStoreError';
  constructor(flowId: string, taskId: string | null, cause: unknown) {
    super(
      'storage-failed',
      `Flow "${flowId}"${taskId ? `, task ${taskId}` : ''}: the task store failed (${cause instanceof Error ? cause.message : String(cause)}). Check that site storage is allowed and not full, then reload.`,
      { cause },
    );
  }
}

/** Options of `openTask`; `Data` is the task data of the flow opened (see `FlowData`). */
export interface OpenTaskOptions<Data extends TaskData = TaskData> extends Omit<TaskOptions, 'store' | 'binder'> {
  store: StateStore;
  /** What tasks are bound to (default: this browser profile's secret, `browserBinder()`); e.g. a user id. */
  binder?: BinderSource;
  /** Where the task id is read and written (default: the page address). */
  location?: TaskLocation;
  /** The URL search parameter holding the task id (default `_id`). */
  param?: string;
  /** Migrations from older versions of the flow. */
  migrations?: FlowMigrations;
  /** Duplicate-tab detection (default on, with the browser's Web Locks and BroadcastChannel); `false` turns it off. */
  tabs?: TabOptions | false;
  /** Delete expired tasks of every flow after opening (default true). */
  sweep?: boolean;
  /** Initial data of a new task. */
  data?: Data;
}

/** Offered by every outcome of `openTask`: drop the id from the URL and start a fresh task (a ready task is closed first; its record stays until it expires). */
interface StartOver<F extends Flow> {
  startOver(): Promise<OpenedTask<F>>;
}

/** A task of flow `F` ready to use. */
export interface ReadyTask<F extends Flow = Flow> extends StartOver<F> {
  status: 'ready';
  task: Task<F>;
  /** `new`: started now; `restored`: loaded from the store; `forked`: a copy made because another tab holds the task in the URL. */
  origin: 'new' | 'restored' | 'forked';
  /** The task this one was copied from, when forked. */
  forkedFrom: string | null;
  /** Where a task whose step no longer exists was moved to. */
  relocated: { from: string | null; to: string } | null;
  /** This tab's claim on the task (null when tab detection is off). */
  claim: TaskClaim | null;
  /** How many expired tasks the start-up sweep deleted. */
  swept: Promise<number>;
  /** Stops the task's timers and releases this tab's claim. */
  close(): void;
}

/** What `openTask` found. Only `ready` carries a task; every outcome can start over. */
export type OpenedTask<F extends Flow = Flow> =
  | ReadyTask<F>
  | ({ status: 'expired'; taskId: string } & StartOver<F>)
  | ({ status: 'not-found'; taskId: string } & StartOver<F>)
  | ({ status: 'error'; taskId: string | null; error: WayflowError } & StartOver<F>);

/**
 * Opens the task a page is about: reads its id from the URL (rejecting a
 * malformed one without looking it up), claims it for this tab (a duplicated
 * tab is forked into a new task with a copy of the state), loads it (an
 * expired task yields `expired`), migrates it to the current flow version, and
 * restores it; with no id in the URL it starts a new task and writes its id
 * there. Expired tasks are swept afterwards (for a new task, as it starts). Never throws for bad input: every
 * problem is an outcome the UI can show, with `startOver()`. A task left open
 * past its idle timeout refuses further changes with `TaskExpiredError`
 * (`task-expired`, in `submit`'s result and `task.state.error`).
 * @example
 * const opened = await openTask(signupFlow, { store: indexedDbStore(), idleTimeoutMs: 30 * 60_000 });
 * if (opened.status === 'ready') render(opened.task);
 * else showProblem(opened, () => opened.startOver());
 */
export async function openTask<F extends Flow>(flow: F, options: OpenTaskOptions<FlowData<F>>): Promise<OpenedTask<F>> {
  const { store, migrations, data } = options;
  const location = options.location ?? browserLocation;
  const param = options.param ?? DEFAULT_TASK_PARAM;
  const clock = options.clock ?? systemTaskClock;
  const idleTimeoutMs = options.idleTimeoutMs ?? flow.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const tabs = options.tabs === false ? null : (options.tabs ?? {});
  const startOver = () => {
    location.replace(withTaskId(location.read(), null, param).href);
    return openTask(flow, options);
  };
  const failed = (taskId: string | null, error: unknown): OpenedTask<F> => ({
    status: 'error',
    taskId,
    error: error instanceof WayflowError ? error : new TaskStoreError(flow.id, taskId, error),
    startOver,
  });

  let id: string | null;
  try {
    id = readTaskId(location.read(), param);
  } catch (error) {
    return failed(null, error);
  }

  let claim: TaskClaim | null = null;
  try {
    const binder = await resolveBinder(options.binder ?? (() => browserBinder()));
    // The task writes through a guard, so a page left open past the idle timeout cannot revive its expired task.
    const expiries = new Map<string, number>();
    const taskOptions: TaskOptions = { ...options, store: refuseExpiredWrites(store, flow.id, expiries), binder, clock, idleTimeoutMs };
    const sweep = () => Promise.resolve(options.sweep === false ? 0 : store.sweep(clock.now())).catch(() => 0);
    const ready = (task: Task<F>, origin: ReadyTask['origin'], forkedFrom: string | null, relocated: ReadyTask['relocated'], swept = sweep()): ReadyTask<F> => {
      const held = claim;
      const close = () => {
        task.dispose();
        held?.release();
      };
      const again = () => {
        close();
        return startOver();
      };
      return { status: 'ready', task, origin, forkedFrom, relocated, claim: held, swept, close, startOver: again };
    };

    if (id === null) {
      id = newTaskId();
      // Swept first, before the task's first write: the sweep is over before the first step shows, so the user's
      // first step never queues its write behind it (nothing of a task made now can be expired).
      const swept = sweep();
      // Nobody else can hold an id made just now: no need to ask the other tabs.
      if (tabs) claim = await claimTask(id, { ...tabs, probeMs: 0 });
      const task = await startTask(flow, { ...taskOptions, id, data });
      location.replace(withTaskId(location.read(), id, param).href);
      return ready(task, 'new', null, null, swept);
    }

    if (tabs) claim = await claimTask(id, tabs);
    const now = clock.now();
    let record: TaskRecord | null = await store.get(id, binder, now);
    if (!record) {
      claim?.release();
      const stale = await store.get(id, binder, 0);
      return stale ? { status: 'expired', taskId: id, startOver } : { status: 'not-found', taskId: id, startOver };
    }

    let forkedFrom: string | null = null;
    let relocated: ReadyTask['relocated'] = null;
    try {
      const migrated = migrateRecord(flow, record, migrations, now);
      relocated = migrated.relocated;
      if (tabs && !claim) {
        // Another live tab holds this task (a duplicated tab): continue in a copy, never in the same task.
        forkedFrom = id;
        id = newTaskId();
        claim = await claimTask(id, { ...tabs, probeMs: 0 });
        record = forkRecord(migrated.record, id, now);
        await store.put(record, 0);
        location.replace(withTaskId(location.read(), id, param).href);
      } else if (migrated.changed) {
        const next = { ...migrated.record, version: record.version + 1, lastActiveAt: now, expiresAt: now + idleTimeoutMs };
        await store.put(next, record.version);
        record = next;
      }
      expiries.set(record.id, record.expiresAt);
      return ready(await restoreTask(flow, record, taskOptions), forkedFrom ? 'forked' : 'restored', forkedFrom, relocated);
    } catch (error) {
      if (error instanceof TaskRecordError && !LEAVE_ALONE.has(error.code) && canQuarantine(store)) {
        await store.quarantine(id, binder, error, now).catch(() => undefined);
      }
      throw error;
    }
  } catch (error) {
    claim?.release();
    return failed(id, error);
  }
}
