import { describe, expect, it } from 'vitest';
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
    await new Promise((resolve) => setTimeout(resolve, 110));
    // About one read per poll interval for both watchers together, not one per watcher.
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThanOrEqual(7);
    expect(a).toEqual(['v1']);
    version = 'v2';
    hub.notify('i1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(a).toEqual(['v1', 'v2']);
    expect(b).toEqual(['v1', 'v2']);
    stopA();
    stopB();
    expect(hub.watched).toBe(0);
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reads).toBe(after);
    hub.close();
  });
});
