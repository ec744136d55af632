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

  it('sleeps, not spins, when the next due time is further away than a Node timer holds (24.8 days)', async () => {
    let passes = 0;
    const loop = startDueLoop({
      name: 'test',
      pass: async () => {
        passes++;
        return 0;
      },
      nextWakeAt: async (now) => now + 40 * 24 * 3600 * 1000,
      maxSleepMs: 60 * 24 * 3600 * 1000,
      errorBackoffMs: 1000,
      now: Date.now,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await loop.stop();
    expect(passes).toBe(1);
  });
});

