import type { TaskRecord } from '../core/index.ts';
import { stepOfRecord } from './memory.ts';

/** How a page finds out whether another live tab already runs a task. Defaults: the browser's own. */
export interface TabOptions {
  /** Web Locks (`navigator.locks` by default; null to go without). */
  locks?: LockManager | null;
  /** Opens a BroadcastChannel (the global one by default; null to go without). */
  channel?: ((name: string) => BroadcastChannel) | null;
  /** How long to wait for another tab to answer "is this task yours?" (default 150 ms). */
  probeMs?: number;
  /** How long to wait for the lock of a page that is being unloaded, e.g. on reload (default 2000 ms). */
  waitMs?: number;
}

/** This tab's hold on a task: while it lasts, a duplicated tab with the same id is told the task is taken. */
export interface TaskClaim {
  readonly id: string;
  /** False when neither Web Locks nor BroadcastChannel exist: duplicates then surface as version conflicts. */
  readonly exclusive: boolean;
  /** Lets go of the task (on close or navigation away). */
  release(): void;
}

type Release = () => void;

function tryLock(locks: LockManager, name: string, options: LockOptions): Promise<Release | null> {
  return new Promise((resolve) => {
    locks
      .request(name, options, (lock) => {
        if (!lock) return resolve(null);
        return new Promise<void>((done) => resolve(done));
      })
      .catch(() => resolve(null));
  });
}

/** Asks the other tabs whether one of them holds the task; resolves true when one answers within `ms`. */
function someoneHolds(open: (name: string) => BroadcastChannel, name: string, ms: number): Promise<boolean> {
  const channel = open(name);
  const nonce = Math.random().toString(36).slice(2);
  return new Promise<boolean>((resolve) => {
    const finish = (held: boolean) => {
      clearTimeout(timer);
      channel.close();
      resolve(held);
    };
    const timer = setTimeout(() => finish(false), ms);
    channel.onmessage = (event: MessageEvent) => {
      if (event.data?.type === 'mine' && event.data.nonce === nonce) finish(true);
    };
    channel.postMessage({ type: 'who', nonce });
  });
}

/** Answers other tabs' "who holds this task?" until released. */
function answer(open: (name: string) => BroadcastChannel, name: string): Release {
  const channel = open(name);
  channel.onmessage = (event: MessageEvent) => {
    if (event.data?.type === 'who') channel.postMessage({ type: 'mine', nonce: event.data.nonce });
  };
  return () => channel.close();
}

/**
 * Claims task `id` for this tab, or resolves null when another live tab
 * already holds it (a duplicated tab, or the same link pasted into a second tab).
 * Uses a Web Lock named after the task; when the lock is taken, a
 * BroadcastChannel question tells a live holder from a page still being
 * unloaded (a reload), whose lock is then awaited. Without Web Locks the
 * question alone decides; without either, the claim is not exclusive.
 * @example
 * const claim = await claimTask(id);
 * if (!claim) forkIntoNewTask();
 */
export async function claimTask(id: string, options: TabOptions = {}): Promise<TaskClaim | null> {
  const locks = options.locks === undefined ? (globalThis.navigator?.locks ?? null) : options.locks;
  const open =
    options.channel === undefined ? (typeof BroadcastChannel === 'function' ? (name: string) => new BroadcastChannel(name) : null) : options.channel;
  const name = `wayflow:task:${id}`;
  const probeMs = options.probeMs ?? 150;
  let unlock: Release = () => undefined;
  if (locks) {
    let held = await tryLock(locks, name, { ifAvailable: true });
    if (!held) {
      if (open && (await someoneHolds(open, name, probeMs))) return null;
      held = await tryLock(locks, name, { signal: AbortSignal.timeout(options.waitMs ?? 2000) });
      if (!held) return null;
    }
    unlock = held;
  } else if (open && (await someoneHolds(open, name, probeMs))) {
    return null;
  }
  const silence = open ? answer(open, name) : () => undefined;
  let released = false;
  return {
    id,
    exclusive: Boolean(locks || open),
    release() {
      if (released) return;
      released = true;
      silence();
      unlock();
    },
  };
}

/**
 * A copy of `record` as a new task `id`: same binder, data, position and
 * history (plus a `fork` entry), version 1, active from `now` with the same idle timeout.
 * @example
 * await store.put(forkRecord(record, newTaskId(), Date.now()), 0);
 */
export function forkRecord(record: TaskRecord, id: string, now: number): TaskRecord {
  const copy = structuredClone(record);
  const step = stepOfRecord(record) ?? record.history.at(-1)?.to ?? record.flowId;
  return {
    ...copy,
    id,
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + (record.expiresAt - record.lastActiveAt),
    history: [...copy.history, { at: now, event: 'fork', from: step, to: step, actor: record.snapshot.context.user?.id ?? null }],
  };
}
