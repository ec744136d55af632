import type { SSEStreamingApi } from 'hono/streaming';
import { describe, expect, it } from 'vitest';
import type { SyncHub } from '../../../src/server/sync/hub.ts';
import { InstanceStreams } from '../../../src/server/sync/streams.ts';
import type { InstanceStatus } from '../../../src/sync/protocol.ts';

/** A stream that records what is written to it. */
function recordingStream() {
  const written: string[] = [];
  const stream = {
    writeSSE: async (message: { event?: string }) => {
      written.push(message.event ?? 'message');
    },
    write: async () => stream,
    onAbort: () => undefined,
  };
  return { stream: stream as unknown as SSEStreamingApi, written };
}

/** A hub that never pushes: only `watch`/unwatch are used by the streams. */
const quietHub = { watch: () => () => undefined } as unknown as SyncHub;
const status = { id: 'i1', version: 'v1', status: 'running' } as InstanceStatus;

describe('InstanceStreams.closeAll (server shutdown)', () => {
  it('ends the open streams and frees their slots', async () => {
    const streams = new InstanceStreams(quietHub, async () => status, { streamIdleMs: 60_000, heartbeatMs: 60_000 });
    const { stream, written } = recordingStream();
    let freed = 0;
    const watching = streams.watch(stream, 'i1', undefined, () => freed++);
    await expect.poll(() => written).toEqual(['status']);
    streams.closeAll();
    await watching;
    expect(freed).toBe(1);
  });

  it('ends at once a stream opened after it, as a browser reconnecting during shutdown opens one', async () => {
    const streams = new InstanceStreams(quietHub, async () => status, { streamIdleMs: 60_000, heartbeatMs: 60_000 });
    streams.closeAll();
    const { stream, written } = recordingStream();
    let freed = 0;
    // Before the fix this waited for the idle time (60 s here, the task idle timeout in a server).
    await streams.watch(stream, 'i1', undefined, () => freed++);
    expect(written).toEqual([]);
    expect(freed).toBe(1);
  });
});
