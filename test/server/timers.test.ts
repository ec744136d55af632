import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/server/log.ts';
import type { TaskStorage } from '../../src/server/storage.ts';
import { startSweeper } from '../../src/server/sweeper.ts';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/server/timers.ts';

const DAY = 24 * 3600 * 1000;

afterEach(() => {
  vi.useRealTimers();
});

describe('setLongTimeout', () => {
  it('fires a 30-day timer after 30 days, not at once as setTimeout would', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, 30 * DAY);
    vi.advanceTimersByTime(1000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY - 2000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('can be cleared in any of its steps', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const timer = setLongTimeout(fired, MAX_TIMER_MS + 10 * DAY);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1000);
    timer.clear();
    vi.advanceTimersByTime(20 * DAY);
    expect(fired).not.toHaveBeenCalled();
  });
});

describe('the sweeper', () => {
  it('does not loop when its interval is past the 24.8-day timer limit', async () => {
    let sweeps = 0;
    const storage = {
      sweepExpired: async () => {
        sweeps++;
        return 0;
      },
    } as unknown as TaskStorage;
    const sweeper = startSweeper({ storage, intervalMs: MAX_TIMER_MS + 1, logger: silentLogger });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sweeper.stop();
    expect(sweeps).toBe(0);
  });
});
