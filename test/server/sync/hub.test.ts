import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/server/log.ts';
import { SyncHub } from '../../../src/server/sync/hub.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';

const status = (version: string) => ({ id: 'i1', version }) as InstanceStatus;

describe('SyncHub', () => {
  it('shares one poller per watched instance, hands out only new versions, and stops polling when the last watcher leaves', async () => {
    let reads = 0;
    let version = 'v1';
    const hub = new SyncHub(
      async () => {
        reads += 1;
        return status(version);
      },
      20,
      silentLogger,
    );
    const a: string[] = [];
    const b: string[] = [];
    const stopA = hub.watch('i1', (s) => a.push(s!.version));
    const stopB = hub.watch('i1', (s) => b.push(s!.version));
    expect(hub.watched).toBe(1);
    const started = performance.now();
    await vi.waitFor(() => expect(reads).toBeGreaterThanOrEqual(3));
    // At most one read per poll interval for both watchers together, not one per watcher (a busy machine fires timers late: fewer, never more).
    expect(reads).toBeLessThanOrEqual(Math.ceil((performance.now() - started) / 20) + 1);
    expect(a).toEqual(['v1']);
    version = 'v2';
    hub.notify('i1');
    await vi.waitFor(() => expect(a).toEqual(['v1', 'v2']));
    expect(b).toEqual(['v1', 'v2']);
    stopA();
    stopB();
    expect(hub.watched).toBe(0);
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reads).toBe(after);
    hub.close();
  });

  it('hands the status a route read to the watchers without reading again, holding the notifications of its change; two routes at once get a read', async () => {
    let reads = 0;
    let version = 'v1';
    const hub = new SyncHub(
      async () => {
        reads += 1;
        return status(version);
      },
      60_000,
      silentLogger,
    );
    const seen: string[] = [];
    const stop = hub.watch('i1', (s) => seen.push(s!.version));
    hub.notify('i1');
    await vi.waitFor(() => expect(seen).toEqual(['v1']));
    const before = reads;
    const answer = await hub.answering('i1', async () => {
      version = 'v2';
      // What the runner's effects do meanwhile: held, not read.
      hub.notify('i1');
      hub.notify('i1');
      return { instance: status('v2') };
    });
    expect(answer.instance?.version).toBe('v2');
    expect(seen).toEqual(['v1', 'v2']);
    expect(reads).toBe(before);
    // Two routes on one instance at once: their answers may come out of order, so the watchers get a read.
    let release!: () => void;
    const slow = hub.answering('i1', () => new Promise<{ instance: InstanceStatus }>((resolve) => (release = () => resolve({ instance: status('v3') }))));
    version = 'v4';
    await hub.answering('i1', async () => ({ instance: status('v4') }));
    release();
    await slow;
    await vi.waitFor(() => expect(seen).toEqual(['v1', 'v2', 'v4']));
    expect(reads).toBe(before + 1);
    // A failed change still sends the notification it held.
    version = 'v5';
    await expect(
      hub.answering('i1', async () => {
        hub.notify('i1');
        throw new Error('the database went away');
      }),
    ).rejects.toThrow('went away');
    await vi.waitFor(() => expect(seen).toEqual(['v1', 'v2', 'v4', 'v5']));
    stop();
    hub.close();
  });
});
