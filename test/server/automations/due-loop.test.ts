import { describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../../src/server/log.ts';
import { HELD_RETRY_MS, startDueLoop } from '../../../src/server/automations/due-loop.ts';

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

describe('startDueLoop when work is due but held by another transaction', () => {
  it('looks again after 5 ms, then backs off to HELD_RETRY_MS, and looks at once again when woken', async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const passes: number[] = [];
      const loop = startDueLoop({
        name: 'test',
        pass: async () => {
          passes.push(Date.now());
          return 0;
        },
        // Always due now, never claimable: another scheduler's transaction holds the row.
        nextWakeAt: async (now) => now,
        maxSleepMs: 5000,
        errorBackoffMs: 1000,
        now: Date.now,
      });
      await vi.advanceTimersByTimeAsync(100);
      // 5 ms, 10 ms, then HELD_RETRY_MS (each +1 ms: a timer may fire a little early), not every 5 ms.
      const gaps = passes.slice(1).map((at, i) => at - passes[i]!);
      expect(gaps.slice(0, 5)).toEqual([6, 11, HELD_RETRY_MS + 1, HELD_RETRY_MS + 1, HELD_RETRY_MS + 1]);
      // A wake-up (a NOTIFY, a commit of this process) is news: a look at once (+1 ms), then 5 ms after it again.
      const wokenAt = Date.now();
      loop.wake();
      await vi.advanceTimersByTimeAsync(8);
      expect(passes.filter((at) => at >= wokenAt).map((at) => at - wokenAt)).toEqual([1, 7]);
      const stopping = loop.stop();
      await vi.advanceTimersByTimeAsync(50);
      await stopping;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('startDueLoop while the database is unavailable', () => {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

  it('retries soon, backing off from 25 ms to outageRetryMs, logs at debug only, and goes on when the database is back', async () => {
    const at: number[] = [];
    const log: LogEntry[] = [];
    let failures = 7;
    const loop = startDueLoop({
      name: 'test',
      pass: async () => {
        at.push(performance.now());
        if (failures-- > 0) throw refused();
        return 0;
      },
      nextWakeAt: async () => null,
      maxSleepMs: 60_000,
      errorBackoffMs: 10_000,
      outageRetryMs: 200,
      logger: (entry) => void log.push(entry),
      now: Date.now,
    });
    await vi.waitFor(() => expect(at).toHaveLength(8), { timeout: 5000 });
    await loop.stop();
    const pauses = at.slice(1).map((t, i) => t - at[i]!);
    const planned = [25, 50, 100, 200, 200, 200, 200];
    for (const [i, pause] of pauses.entries()) expect(pause).toBeGreaterThanOrEqual(planned[i]! - 2);
    // Timers run late on a loaded machine; never by errorBackoffMs.
    expect(pauses.reduce((sum, pause) => sum + pause, 0)).toBeLessThan(975 + 1000);
    expect(log.map((entry) => entry.level)).toEqual(Array(7).fill('debug'));
  });

  it('takes up work at once when woken during an outage pause', async () => {
    let calls = 0;
    const loop = startDueLoop({
      name: 'test',
      pass: async () => {
        calls += 1;
        if (calls === 1) throw refused();
        return 0;
      },
      nextWakeAt: async () => null,
      maxSleepMs: 60_000,
      errorBackoffMs: 10_000,
      outageRetryMs: 60_000,
      now: Date.now,
    });
    await vi.waitFor(() => expect(calls).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const woken = performance.now();
    loop.wake();
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 1000 });
    expect(performance.now() - woken).toBeLessThan(200);
    await loop.stop();
  });

  it('still logs other failed passes at error level and pauses errorBackoffMs after them', async () => {
    const log: LogEntry[] = [];
    let calls = 0;
    const loop = startDueLoop({
      name: 'test',
      pass: async () => {
        calls += 1;
        throw new TypeError('a bug');
      },
      nextWakeAt: async () => null,
      maxSleepMs: 60_000,
      errorBackoffMs: 60_000,
      logger: (entry) => void log.push(entry),
      now: Date.now,
    });
    await vi.waitFor(() => expect(log).toHaveLength(1));
    expect(log[0]).toMatchObject({ level: 'error', msg: 'test scheduler pass failed', error: 'a bug' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
    await loop.stop();
  });
});
