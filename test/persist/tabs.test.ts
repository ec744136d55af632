import { afterEach, describe, expect, it } from 'vitest';
import { newTaskId } from '../../src/core/ids.ts';
import { claimTask, forkRecord, type TaskClaim } from '../../src/persist/tabs.ts';
import { makeRecord } from './contract.ts';
import { fakeLocks } from './fake-locks.ts';

const claims: TaskClaim[] = [];
const keep = (claim: TaskClaim | null) => {
  if (claim) claims.push(claim);
  return claim;
};
afterEach(() => {
  for (const claim of claims.splice(0)) claim.release();
});

describe('claiming a task for one tab', () => {
  it('refuses a task another live tab holds (a duplicated tab), with Web Locks and BroadcastChannel', async () => {
    const locks = fakeLocks();
    const id = newTaskId();
    const first = keep(await claimTask(id, { locks }));
    expect(first).toMatchObject({ id, exclusive: true });
    expect(await claimTask(id, { locks, waitMs: 100 })).toBeNull();
    expect(keep(await claimTask(newTaskId(), { locks }))).not.toBeNull();
  });

  it('hands the task over once the holder releases it', async () => {
    const locks = fakeLocks();
    const id = newTaskId();
    (await claimTask(id, { locks }))!.release();
    expect(keep(await claimTask(id, { locks }))).not.toBeNull();
  });

  it('waits for the lock of a page being unloaded (a reload): it no longer answers, and then lets go', async () => {
    const locks = fakeLocks();
    const id = newTaskId();
    const unloading = (await claimTask(id, { locks, channel: null }))!;
    setTimeout(() => unloading.release(), 200);
    const started = Date.now();
    expect(keep(await claimTask(id, { locks, probeMs: 50 }))).not.toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('gives up on a lock that is never released and treats the task as taken', async () => {
    const locks = fakeLocks();
    const id = newTaskId();
    keep(await claimTask(id, { locks, channel: null }));
    expect(await claimTask(id, { locks, probeMs: 20, waitMs: 100 })).toBeNull();
  });

  it('detects a duplicate with BroadcastChannel alone when Web Locks are missing', async () => {
    const id = newTaskId();
    const first = keep(await claimTask(id, { locks: null }));
    expect(first?.exclusive).toBe(true);
    expect(await claimTask(id, { locks: null, probeMs: 100 })).toBeNull();
    first!.release();
    expect(keep(await claimTask(id, { locks: null, probeMs: 50 }))).not.toBeNull();
  });

  it('says the claim is not exclusive when neither API exists (conflicts then surface from the store)', async () => {
    const id = newTaskId();
    const a = keep(await claimTask(id, { locks: null, channel: null }));
    const b = keep(await claimTask(id, { locks: null, channel: null }));
    expect(a?.exclusive).toBe(false);
    expect(b?.exclusive).toBe(false);
  });
});

describe('forking a task', () => {
  it('copies the state into a new task id at version 1, with the same idle timeout and a fork entry', () => {
    const record = makeRecord({ version: 7, lastActiveAt: 100, expiresAt: 1100 });
    const id = newTaskId();
    const fork = forkRecord(record, id, 500);
    expect(fork).toMatchObject({ id, version: 1, createdAt: 500, lastActiveAt: 500, expiresAt: 1500, data: record.data, snapshot: record.snapshot, binder: record.binder });
    expect(fork.history).toEqual([...record.history, { at: 500, event: 'fork', from: 'step', to: 'step', actor: null }]);
    fork.data.item = 'changed';
    expect(record.data.item).toBe('book');
  });
});
