import { describe, expect, it } from 'vitest';
import { startDueLoop } from '../../../src/server/automations/due-loop.ts';

describe('startDueLoop', () => {
  it('stops at once when stop() lands while the next due time is being read, not after the long sleep', async () => {
    let reading: () => void = () => undefined;
    const readStarted = new Promise<void>((resolve) => {
      reading = resolve;
    });
    let release: (at: number | null) => void = () => undefined;
    const loop = startDueLoop({
      name: 'test',
      pass: async () => 0,
      nextWakeAt: () => {
        reading();
        return new Promise((resolve) => {
          release = resolve;
        });
      },
      maxSleepMs: 60_000,
      errorBackoffMs: 1000,
      now: Date.now,
    });
    await readStarted;
    const stopping = loop.stop();
    release(null);
    const started = Date.now();
    await stopping;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
